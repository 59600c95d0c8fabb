"""``images_downsampled_raw`` and ``images_downsampled_srgb``: the official 1/3 downsampled folders.

RAW: the oriented mosaic is demosaiced (bilinear 3x3, RGGB), border-cropped to the JPG size, resized to
(H/3, W/3) with torch's bilinear rule and divided by (2^14-1)/255; saved as float32 3 x H/3 x W/3 ``NAME.npy``.
sRGB: the JPG (EXIF orientation applied) resized to 1/3 with OpenCV bilinear, saved as ``NAME.JPG``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from aodraw.io import JPG_EXT, list_names, read_jpg, read_pair, save_jpg
from aodraw.raw import RAW_SCALE, RawImage, border_offsets, demosaic_x4, orient, resize_bilinear
from plumbing.files import needs_writing, save_npy
from plumbing.jobs import Summary, run_jobs


def downsample_raw(raw: RawImage, jpg_hw: tuple[int, int], orientation: int, scale: int = 3,
                   cfa_aware: bool = False) -> np.ndarray:
    """The official downsampled RAW array (float32 3 x H/scale x W/scale, values in [0, 255]).

    ``cfa_aware``: demosaic in the sensor frame with the file's CFA pattern, then turn the colour image, so turned
    images get correct colours (upstream turns the mosaic first and still assumes RGGB)."""
    if cfa_aware:
        rgb = orient(demosaic_x4(raw.mosaic, raw.cfa_pattern), orientation)
    else:
        rgb = demosaic_x4(np.ascontiguousarray(orient(raw.mosaic, orientation)), "RGGB")
    # the border crop is the resized region (no copy); resizing 4x the values then scaling by 1/4 is exact (a
    # power of two), so this equals resizing the float image
    small = resize_bilinear(rgb, (jpg_hw[0] // scale, jpg_hw[1] // scale), origin=border_offsets(rgb.shape[:2], jpg_hw),
                            size=jpg_hw)
    out = np.multiply(small.transpose(2, 0, 1), np.float32(0.25), order="C")  # one pass into the saved layout
    out /= RAW_SCALE
    return out


def downsample_srgb(image: np.ndarray, scale: int = 3) -> np.ndarray:
    """The official downsampled sRGB image: OpenCV bilinear resize to (W/scale, H/scale)."""
    height, width = image.shape[:2]
    return cv2.resize(image, (width // scale, height // scale), interpolation=cv2.INTER_LINEAR)


@dataclass(frozen=True)
class DownsampleJob:
    """One image's official downsampling, picklable for worker processes: ``job(name)`` writes
    ``target/NAME.npy`` (``kind='raw'``: float32 3 x H/3 x W/3) or ``target/NAME.JPG`` (``kind='srgb'``) and returns
    False when it exists already."""
    root: Path
    target: Path
    kind: str
    cfa_aware: bool = False

    def __call__(self, name: str) -> bool:
        if self.kind == "raw":
            if not needs_writing(out := self.target / f"{name}.npy"):
                return False
            raw, jpg_hw, orientation = read_pair(self.root, name)
            save_npy(out, downsample_raw(raw, jpg_hw, orientation, cfa_aware=self.cfa_aware))
            return True
        if not needs_writing(out := self.target / f"{name}{JPG_EXT}"):
            return False
        save_jpg(out, downsample_srgb(read_jpg(self.root / f"{name}{JPG_EXT}")))
        return True


def convert_downsample(root: str | os.PathLike, target: str | os.PathLike, kind: str = "raw",
                       workers: int | None = None, shard: tuple[int, int] | None = None,
                       cfa_aware: bool = False) -> Summary:
    """Convert every image of ``root`` (RAW: NAME.ARW (or .DNG, ...) + NAME.JPG pairs; sRGB: NAME.JPG) into
    ``target``."""
    names = list_names(root, raw=kind == "raw")
    job = DownsampleJob(Path(root), Path(target), kind, cfa_aware)
    return run_jobs(names, job, workers, shard, desc=f"downsample {kind}")
