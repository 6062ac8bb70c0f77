"""Command-line interface: ``sdmodel run`` and ``sdmodel info``.

The CLI only parses arguments and calls library functions. User errors print one line
naming the culprit on stderr and exit with status 2, leaving no output file behind.
"""

from __future__ import annotations

import os
import shlex
import sys
import tempfile
import textwrap
import warnings
from collections.abc import Callable
from functools import wraps
from pathlib import Path

import click
import numpy as np
import xarray as xr

from sdmodel.atomic import make_output_dir
from sdmodel.errors import SdmodelError
from sdmodel.paths import MODEL_PATH, OUTPUT_DIR

SUMMARY_YEARS = (2030, 2040, 2050)


class OptionError(click.BadParameter):
    """A bad option value, printed as one ``sdmodel: error:`` line (exit status 2).

    click prints its own usage errors over several lines (usage, hint, blank line,
    error); the values this package's option types refuse are user errors like any
    other and get the same single line, naming the option, the value and the rule.
    """

    def format_message(self) -> str:
        hint = self.param_hint or (self.param.opts[0] if self.param is not None else None)
        return f"{hint}: {self.message}" if hint else self.message

    def show(self, file=None) -> None:  # noqa: D102 (click's hook)
        message = " ".join(self.format_message().split())
        click.echo(f"sdmodel: error: {message}", err=True, file=file)


class SeedType(click.ParamType):
    """A sampling seed: an integer in ``[0, SEED_MAX]`` (:data:`sdmodel.sampling.SEED_MAX`)."""

    name = "integer"

    def convert(self, value, param, ctx) -> int:  # noqa: D102 (click's hook)
        from sdmodel.sampling import check_seed

        try:
            return check_seed(int(value) if isinstance(value, int) else int(str(value), 10))
        except ValueError:
            raise OptionError(f"{value!r} is not an integer", ctx, param) from None
        except SdmodelError as exc:
            raise OptionError(str(exc), ctx, param) from None


class SchedulerAddress(click.ParamType):
    """A Dask scheduler address (:func:`sdmodel.sweep_exec.check_scheduler_address`)."""

    name = "address"

    def convert(self, value, param, ctx) -> str:  # noqa: D102 (click's hook)
        from sdmodel.sweep_exec import check_scheduler_address

        try:
            return check_scheduler_address(str(value))
        except SdmodelError as exc:
            raise OptionError(str(exc), ctx, param) from None


#: The ``--model`` option shared by every command that loads the model.
model_option = click.option(
    "--model",
    "model_path",
    type=click.Path(path_type=Path),
    default=MODEL_PATH,
    show_default=True,
    help="Vensim model file.",
)


def runs_option(help: str, *, default: int = 1, dest: str = "runs") -> Callable:
    """The ``--runs N`` option (parameter draws) shared by the commands that sample.

    Parameters
    ----------
    help
        The command's own help text (what the runs mean there).
    default
        Runs when the option is not given.
    dest
        Name of the command function's parameter.

    Returns
    -------
    Callable
        A click option decorator.
    """
    return click.option("--runs", dest, type=int, default=default, show_default=True, help=help)


def seed_option(help: str, *, default: int | None) -> Callable:
    """The ``--seed`` option (seed of the parameter draws); the default is shown if set.

    Parameters
    ----------
    help
        The command's own help text.
    default
        Seed when the option is not given (``None``: the command decides).

    Returns
    -------
    Callable
        A click option decorator.
    """
    return click.option(
        "--seed", type=SeedType(), default=default, show_default=default is not None, help=help
    )


def spec_option(
    help: str = "Uncertainty spec for --runs (default scenarios/uncertainty.toml).",
    *,
    default: Path | None = None,
) -> Callable:
    """The ``--spec`` option (uncertainty specification, TOML), stored as ``spec_path``.

    Parameters
    ----------
    help
        The command's own help text.
    default
        Spec file when the option is not given (``None``: the command decides).

    Returns
    -------
    Callable
        A click option decorator.
    """
    return click.option(
        "--spec",
        "spec_path",
        type=click.Path(path_type=Path),
        default=default,
        show_default=default is not None,
        help=help,
    )


