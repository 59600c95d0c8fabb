"""Writing result files atomically: a reader never sees a half-written file."""
from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Iterable, Sequence
from glob import escape as glob_escape
from pathlib import Path

import orjson


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to a temporary file beside ``path``, fsync it, then rename it over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        commit_temp(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def commit_temp(tmp: str | os.PathLike, path: str | os.PathLike) -> Path:
    """Give the finished temporary file ``tmp`` (same folder) its final name ``path``: fsync, then rename."""
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return Path(path)


def remove_stale_temps(path: str | os.PathLike) -> int:
    """Delete temporary files that an interrupted ``atomic_write_bytes`` to ``path`` left behind; the count."""
    path = Path(path)
    stale = list(path.parent.glob(f".{glob_escape(path.name)}.*.tmp")) if path.parent.is_dir() else []
    for tmp in stale:
        tmp.unlink(missing_ok=True)
    return len(stale)


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def write_json(path: str | os.PathLike, obj, indent: bool = True) -> Path:
    """Write ``obj`` as JSON at full float precision (NaN is written as null; NumPy values allowed)."""
    option = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_APPEND_NEWLINE | (orjson.OPT_INDENT_2 if indent else 0)
    return atomic_write_bytes(path, orjson.dumps(obj, option=option))


def write_csv(path: str | os.PathLike, header: Sequence[str], rows: Iterable[Sequence]) -> Path:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return atomic_write_text(path, buf.getvalue())

