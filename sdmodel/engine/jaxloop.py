"""JAX backend: the time loop traced once and compiled by XLA.

The numpy backend pays numpy's per-call overhead on each of the ~450 array operations of
a time step, so one trajectory costs about as much as a hundred runs do. This backend
runs the same statements (:class:`.plan.LoopPlan`): the initialisation and the hoisted
invariants in numpy, exactly as the numpy backend does, and then the time loop as one
XLA program (``lax.scan`` over the saved times, ``lax.fori_loop`` over the Euler steps
between them). A step is a pure function of the stocks: it computes the variables at its
time from them, saves, and applies the Euler increments, so the loop carries the stocks
only (the numpy backend carries the variables from one step to the next instead; the
values are the same expressions of the same stocks). It is compiled once per block size
and reused while only parameter values change (run-invariant inputs are widened to the
block, so setting another constant per run does not recompile).

Measured with ``benchmarks/engine.py --backend jax`` (one core, project model): one
trajectory in 13 ms against numpy's 242 ms; 1,000 runs in 0.64 s; 10,000 runs in 8.8 s,
no faster than numpy (9.0 s). Compiling takes 4-6 s per block size. So this backend
serves the interactive simulator and small ensembles; sweeps stay on numpy.

It computes the same floating-point operations in the same order, except that
``jnp.interp`` (lookups) uses its own formula and ``jnp.sum`` over axes longer than 32
elements (unrolled below that, as in numpy) reduces in its own order; XLA's ``exp``,
``log`` and ``pow`` and its rewrites of the fused loop need not round as numpy does
either. So results agree with the numpy backend to rounding
(``tests/engine/test_engine_jax.py``: 1e-10 of each variable's scale; measured at most
1.1e-12), not bit for bit. On the machine it was built on, blocks of two or more runs
gave bit-identical values whatever the block size or batch, but that depends on XLA's
code generation for the CPU (a block of one run is compiled to scalar code and does
differ in the last bits), so the tests assert agreement to rounding and sweeps, whose
results must not depend on the chunking, use numpy. Importing the backend switches on
``jax_enable_x64`` for the whole process (the model is float64 throughout).

JAX is a project dependency; :func:`available` says whether it can be imported.
"""

from __future__ import annotations

import ast
import builtins
import re
from collections.abc import Callable
from dataclasses import replace
from types import ModuleType

import numpy as np

from .helpers import assemble_parts, make_helpers
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


