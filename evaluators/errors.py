"""The errors and warnings the scorers raise, for code that imports the evaluators
(``from evaluators.errors import BadInputError``, as the peer suites and MMDetection adapters do).

They are the toolkit's own types (``plumbing.errors``), named here so that a caller of the scorers needs no other
package's name: ``BadInputError`` (a ``ValueError``: a malformed file, field or value, the message naming it),
``UnknownNameError`` (a ``KeyError`` too: an unknown preset, backend or protocol), ``MissingInputError`` (a
``FileNotFoundError`` too), ``IncompatibleError`` (merging states of different problems), ``ToolkitError`` (the
base) and ``InputWarning`` (a harmless input problem with a defined result).
"""
from plumbing.errors import (
    BadInputError,
    IncompatibleError,
    InputWarning,
    MissingInputError,
    ToolkitError,
    UnknownNameError,
)

__all__ = ["BadInputError", "IncompatibleError", "InputWarning", "MissingInputError", "ToolkitError",
           "UnknownNameError"]
