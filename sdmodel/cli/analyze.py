"""``sdmodel analyze``: global sensitivity (Sobol, Morris) and scenario discovery (PRIM).

Each subcommand reads one ensemble file of ``sdmodel sweep`` (nothing else: the design is
in the file) and writes its results beside it (``<stem>_sobol.nc`` and ``.csv``,
``<stem>_sobol_figures/``; ``_morris``; ``<stem>_prim.json`` and ``.csv``), or under
``--out``. ``--vars`` chooses the outcomes (sobol, morris) or the parameters PRIM may
restrict (prim); ``--json`` prints the result as JSON on stdout.
"""

from __future__ import annotations

from pathlib import Path

import click

from sdmodel.cli.common import _user_errors, check_writable, command_line
from sdmodel.errors import SdmodelError

_VARS_HELP = (
    "Outcomes: expressions VAR@YEAR, max(VAR), min(VAR, Y0:Y1), mean/argmax/argmin(...), or "
    "bare variable names (-> @2030, @2040, @2050 and max); repeatable or comma list "
    "outside parentheses. Default: the contract indicators in the file."
)


def _split(values: tuple[str, ...]) -> list[str]:
    """``--vars`` entries split at commas that are not inside parentheses or brackets."""
    out, depth, word = [], 0, ""
    for value in values:
        for ch in value + ",":
            depth += ch in "([" and 1 or (ch in ")]" and -1 or 0)
            if ch == "," and depth == 0:
                if word.strip():
                    out.append(word.strip())
                word = ""
            else:
                word += ch
    return out


def _common(func):
    func = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")(func)
    func = click.option("--no-figures", is_flag=True, help="Skip the figures.")(func)
    func = click.option(
        "--out",
        type=click.Path(path_type=Path),
        default=None,
        help="Output base name (default: <ensemble stem>_<method> beside the ensemble).",
    )(func)
    func = click.argument("ensemble", type=click.Path(path_type=Path))(func)
    return func


def _bootstrap(func):
    func = click.option(
        "--seed",
        type=click.IntRange(min=0),
        default=20241125,
        show_default=True,
        help="Seed of the bootstrap resampling.",
    )(func)
    func = click.option(
        "--resamples",
        type=int,
        default=1000,
        show_default=True,
        help="Bootstrap resamples of the confidence intervals.",
    )(func)
    func = click.option(
        "--conf-level",
        type=float,
        default=0.95,
        show_default=True,
        help="Confidence level of the intervals.",
    )(func)
    func = click.option("--vars", "variables", multiple=True, metavar="OUTCOMES", help=_VARS_HELP)(
        func
    )
    return func


def _open(path: Path):
    from sdmodel.io.netcdf import open_netcdf

    if not path.is_file():
        raise SdmodelError(f"ensemble file not found: {path}")
    try:
        return open_netcdf(path)
    except (OSError, ValueError) as exc:
        raise SdmodelError(f"{path}: not a NetCDF file ({exc})") from None


def _indices(method: str, ensemble: Path, variables, out, no_figures, as_json, **kw) -> None:
    from sdmodel.analysis import outcomes as oc
    from sdmodel.analysis import report, sensitivity
    from sdmodel.io.atomic import output_dir

    nc_path, csv_path, fig_dir = report.outputs_beside(ensemble, method, out)
    check_writable(nc_path)
    command = command_line(click.get_current_context(), ("sdmodel", "analyze", method))
    with _open(ensemble) as ds:
        wanted = oc.expand(_split(variables), ds) if variables else oc.default_outcomes(ds)
        func = sensitivity.sobol if method == "sobol" else sensitivity.morris
        result = func(ds, wanted, path=str(ensemble), **kw)
    files = [nc_path, csv_path]
    with output_dir(nc_path.parent):
        report.write_indices(result, nc_path, csv_path, command)
        if not no_figures:
            from sdmodel.analysis import figures

            fig_dir.mkdir(parents=True, exist_ok=True)
            files += figures.index_bars(result, fig_dir) + figures.year_heatmaps(result, fig_dir)
    if as_json:
        click.echo(report.indices_json(result, files))
    else:
        click.echo(report.indices_text(result))
        click.echo(f"\nwrote {nc_path}\nwrote {csv_path}")
        if not no_figures:
            click.echo(f"wrote {len(files) - 2} figures in {fig_dir}")


