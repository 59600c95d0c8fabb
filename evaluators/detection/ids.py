"""Image and category ids as pycocotools keys them: exact integers of any size, or strings; never through a float.

A column of ids is an int64 array when every id is an integer that fits, an object array of exact Python ints when one
does not (2**63 and beyond, below -2**63), a str array when every id is a string, and an object array when integers
and strings mix. ``codes`` maps ids to their rank among the ground truth's distinct ids, sorted: the dense integer
range the engines see. pycocotools sorts ids too, so the ranks keep its order (and how it breaks score ties).
"""
from __future__ import annotations

import numpy as np

# What a JSON writer holds exactly; wider integers are reported as their decimal string.
_JSON_INT_RANGE = (-2 ** 63, 2 ** 64)


def is_id(value, floats_ok: bool = False) -> bool:
    """An integer or a string; with ``floats_ok`` also a float with an integral value (1.0)."""
    if isinstance(value, bool):
        return False
    return isinstance(value, (int, str)) or (floats_ok and isinstance(value, float) and value.is_integer())


def exact_id(value):
    """One id as pycocotools keys it: a string, or a Python int (from 1.0 or a NumPy integer too)."""
    return value if isinstance(value, str) else int(value)


def json_id(value):
    """An id (a ``tolist()`` element) as a JSON writer can hold it: integers beyond 64 bits become strings."""
    if isinstance(value, int) and not _JSON_INT_RANGE[0] <= value < _JSON_INT_RANGE[1]:
        return str(value)
    return value


def id_array(values: list, floats_ok: bool = False) -> tuple[np.ndarray, int] | None:
    """``values`` as a column of ids and how many were integral floats (read as their integers); None when one is
    not an id (the caller names it)."""
    if not values:
        return np.zeros(0, np.int64), 0
    try:
        arr = np.asarray(values)
    except (ValueError, OverflowError):  # ragged; named below
        arr = np.empty(0, object)
    if arr.ndim == 1 and len(arr) == len(values):
        if arr.dtype.kind == "i" and bool not in set(map(type, values)):  # NumPy reads true/false as 1/0
            return arr.astype(np.int64, copy=False), 0
        if arr.dtype.kind == "U" and all(isinstance(v, str) for v in values):  # ["1", 2] is a str array too
            return arr, 0
    if not all(is_id(v, floats_ok) for v in values):
        return None
    floats = sum(isinstance(v, float) for v in values)
    exact = [exact_id(v) for v in values] if floats else values
    if not any(isinstance(v, str) for v in exact):
        try:
            return np.array(exact, np.int64), floats
        except OverflowError:
            pass
    out = np.empty(len(exact), object)
    out[:] = exact
    return out, floats


def is_str(ids: np.ndarray) -> np.ndarray:
    """Which ids are strings."""
    if ids.dtype == object:
        return np.fromiter((isinstance(v, str) for v in ids), bool, len(ids))
    return np.full(len(ids), ids.dtype.kind == "U")


def codes(ids: np.ndarray, known: np.ndarray) -> np.ndarray:
    """The position of each id in ``known`` (distinct ids of one type, sorted), -1 where it is not there. Ids compare
    exactly and by type: "1" never equals 1."""
    out = np.full(len(ids), -1, np.int64)
    if not len(known) or not len(ids):
        return out
    if ids.dtype == known.dtype == np.int64 and int(known[-1]) - int(known[0]) <= 4 * len(known) + 1024:
        return _dense_codes(ids, known)
    sel = np.flatnonzero(is_str(ids) == is_str(known[:1])[0])
    query = ids[sel]
    if query.dtype == object or known.dtype == object:
        query, known = query.astype(object), known.astype(object)
    pos = np.minimum(np.searchsorted(known, query), len(known) - 1)
    hit = np.asarray(known[pos] == query, bool)
    out[sel[hit]] = pos[hit]
    return out


def _dense_codes(ids: np.ndarray, known: np.ndarray) -> np.ndarray:
    """``codes`` for int64 ids whose sorted ``known`` ids span a range a lookup table covers (the common case: ids
    numbered from 0 or 1, perhaps with gaps): one table lookup per id instead of a binary search."""
    low = int(known[0])
    table = np.full(int(known[-1]) - low + 1, -1, np.int64)
    table[known - low] = np.arange(len(known))
    inside = (ids >= low) & (ids <= known[-1])
    if inside.all():
        return table[ids - low]
    out = np.full(len(ids), -1, np.int64)
    out[inside] = table[ids[inside] - low]
    return out
