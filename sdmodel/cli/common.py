"""Helpers shared by the commands: option types and decorators, the user-error wrapper.

User errors print one line naming the culprit on stderr and exit with status 2, leaving
no output file behind.
"""

from __future__ import annotations

import os
import shlex
import sys
import tempfile
from collections.abc import Callable, Collection, Sequence
from functools import wraps
from pathlib import Path

import click

from sdmodel.errors import SdmodelError
from sdmodel.io.atomic import check_output_dir
from sdmodel.io.paths import MODEL_PATH


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
    """A sampling seed: an integer in ``[0, SEED_MAX]``.

    ``SEED_MAX``: :data:`sdmodel.experiments.sampling.SEED_MAX`.
    """

    name = "integer"

    def convert(self, value, param, ctx) -> int:  # noqa: D102 (click's hook)
        from sdmodel.experiments.sampling import check_seed

        try:
            return check_seed(int(value) if isinstance(value, int) else int(str(value), 10))
        except ValueError:
            raise OptionError(f"{value!r} is not an integer", ctx, param) from None
        except SdmodelError as exc:
            raise OptionError(str(exc), ctx, param) from None


class SchedulerAddress(click.ParamType):
    """A Dask scheduler address (:func:`sdmodel.experiments.executors.check_scheduler_address`)."""

    name = "address"

    def convert(self, value, param, ctx) -> str:  # noqa: D102 (click's hook)
        from sdmodel.experiments.executors import check_scheduler_address

        try:
            return check_scheduler_address(str(value))
        except SdmodelError as exc:
            raise OptionError(str(exc), ctx, param) from None


def parse_share(text: str) -> float:
    """A share given as a fraction (``0.05``) or as a percent with its sign (``5%``).

    One convention for every share on the command line: a fraction, or a percent that
    says so. A bare number above 1 is refused as ambiguous (is ``5`` 5% or 500%?).

    Raises
    ------
    ValueError
        With the reason, for the caller to name the option.
    """
    word = str(text).strip()
    percent = word.endswith("%")
    try:
        value = float(word[:-1] if percent else word)
    except ValueError:
        raise ValueError(f"{text!r} is not a share (a fraction such as 0.05, or 5%)") from None
    if percent:
        value /= 100
    elif value > 1:
        raise ValueError(
            f"{text!r} is ambiguous: give a fraction of at most 1 (0.05) or a percent with "
            f"its sign ({word}%)"
        )
    if not 0 <= value <= 1:
        raise ValueError(f"{text!r} is outside 0-1 (0%-100%)")
    return value


class ShareType(click.ParamType):
    """A share: a fraction in [0, 1] or a percent with ``%`` (:func:`parse_share`)."""

    name = "share"

    def convert(self, value, param, ctx) -> float:  # noqa: D102 (click's hook)
        if isinstance(value, float):
            return value
        try:
            return parse_share(value)
        except ValueError as exc:
            raise OptionError(str(exc), ctx, param) from None


class ShareListType(click.ParamType):
    """Comma-separated shares, each as :class:`ShareType` takes it."""

    name = "shares"

    def convert(self, value, param, ctx) -> tuple[float, ...]:  # noqa: D102 (click's hook)
        if isinstance(value, tuple):
            return value
        words = [w for w in str(value).split(",") if w.strip()]
        if not words:
            raise OptionError("empty list", ctx, param)
        try:
            return tuple(parse_share(w) for w in words)
        except ValueError as exc:
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


def scenarios_option(help: str) -> Callable:
    """The repeatable ``--scenario NAME`` option, stored as ``scenarios`` (a tuple).

    Parameters
    ----------
    help
        The command's own help text (its default scenarios).

    Returns
    -------
    Callable
        A click option decorator.
    """
    return click.option("--scenario", "scenarios", multiple=True, metavar="NAME", help=help)


def policy_option(help: str) -> Callable:
    """The repeatable ``--policy "NAME=VALUE"`` option (policy levers), as ``policy``.

    Parameters
    ----------
    help
        The command's own help text (what the levers apply to).

    Returns
    -------
    Callable
        A click option decorator.
    """
    return click.option("--policy", "policy", multiple=True, metavar='"NAME=VALUE"', help=help)


