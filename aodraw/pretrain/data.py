"""The pre-training data: an ImageNet-style folder (one subfolder per class) read with OpenCV (no torchvision).

Each sample is one random resized crop (+ horizontal flip) of an image, given twice: the sRGB crop for the teacher
and the synthetic RAW of the same crop for the student, rendered exactly as the detector sees a stored RAW array
(``synthesize`` -> ``render_raw``: official demosaic, [0, 255] scale, gamma 1/2.2, BGR). Both are then normalised as
the detection recipes' data preprocessor does (BGR -> RGB, mean 123.675/116.28/103.53, std 58.395/57.12/57.375).
Every random draw comes from (seed, epoch, index), so a resumed run sees the same data.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

import cv2
import numpy as np
import torch

from aodraw.detector_input import render_raw
from aodraw.pretrain.camera import Camera
from aodraw.pretrain.synthesize import IMAGE_EXTS, read_srgb, synthesize
from plumbing.errors import BadInputError

MEAN = np.array([123.675, 116.28, 103.53], np.float32)
STD = np.array([58.395, 57.12, 57.375], np.float32)


def image_folder(root: str | os.PathLike) -> tuple[list[tuple[Path, int]], list[str]]:
    """([(image path, class index)], class names) of a folder of class subfolders (sorted names)."""
    root = Path(root)
    if not root.is_dir():
        raise BadInputError(f"data root {root} is not a folder")
    classes = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    samples = [(path, label) for label, name in enumerate(classes) for path in sorted((root / name).rglob("*"))
               if path.suffix.lower() in IMAGE_EXTS and not path.name.startswith(".")]
    if not samples:
        raise BadInputError(f"data root {root}: no class subfolders with JPG/PNG images")
    return samples, classes


def random_resized_crop(image: np.ndarray, size: int, rng: np.random.Generator, scale=(0.08, 1.0),
                        ratio=(3 / 4, 4 / 3)) -> np.ndarray:
    """A crop of random area fraction and aspect ratio, resized to size x size (bilinear); the centre crop of the
    largest square when ten draws do not fit."""
    h, w = image.shape[:2]
    for _ in range(10):
        area = h * w * rng.uniform(*scale)
        aspect = math.exp(rng.uniform(math.log(ratio[0]), math.log(ratio[1])))
        cw, ch = round(math.sqrt(area * aspect)), round(math.sqrt(area / aspect))
        if 0 < cw <= w and 0 < ch <= h:
            y, x = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
            break
    else:
        ch = cw = min(h, w)
        y, x = (h - ch) // 2, (w - cw) // 2
    return cv2.resize(image[y:y + ch, x:x + cw], (size, size), interpolation=cv2.INTER_LINEAR)


def normalise(rgb_255: np.ndarray) -> torch.Tensor:
    """H x W x 3 RGB on the [0, 255] scale -> normalised 3 x H x W float tensor."""
    return torch.from_numpy(np.ascontiguousarray(((rgb_255 - MEAN) / STD).transpose(2, 0, 1), np.float32))


class DistillationDataset(torch.utils.data.Dataset):
    """Items: (teacher input, student input, label), inputs 3 x size x size normalised tensors."""

    def __init__(self, root: str | os.PathLike, camera: Camera, size: int = 224, seed: int = 0,
                 scale=(0.08, 1.0)):
        if size % 2:
            raise BadInputError(f"crop size {size} must be even (the Bayer mosaic has 2 x 2 blocks)")
        self.samples, self.classes = image_folder(root)
        self.camera, self.size, self.seed, self.scale = camera, size, seed, tuple(scale)
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor, int]:
        path, label = self.samples[index]
        rng = np.random.default_rng([self.seed, self.epoch, index])
        crop = random_resized_crop(read_srgb(path), self.size, rng, self.scale)
        if rng.random() < 0.5:
            crop = crop[:, ::-1]
        rendered, _ = synthesize(np.ascontiguousarray(crop), self.camera, rng)
        student = render_raw(rendered)[..., ::-1]  # the detector's BGR image, then its preprocessor's BGR -> RGB
        return normalise(crop * np.float32(255)), normalise(student), label
