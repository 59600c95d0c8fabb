"""Reading the AODRaw image folder (NAME.ARW + NAME.JPG pairs) and writing arrays/JPGs atomically."""
from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from aodraw.raw import RawImage, read_raw, resolve_orientation
from plumbing.errors import BadInputError, ToolkitRuntimeError
from plumbing.files import atomic_write_bytes

EXIF_ORIENTATION = 274
RAW_EXT = ".ARW"
JPG_EXT = ".JPG"


def list_names(root: str | os.PathLike, exts: tuple[str, ...] = (RAW_EXT, JPG_EXT)) -> list[str]:
    """Sorted image names (file stems) of ``root`` that have a file with one of ``exts`` (case-sensitive, as
    upstream)."""
    root = Path(root)
    if not root.is_dir():
        raise BadInputError(f"--root: {root} is not a folder")
    return sorted({p.stem for p in root.iterdir() if p.suffix in exts and not p.name.startswith(".")})


def jpg_header(path: str | os.PathLike) -> tuple[tuple[int, int], int | None]:
    """(displayed height, width) and the EXIF orientation tag (None when absent) of a JPG, without decoding it."""
    from PIL import Image

    with Image.open(path) as image:
        width, height = image.size
        orientation = image.getexif().get(EXIF_ORIENTATION)
    if orientation in (5, 6, 7, 8):
        height, width = width, height
    return (height, width), orientation


def read_jpg(path: str | os.PathLike) -> np.ndarray:
    """Decode a JPG as OpenCV's ``imread`` does (BGR, EXIF orientation applied); a truncated file is refused."""
    data = Path(path).read_bytes()
    if not data.rstrip(b"\0").endswith(b"\xff\xd9"):
        raise BadInputError(f"{path}: truncated JPG (no end-of-image marker)")
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise BadInputError(f"{path}: not a readable JPG")
    return image


def read_pair(root: str | os.PathLike, name: str) -> tuple[RawImage, tuple[int, int], int]:
    """The RAW of ``name``, the displayed size of its JPG and the resolved orientation (official rule)."""
    raw = read_raw(Path(root) / f"{name}{RAW_EXT}")
    jpg_hw, tag = jpg_header(Path(root) / f"{name}{JPG_EXT}")
    return raw, jpg_hw, resolve_orientation(jpg_hw, raw.mosaic.shape, tag)


def save_jpg(path: str | os.PathLike, image: np.ndarray) -> Path:
    """Write a BGR image as ``cv2.imwrite`` does (same encoder, same default quality 95)."""
    ok, data = cv2.imencode(".jpg", image)
    if not ok:
        raise ToolkitRuntimeError(f"{path}: JPG encoding failed")
    return atomic_write_bytes(path, data.tobytes())


