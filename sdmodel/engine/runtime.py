"""The compiled model: assembles the ``simulate`` source and runs ensembles."""

from __future__ import annotations

import mmap
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import numpy as np

from ..model.naming import dim_name, normalize
from .codegen import Program
from .errors import UnknownParameterError
from .helpers import make_helpers, make_override
from .plan import loop_plan, numpy_source

if TYPE_CHECKING:  # xarray (and pandas) are imported only to build a Dataset
    import xarray as xr

RPREC = 1e-5  # pysd.py_backend.components.Time.rprec
#: default runs per block: large enough to amortise numpy's per-call overhead over the
#: ~450 array operations of a time step, small enough to bound working memory
BLOCK_SIZE = 5_000
#: output buffers at least this large are pre-faulted (see :func:`output_buffer`)
PREFAULT_BYTES = 4 << 20


def time_grid(t0: float, tf: float, dt: float, saveper: float) -> tuple[list, list, np.ndarray]:
    """Integration times, save flags and saved (rounded) times exactly as pysd computes them."""
    times, t = [t0], t0
    while t + dt * RPREC < tf:
        t = t + dt
        times.append(t)
    prec = dt * RPREC
    flags = [((x - t0) % saveper < prec) or (-(x - t0) % saveper < prec) for x in times]
    digits = -int(np.log10(dt * RPREC))
    saved = np.array([np.round(x, digits) for x, f in zip(times, flags, strict=True) if f])
    return times, flags, saved


def output_buffer(shape: tuple) -> np.ndarray:
    """An uninitialised float64 array for saved values, pre-faulted where possible.

    The time loop writes every saved value once, so a lazily mapped buffer takes one
    page fault per 4 KiB page inside the loop (and numpy asks for huge pages, which
    this VM serves slowly): ~0.5 s for the 0.39 GB of 10,000 runs. On Linux, large
    buffers are mapped with ``MAP_POPULATE`` instead, which maps all pages in one
    system call. Elsewhere (or if mapping fails) this is ``np.empty``.
    """
    nbytes = int(np.prod(shape)) * 8
    populate = getattr(mmap, "MAP_POPULATE", 0)
    if nbytes >= PREFAULT_BYTES and populate:
        try:
            buf = mmap.mmap(-1, nbytes, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | populate)
        except OSError:
            return np.empty(shape)
        return np.frombuffer(buf, dtype=np.float64).reshape(shape)
    return np.empty(shape)


