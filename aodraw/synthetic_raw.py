"""Synthetic RAW inputs for tests, the demo and the benchmark: CFA DNG files (read by rawpy/LibRaw whatever their
name, so they stand in for Sony ``.ARW``) and JPGs with or without EXIF orientation. Needs ``tifffile``."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from aodraw.raw import mosaic_rggb

CFA_CODES = {"R": 0, "G": 1, "B": 2}


def dng_tags(black: int | tuple[int, int, int, int] = 512, white: int = 16383) -> list[tuple]:
    """The DNG tags (tifffile ``extratags``) every test DNG needs besides its layout: version, camera name,
    levels (``black``: one value, or one per 2x2 block position (0,0), (0,1), (1,0), (1,1)), identity colour
    matrix, as-shot neutral."""
    blacks = (black,) if isinstance(black, int) else tuple(black)
    return [
        (50706, "B", 4, (1, 4, 0, 0), True),  # DNGVersion
        (50708, "s", 0, "Test Camera", True),  # UniqueCameraModel
        *([(50713, "H", 2, (2, 2), True)] if len(blacks) == 4 else []),  # BlackLevelRepeatDim
        (50714, "H", len(blacks), blacks, True),  # BlackLevel
        (50717, "H", 1, (white,), True),  # WhiteLevel
        (50721, "2i", 9, (1, 1, 0, 1, 0, 1, 0, 1, 1, 1, 0, 1, 0, 1, 0, 1, 1, 1), True),  # ColorMatrix1 (identity)
        (50728, "2I", 3, (1, 2, 1, 1, 1, 2), True),  # AsShotNeutral
    ]


def write_dng(path: Path, mosaic: np.ndarray, pattern: str = "RGGB", black: int | tuple[int, int, int, int] = 512,
              white: int = 16383) -> Path:
    """A minimal uncompressed CFA DNG holding ``mosaic`` (uint16, LibRaw needs at least 22 x 22); ``black`` as in
    ``dng_tags``."""
    import tifffile

    layout = [
        (33421, "H", 2, (2, 2), True),  # CFARepeatPatternDim
        (33422, "B", 4, tuple(CFA_CODES[c] for c in pattern), True),  # CFAPattern
    ]
    tifffile.imwrite(path, np.ascontiguousarray(mosaic, dtype=np.uint16), photometric=32803,
                     extratags=layout + dng_tags(black, white), metadata=None)
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


def scene(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A smooth synthetic colour scene (float32 H x W x 3 in [0, 1]) with a few bright rectangles."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:height, :width].astype(np.float32)
    rgb = np.stack([0.5 + 0.4 * np.sin(xx / (37 + 11 * c) + yy / (53 + 7 * c) + c) for c in range(3)], -1)
    for _ in range(6):
        y, x = int(rng.integers(0, height * 3 // 4)), int(rng.integers(0, width * 3 // 4))
        rgb[y:y + height // 8, x:x + width // 8] = rng.uniform(0.1, 1.0, 3)
    return rgb


def mosaic_of(rgb: np.ndarray, seed: int = 0, black: int = 512) -> np.ndarray:
    """The 14-bit RGGB mosaic a sensor would record of ``rgb`` (plus a little noise)."""
    rng = np.random.default_rng(seed)
    values = mosaic_rggb(rgb) * (2 ** 14 - 1 - black) + black
    values += rng.normal(0, 20, values.shape)
    return np.clip(values, 0, 2 ** 14 - 1).astype(np.uint16)


def write_pair(root: Path, name: str, height: int, width: int, seed: int = 0, orientation: int | None = None,
               border: tuple[int, int] = (0, 0)) -> np.ndarray:
    """``NAME.ARW`` (a DNG) + ``NAME.JPG`` of one synthetic scene; ``orientation=8`` stores the JPG with EXIF 8 so
    it is displayed turned; ``border`` (rows, columns per side, even) makes the RAW frame larger than the JPG, as
    camera RAWs are. Returns the mosaic."""
    by, bx = border
    rgb = scene(height + 2 * by, width + 2 * bx, seed)
    mosaic = mosaic_of(rgb, seed)
    write_dng(root / f"{name}.ARW", mosaic)
    jpg = rgb[by:by + height, bx:bx + width]
    write_jpg(root / f"{name}.JPG", (jpg ** (1 / 2.2) * 255).astype(np.uint8), orientation=orientation)
    return mosaic
