"""Reading JSON inputs (annotation, result, camera, lock, recipe files) with errors that name the file."""
from __future__ import annotations

import contextlib
import json
import mmap
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec

from plumbing.errors import BadInputError, MissingInputError


def read_bytes(path: str | os.PathLike, what: str) -> bytes:
    """The bytes of the ``what`` file at ``path``.

    Raises:
        MissingInputError: the file does not exist.
        BadInputError: ``path`` is a folder.
    """
    with _opened(path, what) as f:
        return f.read()


@contextlib.contextmanager
def mapped_bytes(path: str | os.PathLike, what: str) -> Iterator[bytes | mmap.mmap]:
    """The bytes of the ``what`` file at ``path`` for the ``with`` block: a regular file memory-mapped read-only (no
    copy), anything else (an empty file, a pipe) read. Nothing may keep a buffer of it past the block. Raises as
    ``read_bytes``."""
    with _opened(path, what) as f:
        info = os.fstat(f.fileno())
        if not (stat.S_ISREG(info.st_mode) and info.st_size):
            yield f.read()
            return
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
            yield data


def _opened(path: str | os.PathLike, what: str):
    path = Path(path)
    try:
        return path.open("rb")
    except FileNotFoundError:
        raise MissingInputError(f"{path}: {what} file not found") from None
    except IsADirectoryError:
        raise BadInputError(f"{path}: expected a {what} JSON file, got a directory") from None


def parse_json(data: bytes, source: str | os.PathLike) -> Any:
    """Parse JSON ``data`` read from ``source``. Integers keep every digit, beyond 64 bits too (ids derived from
    hashes; orjson would turn them into floats). Python's ``NaN``/``Infinity`` tokens are accepted, so that
    validation can name the entry holding them. Raises BadInputError naming ``source`` and the position."""
    try:
        return msgspec.json.decode(data)
    except msgspec.DecodeError as exc:
        try:
            return json.loads(data)
        except ValueError:
            raise BadInputError(f"{source}: invalid JSON: {exc}") from None


def read_json(src: Any, what: str) -> tuple[Any, str]:
    """Return (parsed object, source name). ``src`` is a path, or an object already loaded (returned as it is,
    named ``<what>``). Raises as ``read_bytes`` and ``parse_json``."""
    if not isinstance(src, (str, os.PathLike)):
        return src, f"<{what}>"
    return parse_json(read_bytes(src, what), src), str(src)
