"""The toolkit's error and warning types, and the one mapping from an error to a process exit code.

The library raises these and emits ``InputWarning``; only the command-line ring (``plumbing.cli``) turns them into
``error: ...`` / ``warning: ...`` lines and exit codes. Each error also subclasses the built-in type a caller would
catch (``BadInputError`` is a ``ValueError``, ``UnknownNameError`` a ``KeyError``, ...), so code written against the
built-ins keeps working.

Exit codes (design.md): 0 success, 1 runtime failure (I/O, network, a failed item of a batch), 2 bad input or usage.
"""
from __future__ import annotations

import warnings

EXIT_OK, EXIT_FAILURE, EXIT_BAD_INPUT = 0, 1, 2


class ToolkitError(Exception):
    """Base class of every error the toolkit raises on purpose; ``exit_code`` is what the command line exits with."""

    exit_code = EXIT_FAILURE

    def __str__(self) -> str:  # KeyError would quote the message: every toolkit error reads as plain words
        return str(self.args[0]) if len(self.args) == 1 else super().__str__()


class BadInputError(ToolkitError, ValueError):
    """An input file, field, option or value is malformed; the message names what and where (exit code 2)."""

    exit_code = EXIT_BAD_INPUT


class UnknownNameError(BadInputError, KeyError):
    """A name (preset, backend, recipe, protocol, ...) that is not among the known ones; the message lists them."""


class MissingInputError(BadInputError, FileNotFoundError):
    """An input file or folder that does not exist; the message names it."""


class IncompatibleError(BadInputError):
    """Two things that cannot be combined: merging evaluator states of different problems, mismatched configs."""


class ChecksumMismatchError(ToolkitError):
    """A downloaded or local file does not have the published digest; the message says what to do (exit code 1)."""


class ToolkitRuntimeError(ToolkitError, RuntimeError):
    """A failure while running on valid input (an encoder that failed, items of a batch that failed; exit code 1)."""


class InputWarning(UserWarning):
    """A harmless input problem with a defined result (for example images without condition tags)."""


def warn(message: str) -> None:
    """Emit ``message`` as an ``InputWarning`` (the command line prints it as one ``warning: ...`` line)."""
    warnings.warn(message, InputWarning, stacklevel=2)


def exit_code(exc: BaseException) -> int | None:
    """The exit code a command ends with on ``exc``: the toolkit error's own code, 1 for an ``OSError`` (I/O), and
    None for anything else (a bug: let its traceback show)."""
    if isinstance(exc, ToolkitError):
        return exc.exit_code
    if isinstance(exc, OSError):
        return EXIT_FAILURE
    return None
