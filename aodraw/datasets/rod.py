"""ROD / RAOD (Xu et al., "Toward RAW Object Detection", CVPR 2023): a 24-bit HDR automotive sensor, day and night
driving scenes, tram / car / truck / cyclist / pedestrian. RAW files are headerless ``.raw``: 1856 x 2880 pixels,
3 bytes each, little-endian, RGGB (the fixed 2 x 2 offsets RawAdaptationModule unpacks), black 0, white 2^24 - 1.
COCO files: string image ids (``day-04675``), category ids from 0, capitalised names, absolute ``file_name`` paths,
a 1440 x 928 frame (the packed planes)."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from aodraw.datasets.spec import DatasetSpec
from aodraw.raw import BAYER_PATTERNS, EMPTY_FILE, RawImage
from plumbing.errors import BadInputError
from plumbing.files import atomic_write_bytes

HEIGHT, WIDTH, CFA, BITS = 1856, 2880, "RGGB", 24


def read_rod(path: str | os.PathLike, width: int | None = None, height: int | None = None,
             cfa: str | None = None) -> RawImage:
    """A ROD ``.raw``: ``height`` x ``width`` (default 1856 x 2880) 24-bit little-endian samples as a uint32
    mosaic, black 0, white 2^24 - 1, CFA ``cfa`` (default RGGB). Raises BadInputError when the file's size is not
    3 x width x height bytes, or for an unknown CFA or odd sides."""
    path = Path(path)
    width, height, cfa = width or WIDTH, height or HEIGHT, (cfa or CFA).upper()
    if cfa not in BAYER_PATTERNS:
        raise BadInputError(f"--cfa: {cfa!r} is not a 2x2 Bayer pattern ({', '.join(BAYER_PATTERNS)})")
    if width % 2 or height % 2:
        raise BadInputError(f"--width/--height: {width} x {height} must both be even (2x2 Bayer blocks)")
    size, expected = path.stat().st_size, 3 * width * height
    if size != expected:
        why = EMPTY_FILE if size == 0 else f"{size} bytes, expected {expected} (3 bytes x {width} x {height})"
        raise BadInputError(f"{path.name}: {why}; other sizes: --width/--height")
    data = np.fromfile(path, np.uint8).reshape(height, width, 3).astype(np.uint32)
    mosaic = data[..., 0] | (data[..., 1] << 8) | (data[..., 2] << 16)
    return RawImage(mosaic, (0, 0, 0, 0), 2 ** BITS - 1, cfa)


def write_rod(path: str | os.PathLike, mosaic: np.ndarray) -> Path:
    """Write ``mosaic`` (integers below 2^24) as a headerless 24-bit little-endian ``.raw`` (the inverse of
    ``read_rod``; for tests and synthetic data), atomically."""
    values = np.asarray(mosaic, np.uint32)
    data = np.stack([(values >> s) & 0xFF for s in (0, 8, 16)], -1).astype(np.uint8)
    return atomic_write_bytes(path, data.tobytes())


def rod_image_fields(image: dict) -> dict:
    """The condition tag (``day`` or ``night``, from the image id's prefix) of a ROD image entry, so scores come
    per condition."""
    prefix = str(image["id"]).split("-")[0].lower()
    return {"tag": [prefix]} if prefix in ("day", "night") else {}


SPEC = DatasetSpec("rod", "ROD", "24-bit HDR automotive sensor", BITS,
                   ("tram", "car", "truck", "cyclist", "pedestrian"), 0, (".raw",), (1440, 928), read_rod,
                   rod_image_fields)
