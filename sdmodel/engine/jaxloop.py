"""JAX backend: the time loop traced once and compiled by XLA.

The numpy backend pays numpy's per-call overhead on each of the ~450 array operations of
a time step, so one trajectory costs about as much as a hundred runs do. This backend
runs the same statements (:class:`.plan.LoopPlan`): the initialisation and the hoisted
invariants in numpy, exactly as the numpy backend does, and then the time loop as one
XLA program (``lax.scan`` over the saved times, ``lax.fori_loop`` over the Euler steps
between them), compiled once per block size and reused while only parameter values
change (run-invariant inputs are widened to the block, so setting another constant per
run does not recompile).

Measured with ``benchmarks/engine.py --backend jax`` (one core, project model): one
trajectory in 13 ms against numpy's 242 ms; 1,000 runs in 0.64 s; 10,000 runs in 8.8 s,
no faster than numpy (9.0 s). Compiling takes 4-6 s per block size. So this backend
serves the interactive simulator and small ensembles; sweeps stay on numpy.

It computes the same floating-point operations in the same order; XLA's ``exp``,
``log`` and ``pow`` and its rewrites of the fused loop need not round as numpy does, so
results agree with the numpy backend to rounding (``tests/engine/test_engine_jax.py``:
1e-10 of each variable's scale; measured at most 1.1e-12), not bit for bit. Blocks of two
or more runs give bit-identical values whatever the block size or batch; a block of one
run is compiled to scalar code and may differ from its batch value in the last bits.
The numpy backend stays the reference and the default.

JAX is a project dependency; :func:`available` says whether it can be imported.
"""

from __future__ import annotations

import ast
import builtins
import operator
import re
from dataclasses import replace

import numpy as np

from .helpers import make_helpers
from .plan import IND, LoopPlan

#: a DELAY FIXED ring-buffer write (``x_p[x_i] = v``), rewritten as a functional update
_RING_WRITE = re.compile(r"^(\w+_p)\[(\w+_i)\] = (.+)$")


def available() -> bool:
    """True when ``jax`` can be imported."""
    try:
        import jax  # noqa: F401
    except ImportError:
        return False
    return True


def _jax():
    import jax

    jax.config.update("jax_enable_x64", True)  # the model is float64 throughout
    return jax


def make_jax_helpers(jnp) -> dict:
    """The loop helpers of :func:`.helpers.make_helpers`, written without in-place updates.

    Each computes the same operations as its numpy twin: ``_chain`` forms the shifted
    chain and then ``(shifted - st) * rate``, as the numpy helper does in place.
    """
    f64 = jnp.float64

    def _arr(v):
        return jnp.asarray(v, dtype=f64)

    def _bc(v, shape):
        v = _arr(v)
        if v.ndim == 0:
            v = jnp.reshape(v, (1,) * (len(shape) + 1))
        return jnp.broadcast_to(v, (*shape, v.shape[-1]))

    def _full(v, n, shape):
        return jnp.broadcast_to(_bc(v, shape), (*shape, n))

    def _chain(st, head, rate):
        head = jnp.broadcast_to(_arr(head), st.shape[1:])
        return (jnp.concatenate([head[None], st[:-1]], axis=0) - st) * rate

    def _smooth_ddt(st, inp, time, order):
        if order == 1:
            return (inp - st) * order / time
        return _chain(st, inp, order) / time

    def _delay_inc(st, inp, dtm, rate):
        return _chain(st / dtm, inp, rate)

    def _shift(tm, dtm):
        dtm = jnp.broadcast_to(_arr(dtm), tm.shape[1:])
        return jnp.concatenate([dtm[None], tm[:-1]], axis=0)

    def _unrolled(op):
        def reduce_axis(v, axis):
            idx = (slice(None),) * axis
            r = op(v[(*idx, 0, ...)], v[(*idx, 1, ...)])
            for j in range(2, v.shape[axis]):
                r = op(r, v[(*idx, j, ...)])
            return r

        return reduce_axis

    def _assemble(shape, parts):
        vals = []
        for ix, single, v in parts:
            v = _arr(v)
            if v.ndim == 0:
                v = jnp.reshape(v, (1,) * (len(shape) + 1))
            else:
                for p in single:
                    v = jnp.expand_dims(v, axis=p)
            vals.append((ix, v))
        r = max(v.shape[-1] for _, v in vals)
        out = jnp.full((*shape, r), jnp.nan, dtype=f64)
        for ix, v in vals:
            out = out.at[(*ix, slice(None))].set(jnp.broadcast_to(v, (*out[ix].shape,)))
        return out

    return {
        "_arr": _arr,
        "_bc": _bc,
        "_full": _full,
        "_chain": _chain,
        "_smooth_ddt": _smooth_ddt,
        "_delay_inc": _delay_inc,
        "_shift": _shift,
        "_sum_ax": _unrolled(operator.add),
        "_prod_ax": _unrolled(operator.mul),
        "_vmin_ax": _unrolled(jnp.minimum),
        "_vmax_ax": _unrolled(jnp.maximum),
        "_assemble": _assemble,
    }


