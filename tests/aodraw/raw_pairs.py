"""Helpers of the RAW tests: a small AODRaw-style folder of real DNG ``.ARW`` files and JPGs, with and without
EXIF."""
from __future__ import annotations

import numpy as np

from aodraw.synthetic_raw import write_dng, write_jpg

# name -> (mosaic shape, stored JPG shape, EXIF orientation tag, EXIF block present)
PAIRS = {
    "00000001": ((48, 72), (48, 72), None, True),  # same size, EXIF without orientation tag
    "00000002": ((52, 76), (48, 72), 1, True),  # RAW larger by 4 px: 2 px borders cropped
    "00000003": ((48, 72), (48, 72), 8, True),  # turned: JPG displayed 72 x 48
    "00000004": ((48, 72), (72, 48), None, False),  # no EXIF block, aspects disagree: taken as 8
}


def jpg_pixels(shape: tuple[int, int], seed: int) -> np.ndarray:
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    rgb = np.stack([xx * 3 + seed * 20, yy * 4, (xx + yy) * 2], -1)
    return (rgb % 256).astype(np.uint8)


def make_pairs(root, pairs=PAIRS, seed=0):
    """Write the RAW/JPG pairs; return {name: mosaic}."""
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    mosaics = {}
    for i, (name, (raw_shape, jpg_shape, tag, exif)) in enumerate(pairs.items()):
        mosaics[name] = rng.integers(0, 2 ** 14, raw_shape).astype(np.uint16)
        write_dng(root / f"{name}.ARW", mosaics[name])
        write_jpg(root / f"{name}.JPG", jpg_pixels(jpg_shape, i), orientation=tag, exif=exif)
    return mosaics