@click.group()
def analyze() -> None:
    """Analyse an ensemble: Sobol or Morris sensitivity indices, PRIM scenario discovery."""


@analyze.command()
@_common
@_bootstrap
@click.option(
    "--second-order",
    is_flag=True,
    help="Also second-order indices (needs a sweep with --second-order).",
)
@_user_errors
def sobol(
    ensemble, out, no_figures, as_json, variables, conf_level, resamples, seed, second_order
) -> None:
    """Sobol indices (S1, ST, S2) of a 'sweep --sampler saltelli' ensemble."""
    _indices(
        "sobol",
        ensemble,
        variables,
        out,
        no_figures,
        as_json,
        conf_level=conf_level,
        num_resamples=resamples,
        seed=seed,
        second_order=second_order or None,
    )


@analyze.command()
@_common
@_bootstrap
@_user_errors
def morris(ensemble, out, no_figures, as_json, variables, conf_level, resamples, seed) -> None:
    """Morris mu, mu*, sigma of a 'sweep --sampler morris' ensemble."""
    _indices(
        "morris",
        ensemble,
        variables,
        out,
        no_figures,
        as_json,
        conf_level=conf_level,
        num_resamples=resamples,
        seed=seed,
    )


@analyze.command()
@_common
@click.option(
    "--where",
    "where",
    required=True,
    metavar="CONDITION",
    help='Runs of interest, e.g. "unemployment_rate@2030 > 0.08 AND '
    'min(awf_balance, 2024:2035) < 0" (AND, OR, NOT, parentheses).',
)
@click.option(
    "--vars",
    "variables",
    multiple=True,
    metavar="PARAMETERS",
    help="Sampled parameters PRIM may restrict (Vensim names; default: all).",
)
@click.option(
    "--threshold",
    type=float,
    default=0.8,
    show_default=True,
    help="Density the chosen box should reach.",
)
@click.option(
    "--peel-alpha",
    type=float,
    default=0.05,
    show_default=True,
    help="Share of the runs peeled off per step.",
)
@click.option("--mass-min", type=float, default=0.05, show_default=True, help="Smallest box mass.")
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=20241125,
    show_default=True,
    help="Seed of the feature scoring's extra trees.",
)
@_user_errors
def prim(
    ensemble, out, no_figures, as_json, where, variables, threshold, peel_alpha, mass_min, seed
) -> None:
    """PRIM boxes of the runs meeting --where, with feature scores (EMA Workbench)."""
    import json

    import pandas as pd

    from sdmodel.analysis import conditions, discovery, report
    from sdmodel.analysis import outcomes as oc
    from sdmodel.io.atomic import output_dir

    json_path, csv_path, fig_dir = report.outputs_beside(ensemble, "prim", out)
    check_writable(json_path)
    condition = conditions.parse_where(where)
    with _open(ensemble) as ds:
        values = oc.evaluate_all(ds, conditions.outcomes_of(condition))
        truth = condition.evaluate(values)
        inputs = oc.read_inputs(ds)
        scen = [str(s) for s in ds["scenario"].values]
    x = pd.DataFrame(inputs.values, columns=list(inputs.names))
    if variables:
        names = _split(variables)
        unknown = [n for n in names if n not in x.columns]
        if unknown:
            raise SdmodelError(f"--vars: {unknown[0]!r} is not a sampled parameter of {ensemble}")
        x = x[names]
    results, scores = {}, {}
    for i, s in enumerate(scen):
        try:
            results[s] = discovery.prim(
                x, truth[i], threshold=threshold, peel_alpha=peel_alpha, mass_min=mass_min
            )
        except SdmodelError as exc:
            raise SdmodelError(f"scenario {s}: {exc}") from None
        scores[s] = discovery.feature_scores(x, truth[i], seed)
    document = report.prim_document(str(condition), results, scores, threshold)
    files = [json_path, csv_path]
    with output_dir(json_path.parent):
        report.write_prim(document, json_path, csv_path)
        if not no_figures:
            from sdmodel.analysis import figures

            fig_dir.mkdir(parents=True, exist_ok=True)
            files += figures.prim_trajectories(document, fig_dir)
    if as_json:
        click.echo(json.dumps({**document, "files": [str(f) for f in files]}, indent=2))
    else:
        click.echo(report.prim_text(document))
        click.echo(f"\nwrote {json_path}\nwrote {csv_path}")
