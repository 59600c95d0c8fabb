"""HSSL's auxiliary-head search by a cheap label-free proxy (``imagenet-s selfsup search-head``).

The HSSL paper finds that the base model's representation improves as the architecture discrepancy between the base
and its auxiliary head grows, and proposes to search for the most suitable head quickly. Its procedure is not
public; ours (our design, docs/selfsup.md):

1. For each candidate head, a short proxy pre-training: ``steps`` HSSL steps (iBOT base, 2 global views with block
   masks) of the same base ViT from the same initialisation on the same image sequence (same seed).
2. Score = feature discrepancy on a fixed evaluation batch (centre views, no augmentation): ``1 - linear CKA``
   (Kornblith et al., 2019) between the base's last-layer patch tokens and the head's output tokens at the same
   positions (rows: every token of every image). CKA is invariant to rotations and isotropic scaling, so the score
   measures how differently the head represents what it reads, not its scale; it needs no labels.
3. Rank by the score, highest first (the most heterogeneous head). A homogeneous candidate (``transformer-1``, a ViT
   block) is included as the reference that should rank last.

Cost: ``len(candidates) x steps`` training steps of the chosen ViT on ``image_size`` views: minutes on a CPU with the
defaults (``deit-tiny`` at 64 px); use the real base (``--arch base``, 224 px) on a GPU for a decision.
"""
from __future__ import annotations

import logging
import os
import random
import time
from pathlib import Path

import numpy as np
import torch

from plumbing.errors import BadInputError, MissingInputError
from plumbing.jobs import progress_bar

CANDIDATES: dict[str, dict] = {
    "convnext-1": dict(kind="convnext", depth=1),
    "convnext-2": dict(kind="convnext", depth=2),
    "convnext-3": dict(kind="convnext", depth=3),
    "mixer-1": dict(kind="mixer", depth=1),
    "bottleneck-2": dict(kind="bottleneck", depth=2),
    "transformer-1": dict(kind="transformer", depth=1),
}
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
PROXY = "1 - linear CKA(base patch tokens, head tokens) after a short HSSL proxy pre-training"


def linear_cka(x: torch.Tensor, y: torch.Tensor) -> float:
    """Linear CKA of two representations of the same n samples (n x d1, n x d2): ||Y'X||_F^2 / (||X'X||_F ||Y'Y||_F)
    after centring each column; 1 for representations equal up to rotation and scale."""
    x = (x - x.mean(0)).double()
    y = (y - y.mean(0)).double()
    num = (y.T @ x).norm() ** 2
    den = (x.T @ x).norm() * (y.T @ y).norm()
    return float(num / den) if den > 0 else 0.0


