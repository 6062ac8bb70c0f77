"""The ``sdmodel`` command group: every command, and one-line usage errors."""

from __future__ import annotations

import sys

import click

from sdmodel.cli.analyze import analyze
from sdmodel.cli.common import OptionError
from sdmodel.cli.compare import compare
from sdmodel.cli.doc import doc
from sdmodel.cli.info import info
from sdmodel.cli.run import run
from sdmodel.cli.serve import serve
from sdmodel.cli.shock import shock
from sdmodel.cli.sweep import sweep

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
    from sdmodel.io.atomic import terminate_on_sigterm

    # SIGTERM unwinds like Ctrl-C, so that temporaries are removed and the previous
    # outputs stay; the previous handler comes back when the command ends
    restore = terminate_on_sigterm()
    if restore is not None:
        ctx.call_on_close(restore)


for command in (run, info, doc, compare, shock, sweep, analyze, serve):
    main.add_command(command)
