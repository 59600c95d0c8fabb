"""Reading the AODRaw image folder (NAME.ARW + NAME.JPG pairs; NAME.DNG, NAME.NEF, ... are read as NAME.ARW)
and writing arrays/JPGs atomically."""
from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from aodraw.raw import EMPTY_FILE, RawImage, read_raw, resolve_orientation
from plumbing.errors import BadInputError, ToolkitRuntimeError
from plumbing.files import atomic_write_bytes

EXIF_ORIENTATION = 274
RAW_EXT = ".ARW"
# RAW extensions read as NAME.ARW is (LibRaw decodes them all), upper or lower case as cameras write them
RAW_EXTS = (RAW_EXT, ".DNG", ".NEF", ".CR2", ".CR3", ".RAF", ".ORF", ".RW2")
JPG_EXT = ".JPG"
JPG_START = b"\xff\xd8"


def is_raw(path: Path) -> bool:
    """Whether ``path`` has a RAW extension of ``RAW_EXTS`` in upper case, or all lower case (``.arw``),
    as cameras write them; mixed case such as ``.Arw`` is not."""
    return path.suffix in RAW_EXTS or (path.suffix.upper() in RAW_EXTS and path.suffix.islower())


def list_names(root: str | os.PathLike, raw: bool = True) -> list[str]:
    """Sorted image names (file stems) of ``root``: of its RAW files (``RAW_EXTS``) or, ``raw=False``, of its
    ``NAME.JPG`` files (case-sensitive, as upstream). Hidden files are skipped."""
    root = Path(root)
    if not root.is_dir():
        raise BadInputError(f"--root: {root} is not a folder")
    return sorted({p.stem for p in root.iterdir()
                   if not p.name.startswith(".") and (is_raw(p) if raw else p.suffix == JPG_EXT)})


def raw_path(root: str | os.PathLike, name: str) -> Path:
    """The RAW file of ``name``: NAME.ARW, else the first of NAME.DNG, NAME.NEF, ... (``RAW_EXTS``) that exists."""
    candidates = [Path(root) / f"{name}{e}" for ext in RAW_EXTS for e in (ext, ext.lower())]
    found = next((p for p in candidates if p.is_file()), None)
    if found is None:
        raise BadInputError(f"no RAW file {name}{RAW_EXT} (or {', '.join(RAW_EXTS[1:])}) in {Path(root).name}/")
    return found


def _not_a_jpg(path: Path, head: bytes) -> str:
    """Why a JPG that could not be read is bad, from its first bytes."""
    if not head:
        return f"{path.name}: {EMPTY_FILE}"
    if head.startswith(JPG_START):
        return f"{path.name}: truncated or corrupt JPG (its header cannot be read)"
    return f"{path.name}: not a JPG file"


def jpg_header(path: str | os.PathLike) -> tuple[tuple[int, int], int | None]:
    """(displayed height, width) and the EXIF orientation tag (None when absent) of a JPG, without decoding it."""
    from PIL import Image

    path = Path(path)
    try:
        with Image.open(path) as image:
            width, height = image.size
            orientation = image.getexif().get(EXIF_ORIENTATION)
    except (OSError, SyntaxError, ValueError):
        with open(path, "rb") as f:
            raise BadInputError(_not_a_jpg(path, f.read(2))) from None
    if orientation in (5, 6, 7, 8):
        height, width = width, height
    return (height, width), orientation


def read_jpg(path: str | os.PathLike) -> np.ndarray:
    """Decode a JPG as OpenCV's ``imread`` does (BGR, EXIF orientation applied); a truncated file is refused."""
    path = Path(path)
    if not path.is_file():
        raise BadInputError(f"{path.name}: no such file in {path.parent.name}/")
    data = path.read_bytes()
    if not data.startswith(JPG_START):
        raise BadInputError(_not_a_jpg(path, data[:2]))
    if not data.rstrip(b"\0").endswith(b"\xff\xd9"):
        raise BadInputError(f"{path.name}: truncated JPG (no end-of-image marker)")
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise BadInputError(f"{path.name}: corrupt JPG (OpenCV cannot decode it)")
    return image


def read_pair(root: str | os.PathLike, name: str) -> tuple[RawImage, tuple[int, int], int]:
    """The RAW of ``name`` (``raw_path``), the displayed size of ``NAME.JPG`` and the resolved orientation
    (official rule). The JPG's header is read first: a missing or unreadable JPG costs no RAW decoding."""
    raw_file, jpg = raw_path(root, name), Path(root) / f"{name}{JPG_EXT}"
    if not jpg.is_file():
        raise BadInputError(f"no {jpg.name} beside {raw_file.name}")
    jpg_hw, tag = jpg_header(jpg)
    raw = read_raw(raw_file)
    return raw, jpg_hw, resolve_orientation(jpg_hw, raw.mosaic.shape, tag)


def save_jpg(path: str | os.PathLike, image: np.ndarray) -> Path:
    """Write a BGR image as ``cv2.imwrite`` does (same encoder, same default quality 95)."""
    ok, data = cv2.imencode(".jpg", image)
    if not ok:
        raise ToolkitRuntimeError(f"{path}: JPG encoding failed")
    return atomic_write_bytes(path, data.tobytes())


