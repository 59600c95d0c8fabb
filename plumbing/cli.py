"""The command-line convention every entry point shares: one ``error: ...`` line and an exit code for every
toolkit error (``plumbing.errors.exit_code``), ``warning: ...`` lines for input warnings, and the shared options.

A reader of stdout that goes away early (``| head``, ``| less`` quit) is no error: the command ends quietly with
exit code 0, as ``head``-style tools do, and stdout is pointed at the null device so that nothing complains later.
Commands write their files before they print their tables, and news printed during a run (``echo_notice``) is
dropped instead, so a closed pipe never costs an output.

Meanings fixed once for every command: ``--json PATH`` writes a file; ``--format json`` prints JSON on stdout;
``--workers N`` (default: the CPUs this process may use); ``--shard K/N``.
"""
from __future__ import annotations

import contextlib
import os
import select
import sys
import warnings
from collections.abc import Callable, Iterator

import click
import orjson

from plumbing.errors import (
    EXIT_BAD_INPUT,
    EXIT_FAILURE,
    EXIT_OK,
    BadInputError,
    InputWarning,
    ToolkitError,
    ToolkitRuntimeError,
    exit_code,
)
from plumbing.jobs import parse_shard

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"]}


def stdout_closed() -> bool:
    """True when stdout is a pipe (or socket) whose reader has gone, e.g. after ``| head -1`` printed its line: the
    kernel then flags the writing end with an error (``poll``'s POLLERR). False for a terminal, a file, an open
    pipe, or a stdout without a file descriptor. Where ``poll`` does not exist, True (the caller asks only after a
    BrokenPipeError)."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, ValueError, OSError):  # None, closed, or an in-memory stream (click's CliRunner)
        return False
    if not hasattr(select, "poll"):
        return True
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    return any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0))


def drop_stdout() -> None:
    """Point this process's stdout at the null device, so that what is still printed or buffered (the
    interpreter's final flush included) goes nowhere instead of raising BrokenPipeError again."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, ValueError, OSError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


@contextlib.contextmanager
def closed_stdout_ends_quietly() -> Iterator[None]:
    """Inside: a BrokenPipeError because the reader of stdout went away ends the process with exit code 0 and no
    message (stdout dropped, see ``drop_stdout``). A BrokenPipeError of anything else (a socket, a subprocess's
    pipe) goes on as raised."""
    try:
        yield
    except BrokenPipeError:
        if not stdout_closed():
            raise
        drop_stdout()
        sys.exit(EXIT_OK)


def echo_notice(message: str) -> None:
    """Print one line of news during a run (``scoring X``, ``refused Y: ...``) on stdout. When the reader of stdout
    has gone, the line is dropped with everything printed after it, and the run goes on: the files it is about to
    write matter more than the news (pass this, not ``click.echo``, as a library's ``notify``)."""
    try:
        click.echo(message)
    except BrokenPipeError:
        if not stdout_closed():
            raise
        drop_stdout()


@contextlib.contextmanager
def reported_errors() -> Iterator[None]:
    """Inside: input warnings are printed as ``warning: ...`` lines on stderr, a toolkit error or OSError ends
    the process with ``error: <message>`` and its exit code (any other exception is a bug and keeps its
    traceback), and a closed stdout ends it quietly with exit code 0 (``closed_stdout_ends_quietly``)."""
    def show(message, category, *_args, **_kwargs):
        if issubclass(category, InputWarning):
            click.echo(f"warning: {message}", err=True)

    with warnings.catch_warnings():
        warnings.simplefilter("always", InputWarning)
        warnings.showwarning = show
        try:
            with closed_stdout_ends_quietly():
                yield
        except Exception as exc:
            code = exit_code(exc)
            if code is None:
                raise
            click.echo(f"error: {exc}", err=True)
            sys.exit(code)


