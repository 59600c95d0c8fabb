"""A tiny generated ImageNet-S-style tree for the PASS stages: 3 classes (a red, green or blue ellipse on a noisy
grey background), train/ (8 per class), train-semi/ + train-semi-segmentation/ (2 per class), validation/ +
validation-segmentation/ (2 per class); images are JPEGs of 64 x 80, masks RGB PNGs (R + 256 G)."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from evaluators.luss import encode_mask

WNIDS = ("n01000001", "n01000002", "n01000003")
COLOURS = ((220, 40, 40), (40, 200, 60), (50, 70, 230))


def sample(rng: np.random.Generator, cls: int, shape=(64, 80)) -> tuple[np.ndarray, np.ndarray]:
    """(RGB uint8 image, mask int64 with class cls + 1 on the ellipse, 0 elsewhere, 1000 on a thin border)."""
    h, w = shape
    image = np.clip(rng.normal(120, 20, (h, w, 3)), 0, 255).astype(np.uint8)
    mask = np.zeros(shape, np.uint8)
    centre = (int(rng.integers(w // 3, 2 * w // 3)), int(rng.integers(h // 3, 2 * h // 3)))
    axes = (int(rng.integers(w // 6, w // 3)), int(rng.integers(h // 6, h // 3)))
    cv2.ellipse(mask, centre, axes, float(rng.uniform(0, 180)), 0, 360, 1, -1)
    image[mask > 0] = np.clip(np.array(COLOURS[cls]) + rng.normal(0, 10, (int(mask.sum()), 3)), 0, 255)
    ids = mask.astype(np.int64) * (cls + 1)
    edge = (mask > 0) ^ (cv2.erode(mask, np.ones((3, 3), np.uint8)) > 0)
    ids[edge & (rng.random(shape) < 0.3)] = 1000
    return image, ids


def make_tree(root: Path, seed: int = 0) -> Path:
    """Write the tree under ``root``; returns ``root``."""
    rng = np.random.default_rng(seed)
    counts = {"train": 8, "train-semi": 2, "validation": 2}
    index = 0
    for split, n in counts.items():
        for cls, wnid in enumerate(WNIDS):
            for _ in range(n):
                index += 1
                image, ids = sample(rng, cls)
                name = f"{wnid}/{wnid}_{index:05d}"
                (root / split / wnid).mkdir(parents=True, exist_ok=True)
                Image.fromarray(image).save(root / split / f"{name}.JPEG", format="JPEG", quality=95)
                if split != "train":
                    seg = root / f"{split}-segmentation" / f"{name}.png"
                    seg.parent.mkdir(parents=True, exist_ok=True)
                    seg.write_bytes(encode_mask(ids))
    return root