def _user_errors(func: Callable) -> Callable:
    """Turn SdmodelError into one line on stderr and exit status 2."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except SdmodelError as exc:
            message = " ".join(str(exc).split())
            click.echo(f"sdmodel: error: {message}", err=True)
            sys.exit(2)

    return wrapper


def check_writable(path: Path) -> None:
    """Fail early (SdmodelError) if ``path`` cannot be written; creates no file there."""
    if path.is_dir():
        raise SdmodelError(f"output path {path} is a directory")
    if path.exists() and not os.access(path, os.W_OK):
        raise SdmodelError(f"output file {path} is not writable")
    parent = path.parent
    if not parent.is_dir():
        raise SdmodelError(f"output directory {parent} does not exist")
    try:
        with tempfile.NamedTemporaryFile(dir=parent, prefix=".sdmodel-probe-"):
            pass
    except OSError as exc:
        raise SdmodelError(f"output directory {parent} is not writable: {exc.strerror}") from None


def overview_path(nc_path: Path) -> Path:
    """``outputs/run.nc`` -> ``outputs/run_overview.png``."""
    return nc_path.with_name(f"{nc_path.stem}_overview.png")


def _value_at(ds: xr.Dataset, name: str, year: float) -> np.ndarray | None:
    if name not in ds.data_vars:
        return None
    years = np.asarray(ds["time"].values, dtype=float)
    index = int(np.argmin(np.abs(years - year)))
    if abs(years[index] - year) > 1e-9:
        return None
    return ds[name].isel(time=index).values


def summary_table(ds: xr.Dataset) -> str:
    """Text table: unemployment rate, labour income share, WW outlays per scenario/year."""
    columns = (
        ("unemployment_rate", "unempl. rate %", 100.0, "{:14.2f}"),
        ("labour_income_share", "labour share %", 100.0, "{:14.2f}"),
        ("ww_outlays", "WW bn EUR/yr", 1e-9, "{:14.2f}"),
    )
    header = f"{'scenario':<16}{'year':>6}" + "".join(f"{c[1]:>16}" for c in columns)
    lines = [header, "-" * len(header)]
    times = np.asarray(ds["time"].values, dtype=float)
    years = [y for y in SUMMARY_YEARS if times[0] <= y <= times[-1]]
    if not years:  # another period (the history run, 1995-2023): its first and last year
        years = [int(times[0]), int(times[-1])]
    for scenario in ds["scenario"].values:
        sub = ds.sel(scenario=scenario)
        for year in years:
            cells = []
            for name, _, scale, fmt in columns:
                value = _value_at(sub, name, year)
                cells.append(f"{'n/a':>16}" if value is None else "  " + fmt.format(value * scale))
            if all(c.strip() == "n/a" for c in cells):
                continue
            lines.append(f"{str(scenario):<16}{year:>6}" + "".join(cells))
    return "\n".join(lines)


#: click >= 8.2 shows the help of a group called without a command as an error.
_NO_ARGS = tuple(filter(None, [getattr(click.exceptions, "NoArgsIsHelpError", None)]))


class OneLineErrors(click.Group):
    """The command group, printing click's own usage errors as one line too.

    click reports a bad option value or an unknown option over four lines (usage, a
    hint, a blank line, the error); here it is one ``sdmodel: error:`` line naming the
    option and the value, with the help command to run, and exit status 2, like every
    other user error. Everything else is click's standalone behaviour.
    """

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
        except click.exceptions.Abort:  # Ctrl-C (or end of input at a prompt)
            click.echo("Aborted!", err=True)
            sys.exit(1)
        except (OptionError, *_NO_ARGS) as exc:  # one line already; the help text
            exc.show()
            sys.exit(exc.exit_code)
        except click.UsageError as exc:
            message = " ".join(exc.format_message().split())
            where = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
            click.echo(f"sdmodel: error: {message}{where}", err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        sys.exit(code if isinstance(code, int) else 0)


@click.group(cls=OneLineErrors)
@click.version_option(package_name="sdmodel")
@click.pass_context
def main(ctx: click.Context) -> None:
    """System-dynamics model of AI and the Dutch labour market."""
    from sdmodel.atomic import terminate_on_sigterm

    # SIGTERM unwinds like Ctrl-C, so that temporaries are removed and the previous
    # outputs stay; the previous handler comes back when the command ends
    restore = terminate_on_sigterm()
    if restore is not None:
        ctx.call_on_close(restore)


def _command_line(
    scenarios: tuple[str, ...],
    settings: tuple[str, ...],
    out: Path,
    model_path: Path,
    engine: str = "numpy",
) -> str:
    """The ``run`` command line, rebuilt from its parsed options (for ``history``)."""
    words = ["sdmodel", "run"]
    for scenario in scenarios:
        words += ["--scenario", scenario]
    for text in settings:
        words += ["--set", text]
    words += ["--out", str(out)]
    if Path(model_path) != MODEL_PATH:
        words += ["--model", str(model_path)]
    words += ["--engine", engine]
    return shlex.join(words)


@main.command()
@click.option(
    "--scenario",
    "scenarios",
    multiple=True,
    metavar="NAME",
    help="Scenario name or .toml file (repeatable; default: all in scenarios/).",
)
@click.option(
    "--set",
    "settings",
    multiple=True,
    metavar='"NAME=VALUE"',
    help='Override a constant for every scenario, e.g. --set "Base adoption delay[low]=6".',
)
@click.option(
    "--out",
    type=click.Path(dir_okay=True, path_type=Path),
    default=OUTPUT_DIR / "run.nc",
    show_default=True,
    help="NetCDF output file; the overview plot goes next to it as <stem>_overview.png.",
)
@model_option
@click.option(
    "--engine",
    type=click.Choice(["numpy", "pysd"]),
    default="numpy",
    show_default=True,
    help="numpy: the vectorized ensemble engine; pysd: the reference (slow, same results).",
)
@_user_errors
def run(
    scenarios: tuple[str, ...],
    settings: tuple[str, ...],
    out: Path,
    model_path: Path,
    engine: str,
):
    """Run scenarios, write CF-NetCDF and an overview plot."""
    from sdmodel.atomic import transaction
    from sdmodel.netcdf import write_netcdf
    from sdmodel.plots import plot_overview
    from sdmodel.runner import run_scenarios
    from sdmodel.scenarios import parse_set

    overrides = [parse_set(text) for text in settings]
    png = overview_path(out)
    if out == OUTPUT_DIR / "run.nc":
        make_output_dir(OUTPUT_DIR)
    check_writable(out)
    check_writable(png)
    with warnings.catch_warnings():
        # pysd on pandas 3 warns about its own use of `inplace`; not the user's concern
        warnings.filterwarnings("ignore", message=".*inplace keyword", module="pysd")
        warnings.filterwarnings("ignore", message=".*inplace keyword", category=FutureWarning)
        ds = run_scenarios(list(scenarios) or None, overrides, model_path, engine=engine)
    command = _command_line(scenarios, settings, out, model_path, engine)
    with transaction():  # both files or neither; an interruption keeps the previous ones
        written = write_netcdf(ds, out, command=command)
        plot_overview(ds, png)
    click.echo(f"wrote {written}")
    click.echo(f"wrote {png}")
    click.echo(summary_table(ds))


def _format_value(value) -> str:
    array = xr.DataArray(value)
    if array.ndim == 0:
        return f"{float(array):.6g}"
    flat = array.stack(_e=array.dims) if array.ndim > 1 else array
    labels = [
        ",".join(map(str, v)) if isinstance(v, tuple) else str(v)
        for v in flat.indexes[flat.dims[0]]
    ]
    return ", ".join(f"{k}={float(v):.6g}" for k, v in zip(labels, flat.values, strict=True))


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
    return "\n".join(lines)


@main.command()
@click.argument("name", required=False)
@model_option
@_user_errors
def info(name: str | None, model_path: Path) -> None:
    """List the model's constants, or describe the variable NAME."""
    from sdmodel.modelinfo import ModelInfo
    from sdmodel.translate import load_model

    model = load_model(model_path)
    model_info = ModelInfo.from_model(model, model_path)
    if name is None:
        click.echo(_constants_table(model, model_info))
    else:
        click.echo(_element_report(model, model_info, name))


# Subcommands defined in their own modules (they import the helpers above).
from sdmodel.cli_compare import compare  # noqa: E402
from sdmodel.cli_shock import shock  # noqa: E402
from sdmodel.cli_sweep import sweep  # noqa: E402

main.add_command(compare)
main.add_command(shock)
main.add_command(sweep)
