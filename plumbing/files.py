"""Writing files atomically, with the mode a plain ``open()`` gives, and the rule that makes reruns resumable.

Every file the toolkit writes goes through ``atomic_write`` / ``atomic_write_bytes`` (or ``commit_temp`` for a
temporary file filled by other means): a temporary file in the same folder, fsync, rename. A reader never sees a
half-written file, and an interrupted run leaves only ``.NAME.*.tmp`` files, which ``needs_writing`` removes before
the rerun writes again.

The temporary file is created with mode ``0o666`` filtered by the process umask, exactly like ``open(path, 'w')``,
``np.save`` or ``cv2.imwrite`` (0644 under umask 022): ``tempfile.mkstemp`` would give 0600, and the rename keeps
that, leaving converted data unreadable to colleagues on a shared disk (python/cpython#95658).
"""
from __future__ import annotations

import csv
import io
import os
import secrets
from collections.abc import Callable, Iterable, Sequence
from glob import escape as glob_escape
from pathlib import Path
from typing import BinaryIO

import numpy as np
import orjson

from plumbing.errors import BadInputError

_TEMP_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)


def temp_name(path: str | os.PathLike) -> Path:
    """A fresh temporary name beside ``path`` (``.NAME.<random>.tmp``), the pattern ``needs_writing`` cleans up."""
    path = Path(path)
    return path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"


def _renamed(exc: OSError, message: str) -> OSError:
    """An OSError of ``exc``'s kind and errno whose text is ``message``."""
    new = type(exc)(message)
    new.errno = exc.errno
    return new


def open_temp(path: str | os.PathLike) -> tuple[int, Path]:
    """Create a new temporary file beside ``path`` (parents created) with the umask's file mode; returns its open
    write descriptor and its name. Raises OSError naming ``path`` (never the temporary name) when its folder cannot
    be made or written."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file where a folder should be, no permission...
        raise _renamed(exc, f"cannot write {path}: its folder cannot be made ({exc.strerror}: "
                            f"{exc.filename})") from None
    while True:
        tmp = temp_name(path)
        try:
            return os.open(tmp, _TEMP_FLAGS, 0o666), tmp
        except FileExistsError:  # pragma: no cover - 48 random bits collided
            continue
        except OSError as exc:  # name the file asked for, not the temporary one
            raise _renamed(exc, f"cannot write {path} ({exc.strerror})") from None


def atomic_write_bytes(path: str | os.PathLike, data: bytes | memoryview) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file beside it, fsync, rename) with the umask's mode.

    Returns ``path`` as a ``Path``. Raises OSError on I/O failure; the temporary file is removed then."""
    return atomic_write(path, lambda f: f.write(data))


def atomic_write(path: str | os.PathLike, fill: Callable[[BinaryIO], object]) -> Path:
    """``atomic_write_bytes`` of what ``fill(f)`` writes into the open binary file ``f`` (no copy in memory)."""
    path = Path(path)
    fd, tmp = open_temp(path)
    try:
        with os.fdopen(fd, "wb") as f:
            fill(f)
            f.flush()
            os.fsync(f.fileno())  # while it is open: commit_temp would open the file again for this
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def commit_temp(tmp: str | os.PathLike, path: str | os.PathLike) -> Path:
    """Give the finished temporary file ``tmp`` (same folder as ``path``) its final name: fsync, then rename."""
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return Path(path)


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """``atomic_write_bytes`` of ``text`` encoded as UTF-8."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def write_json(path: str | os.PathLike, obj, indent: bool = True) -> Path:
    """Write ``obj`` as JSON at full float precision (NaN is written as null; NumPy values allowed), atomically."""
    option = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_APPEND_NEWLINE | (orjson.OPT_INDENT_2 if indent else 0)
    return atomic_write_bytes(path, orjson.dumps(obj, option=option))


def write_csv(path: str | os.PathLike, header: Sequence[str], rows: Iterable[Sequence]) -> Path:
    """Write a CSV file (``header`` then ``rows``, ``\\n`` line ends), atomically."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return atomic_write_text(path, buf.getvalue())


def save_npy(path: str | os.PathLike, array: np.ndarray) -> Path:
    """Write ``array`` in NumPy's ``.npy`` format (as ``np.save``), atomically."""
    array = np.ascontiguousarray(array)
    return atomic_write(path, lambda f: np.save(f, array))


NUMPY_MAGICS = (b"\x93NUMPY", b"PK\x03\x04")  # .npy, and .npz (a zip of .npy files)


def load_numpy(path: str | os.PathLike):
    """``np.load(path, allow_pickle=False)`` of a file that starts as a ``.npy`` or ``.npz`` file does.

    Raises:
        FileNotFoundError: no such file (callers name it their way).
        BadInputError: any other file (JSON, text, a pickle): NumPy would otherwise answer with its advice on loading
            pickles, which fits no input of this toolkit.
        ValueError, OSError, EOFError: a NumPy file that is damaged (``np.load``'s own errors)."""
    with open(path, "rb") as f:
        head = f.read(6)
    if not head.startswith(NUMPY_MAGICS):
        raise BadInputError(f"{path}: not a NumPy .npy/.npz file (it does not start with NumPy's header)")
    return np.load(path, allow_pickle=False)


def output_complete(path: str | os.PathLike) -> bool:
    """True when an output file is all there, so a rerun skips it: a ``.npy`` whose header and data are complete,
    a JPG that ends with its end-of-image marker, any other file that exists (it was renamed into place whole)."""
    path = Path(path)
    if path.suffix == ".npy":
        try:
            return np.load(path, mmap_mode="r").size > 0
        except (OSError, ValueError):
            return False
    if path.suffix.upper() in (".JPG", ".JPEG"):
        try:
            with open(path, "rb") as f:
                f.seek(-2, os.SEEK_END)
                return f.read() == b"\xff\xd9"
        except OSError:
            return False
    return path.exists()


def remove_stale_temps(path: str | os.PathLike) -> int:
    """Delete the temporary files an interrupted write of ``path`` left behind; returns how many."""
    path = Path(path)
    stale = list(path.parent.glob(f".{glob_escape(path.name)}.*.tmp")) if path.parent.is_dir() else []
    for tmp in stale:
        tmp.unlink(missing_ok=True)
    return len(stale)


def needs_writing(*paths: str | os.PathLike) -> bool:
    """The resumable-output rule of every converter job: False when each of ``paths`` is complete (see
    ``output_complete``), so the job is skipped; otherwise the stale temporary files of all of them are removed and
    True is returned, and the job writes them (again)."""
    if all(output_complete(p) for p in paths):
        return False
    for p in paths:
        remove_stale_temps(p)
    return True
