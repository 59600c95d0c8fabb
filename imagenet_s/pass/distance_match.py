"""PASS distance matching (upstream ``distance_matching/``): a bank of per-image, per-class mask-averaged
features of the ``train-semi`` images (background included), then each pixel of a val/test image (features
upsampled x4, L2-normalised) labelled by a weighted k-NN over the bank (k 10, temperature 0.07: weights
exp(cosine / T) summed per class, the largest wins), nearest-upsampled to full size."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from evaluators.luss.masks import IGNORE, MaskFolder, write_mask
from imagenet_s.submission import METHOD_FIELDS
from plumbing.errors import BadInputError
from plumbing.files import atomic_write_text, needs_writing
from plumbing.jobs import take_shard

from .cluster import pixel_outputs
from .data import list_images, load_rgb, normalize, resize_shorter
from .model import load_checkpoint


def upsampled_features(embedding: torch.Tensor, factor: int) -> torch.Tensor:
    """(D, h, w) features bilinearly upsampled ``factor`` times and L2-normalised per pixel."""
    up = F.interpolate(embedding[None], scale_factor=factor, mode="bilinear", align_corners=False)[0]
    return F.normalize(up, dim=0)


def bank_entries(features: torch.Tensor, mask: np.ndarray) -> tuple[torch.Tensor, list[int]]:
    """Per class present in ``mask`` (ignore 1000 left out): the mean feature of its pixels, L2-normalised.

    ``mask`` (H, W) is resized (nearest) to the feature size first. Returns ((C, D), [class ids])."""
    d, h, w = features.shape
    small = torch.from_numpy(mask.astype(np.int64))[None, None].float()
    small = F.interpolate(small, size=(h, w), mode="nearest")[0, 0].long()
    feats, classes = [], []
    for c in torch.unique(small).tolist():
        if c == IGNORE:
            continue
        feats.append(F.normalize(features[:, small == c].mean(dim=1), dim=0))
        classes.append(int(c))
    return (torch.stack(feats) if feats else torch.zeros(0, d)), classes


def knn_labels(features: torch.Tensor, bank: torch.Tensor, bank_labels: torch.Tensor, k: int = 10,
               temperature: float = 0.07) -> torch.Tensor:
    """Weighted k-NN label per pixel: features (D, h, w) and bank (M, D) L2-normalised, bank_labels (M,) ids.

    The k most similar bank entries vote exp(cosine / temperature) for their class; returns (h, w) int64 of the
    class with the largest summed vote (the smallest id on an exact tie)."""
    d, h, w = features.shape
    sims = features.reshape(d, -1).t() @ bank.t()  # (h*w, M)
    k = min(k, bank.shape[0])
    top, idx = sims.topk(k, dim=1)
    votes = torch.zeros(sims.shape[0], int(bank_labels.max()) + 1, dtype=sims.dtype)
    votes.scatter_add_(1, bank_labels[idx], torch.exp(top / temperature))
    return votes.argmax(dim=1).view(h, w)


def build_bank(model, data_root: Path, cfg: dict) -> tuple[torch.Tensor, torch.Tensor]:
    """The feature bank of ``train-semi`` (images) and ``train-semi-segmentation`` (masks): (M, D), (M,)."""
    folder, masks = data_root / "train-semi", MaskFolder(data_root / "train-semi-segmentation")
    feats, labels = [], []
    for name in list_images(folder):
        image = load_rgb(folder / name)
        mask = masks.read(str(Path(name).with_suffix(".png")), ground_truth=True, shape=tuple(image.shape[-2:]))
        emb, _ = pixel_outputs(model, normalize(resize_shorter(image, cfg["resize"])))
        entry, classes = bank_entries(upsampled_features(emb, cfg["upsample"]), mask)
        feats.append(entry)
        labels.extend(classes)
    if not labels:
        raise BadInputError(f"{folder}: no labelled pixels for the bank")
    return torch.cat(feats), torch.tensor(labels)


def run_distance_match(cfg: dict, data_root: str | Path, work_dir: str | Path, split: str, out_dir: str | Path,
                       *, checkpoint: str | Path | None = None, shard: tuple[int, int] | None = None,
                       log=print) -> int:
    """Label every image of ``split`` by distance matching and write ``OUT/wnid/name.png`` plus ``method.txt``
    (ready for ``imagenet-s score`` once zipped). Uses ``WORK/attention.pth`` (or ``checkpoint``). Images with
    a PNG already are skipped; ``shard`` (K, N): only shard K of N of the sorted images. Returns how many were
    written now."""
    dcfg = cfg["distance"]
    model, _ = load_checkpoint(checkpoint or Path(work_dir) / "attention.pth")
    data_root, out_dir = Path(data_root), Path(out_dir)
    bank, bank_labels = build_bank(model, data_root, dcfg)
    folder = data_root / split
    done = 0
    for name in take_shard(list_images(folder), shard):
        png = out_dir / Path(name).with_suffix(".png")
        if not needs_writing(png):
            continue
        image = load_rgb(folder / name)
        emb, _ = pixel_outputs(model, normalize(resize_shorter(image, dcfg["resize"])))
        labels = knn_labels(upsampled_features(emb, dcfg["upsample"]), bank, bank_labels, dcfg["k"],
                            dcfg["temperature"])
        full = F.interpolate(labels[None, None].float(), size=tuple(image.shape[-2:]), mode="nearest")[0, 0]
        write_mask(png, full.long().numpy())
        done += 1
    method = dict(zip(METHOD_FIELDS, ("PASS distance matching", "ImageNet-S train + train-semi",
                                      "self-supervised + distance matching", cfg["model"]["arch"],
                                      "https://github.com/LUSSeg/PASS",
                                      f"k-NN (k {dcfg['k']}, T {dcfg['temperature']}) over train-semi features")))
    atomic_write_text(out_dir / "method.txt", "".join(f"{k}: {v}\n" for k, v in method.items()))
    log(f"distance matching: {len(bank_labels)} bank entries, {done} images of {split} -> {out_dir}")
    return done
