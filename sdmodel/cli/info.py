"""``sdmodel info``: the model's constants, or one variable described."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import click
import xarray as xr

from sdmodel.cli.common import _user_errors, model_option


def _format_value(value) -> str:
    found = _json_value(value)
    if isinstance(found, float):
        return f"{found:.6g}"
    return ", ".join(f"{k}={v:.6g}" for k, v in found.items())


def _constants_table(model, info) -> str:
    rows = []
    for element in info.by_kind("constant"):
        value = _format_value(getattr(model.components, element.py_name)())
        rows.append((element.name, value, element.units or "-", element.comment))
    w_name = max((len(r[0]) for r in rows), default=4)
    w_value = min(max((len(r[1]) for r in rows), default=5), 48)
    w_units = max((len(r[2]) for r in rows), default=5)
    lines = [f"{'constant':<{w_name}}  {'value':<{w_value}}  {'units':<{w_units}}  comment"]
    indent = " " * (w_name + w_value + w_units + 6)
    for name, value, units, comment in rows:
        wrapped = textwrap.wrap(comment, 60) or [""]
        lines.append(f"{name:<{w_name}}  {value:<{w_value}}  {units:<{w_units}}  {wrapped[0]}")
        lines.extend(indent + more for more in wrapped[1:])
    return "\n".join(lines)


def _element_report(model, info, name: str) -> str:
    ref = info.resolve(name)
    e = ref.element
    lines = [
        f"name:       {e.name}",
        f"python:     {e.py_name}",
        f"kind:       {e.kind}",
        f"subscripts: {', '.join(e.subscripts) or '-'}",
        f"units:      {e.units or '-'}",
        f"equation:   {e.equation or '-'}",
        f"comment:    {e.comment or '-'}",
    ]
    if e.kind in {"constant", "control"}:
        value = getattr(model.components, e.py_name)()
        if ref.subscript is not None:
            value = xr.DataArray(value).loc[dict(zip(e.subscripts, ref.subscript, strict=True))]
        lines.append(f"value:      {_format_value(value)}")
        if e.range_text:
            note = " (a time constant: at least TIME STEP)" if e.is_time_constant else ""
            lines.append(f"range:      {e.range_text}{note}")
    return "\n".join(lines)


def _json_value(value) -> float | dict:
    """A constant's value: a number, or ``{"low": .., ...}`` (``"a,b"`` keys for 2-D)."""
    array = xr.DataArray(value)
    if array.ndim == 0:
        return float(array)
    flat = array.stack(_e=array.dims) if array.ndim > 1 else array
    labels = [
        ",".join(map(str, v)) if isinstance(v, tuple) else str(v)
        for v in flat.indexes[flat.dims[0]]
    ]
    return {k: float(v) for k, v in zip(labels, flat.values, strict=True)}


def element_record(model, info, name: str) -> dict:
    """One element as ``sdmodel info NAME --json`` prints it."""
    ref = info.resolve(name)
    e = ref.element
    record = {
        "name": e.name,
        "python": e.py_name,
        "kind": e.kind,
        "subscripts": list(e.subscripts),
        "units": e.units,
        "range": list(e.limits),
        "time_constant": e.is_time_constant,
        "equation": e.equation,
        "comment": e.comment,
    }
    if e.kind in {"constant", "control"}:
        value = getattr(model.components, e.py_name)()
        if ref.subscript is not None:
            value = xr.DataArray(value).loc[dict(zip(e.subscripts, ref.subscript, strict=True))]
        record["value"] = _json_value(value)
    return record


@click.command()
@click.argument("name", required=False)
@model_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON: every constant, or the element.")
@_user_errors
def info(name: str | None, model_path: Path, as_json: bool) -> None:
    """List the model's constants, or describe the variable NAME."""
    from sdmodel.model.info import ModelInfo
    from sdmodel.model.translate import load_model

    model = load_model(model_path)
    model_info = ModelInfo.from_model(model, model_path)
    if as_json:
        names = [name] if name else [e.name for e in model_info.by_kind("constant")]
        records = [element_record(model, model_info, n) for n in names]
        click.echo(json.dumps(records[0] if name else records, indent=2))
    elif name is None:
        click.echo(_constants_table(model, model_info))
    else:
        click.echo(_element_report(model, model_info, name))
