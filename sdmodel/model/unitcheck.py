"""Dimensional consistency of a model, checked by scaling its units.

If every equation is dimensionally consistent, measuring one base unit in a different
size (persons in pairs, euros in cents, years in half-years) multiplies every variable by
that size raised to the power of the base unit in the variable's declared units, and
changes nothing else. :func:`scaling_mismatches` makes that change (every constant, and
for time units the simulation control values, scaled as its declared units say), runs
the model with the ensemble engine and lists the variables that do not scale as their
units say. A literal number that hides a unit (``MAX(x, 1)`` on persons), a sum of two
different units, a non-dimensionless argument of ``EXP`` or ``LN``, or a wrong declared
unit all show up. Limits: a MIN/MAX branch that is never taken and a term that is zero
throughout cannot reveal their units; the check sees only what the run exercises.
"""

from __future__ import annotations

import numpy as np

from sdmodel.model.units import dimensions

__all__ = ["base_units", "exponents", "scaling_mismatches"]

#: The simulation control values, scaled when the time unit is.
_CONTROLS = ("initial_time", "final_time", "time_step", "saveper")


def exponents(cm, base: str) -> dict[str, int | float]:
    """Python name -> exponent of ``base`` in the element's declared units."""
    return {
        py: float(dimensions(info["units"], info["name"]).get(base, 0))
        for py, info in cm.elements.items()
    }


def base_units(cm) -> list[str]:
    """The base units that occur in the model's declared units."""
    found: set[str] = set()
    for info in cm.elements.values():
        found.update(dimensions(info["units"], info["name"]))
    return sorted(found)


def scaling_mismatches(
    cm,
    base: str,
    factor: float = 2.0,
    *,
    time_unit: str = "year",
    rtol: float = 1e-9,
    params: dict[str, object] | None = None,
) -> list[str]:
    """Variables that do not scale as their declared units say when ``base`` is rescaled.

    Parameters
    ----------
    cm : sdmodel.engine.CompiledModel
    base : str
        A base unit (see :func:`base_units`), for example ``"person"``.
    factor : float
        Size of the new unit in the old one; a power of two keeps the scaling exact.
    time_unit : str
        The model's time unit; when ``base`` is it, the control values (initial and
        final time, time step, saveper) are scaled too.
    rtol : float
        Relative tolerance, with an absolute floor of ``rtol`` times each variable's
        largest magnitude (terms that cancel to zero carry rounding of their operands).
    params : dict, optional
        Constants (Vensim names) that both runs start from instead of the model's
        values, for example policy levers that are zero by default, whose terms the
        default run cannot check. Scalar values only.

    Returns
    -------
    list of str
        One line per mismatching variable, in the model's order: Vensim name, declared
        units and the largest relative deviation.
    """
    power = exponents(cm, base)
    start = {name: value for name, value in (params or {}).items()}
    scaled = dict(start)
    for name, value in cm.constants.items():
        e = power[cm.resolve(name)]
        if e:
            scaled[name] = np.asarray(start.get(name, value), dtype=float) * factor**e
    run_controls: dict[str, float] = {}
    if base == time_unit:
        controls = cm.control_values()
        run_controls = {key: float(controls[key]) * factor for key in _CONTROLS}
    outputs = list(cm.default_outputs)
    ref, t_ref = cm.run_arrays(1, params=start, variables=outputs)
    new, t_new = cm.run_arrays(1, params=scaled, variables=outputs, **run_controls)
    problems = []
    if base == time_unit and not np.allclose(t_new, t_ref * factor, rtol=1e-12):
        problems.append("saved times do not scale with the time unit")
    for py in outputs:
        expected = np.asarray(ref[py], dtype=float) * factor ** power[py]
        got = np.asarray(new[py], dtype=float)
        scale = float(np.nanmax(np.abs(expected))) if expected.size else 0.0
        err = np.abs(got - expected)
        bad = ~(err <= rtol * np.abs(expected) + rtol * scale)
        if bad.any():
            info = cm.elements[py]
            with np.errstate(divide="ignore", invalid="ignore"):
                worst = float(
                    np.nanmax(np.where(bad, err / np.maximum(np.abs(expected), 1e-300), 0))
                )
            problems.append(
                f"{info['name']} [{info['units']}]: off by up to {worst:.3g} (relative)"
            )
    return problems
