"""Run-time helpers injected into the generated ``simulate`` function (array namespace xp)."""

from __future__ import annotations

import operator

import numpy as np

SMALL = 1e-6


def make_helpers(xp) -> dict:
    """Helper functions bound to the array namespace ``xp``."""
    f64 = xp.float64

    def _arr(v):
        return xp.asarray(v, dtype=f64)

    def _bc(v, shape):
        """Broadcast to (*shape, R), keeping R (1 or N)."""
        v = _arr(v)
        if v.ndim == 0:
            v = xp.reshape(v, (1,) * (len(shape) + 1))
        return xp.broadcast_to(v, (*shape, v.shape[-1]))

    def _full(v, n, shape):
        """A fresh, writable, C-contiguous (*shape, n) array (stocks are updated in place).

        Filled by assignment rather than by copying a broadcast view: such a copy keeps
        the view's memory order, so a value broadcast along the run axis became a
        Fortran-ordered stock, and every operation on it (and on what it feeds) strided.
        """
        out = xp.empty((*shape, n), dtype=f64)
        out[...] = _bc(v, shape)
        return out

    def _frozen(v, shape):
        """An INITIAL value: a private copy, immune to in-place stock updates."""
        v = _bc(v, shape)
        out = xp.empty(v.shape, dtype=f64)
        out[...] = v
        return out

    def _stack(v, order, n, shape):
        """``order`` C-contiguous copies of ``v`` stacked on a leading axis (delay chains)."""
        out = xp.empty((order, *shape, n), dtype=f64)
        out[...] = _bc(v, shape)
        return out

    def _same(c, key, value, what):
        """``value`` for call site ``key``, checked equal across the blocks of one run call.

        ``c`` is the run call's control dict: blocks of runs must agree on run-invariant
        values exactly as one block of all runs would (else results depend on block size).
        """
        seen = c.setdefault("_seen", {})
        if seen.setdefault(key, value) != value:
            raise ValueError(f"{what} differs between runs")
        return value

    def _scalar(v, what, c, key):
        a = np.asarray(v, dtype=float)
        if a.size and a.min() != a.max():
            raise ValueError(f"{what} must be the same for every run and subscript")
        return _same(
            c, key, float(a.reshape(-1)[0]), what + " must be the same for every run and subscript:"
        )

    def _order(v, c, key):
        return int(_scalar(v, "SMOOTH N order", c, key))

    def _delay_order(order, dt, delay_time, c, key):
        order = int(_scalar(order, "DELAY N order", c, key + "n"))
        a = np.asarray(delay_time, dtype=float)
        mins = a.reshape(-1, a.shape[-1]).min(axis=0) if a.ndim else a.reshape(1)
        orders = set()
        for m in np.unique(mins):
            o = order
            while o * dt > m:
                o -= 1
            orders.add(o)
        if len(orders) > 1:
            raise ValueError(
                "delay order reduced differently between runs (delay time below order * TIME STEP)"
            )
        return _same(
            c,
            key,
            orders.pop(),
            "delay order reduced differently between runs (delay time below order * TIME STEP):",
        )

    def _fixed_order(delay_time, dt, c, key):
        order = max(_scalar(delay_time, "DELAY FIXED delay time", c, key) / dt, 1)
        return round(order + SMALL)

    def _chain(st, head, rate):
        """``(concat([head, st[:-1]]) - st) * rate`` without the concatenated copy."""
        d = xp.empty_like(st)
        d[0, ...] = head
        d[1:, ...] = st[:-1, ...]
        d -= st  # in place: no temporaries (same values as the concatenated form)
        d *= rate
        return d

    def _smooth_ddt(st, inp, time, order):
        if order == 1:
            return (inp - st) * order / time
        return _chain(st, inp, order) / time

    def _delay_inc(st, inp, dtm, rate):
        """Euler increment of a delay chain: ``(concat([inp], x[:-1]) - x) * order * dt``.

        ``x = st / dtm`` are the stage outflows (stages hold ``order`` times their
        content) and ``rate`` is ``order * dt``: one pass and one temporary fewer than
        scaling the derivative by ``dt`` afterwards.
        """
        return _chain(st / dtm, inp, rate)

    def _shift(tm, dtm):
        out = xp.empty_like(tm)
        out[0, ...] = dtm
        out[1:, ...] = tm[:-1, ...]
        return out

    def _unrolled(op):
        def reduce_axis(v, axis):
            if axis == 0:  # the common case, without building index tuples
                r = op(v[0], v[1])
                for j in range(2, v.shape[0]):
                    r = op(r, v[j])
                return r
            idx = (slice(None),) * axis
            r = op(v[(*idx, 0, ...)], v[(*idx, 1, ...)])
            for j in range(2, v.shape[axis]):
                r = op(r, v[(*idx, j, ...)])
            return r

        return reduce_axis

    _sum_ax = _unrolled(operator.add)
    _prod_ax = _unrolled(operator.mul)
    _vmin_ax = _unrolled(xp.minimum)
    _vmax_ax = _unrolled(xp.maximum)

    def _assemble(shape, parts):
        vals, out = assemble_parts(xp, shape, parts)
        for ix, v in vals:
            out[(*ix, slice(None))] = v
        return out

    return {k: v for k, v in locals().items() if k.startswith("_") and callable(v)}


def assemble_parts(xp, shape: tuple, parts: list) -> tuple[list, object]:
    """The parts of an element defined piece by piece, aligned to its dims, and the
    NaN-filled ``(*shape, R)`` array they are written into (``R`` 1 or N).

    ``parts`` are ``(index, single, value)``: the element positions a component defines,
    the positions of its single-element subscripts (axes the value lacks) and its value.
    """
    vals = []
    for ix, single, v in parts:
        v = xp.asarray(v, dtype=xp.float64)
        if v.ndim == 0:
            v = xp.reshape(v, (1,) * (len(shape) + 1))
        else:
            for p in single:
                v = xp.expand_dims(v, axis=p)
        vals.append((ix, v))
    r = max(v.shape[-1] for _, v in vals)
    return vals, xp.full((*shape, r), xp.nan, dtype=xp.float64)


def make_override(params: dict, xp):
    """``_ov(py_name, value)``: apply prepared per-run overrides at the definition point."""

    def _ov(name, value):
        spec = params.get(name)
        if spec is None:
            return value
        shape = spec["shape"]
        if spec["whole"] is not None:
            value = spec["whole"]
        if not spec["parts"] and not shape:
            return value
        v = xp.asarray(value, dtype=xp.float64)
        if not spec["parts"]:
            # a subscripted constant set whole (one value for every element): full shape,
            # since element-by-element equations select single elements from it
            if v.ndim == 0:
                v = xp.reshape(v, (1,) * (len(shape) + 1))
            return xp.broadcast_to(v, (*shape, v.shape[-1]))
        if v.ndim == 0:
            v = xp.reshape(v, (1,) * (len(shape) + 1))
        r = max([v.shape[-1]] + [p.shape[0] for _, p in spec["parts"]])
        out = np.array(np.broadcast_to(v, (*shape, r)))
        for idx, p in spec["parts"]:
            out[(*idx, slice(None))] = p
        return out

    return _ov
