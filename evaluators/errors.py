"""The toolkit's error and warning types, and the command-line convention built on them.

The library raises errors and emits ``InputWarning``s; only the command line turns them into
``error: ...`` / ``warning: ...`` lines and exit codes (2 for bad input or usage, 1 for runtime
failures such as I/O).
"""
from __future__ import annotations

import sys
import warnings

import click


class ToolkitError(Exception):
    """Base class of every error the toolkit raises on purpose."""

    exit_code = 1


class BadInputError(ToolkitError, ValueError):
    """An input file, field or value is malformed; the message names what and where."""

    exit_code = 2


class ChecksumMismatchError(ToolkitError):
    """A downloaded or local file does not have the published digest; the message says what to do."""


class InputWarning(UserWarning):
    """A harmless input problem with a defined result (for example images without condition tags)."""


def warn(message: str) -> None:
    warnings.warn(message, InputWarning, stacklevel=2)


class ToolkitGroup(click.Group):
    """A click group that prints toolkit and usage errors as one ``error: ...`` line instead of a
    traceback or a usage block, and input warnings as ``warning: ...`` lines on stderr."""

    def main(self, *args, **kwargs):
        kwargs["standalone_mode"] = False
        try:
            code = super().main(*args, **kwargs)
        except click.UsageError as exc:
            where = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
            click.echo(f"error: {exc.format_message()}{where}", err=True)
            sys.exit(2)
        except click.Abort:
            click.echo("error: aborted", err=True)
            sys.exit(1)
        except click.ClickException as exc:
            click.echo(f"error: {exc.format_message()}", err=True)
            sys.exit(exc.exit_code)
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx: click.Context):
        def show(message, category, *_args, **_kwargs):
            if issubclass(category, InputWarning):
                click.echo(f"warning: {message}", err=True)

        with warnings.catch_warnings():
            warnings.simplefilter("always", InputWarning)
            warnings.showwarning = show
            try:
                return super().invoke(ctx)
            except ToolkitError as exc:
                click.echo(f"error: {exc}", err=True)
                sys.exit(exc.exit_code)
            except OSError as exc:
                click.echo(f"error: {exc}", err=True)
                sys.exit(1)
