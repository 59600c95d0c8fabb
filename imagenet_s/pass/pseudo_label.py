"""PASS pseudo labels (upstream ``inference_pixel_attention.py``): per pixel the cosine to the L2-normalised
centroids, label = argmax + 1, and 0 where the attention is below the threshold t (a fraction). With
``save_attention`` the attention map, bilinearly resized to the image, is written as ``NAME.npy`` (float32,
H x W) beside ``NAME.png``, upstream's test mode, for ``imagenet-s sweep``."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from evaluators.luss.masks import write_mask
from evaluators.luss.sweep import gate
from plumbing.errors import BadInputError
from plumbing.files import needs_writing, save_npy
from plumbing.jobs import take_shard

from .cluster import pixel_outputs
from .data import list_images, load_rgb, normalize, resize_shorter
from .model import load_checkpoint


def label_pixels(embedding: torch.Tensor, attention: torch.Tensor, centroids: np.ndarray, size: tuple,
                 threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """(labels int64 (H, W), attention float32 (H, W)) at full size ``size``: cosine scores and attention
    resized bilinearly, argmax + 1, then ``gate`` at ``threshold``."""
    c = F.normalize(torch.as_tensor(centroids, dtype=embedding.dtype), dim=1)
    scores = torch.einsum("dhw,kd->khw", embedding, c)
    scores = F.interpolate(scores[None], size=size, mode="bilinear", align_corners=False)[0]
    att = F.interpolate(attention[None, None], size=size, mode="bilinear", align_corners=False)[0, 0]
    labels = scores.argmax(dim=0).numpy().astype(np.int64) + 1
    att = att.numpy().astype(np.float32)
    return gate(labels, att, threshold), att


def run_pseudo_label(cfg: dict, data_root: str | Path, work_dir: str | Path, split: str, out_dir: str | Path,
                     threshold: float, *, save_attention: bool = False, shard: tuple[int, int] | None = None,
                     log=print) -> int:
    """Write ``OUT/wnid/name.png`` pseudo labels (and ``.npy`` attention maps) for every image of ``split``;
    images whose outputs exist are skipped; ``shard`` (K, N) labels only shard K of N of the sorted images.
    Returns how many images were labelled now.

    Raises:
        BadInputError: a threshold outside [0, 1] (upstream's percents: 37 is 0.37), missing stage outputs."""
    if not 0 <= threshold <= 1:
        raise BadInputError(f"threshold {threshold}: a fraction in [0, 1] (upstream percents: 37 is 0.37)")
    model, _ = load_checkpoint(Path(work_dir) / "attention.pth")
    centroids_path = Path(work_dir) / "cluster" / "centroids.npy"
    if not centroids_path.is_file():
        raise BadInputError(f"{centroids_path}: no centroids (run `imagenet-s pass cluster` first)")
    centroids = np.load(centroids_path)
    folder, out_dir = Path(data_root) / split, Path(out_dir)
    done = 0
    for name in take_shard(list_images(folder), shard):
        stem = out_dir / Path(name).with_suffix("")
        png, npy = stem.with_suffix(".png"), stem.with_suffix(".npy")
        if not needs_writing(*((png, npy) if save_attention else (png,))):
            continue
        image = load_rgb(folder / name)
        emb, att = pixel_outputs(model, normalize(resize_shorter(image, cfg["pseudo"]["resize"])))
        labels, att_full = label_pixels(emb, att, centroids, tuple(image.shape[-2:]), threshold)
        if save_attention:
            save_npy(npy, att_full)
        write_mask(png, labels)
        done += 1
    log(f"labelled {done} images of {split} -> {out_dir} (threshold {threshold})")
    return done