def _stmts(lines: list) -> list:
    return [ast.parse(x).body[0] for x in lines]


def _reads(stmt: ast.stmt) -> list:
    if isinstance(stmt, ast.AugAssign):
        nodes = [stmt.value, stmt.target]
    elif isinstance(stmt, ast.Assign):
        nodes = [stmt.value] + [t for t in stmt.targets if not isinstance(t, ast.Name)]
    else:
        nodes = [stmt]
    return [m.id for node in nodes for m in ast.walk(node) if isinstance(m, ast.Name)]


def _writes(stmt: ast.stmt) -> list:
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
    return [t.id for t in targets if isinstance(t, ast.Name)]


def loop_names(plan: LoopPlan, known: set) -> tuple[list, list]:
    """(carried, inputs): the loop's state between steps and what it only reads.

    ``carried`` are the names the body assigns that the next step or the save block reads
    before they are assigned again; ``inputs`` are the names the loop reads and never
    assigns (initial-time values and hoisted invariants). ``known`` are globals (the array
    namespace, helpers, the model's constant tables) that are neither.
    """
    body, save = _stmts(plan.body), _stmts(plan.at_save)
    assigned_body = {n for s in body for n in _writes(s)}
    exposed, seen = [], set()
    # one iteration: the save block (at saved times), its outputs, and then the body
    reads = [_reads(s) for s in save] + [plan.saved] + [_reads(s) for s in body]
    writes = [_writes(s) for s in save] + [[]] + [_writes(s) for s in body]
    for r, w in zip(reads, writes, strict=True):
        for n in r:
            if n not in seen and n not in exposed:
                exposed.append(n)
        seen |= set(w)
    skip = known | set(dir(builtins)) | {"_i", "_times"}
    carried = [n for n in exposed if n in assigned_body and n not in skip]
    inputs = [n for n in exposed if n not in assigned_body and n not in skip]
    save_assigned = {n for s in save for n in _writes(s)}
    inputs = [n for n in inputs if n not in save_assigned]
    return carried, inputs


def loop_source(plan: LoopPlan, carried: list, inputs: list, out_shapes: dict) -> str:
    """Source of ``loop(_carry, _inp, _times)`` for :func:`jax.jit` and of ``one_step``
    (the same step, for :func:`jax.eval_shape`). ``_nsave`` (saved times) and ``_every``
    (steps between them) are globals of the generated code."""
    pack = ", ".join(carried) + ("," if len(carried) == 1 else "")
    unpack = [f"({pack}) = _carry"] if carried else []
    get = [f"{n} = _inp[{n!r}]" for n in inputs]
    outs = ", ".join(f"xp.broadcast_to(_arr({v}), {out_shapes[v]})" for v in plan.saved)
    lines = ["def loop(_carry, _inp, _times):"]
    lines += [IND + x for x in get]
    lines += [f"{IND}def _save(_carry):"] + [IND * 2 + x for x in unpack + plan.at_save]
    lines += [f"{IND * 2}return ({outs},)"]
    lines += [f"{IND}def _step(_i, _carry):"] + [IND * 2 + x for x in unpack + plan.body]
    lines += [f"{IND * 2}return ({pack})"]
    lines += [
        f"{IND}def _interval(_carry, _j):",
        f"{IND * 2}_ys = _save(_carry)",
        f"{IND * 2}_carry = lax.fori_loop(_j * _every, (_j + 1) * _every, _step, _carry)",
        f"{IND * 2}return _carry, _ys",
        f"{IND}_carry, _ys = lax.scan(_interval, _carry, xp.arange(_nsave - 1))",
        f"{IND}return _ys, _save(_carry)",
        "",
        "def one_step(_carry, _inp, _times):",
    ]
    lines += [IND + x for x in get + unpack + ["_i = 0"] + plan.body]
    lines += [f"{IND}return ({pack})"]
    return "\n".join(lines) + "\n"


def regular_saves(flags: list) -> int:
    """Steps between saved times, when the saves are every k-th step from the first to
    the last (the case for a SAVEPER that is a multiple of TIME STEP); else 0."""
    where = [i for i, f in enumerate(flags) if f]
    if len(where) < 2 or where[0] != 0 or where[-1] != len(flags) - 1:
        return 0
    k = where[1] - where[0]
    return k if all(b - a == k for a, b in zip(where, where[1:], strict=False)) else 0