class ToolkitGroup(click.Group):
    """A click group whose commands follow the convention: usage errors are one ``error: ...`` line (exit 2),
    toolkit errors one line with their exit code, never a traceback or a usage block."""

    def main(self, *args, **kwargs):
        """Run the group (``standalone_mode=False``) and exit with the command's code (0 unless it returned an int).

        A usage error prints ``error: ... (see '<cmd> --help')`` and exits 2 (``EXIT_BAD_INPUT``); an abort exits 1; any
        other ``click.ClickException`` its own exit code. Never returns."""
        kwargs["standalone_mode"] = False
        try:
            code = super().main(*args, **kwargs)
        except click.UsageError as exc:
            where = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
            click.echo(f"error: {exc.format_message()}{where}", err=True)
            sys.exit(EXIT_BAD_INPUT)
        except click.Abort:
            click.echo("error: aborted", err=True)
            sys.exit(EXIT_FAILURE)
        except click.ClickException as exc:
            click.echo(f"error: {exc.format_message()}", err=True)
            sys.exit(exc.exit_code)
        sys.exit(code if isinstance(code, int) else 0)

    def make_context(self, *args, **kwargs) -> click.Context:
        """Parse the group's own arguments as click does; a closed stdout while printing ``--help`` or
        ``--version`` ends quietly (``closed_stdout_ends_quietly``), as it does inside a command."""
        with closed_stdout_ends_quietly():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: click.Context):
        """Invoke the chosen command inside ``reported_errors``: a toolkit error or OSError becomes one
        ``error: ...`` line and its exit code, input warnings ``warning: ...`` lines."""
        with reported_errors():
            return super().invoke(ctx)

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        """Register ``cmd`` (and, for a group, every command below it) with ``ToolkitContext``, so that no command
        of the group overwrites its own inputs."""
        _use_toolkit_context(cmd)
        super().add_command(cmd, name)


OUTPUT_PARAMS = frozenset({"out", "json_out", "csv_out", "save_state", "save_ann", "plot", "report", "zip_path"})


class ToolkitContext(click.Context):
    """The context of every toolkit command: before the command runs, an output file option (``OUTPUT_PARAMS``)
    that names a file another option or argument reads, or the file of another output option, is refused."""

    def invoke(self, callback, /, *args, **kwargs):
        """Check the outputs, then run ``callback`` as click does."""
        if self.command is not None and callback is self.command.callback:
            refuse_overwriting_inputs(self.command, kwargs)
        return super().invoke(callback, *args, **kwargs)


def _use_toolkit_context(cmd: click.Command) -> None:
    cmd.context_class = ToolkitContext
    for sub in getattr(cmd, "commands", {}).values():
        _use_toolkit_context(sub)


def _shown(command: click.Command, param_name: str) -> str:
    for param in command.params:
        if param.name == param_name:
            return param.opts[0] if isinstance(param, click.Option) else param.human_readable_name
    return param_name


def refuse_overwriting_inputs(command: click.Command, params: dict) -> None:
    """Refuse a run whose output file (a parameter named in ``OUTPUT_PARAMS``) is also a file that another
    parameter names (an input: ``--gt``, ``--dt``, a checkpoint, an annotation file...), or another output's file.

    Raises:
        BadInputError: naming both options, e.g. ``--json g.json is the file of --gt: refusing to overwrite an
            input``; nothing has been read or written yet."""
    outputs = {name: str(value) for name, value in params.items() if name in OUTPUT_PARAMS and value}
    inputs = {}
    for name, value in params.items():
        if name in outputs:
            continue
        for item in value if isinstance(value, (tuple, list)) else (value,):
            if isinstance(item, (str, os.PathLike)) and os.path.isfile(item):
                inputs.setdefault(name, []).append(os.fspath(item))
    seen = {}
    for name, path in outputs.items():
        real = os.path.realpath(path)
        if real in seen:
            raise BadInputError(f"{_shown(command, name)} {path} is also the file of {_shown(command, seen[real])}: "
                                "two outputs cannot share one file")
        seen[real] = name
        exists = os.path.exists(path)
        for other, files in inputs.items():
            if any(os.path.realpath(item) == real or exists and os.path.samefile(path, item) for item in files):
                raise BadInputError(f"{_shown(command, name)} {path} is the file of {_shown(command, other)}: "
                                    "refusing to overwrite an input")