class CompiledModel:
    """A model compiled to vectorized numpy; run many parameter sets in one integration.

    Attributes
    ----------
    dims : dict
        Lower-case dimension name -> element labels.
    elements : dict
        Python name -> info (``name``, ``py_name``, ``kind``, ``dims``, ``units``, ``comment``).
    constants : dict
        Vensim name -> default value (float or ndarray) of every overridable constant.
    default_outputs : list
        Python names of all non-constant, non-lookup, non-control elements.
    """

    def __init__(self, program: Program, source_hash: str = ""):
        self.program = program
        self.source_hash = source_hash
        self.dims = {dim_name(d): list(c) for d, c in program.dims.items()}
        self.elements = {
            py: {k: v for k, v in info.items() if k != "tables"}
            for py, info in program.elements.items()
        }
        self.constants = {
            program.elements[py]["name"]: (float(v) if v.ndim == 0 else v.copy())
            for py, v in program.defaults.items()
        }
        self.default_outputs = [
            py
            for py, info in program.elements.items()
            if info["kind"] not in ("constant", "lookup", "control")
        ]
        self._lookup = {}
        for py, info in program.elements.items():
            self._lookup[normalize(info["name"])] = py
            self._lookup.setdefault(py, py)
        self._overridable = set(program.defaults) | {
            st["override"] for st in program.states if st["override"]
        }
        self._cache: dict = {}

    # -- names -----------------------------------------------------------------------------
    def resolve(self, name: str) -> str:
        """Python name of a Vensim or Python element name (``ValueError`` if unknown)."""
        py = self._lookup.get(name) or self._lookup.get(normalize(name))
        if py is None:
            raise UnknownParameterError(name, "no such model element")
        return py

    # -- source ------------------------------------------------------------------------------
    def source(self, variables: Iterable[str]) -> str:
        """Python source of ``simulate`` saving ``variables`` (Python names).

        Only what the saved variables and the dynamic stocks need is computed in the time
        loop, and loop-invariant sub-expressions are hoisted out of it (see
        :mod:`.optimize`). Saved values are written to ``_out[name][k]``, buffers of shape
        ``(saved times, *dims, runs)``.
        """
        return numpy_source(loop_plan(self.program, variables))

    def _function(self, variables: tuple, xp):
        key = (variables, xp.__name__)
        if key not in self._cache:
            glb = {"xp": xp, **make_helpers(xp)}
            glb.update(
                {
                    k: (xp.asarray(v) if isinstance(v, np.ndarray) else v)
                    for k, v in self.program.consts.items()
                }
            )
            exec(
                compile(
                    self.source(variables), f"<sdmodel-engine {self.source_hash[:12]}>", "exec"
                ),
                glb,
            )
            self._cache[key] = glb["simulate"]
        return self._cache[key]

    def _jax_loop(self, variables: tuple):
        key = (variables, "jax")
        if key not in self._cache:
            from .jaxloop import JaxLoop

            shapes = {v: tuple(self.program.elements[v]["shape"]) for v in variables}
            self._cache[key] = JaxLoop(
                loop_plan(self.program, variables), self.program.consts, shapes
            )
        return self._cache[key]

    # -- parameters ------------------------------------------------------------------------
    def _prepare(self, params: Mapping, n: int) -> dict:
        out: dict = {}
        for key, value in (params or {}).items():
            base, elem = key, None
            if key.rstrip().endswith("]") and "[" in key:
                base, elem = key.rstrip()[:-1].split("[", 1)
            try:
                py = self.resolve(base)
            except UnknownParameterError:
                raise UnknownParameterError(key) from None
            if py not in self._overridable:
                raise UnknownParameterError(key, "not a constant or stock (cannot be set)")
            info = self.program.elements[py]
            shape = tuple(info["shape"])
            spec = out.setdefault(py, {"shape": shape, "whole": None, "parts": []})
            v = np.asarray(value, dtype=float)
            if elem is None:
                # run axis last and contiguous: strided parameters slow every operation
                spec["whole"] = np.ascontiguousarray(np.moveaxis(_whole(key, v, n, shape), 0, -1))
            else:
                idx = _element_index(key, elem, info["dims"], self.program.dims)
                if v.ndim == 0:
                    v = v.reshape(1)
                if v.shape not in ((1,), (n,)):
                    raise ValueError(f"parameter '{key}': expected scalar or shape ({n},)")
                spec["parts"].append((idx, v))
        return out

    # -- running ---------------------------------------------------------------------------
    def run(
        self,
        n_runs: int = 1,
        params: Mapping | None = None,
        variables: Iterable[str] | None = None,
        time_step: float | None = None,
        saveper: float | None = None,
        final_time: float | None = None,
        initial_time: float | None = None,
        xp=np,
        block_size: int | None = None,
        backend: str = "numpy",
    ) -> xr.Dataset:
        """Run ``n_runs`` simulations, vectorized over runs, in blocks of runs.

        Parameters
        ----------
        n_runs
            Number of runs N.
        params
            Vensim or Python name (optionally ``Name[element]``) -> scalar, shape (N,),
            shape (*dims) or (N, *dims). Constants and stock initial values.
        variables
            Names to save (default :attr:`default_outputs`).
        time_step, saveper, final_time, initial_time
            Run-level overrides of the control values.
        xp
            Array namespace (default numpy).
        block_size
            Runs integrated together (default :data:`BLOCK_SIZE`); bounds the working
            memory and keeps it cache-friendly. Results do not depend on it.
        backend
            ``"numpy"`` (the reference) or ``"jax"``: the time loop compiled by XLA
            (:mod:`.jaxloop`), the same operations, equal to the numpy backend to
            rounding; about 18 times faster for one trajectory, no faster for 10,000.
            ``xp`` is ignored with ``"jax"``, which switches on JAX's float64 mode for
            the process.

        Returns
        -------
        xarray.Dataset
            Variables by Python name with dims ``(run, time, *subscript dims)``. The data
            are stored run-last (as computed), so each variable is a transposed view.
        """
        out, saved = self.run_arrays(
            n_runs,
            params,
            variables,
            time_step=time_step,
            saveper=saveper,
            final_time=final_time,
            initial_time=initial_time,
            xp=xp,
            block_size=block_size,
            backend=backend,
        )
        return self._dataset(out, saved, int(n_runs))

    def run_arrays(
        self,
        n_runs: int = 1,
        params: Mapping | None = None,
        variables: Iterable[str] | None = None,
        time_step: float | None = None,
        saveper: float | None = None,
        final_time: float | None = None,
        initial_time: float | None = None,
        xp=np,
        block_size: int | None = None,
        backend: str = "numpy",
    ) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """:meth:`run` without the Dataset: plain arrays, and no xarray import.

        Returns
        -------
        tuple
            (Python name -> array of shape ``(run, time, *dims)``, a view of run-last
            storage; saved times). Parameters as for :meth:`run`.
        """
        n = int(n_runs)
        if n < 1:
            raise ValueError("n_runs must be >= 1")
        names = tuple(
            dict.fromkeys(
                self.resolve(v) for v in (self.default_outputs if variables is None else variables)
            )
        )
        for v in names:
            if self.program.elements[v]["kind"] in ("lookup", "control"):
                raise ValueError(f"variable '{v}' is a {self.program.elements[v]['kind']}")
        ctl = self._controls(
            time_step=time_step, saveper=saveper, final_time=final_time, initial_time=initial_time
        )
        times, flags, saved = time_grid(
            ctl["initial_time"], ctl["final_time"], ctl["time_step"], ctl["saveper"]
        )
        # results are stored run-last, as computed, and exposed as (run, time, *dims) views:
        # no transposing copy, and the saved data is the only N-sized memory
        out = {v: output_buffer((len(saved), *self.program.elements[v]["shape"], n)) for v in names}
        if backend == "numpy":
            fn = self._function(names, xp)
        elif backend == "jax":
            fn = self._jax_loop(names)
        else:
            raise ValueError(f"backend must be 'numpy' or 'jax', not {backend!r}")
        prepared = self._prepare(params, n)
        size = max(1, int(block_size or BLOCK_SIZE))
        for r0 in range(0, n, size):
            r1 = min(n, r0 + size)
            ov = make_override(_block(prepared, r0, r1, n), xp)
            with np.errstate(all="ignore"):
                args = () if backend == "jax" else (xp,)
                fn(
                    *args,
                    ov,
                    r1 - r0,
                    ctl,
                    times,
                    flags,
                    {v: buf[..., r0:r1] for v, buf in out.items()},
                )
        return {v: np.moveaxis(buf, -1, 0) for v, buf in out.items()}, saved

    def control_values(self) -> dict[str, float]:
        """The model's own INITIAL TIME, FINAL TIME, TIME STEP and SAVEPER (Python names)."""
        return self._controls()

    def _controls(self, **given) -> dict:
        env: dict = {}
        pending = dict(self.program.controls)
        while pending:
            progress = False
            for c, code in list(pending.items()):
                try:
                    env[f"_c_{c}"] = float(eval(code, {"xp": np}, dict(env)))  # noqa: S307
                except NameError:
                    continue
                del pending[c]
                progress = True
            if not progress:
                raise ValueError(f"cannot evaluate control values {list(pending)}")
            for c, v in given.items():
                if v is not None:
                    env[f"_c_{c}"] = float(v)
        ctl = {
            c: env.get(f"_c_{c}") for c in ("initial_time", "final_time", "time_step", "saveper")
        }
        ctl.update({c: float(v) for c, v in given.items() if v is not None})
        if ctl["saveper"] is None:
            ctl["saveper"] = ctl["time_step"]
        return ctl

    def _dataset(self, out: dict, saved: np.ndarray, n: int) -> xr.Dataset:
        import xarray as xr

        data_vars, coords = {}, {"run": np.arange(n), "time": saved}
        for v, buf in out.items():
            info = self.program.elements[v]
            dims = [dim_name(d) for d in info["dims"]]
            for d, dn in zip(info["dims"], dims, strict=True):
                coords[dn] = self.program.dims[d]
            data_vars[v] = xr.Variable(
                ("run", "time", *dims),
                buf,
                attrs={
                    "units": info["units"],
                    "long_name": info["name"],
                    "comment": info["comment"],
                },
            )
        return xr.Dataset(data_vars, coords=coords)