def list_images(root: str | os.PathLike) -> list[str]:
    """Image files under ``root`` (recursive, sorted). Raises MissingInputError if there are none."""
    root = Path(root)
    if not root.is_dir():
        raise MissingInputError(f"{root}: no such folder")
    files = sorted(str(p) for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise MissingInputError(f"{root}: no images ({', '.join(IMAGE_SUFFIXES)})")
    return files


def _model_cfg(arch: str, image_size: int, patch_size: int, head: dict) -> dict:
    grid = image_size // patch_size
    backbone = dict(type="VisionTransformer", arch=arch, img_size=image_size, patch_size=patch_size)
    return dict(type="HSSL", backbone=backbone, aux_head=dict(head, grid=(grid, grid)),
                head=dict(type="DINOProjectionHead", in_channels=0, out_channels=1024, hidden_channels=512,
                          bottleneck_channels=128),
                warmup_teacher_temperature_epochs=1, freeze_last_layer_epochs=0,
                data_preprocessor=dict(type="SelfSupDataPreprocessor", mean=[123.675, 116.28, 103.53],
                                       std=[58.395, 57.12, 57.375], to_rgb=True))


def search_aux_heads(images: str | os.PathLike, candidates: list[str] | None = None, steps: int = 20,
                     batch_size: int = 8, image_size: int = 64, patch_size: int = 16, arch: str = "deit-tiny",
                     lr: float = 5e-4, seed: int = 0, show_progress: bool = True) -> dict:
    """Rank candidate auxiliary heads (names of ``CANDIDATES``) for a base ViT (an MMPretrain ``arch``) on the
    images under ``images`` by the proxy of the module docstring.

    Returns ``{'proxy', 'arch', 'image_size', 'steps', 'images', 'candidates': [{'rank', 'head', 'kind', 'depth',
    'params', 'discrepancy', 'cka', 'loss_first', 'loss_last', 'seconds'}, ...]}`` sorted by rank.
    Raises BadInputError (unknown candidate, sizes) and MissingInputError (no images)."""
    from mmengine.logging import MessageHub, MMLogger
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import TRANSFORMS

    from imagenet_s.selfsup import hssl  # noqa: F401  (registration)

    names = list(candidates or CANDIDATES)
    unknown = [n for n in names if n not in CANDIDATES]
    if unknown:
        raise BadInputError(f"unknown candidate head(s) {', '.join(unknown)} (choose from {', '.join(CANDIDATES)})")
    if image_size % patch_size or steps < 1 or batch_size < 2:
        raise BadInputError(f"--image-size {image_size} must be a multiple of the patch size {patch_size}; "
                            "--steps >= 1; --batch-size >= 2")
    files = list_images(images)
    init_default_scope("mmpretrain")
    grid = image_size // patch_size
    view = [dict(type="RandomResizedCropWithBox", scale=image_size, crop_ratio_range=(0.14, 1.0), backend="pillow"),
            dict(type="RandomFlip", prob=0.5), dict(type="IBOTBlockMask", input_size=grid)]
    train_pipe = TRANSFORMS.build(dict(type="Compose", transforms=[
        dict(type="LoadImageFromFile"), dict(type="MultiCropView", num_views=[2], transforms=[view]),
        dict(type="PackInputs", algorithm_keys=["view_boxes", "view_masks"])]))
    eval_pipe = TRANSFORMS.build(dict(type="Compose", transforms=[
        dict(type="LoadImageFromFile"), dict(type="Resize", scale=(image_size, image_size), backend="pillow"),
        dict(type="PackInputs")]))
    hub = MessageHub.get_current_instance()
    hub.update_info("max_iters", steps)
    hub.update_info("epoch", 0)
    eval_files = files[:batch_size]
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)  # MMEngine reports every initialised tensor on stdout otherwise
    try:
        rows = _score_candidates(names, files, eval_files, train_pipe, eval_pipe, arch, image_size, patch_size, steps,
                                 batch_size, lr, seed, show_progress)
    finally:
        logger.setLevel(level)
    rows.sort(key=lambda r: -r["discrepancy"])
    for rank, row in enumerate(rows, 1):
        row["rank"] = rank
    return dict(proxy=PROXY, arch=arch, image_size=image_size, steps=steps, images=len(files),
                candidates=[{"rank": r.pop("rank"), **r} for r in rows])


def _score_candidates(names, files, eval_files, train_pipe, eval_pipe, arch, image_size, patch_size, steps,
                      batch_size, lr, seed, show_progress) -> list[dict]:
    from mmengine.dataset import default_collate
    from mmengine.optim import OptimWrapper
    from mmpretrain.registry import MODELS

    from imagenet_s.selfsup.vit import vit_tokens

    rows = []
    bar = progress_bar(len(names) * steps, desc="proxy pre-training", unit="step", enabled=show_progress)
    for name in names:
        start = time.perf_counter()
        random.seed(seed)
        np.random.seed(seed)
        torch.manual_seed(seed)
        cfg = _model_cfg(arch, image_size, patch_size, CANDIDATES[name])
        try:
            backbone = MODELS.build(cfg["backbone"])
        except (KeyError, AssertionError, ValueError) as exc:
            raise BadInputError(f"--arch {arch!r}: not an MMPretrain VisionTransformer arch ({exc})") from None
        cfg["head"]["in_channels"] = backbone.embed_dims
        torch.manual_seed(seed)
        model = MODELS.build(cfg)
        model.init_weights()
        optim = OptimWrapper(torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.04))
        order = np.random.default_rng(seed)
        losses = []
        for _ in range(steps):
            picks = order.choice(len(files), size=batch_size, replace=len(files) < batch_size)
            batch = default_collate([train_pipe(dict(img_path=files[i])) for i in picks])
            log = model.train_step(batch, optim)
            losses.append(sum(float(v) for k, v in log.items() if k.startswith("loss_")))
            bar.update()
        model.eval()
        with torch.no_grad():
            data = model.data_preprocessor(default_collate([eval_pipe(dict(img_path=f)) for f in eval_files]))
            inputs = data["inputs"][0] if isinstance(data["inputs"], list) else data["inputs"]
            tokens = vit_tokens(model.backbone, inputs)
            _, head_tokens = model.aux_head(tokens.patches, tokens.grid)
            cka = linear_cka(tokens.patches.reshape(-1, tokens.patches.shape[-1]),
                             head_tokens.reshape(-1, head_tokens.shape[-1]))
        rows.append(dict(head=name, kind=CANDIDATES[name]["kind"], depth=CANDIDATES[name]["depth"],
                         params=sum(p.numel() for p in model.aux_head.parameters()), discrepancy=1.0 - cka, cka=cka,
                         loss_first=losses[0], loss_last=losses[-1], seconds=time.perf_counter() - start))
    bar.close()
    return rows
