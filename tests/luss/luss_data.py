"""Synthetic ImageNet-S-like masks for the LUSS tests, written as real PNG files."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from evaluators.luss import encode_mask


def random_mask(rng: np.random.Generator, shape: tuple, labels: list, blocks: int = 6) -> np.ndarray:
    """A piecewise-constant label map: a background label and a few overlapping rectangles."""
    h, w = shape
    mask = np.full(shape, rng.choice(labels), np.int64)
    for _ in range(blocks):
        y, x = rng.integers(0, h), rng.integers(0, w)
        mask[y:y + rng.integers(1, h + 1), x:x + rng.integers(1, w + 1)] = rng.choice(labels)
    return mask


def make_pairs(seed: int, count: int, num_classes: int, shape=(30, 40)) -> list[tuple[np.ndarray, np.ndarray]]:
    """Ground truths with ignore pixels and predictions in a permuted label space (plus noise labels)."""
    rng = np.random.default_rng(seed)
    perm = np.concatenate([[0], rng.permutation(num_classes) + 1])
    pairs = []
    for _ in range(count):
        classes = list(rng.choice(np.arange(1, num_classes + 1), size=2, replace=False))
        gt = random_mask(rng, shape, [0, 0, *classes])
        gt[: rng.integers(0, 4)] = 1000
        pred = perm[gt.clip(0, num_classes)]
        noise = random_mask(rng, shape, [0, int(rng.integers(1, num_classes + 1))], blocks=2)
        pred = np.where(rng.random(shape) < 0.15, noise, pred)
        pairs.append((gt, pred))
    return pairs


def save_mask(path: Path, ids: np.ndarray) -> None:
    """Write a mask PNG (plainly: fixtures need no atomic, fsynced writes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encode_mask(ids))


def write_pairs(root: Path, pairs, names: list[str] | None = None) -> tuple[Path, Path, list[str]]:
    """Write ground truths under root/gt and predictions under root/pred; default names are ImageNet-like."""
    names = names or [f"n01443537/ILSVRC2012_val_{i:08d}.png" for i in range(len(pairs))]
    for name, (gt, pred) in zip(names, pairs):
        save_mask(root / "gt" / name, gt)
        save_mask(root / "pred" / name, pred)
    return root / "gt", root / "pred", list(names)