def _block(prepared: dict, r0: int, r1: int, n: int) -> dict:
    """Prepared overrides restricted to runs ``r0:r1`` (run axis last; length 1 or n)."""
    if r0 == 0 and r1 == n:
        return prepared
    out = {}
    for py, spec in prepared.items():
        w = spec["whole"]
        if w is not None and w.shape[-1] == n:
            w = w[..., r0:r1]
        parts = [(idx, p[r0:r1] if p.shape[0] == n else p) for idx, p in spec["parts"]]
        out[py] = {"shape": spec["shape"], "whole": w, "parts": parts}
    return out


def _whole(key: str, v: np.ndarray, n: int, shape: tuple) -> np.ndarray:
    nd = len(shape)
    if v.ndim == 0:
        return v.reshape((1,) * (nd + 1))
    if v.shape == shape and not (nd == 1 and v.shape[0] == n and n != 1):
        return v[None]
    if v.ndim == nd + 1 and v.shape[1:] == shape and v.shape[0] in (1, n):
        return v
    if v.shape == (n,) or (v.ndim == 1 and v.shape == (1,)):
        if nd == 0:  # a view: no per-run copy of scalar parameters
            return v.reshape(v.shape[0])
        return v.reshape((v.shape[0],) + (1,) * nd) * np.ones((1, *shape))
    raise ValueError(
        f"parameter '{key}': shape {v.shape} fits neither (), ({n},), "
        f"{shape} nor ({n}, *{shape})"
        + (" (ambiguous: use shape (N, *dims))" if v.shape == shape else "")
    )


def _element_index(key: str, elem: str, dims: list, all_dims: dict) -> tuple:
    labels = [e.strip() for e in elem.split(",")]
    if len(labels) != len(dims):
        raise UnknownParameterError(key, f"expected {len(dims)} subscripts")
    idx = []
    for lab, d in zip(labels, dims, strict=True):
        coords = [normalize(c) for c in all_dims[d]]
        if normalize(lab) not in coords:
            raise UnknownParameterError(key, f"'{lab}' is not an element of {d}")
        idx.append(coords.index(normalize(lab)))
    return tuple(idx)