def policy_file_option(help: str) -> Callable:
    """The repeatable ``--policy-file PATH`` option (policy variants), as ``policy_files``.

    Parameters
    ----------
    help
        The command's own help text (what a file is there).

    Returns
    -------
    Callable
        A click option decorator.
    """
    return click.option(
        "--policy-file",
        "policy_files",
        multiple=True,
        type=click.Path(path_type=Path),
        metavar="PATH",
        help=help,
    )


def output_level_options(quiet_help: str) -> Callable:
    """The ``--quiet`` and ``--verbose`` flags; the command calls :func:`set_output_level`.

    ``--verbose`` prints one ``sdmodel: timing: <step> <seconds> s`` line on stderr per
    main step (translate, compile, integrate, write, plot); the two are exclusive.

    Parameters
    ----------
    quiet_help
        The command's own help text for ``--quiet`` (what it silences).

    Returns
    -------
    Callable
        A decorator adding both options.
    """
    quiet = click.option("--quiet", is_flag=True, help=quiet_help)
    verbose = click.option(
        "--verbose",
        is_flag=True,
        help="Print the time of each main step on stderr (timing: STEP SECONDS s).",
    )

    def decorate(func: Callable) -> Callable:
        return quiet(verbose(func))

    return decorate


def set_output_level(quiet: bool, verbose: bool) -> None:
    """Apply ``--quiet``/``--verbose`` for the running command (restored when it ends).

    Raises
    ------
    click.UsageError
        Both given (one line, exit status 2).
    """
    from sdmodel.io import progress

    ctx = click.get_current_context()
    if quiet and verbose:
        raise click.UsageError("--quiet and --verbose exclude each other", ctx)
    before = progress._QUIET, progress.verbose()
    progress.set_quiet(quiet)
    progress.set_verbose(verbose)

    def restore() -> None:
        progress.set_quiet(before[0])
        progress.set_verbose(before[1])

    ctx.call_on_close(restore)


def command_line(
    ctx: click.Context,
    words: Sequence[str],
    *,
    skip: Collection[str] = ("quiet", "verbose", "as_json"),
    omit_defaults: Collection[str] = (),
) -> str:
    """The command line, rebuilt from the parsed options (for the files' ``history``).

    Parameters
    ----------
    ctx
        The running command's context.
    words
        The command's words, e.g. ``("sdmodel", "run")``.
    skip
        Parameter names left out (options that change nothing in the outputs).
    omit_defaults
        Parameter names left out when they have their default value.

    Returns
    -------
    str
        A shell-quoted command line: each option with a value in declaration order,
        repeatable ones once per value, flags only when set.
    """
    out = list(words)
    for param in ctx.command.params:
        if not isinstance(param, click.Option) or param.name in skip:
            continue
        value = ctx.params.get(param.name)
        if value is None or (param.name in omit_defaults and value == param.default):
            continue
        flag = param.opts[0]
        if param.is_flag:
            out += [flag] if value else []
        else:
            for item in value if param.multiple else [value]:
                out += [flag, str(item)]
    return shlex.join(out)


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
    """Fail early (SdmodelError) if ``path`` cannot be written; creates nothing there.

    A missing parent directory is fine when it can be created (every command creates
    the directories of its ``--out``; :func:`sdmodel.io.atomic.output_dir`).
    """
    if path.is_dir():
        raise SdmodelError(f"output path {path} is a directory")
    if path.exists() and not os.access(path, os.W_OK):
        raise SdmodelError(f"output file {path} is not writable")
    parent = path.parent
    if not parent.is_dir():
        check_output_dir(parent)  # the nearest existing ancestor must be writable
        return
    try:
        with tempfile.NamedTemporaryFile(dir=parent, prefix=".sdmodel-probe-"):
            pass
    except OSError as exc:
        raise SdmodelError(f"output directory {parent} is not writable: {exc.strerror}") from None