class JaxLoop:
    """The time loop of ``plan`` for XLA: build once per saved-variable set, call per block.

    Parameters
    ----------
    plan
        The loop plan (:func:`.plan.loop_plan`).
    consts
        The model's module constants (index tuples, lookup tables, defaults), baked into
        the compiled program as constants.
    shapes
        Python name -> subscript shape of every saved variable.
    """

    def __init__(self, plan: LoopPlan, consts: dict, shapes: dict):
        # DELAY FIXED keeps its pipeline as a list of arrays, written in place: in the
        # loop it becomes one stacked array with a functional write
        body = [_RING_WRITE.sub(r"\1 = \1.at[\2].set(\3)", x) for x in plan.body]
        self.plan = replace(plan, body=body)
        self.consts = consts
        self.shapes = shapes
        self._compiled: dict = {}
        self._init = None
        self._carry_types: dict = {}

    def init_source(self) -> str:
        """Source of the numpy ``init`` (the numpy backend's statements before its loop)."""
        lines = ["def init(xp, _ov, N, _c, _times, _flags):"]
        lines += [IND + x for x in self.plan.init + self.plan.pre]
        lines.append(f"{IND}return locals()")
        return "\n".join(lines) + "\n"

    def _compile(self, key: tuple, n: int, nsave: int, every: int, statics: dict) -> tuple:
        jax = _jax()
        import jax.numpy as jnp

        glb = {"xp": jnp, "lax": jax.lax, **make_jax_helpers(jnp), **self.consts}
        glb.update(statics)
        glb.update({"_nsave": nsave, "_every": every})
        carried, inputs = loop_names(self.plan, set(glb))
        out_shapes = {v: (*self.shapes[v], n) for v in self.plan.saved}
        src = loop_source(self.plan, carried, inputs, out_shapes)
        exec(compile(src, "<sdmodel-engine jax loop>", "exec"), glb)  # noqa: S102
        self._compiled[key] = (jax.jit(glb["loop"]), glb["one_step"], carried, inputs)
        return self._compiled[key]

    def __call__(self, ov, n: int, ctl: dict, times: list, flags: list, out: dict) -> None:
        """Integrate one block of ``n`` runs and write the saved values into ``out``."""
        every = regular_saves(flags)
        if not every:
            raise ValueError(
                "the jax backend needs the saved times every k-th time step "
                "(SAVEPER a multiple of TIME STEP)"
            )
        if self._init is None:
            env = {"xp": np, **make_helpers(np), **self.consts}
            exec(compile(self.init_source(), "<sdmodel-engine init>", "exec"), env)  # noqa: S102
            self._init = env["init"]
        ns = self._init(np, ov, n, ctl, times, flags)
        for k, v in ns.items():  # DELAY FIXED pipelines: lists of arrays -> one array
            if isinstance(v, list) and k.endswith("_p"):
                ns[k] = np.stack(v)
        # Python ints (delay and smooth orders) select code paths: they are compiled in
        statics = {
            k: v
            for k, v in ns.items()
            if isinstance(v, int) and not isinstance(v, bool) and not k.endswith("_i")
        }
        nsave = sum(bool(f) for f in flags)
        key = (n, nsave, every, tuple(sorted(statics.items())))
        fn, one_step, carried, inputs = self._compiled.get(key) or self._compile(
            key, n, nsave, every, statics
        )
        # every run-shaped value at the block's full width: which constants a call sets
        # per run (width n) and which it leaves run-invariant (width 1) then does not
        # change the compiled program's input shapes, so no call recompiles (seconds)
        inp = {k: _widen(ns[k], n) for k in inputs}
        tgrid = np.asarray(times, dtype=np.float64)
        carry = self._initial_carry(key, one_step, carried, ns, inp, tgrid)
        ys, last = fn(carry, inp, tgrid)
        for v, series, final in zip(self.plan.saved, ys, last, strict=True):
            buf = out[v]
            buf[: nsave - 1] = np.asarray(series)
            buf[nsave - 1] = np.asarray(final)

    def _initial_carry(self, key, one_step, carried, ns, inp, tgrid) -> tuple:
        """Initial values of the carried names, in the shape and type a step gives them.

        A name's initial value can be run-invariant (shape ``(..., 1)``) where the step
        computes it per run; the loop needs one shape and type per name, found by tracing
        single steps (no arithmetic) until they stop changing, and kept for the next call
        with the same shapes.
        """
        sig = (key, tuple((np.shape(v), np.result_type(v).str) for v in inp.values()))
        sig += (tuple((np.shape(ns[c]), np.result_type(ns[c]).str) for c in carried),)
        target = self._carry_types.get(sig)
        if target is None:
            jax = _jax()
            probe = tuple(
                jax.ShapeDtypeStruct(np.shape(ns[c]), np.result_type(ns[c])) for c in carried
            )
            for _ in range(8):
                got = jax.eval_shape(one_step, probe, inp, tgrid)
                new = tuple(
                    jax.ShapeDtypeStruct(
                        np.broadcast_shapes(p.shape, g.shape), np.result_type(p.dtype, g.dtype)
                    )
                    for p, g in zip(probe, got, strict=True)
                )
                if new == probe:
                    break
                probe = new
            else:
                raise ValueError("the jax backend could not fix the shapes of the loop state")
            target = self._carry_types[sig] = [(p.shape, p.dtype) for p in probe]
        return tuple(
            np.broadcast_to(np.asarray(ns[c], dtype=dtype), shape)
            for c, (shape, dtype) in zip(carried, target, strict=True)
        )


def _widen(value, n: int):
    """``value`` broadcast to ``n`` runs when it is a run-invariant array (run axis last)."""
    if isinstance(value, np.ndarray) and value.ndim and value.shape[-1] == 1 and n > 1:
        return np.broadcast_to(value, (*value.shape[:-1], n))
    return value