@contextlib.contextmanager
def needs_extra(extra: str) -> Iterator[None]:
    """Inside (the imports of a command that needs an optional extra): an ImportError becomes a ToolkitError
    naming the extra and how to install it (exit code 1), instead of a traceback."""
    try:
        yield
    except ImportError as exc:
        how = ("`make install` in the clone (torch pinned first, mmcv built against it: docs/install.md)"
               if extra == "train" else f"pip install -e '.[{extra}]' in the clone")
        raise ToolkitError(f"the {extra} extra is needed ({exc}); install it with {how}") from None


def run_script(main: Callable[[], object]) -> None:
    """Run a ``tools/*.py`` script's ``main`` under the same convention as the console scripts."""
    with reported_errors():
        main()


def stack(*options: Callable) -> Callable:
    """One decorator applying ``options`` in the order written (the first is listed first in ``--help``)."""
    def decorate(command):
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


def workers_option(help_text: str = "Worker processes [default: the CPUs this process may use].") -> Callable:
    """``--workers N`` (N >= 1; default None: the worker-count rule of ``plumbing.jobs``)."""
    return click.option("--workers", type=click.IntRange(1), default=None, help=help_text)


def shard_option(what: str = "the sorted work list") -> Callable:
    """``--shard K/N``, parsed into (K, N) (None when not given)."""
    return click.option("--shard", metavar="K/N", callback=lambda _ctx, _param, value: value and parse_shard(value),
                        help=f"Process only shard K of N of {what} (for SLURM arrays and batch schedulers).")


def json_option(help_text: str = "Write the results as JSON to this file.") -> Callable:
    """``--json PATH``: always a file to write."""
    return click.option("--json", "json_out", metavar="OUT.json", type=click.Path(dir_okay=False), help=help_text)


def format_option(what: str = "the results") -> Callable:
    """``--format text|json``: how to print ``what`` on stdout."""
    return click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
                        show_default=True, help=f"Print {what} as a text table or as JSON on stdout.")


def echo_json(obj) -> None:
    """Print ``obj`` as indented JSON on stdout (NumPy values allowed)."""
    click.echo(orjson.dumps(obj, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY).decode())


def echo_recipe_checks(entries, output_format: str, name_width: int = 60) -> None:
    """Report ``recipes check``: one line per entry as it arrives (text) or the list (``--format json``).

    ``entries``: an iterable of ``{name, ok, params, seconds, error}`` dicts (``check_recipes()`` of a plug-in).

    Raises:
        ToolkitRuntimeError: any recipe failed to build (exit 1), naming them."""
    report = []
    for entry in entries:
        report.append(entry)
        if output_format == "text":
            status = f"ok    {entry['params'] / 1e6:6.1f} M params" if entry["ok"] else f"FAIL  {entry['error']}"
            click.echo(f"{entry['name']:{name_width}s} {status}  ({entry['seconds']:.1f} s)")
    if output_format == "json":
        echo_json(report)
    failed = [e["name"] for e in report if not e["ok"]]
    if failed:
        raise ToolkitRuntimeError(f"{len(failed)} of {len(report)} recipes failed to build: {', '.join(failed)}")


def download_options(env: str) -> Callable:
    """``--mirror`` (default ``$env``), ``--cache-dir``, ``--retries``, ``--timeout`` of every download command."""
    return stack(
        click.option("--mirror", help=f"Mirror with the upstream layout: http(s):// URL, file:// URL or folder "
                                      f"(default: ${env}, else upstream)."),
        click.option("--cache-dir", type=click.Path(file_okay=False),
                     help="Download cache (default: ~/.cache/rawseg-bench)."),
        click.option("--retries", type=click.IntRange(min=0), default=4, show_default=True,
                     help="Retries per source on transient failures (exponential backoff)."),
        click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=60.0, show_default=True,
                     help="Seconds without data before a connection counts as failed."))
