"""Bayer packs: the un-demosaiced RAW data as 4 half-resolution uint16 planes (lossless, half the bytes of
float32), with the planes' colours and black levels (both in plane order) and the white level in a sidecar JSON.
Not an official folder: what users asked upstream for.

``NAME.npy``: uint16 4 x H/2 x W/2 in the frame of the displayed JPG (oriented, border-cropped in whole 2x2
blocks, as the official slices). Default: the official packing of the turned mosaic (its plane colours are in the
sidecar); ``cfa_aware``: planes always R, G, B, G. ``downsample=3``: planes resized to (H/3/2, W/3/2) with the
official bilinear rule and rounded, matching the 1/3 downsampled images.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aodraw.io import list_names, read_pair
from aodraw.raw import RawImage, border_crop, displayed_planes, plane_colours, resize_bilinear
from plumbing.errors import BadInputError
from plumbing.files import needs_writing, save_npy, write_json
from plumbing.jobs import Summary, run_jobs


def bayer_planes(raw: RawImage, jpg_hw: tuple[int, int], orientation: int, downsample: int = 1,
                 cfa_aware: bool = False) -> tuple[np.ndarray, str]:
    """(4 x h x w planes, their colours such as "RGBG"); the planes keep the mosaic's integer type (uint16 for
    cameras, uint32 for ROD's 24-bit sensor)."""
    height, width = jpg_hw
    if height % 2 or width % 2:
        raise BadInputError(f"JPG size {height}x{width} is odd: it cannot be cut in 2x2 blocks")
    planes = displayed_planes(raw.mosaic, raw.cfa_pattern, orientation, cfa_aware)
    colours = "RGBG" if cfa_aware else plane_colours(raw.cfa_pattern, orientation)
    planes = border_crop(planes, (height // 2, width // 2))
    if downsample != 1:
        small = resize_bilinear(planes, (height // downsample // 2, width // downsample // 2))
        planes = np.rint(small).astype(planes.dtype)
    return np.ascontiguousarray(planes.transpose(2, 0, 1)), colours


def plane_black_levels(raw: RawImage, orientation: int, cfa_aware: bool = False) -> list[int]:
    """The black level of each plane of ``bayer_planes``, in plane order: the 2x2 block of black levels is
    packed and turned exactly as the pixels are."""
    return displayed_planes(raw.black_block, raw.cfa_pattern, orientation, cfa_aware)[0, 0].tolist()


@dataclass(frozen=True)
class BayerJob:
    """One image's Bayer conversion, picklable for worker processes: ``job(name)`` writes ``target/NAME.npy``
    (uint16 4 x H/2 x W/2, or 1/``downsample`` of that) and its ``NAME.json`` sidecar from ``root``'s RAW/JPG pair,
    and returns False when both exist already. Raises BadInputError for unreadable pairs or odd JPG sizes."""
    root: Path
    target: Path
    downsample: int = 1
    cfa_aware: bool = False

    def __call__(self, name: str) -> bool:
        array, sidecar = self.target / f"{name}.npy", self.target / f"{name}.json"
        if not needs_writing(array, sidecar):
            return False
        raw, jpg_hw, orientation = read_pair(self.root, name)
        write_bayer_pack(array, raw, jpg_hw, orientation, self.downsample, self.cfa_aware)
        return True


def write_bayer_pack(array: Path, raw: RawImage, frame_hw: tuple[int, int], orientation: int, downsample: int = 1,
                     cfa_aware: bool = False, extra: dict | None = None) -> Path:
    """Write the Bayer pack ``array`` (``bayer_planes`` of ``raw`` in the frame ``frame_hw``) and its sidecar
    ``array.with_suffix('.json')`` (plane colours, CFA, black levels in plane order, white level, orientation,
    ``extra`` fields), both atomically; returns the sidecar's path."""
    planes, colours = bayer_planes(raw, frame_hw, orientation, downsample, cfa_aware)
    save_npy(array, planes)
    return write_json(array.with_suffix(".json"), {
        "file": array.name, "shape": list(planes.shape), "dtype": planes.dtype.name, "planes": colours,
        "cfa_pattern": raw.cfa_pattern, "black_level": plane_black_levels(raw, orientation, cfa_aware),
        "white_level": raw.white_level, "orientation": orientation, "downsample": downsample,
        "cfa_aware": cfa_aware, **(extra or {})})


def convert_bayer(root: str | os.PathLike, target: str | os.PathLike, downsample: int = 1,
                  workers: int | None = None, shard: tuple[int, int] | None = None,
                  cfa_aware: bool = False) -> Summary:
    """Write the Bayer pack and sidecar of every RAW/JPG pair of ``root`` into ``target``."""
    job = BayerJob(Path(root), Path(target), downsample, cfa_aware)
    return run_jobs(list_names(root), job, workers, shard, desc="bayer")