def make_jax_helpers(jnp: ModuleType) -> dict:
    """The loop helpers of :func:`.helpers.make_helpers` for ``jnp``.

    The functional ones (``_arr``, ``_bc``, the unrolled reductions) are numpy's, bound
    to ``jnp``; those that write in place are rewritten without it. Each computes the
    same operations as its numpy twin: ``_chain`` forms the shifted chain and then
    ``(shifted - st) * rate``, as the numpy helper does in place.
    """
    shared = make_helpers(jnp)
    _arr, _bc = shared["_arr"], shared["_bc"]

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

    def _assemble(shape, parts):
        vals, out = assemble_parts(jnp, shape, parts)
        for ix, v in vals:
            out = out.at[(*ix, slice(None))].set(jnp.broadcast_to(v, (*out[ix].shape,)))
        return out

    reductions = {k: shared[k] for k in ("_sum_ax", "_prod_ax", "_vmin_ax", "_vmax_ax")}
    return {
        "_arr": _arr,
        "_bc": _bc,
        "_full": _full,
        "_chain": _chain,
        "_smooth_ddt": _smooth_ddt,
        "_delay_inc": _delay_inc,
        "_shift": _shift,
        "_assemble": _assemble,
        **reductions,
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
    """The loop's state between steps and what it only reads.

    Parameters
    ----------
    plan
        The loop plan.
    known
        Globals of the generated code (the array namespace, helpers, the model's constant
        tables, compiled-in integers): neither carried nor inputs.

    Returns
    -------
    tuple of list
        ``(carried, inputs)``, in order of first use: ``carried`` are the names the body
        assigns that the next step or the save block reads before they are assigned
        again; ``inputs`` are the names the loop reads and never assigns (initial-time
        values and hoisted invariants).

    Raises
    ------
    ValueError
        If the body reads a name only the save block assigns (the save block does not
        run at every step, so such a name has no value in between).
    """
    body, save = _stmts(plan.body), _stmts(plan.at_save)
    assigned_body = {n for s in body for n in _writes(s)}
    save_assigned = {n for s in save for n in _writes(s)} - assigned_body
    read_by_body = {n for s in body for n in _reads(s)}
    if read_by_body & save_assigned:
        raise ValueError(
            "the jax backend cannot run this loop: the time step reads "
            f"{sorted(read_by_body & save_assigned)}, computed only at saved times"
        )
    # one step as the backend runs it: the time, the variables at that time, the save
    # block and the outputs (at saved times), the increments and stock updates
    order = (
        [_stmts(["t = _times[_i]"])[0]]
        + _stmts(plan.evaluate)
        + save
        + [None]
        + _stmts(plan.advance)
    )
    exposed, seen = [], set()
    for s in order:
        reads, writes = (plan.saved, []) if s is None else (_reads(s), _writes(s))
        for n in reads:
            if n not in seen and n not in exposed:
                exposed.append(n)
        seen |= set(writes)
    skip = known | set(dir(builtins)) | {"_i", "_times"}
    carried = [n for n in exposed if n in assigned_body and n not in skip]
    inputs = [
        n for n in exposed if n not in assigned_body and n not in skip and n not in save_assigned
    ]
    return carried, inputs


def assigned_in_body(plan: LoopPlan) -> set:
    """Names the time step assigns (never compiled in as constants)."""
    return {n for s in _stmts(plan.body) for n in _writes(s)}


def loop_source(plan: LoopPlan, carried: list, inputs: list, out_shapes: dict) -> str:
    """Source of the traced loop and of one step.

    ``loop(_carry, _inp, _times)`` is for :func:`jax.jit`: the save block and
    ``_every`` Euler steps per saved time (``lax.scan`` over the ``_nsave`` saved times,
    ``lax.fori_loop`` over the steps), each step's results cast to the carry's shapes
    and types (``_like``). ``one_step`` is the bare step, for :func:`jax.eval_shape`.
    ``_nsave``, ``_every``, ``_lax`` and ``_like`` are globals of the generated code.

    Parameters
    ----------
    plan
        The loop plan.
    carried, inputs
        From :func:`loop_names`.
    out_shapes
        Python name -> ``(*dims, runs)`` of each saved variable.

    Returns
    -------
    str
    """
    pack = ", ".join(carried) + ("," if len(carried) == 1 else "")
    unpack = [f"({pack}) = _carry"] if carried else []
    get = [f"{n} = _inp[{n!r}]" for n in inputs]
    outs = ", ".join(f"xp.broadcast_to(_arr({v}), {out_shapes[v]})" for v in plan.saved)
    now = ["t = _times[_i]"]
    saving = unpack + now + plan.evaluate + plan.at_save + [f"_ys = ({outs},)"]
    lines = ["def loop(_carry, _inp, _times):"]
    lines += [IND + x for x in get]
    lines += [f"{IND}def _saved_step(_i, _carry):"]
    lines += [IND * 2 + x for x in saving + plan.advance]
    lines += [f"{IND * 2}return _like(_carry, ({pack})), _ys"]
    lines += [f"{IND}def _step(_i, _carry):"]
    lines += [IND * 2 + x for x in unpack + now + plan.evaluate + plan.advance]
    lines += [f"{IND * 2}return _like(_carry, ({pack}))"]
    lines += [f"{IND}def _last(_i, _carry):"] + [IND * 2 + x for x in saving]
    lines += [f"{IND * 2}return _ys"]
    lines += [
        f"{IND}def _interval(_carry, _j):",
        f"{IND * 2}_carry, _ys = _saved_step(_j * _every, _carry)",
        f"{IND * 2}_carry = _lax.fori_loop(_j * _every + 1, (_j + 1) * _every, _step, _carry)",
        f"{IND * 2}return _carry, _ys",
        f"{IND}if _nsave == 1:",
        f"{IND * 2}return (), _last(0, _carry)",
        f"{IND}_carry, _ys = _lax.scan(_interval, _carry, xp.arange(_nsave - 1))",
        f"{IND}return _ys, _last((_nsave - 1) * _every, _carry)",
        "",
        "def one_step(_carry, _inp, _times):",
    ]
    lines += [IND + x for x in get + unpack + ["_i = 0"] + now + plan.evaluate + plan.advance]
    lines += [f"{IND}return ({pack})"]
    return "\n".join(lines) + "\n"


def regular_saves(flags: list) -> int:
    """Steps between saved times, or 0 when they are not equally spaced.

    Parameters
    ----------
    flags
        Per integration time, whether it is saved (:func:`.runtime.time_grid`); the
        first time always is.

    Returns
    -------
    int
        ``k`` when the saved times are every k-th step from the first (steps after the
        last saved time change no output and are not integrated); 1 when only the first
        time is saved; 0 otherwise (saved times that drift against the time step).
    """
    where = [i for i, f in enumerate(flags) if f]
    if not where or where[0] != 0:
        return 0
    if len(where) == 1:
        return 1
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

    def __init__(self, plan: LoopPlan, consts: dict, shapes: dict) -> None:
        # DELAY FIXED keeps its pipeline as a list of arrays, written in place: in the
        # loop it becomes one stacked array with a functional write
        body = [_RING_WRITE.sub(r"\1 = \1.at[\2].set(\3)", x) for x in plan.body]
        self.plan = replace(plan, body=body)
        self.consts = consts
        self.shapes = shapes
        self._compiled: dict = {}
        self._init = None
        self._carry_types: dict = {}
        self._assigned = assigned_in_body(self.plan)

    def init_source(self) -> str:
        """Source of the numpy ``init`` (the numpy backend's statements before its loop)."""
        lines = ["def init(xp, _ov, N, _c, _times, _flags):"]
        lines += [IND + x for x in self.plan.init + self.plan.pre]
        lines.append(f"{IND}return locals()")
        return "\n".join(lines) + "\n"

    def _compile(self, key: tuple, n: int, nsave: int, every: int, statics: dict) -> tuple:
        jax = _jax()
        import jax.numpy as jnp

        glb = {"xp": jnp, "_lax": jax.lax, "_like": _like, **make_jax_helpers(jnp)}
        glb.update(self.consts)
        glb.update(statics)
        glb.update({"_nsave": nsave, "_every": every})
        carried, inputs = loop_names(self.plan, set(glb))
        out_shapes = {v: (*self.shapes[v], n) for v in self.plan.saved}
        src = loop_source(self.plan, carried, inputs, out_shapes)
        exec(compile(src, "<sdmodel-engine jax loop>", "exec"), glb)  # noqa: S102
        self._compiled[key] = (jax.jit(glb["loop"]), glb["one_step"], carried, inputs)
        return self._compiled[key]

    def __call__(
        self, ov: Callable, n: int, ctl: dict, times: list, flags: list, out: dict
    ) -> None:
        """Integrate one block of runs and write the saved values into ``out``.

        Parameters
        ----------
        ov
            The override function of the block (:func:`.helpers.make_override`).
        n
            Runs in the block.
        ctl
            Control values (``initial_time``, ``final_time``, ``time_step``, ``saveper``).
        times, flags
            Integration times and their save flags (:func:`.runtime.time_grid`).
        out
            Python name -> writable ``(saved times, *dims, n)`` buffer.
        """
        every = regular_saves(flags)
        if not every:
            raise ValueError(
                "the jax backend needs equally spaced saved times on the time grid "
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
        # Python ints the step never assigns (delay and smooth orders) select code
        # paths: they are compiled in; one it assigns (a DELAY FIXED position) is state
        statics = {
            k: v
            for k, v in ns.items()
            if isinstance(v, int) and not isinstance(v, bool) and k not in self._assigned
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
        for j, (v, final) in enumerate(zip(self.plan.saved, last, strict=True)):
            if nsave > 1:
                out[v][: nsave - 1] = np.asarray(ys[j])
            out[v][nsave - 1] = np.asarray(final)

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


def _like(old: tuple, new: tuple) -> tuple:
    """``new`` broadcast and cast to the shapes and types of ``old`` (the loop's carry).

    The carry's shapes come from tracing single steps until they stop growing, so a step
    can only return values that broadcast to them; a name that would need a larger shape
    fails here, naming nothing the loop silently changed.
    """
    import jax.numpy as jnp

    return tuple(
        jnp.broadcast_to(b, a.shape).astype(a.dtype) for a, b in zip(old, new, strict=True)
    )


def _widen(value: object, n: int) -> object:
    """``value`` broadcast to ``n`` runs when it is a run-invariant array (run axis last)."""
    if isinstance(value, np.ndarray) and value.ndim and value.shape[-1] == 1 and n > 1:
        return np.broadcast_to(value, (*value.shape[:-1], n))
    return value
