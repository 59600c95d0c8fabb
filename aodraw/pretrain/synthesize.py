"""``aodraw pretrain unprocess``: synthetic RAW files of an sRGB image folder, in the detector's representation.

For each image ``NAME.jpg|jpeg|png`` (any case) the job writes ``NAME.npy`` (float32 3 x H x W in [0, 255]: the
official demosaic of the mosaic divided by (2^14 - 1) / 255, no black subtraction, as ``images_downsampled_raw``)
and ``NAME.bayer.npy`` (uint16 4 x H/2 x W/2, planes R, G, B, G as ``aodraw.raw.pack``). Odd sizes lose their last
row/column. Each image's random draw comes from the seed and its name, so outputs do not depend on worker count or
order. ``recursive``: images in subfolders too, written to the same relative subfolder.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from aodraw.pretrain.camera import Camera
from aodraw.pretrain.unprocess import draw_params, image_rng, unprocess
from aodraw.raw import RAW_SCALE, demosaic, pack
from plumbing.errors import BadInputError
from plumbing.files import needs_writing, save_npy
from plumbing.jobs import Summary, run_jobs

IMAGE_EXTS = (".jpg", ".jpeg", ".png")


def list_images(root: str | os.PathLike, recursive: bool = False) -> dict[str, Path]:
    """{name: path} of the sRGB images under ``root``; the name is the path relative to ``root`` without suffix."""
    root = Path(root)
    if not root.is_dir():
        raise BadInputError(f"--images: {root} is not a folder")
    found: dict[str, Path] = {}
    for path in sorted(root.rglob("*") if recursive else root.iterdir()):
        if path.suffix.lower() not in IMAGE_EXTS or path.name.startswith(".") or not path.is_file():
            continue
        name = path.relative_to(root).with_suffix("").as_posix()
        if name in found:
            raise BadInputError(f"{path}: two images named {name!r} ({found[name].name} and {path.name})")
        found[name] = path
    return found


def read_srgb(path: str | os.PathLike) -> np.ndarray:
    """An sRGB image as float32 H x W x 3 RGB in [0, 1], cropped to even sides."""
    data = np.fromfile(path, np.uint8)
    bgr = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if bgr is None:
        raise BadInputError(f"{path}: not a readable JPG/PNG image")
    h, w = bgr.shape[:2]
    if h < 2 or w < 2:
        raise BadInputError(f"{path}: image of {h}x{w} pixels is too small (at least 2x2)")
    return bgr[: h // 2 * 2, : w // 2 * 2, ::-1].astype(np.float32) / np.float32(255)


def synthesize(srgb: np.ndarray, camera: Camera, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(float32 3 x H x W official representation, uint16 mosaic H x W) of an even-sized sRGB image."""
    raw = unprocess(srgb, draw_params(camera, rng), rng)
    return demosaic(raw) / RAW_SCALE, raw


@dataclass(frozen=True)
class UnprocessJob:
    """One image's unprocessing, picklable for worker processes: ``job(name)`` writes ``out/NAME.npy`` and
    ``out/NAME.bayer.npy`` from ``images[name]`` with that image's seeded draw; returns False when both exist already.
    Raises BadInputError for an unreadable or too small image."""
    images: dict[str, Path]
    out: Path
    camera: Camera
    seed: int

    def __call__(self, name: str) -> bool:
        array, bayer = self.out / f"{name}.npy", self.out / f"{name}.bayer.npy"
        if not needs_writing(array, bayer):
            return False
        rendered, raw = synthesize(read_srgb(self.images[name]), self.camera, image_rng(self.seed, name))
        for path, data in ((array, rendered), (bayer, pack(raw))):
            save_npy(path, data)
        return True


def unprocess_folder(images: str | os.PathLike, out: str | os.PathLike, camera: Camera, seed: int = 0,
                     workers: int | None = None, recursive: bool = False) -> Summary:
    """Write ``NAME.npy`` and ``NAME.bayer.npy`` for every image of ``images`` into ``out`` (resumable)."""
    found = list_images(images, recursive)
    if not found:
        raise BadInputError(f"--images: no JPG/PNG images in {images}")
    return run_jobs(list(found), UnprocessJob(found, Path(out), camera, seed), workers, desc="unprocess")
