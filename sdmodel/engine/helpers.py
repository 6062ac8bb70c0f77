"""Run-time helpers injected into the generated ``simulate`` function (array namespace xp)."""

from __future__ import annotations

import numpy as np

SMALL = 1e-6


def make_helpers(xp) -> dict:
    """Helper functions bound to the array namespace ``xp``."""
    f64 = xp.float64

    def _arr(v):
        return xp.asarray(v, dtype=f64)

    def _bc(v, shape):
        """Broadcast to (R, *shape), keeping R (1 or N)."""
        v = _arr(v)
        if v.ndim == 0:
            v = xp.reshape(v, (1,) * (len(shape) + 1))
        return xp.broadcast_to(v, (v.shape[0], *shape))

    def _full(v, n, shape):
        return xp.broadcast_to(_bc(v, shape), (n, *shape))

    def _stack(v, order, n, shape):
        return xp.broadcast_to(_full(v, n, shape)[None, ...], (order, n, *shape))

    def _scalar(v, what):
        a = np.asarray(v, dtype=float)
        if a.size and a.min() != a.max():
            raise ValueError(f"{what} must be the same for every run and subscript")
        return float(a.reshape(-1)[0])

    def _order(v):
        return int(_scalar(v, "SMOOTH N order"))

    def _delay_order(order, dt, delay_time):
        order = int(_scalar(order, "DELAY N order"))
        a = np.asarray(delay_time, dtype=float)
        mins = a.reshape(a.shape[0], -1).min(axis=1) if a.ndim else a.reshape(1)
        orders = set()
        for m in np.unique(mins):
            o = order
            while o * dt > m:
                o -= 1
            orders.add(o)
        if len(orders) > 1:
            raise ValueError("delay order reduced differently between runs "
                             "(delay time below order * TIME STEP)")
        return orders.pop()

    def _fixed_order(delay_time, dt):
        order = max(_scalar(delay_time, "DELAY FIXED delay time") / dt, 1)
        return round(order + SMALL)

    def _first(inp, st):
        return xp.broadcast_to(_arr(inp), st.shape[1:])[None, ...]

    def _smooth_ddt(st, inp, time, order):
        if order == 1:
            return (inp - st) * order / time
        tg = xp.concat([_first(inp, st), st[:-1]], axis=0)
        return (tg - st) * order / time

    def _delay_ddt(st, inp, dtm, order):
        out = st / dtm
        inflow = xp.concat([_first(inp, out), out[:-1]], axis=0)
        return (inflow - out) * order

    def _shift(tm, dtm):
        return xp.concat([_first(dtm, tm), tm[:-1]], axis=0)

    def _assemble(shape, parts):
        vals = []
        for ix, single, v in parts:
            v = _arr(v)
            if v.ndim == 0:
                v = xp.reshape(v, (1,) * (len(shape) + 1))
            else:
                for p in single:
                    v = xp.expand_dims(v, axis=p + 1)
            vals.append((ix, v))
        r = max(v.shape[0] for _, v in vals)
        out = xp.full((r, *shape), xp.nan, dtype=f64)
        for ix, v in vals:
            out[(slice(None), *ix)] = v
        return out

    return {k: v for k, v in locals().items() if k.startswith("_") and callable(v)}


def make_override(params: dict, xp):
    """``_ov(py_name, value)``: apply prepared per-run overrides at the definition point."""

    def _ov(name, value):
        spec = params.get(name)
        if spec is None:
            return value
        shape = spec["shape"]
        if spec["whole"] is not None:
            value = spec["whole"]
        if not spec["parts"]:
            return value
        v = xp.asarray(value, dtype=xp.float64)
        if v.ndim == 0:
            v = xp.reshape(v, (1,) * (len(shape) + 1))
        r = max([v.shape[0]] + [p.shape[0] for _, p in spec["parts"]])
        out = np.array(np.broadcast_to(v, (r, *shape)))
        for idx, p in spec["parts"]:
            out[(slice(None), *idx)] = p
        return out

    return _ov
