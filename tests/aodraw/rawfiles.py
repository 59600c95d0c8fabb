"""Writing real test inputs: CFA DNG files (read back by rawpy/LibRaw) and JPGs with EXIF orientation."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import tifffile
from PIL import Image

CFA_CODES = {"R": 0, "G": 1, "B": 2}


def write_dng(path: Path, mosaic: np.ndarray, pattern: str = "RGGB", black: int = 512, white: int = 16383) -> Path:
    """A minimal uncompressed CFA DNG holding ``mosaic`` (uint16, LibRaw needs at least 22 x 22)."""
    extratags = [
        (33421, "H", 2, (2, 2), True),  # CFARepeatPatternDim
        (33422, "B", 4, tuple(CFA_CODES[c] for c in pattern), True),  # CFAPattern
        (50706, "B", 4, (1, 4, 0, 0), True),  # DNGVersion
        (50708, "s", 0, "Test Camera", True),  # UniqueCameraModel
        (50714, "H", 1, (black,), True),  # BlackLevel
        (50717, "H", 1, (white,), True),  # WhiteLevel
        (50721, "2i", 9, (1, 1, 0, 1, 0, 1, 0, 1, 1, 1, 0, 1, 0, 1, 0, 1, 1, 1), True),  # ColorMatrix1 (identity)
        (50728, "2I", 3, (1, 2, 1, 1, 1, 2), True),  # AsShotNeutral
    ]
    tifffile.imwrite(path, np.ascontiguousarray(mosaic, dtype=np.uint16), photometric=32803,
                     extratags=extratags, metadata=None)
    return path


def write_jpg(path: Path, rgb: np.ndarray, orientation: int | None = None, exif: bool = True) -> Path:
    """Write an RGB array as JPG; ``orientation`` stores an EXIF Orientation tag (the stored pixels are then the
    un-turned image, as a camera writes them), ``exif=False`` writes no EXIF block at all."""
    image = Image.fromarray(rgb)
    if not exif:
        image.save(path, quality=95)
        return path
    tags = Image.Exif()
    if orientation is not None:
        tags[274] = orientation
    tags[271] = "Test"  # Make, so the EXIF block exists even without an orientation tag
    image.save(path, quality=95, exif=tags)
    return path
