"""Helpers of the MMSegmentation tests: a tiny ImageNet-S-style tree (``ImageNetS50/`` with train-semi, validation
and test, JPEG images with coloured objects, RGB PNG masks with ignore borders; one validation image over the
lowered memory-guard limit) and tiny configs derived from the shipped recipes."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from evaluators.luss.masks import IGNORE, write_mask

SUBSET = 50
WNIDS = ("n01443537", "n01491361", "n01531178")  # class ids 1, 2, 3 of the reduced tree
COLOURS = ((230, 40, 40), (40, 230, 40), (40, 40, 230))  # RGB of each class's objects
LIMIT = 56 * 72  # the lowered memory-guard limit of the tests (the large validation image exceeds it)


def _scene(rng, cls: int, height: int, width: int):
    rgb = np.full((height, width, 3), 90, np.uint8) + rng.integers(0, 30, (height, width, 3)).astype(np.uint8)
    ids = np.zeros((height, width), np.int32)
    h, w = int(rng.integers(height // 3, height * 2 // 3)), int(rng.integers(width // 3, width * 2 // 3))
    y, x = int(rng.integers(0, height - h)), int(rng.integers(0, width - w))
    rgb[y:y + h, x:x + w] = COLOURS[cls - 1]
    ids[y:y + h, x:x + w] = cls
    ring = np.zeros_like(ids, bool)
    ring[max(y - 1, 0):y + h + 1, max(x - 1, 0):x + w + 1] = True
    ring[y + 1:y + h - 1, x + 1:x + w - 1] = False
    ids[ring] = IGNORE  # upstream masks mark unsure borders with 1000
    return rgb, ids


def write_tree(root: Path, seed: int = 0, per_class: dict | None = None) -> Path:
    """Write ``root/ImageNetS50/{train-semi,validation,test}`` (+ ``-segmentation``) and return ``root``."""
    rng = np.random.default_rng(seed)
    per_class = per_class or {"train-semi": 3, "validation": 2, "test": 1}
    base = root / f"ImageNetS{SUBSET}"
    number = 0
    for split, count in per_class.items():
        for cls, wnid in enumerate(WNIDS, start=1):
            for k in range(count):
                number += 1
                size = (48, 64) if (k + cls) % 2 else (64, 48)
                if split == "validation" and cls == 1 and k == 0:
                    size = (64, 80)  # over LIMIT: goes through the memory rule
                rgb, ids = _scene(rng, cls, *size)
                name = f"ILSVRC2012_val_{number:08d}"
                (base / split / wnid).mkdir(parents=True, exist_ok=True)
                cv2.imwrite(str(base / split / wnid / f"{name}.JPEG"), rgb[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 95])
                if split != "test":
                    write_mask(base / f"{split}-segmentation" / wnid / f"{name}.png", ids)
    return root


def tiny_config(tmp_path: Path, data_root: Path, recipe: str = "vit-s16_sere-ssl_imagenet-s50",
                backbone: dict | None = None, in_channels: int = 32, epochs: int = 2, extra: str = "") -> Path:
    """A config file inheriting a shipped recipe, with a tiny backbone, 32 px crops, batch 3, ``epochs`` epochs,
    no pretrained weights, the lowered memory-guard limit and data from ``data_root``."""
    from imagenet_s.recipes import find_recipe

    if backbone is None:
        backbone = dict(arch=dict(_delete_=True, embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64),
                        img_size=32, drop_path_rate=0.0)
    fields = ", ".join(f"{k}={v!r}" for k, v in backbone.items())
    text = f"""
_base_ = ['{find_recipe(recipe).config}']
data_root = '{data_root}'
model = dict(backbone_checkpoint=None, data_preprocessor=dict(size=(32, 32)), backbone=dict({fields}),
             decode_head=dict(in_channels={in_channels}), test_cfg=dict(max_pixels={LIMIT}))
train_dataloader = dict(batch_size=3, num_workers=0, persistent_workers=False,
                        dataset=dict(data_root=data_root, pipeline=[
                            dict(type='LoadImageFromFile'), dict(type='LoadImageNetSAnnotations'),
                            dict(type='RandomResizedCropWithMask', size=32, scale=(0.5, 1.0)),
                            dict(type='RandomFlip', prob=0.5), dict(type='PackSegInputs')]))
test_pipeline = [dict(type='LoadImageNetSImage'), dict(type='ResizeShorterSide', size=32),
                 dict(type='LoadImageNetSAnnotations'), dict(type='PackSegInputs')]
val_dataloader = dict(num_workers=0, persistent_workers=False, dataset=dict(data_root=data_root,
                                                                             pipeline=test_pipeline))
test_dataloader = val_dataloader
effective_batch_size = 6
optim_wrapper = dict(optimizer=dict(lr=2e-3))
param_scheduler = [dict(type='LinearLR', start_factor=0.5, by_epoch=True, begin=0, end=1,
                        convert_to_iter_based=True)]
train_cfg = dict(max_epochs={epochs}, val_interval={epochs})
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval={epochs}, save_best=None),
                     visualization=dict(draw=False))
env_cfg = dict(mp_cfg=dict(mp_start_method='fork', opencv_num_threads=1))
randomness = dict(seed=0)
{extra}
"""
    path = tmp_path / f"tiny_{recipe}.py"
    path.write_text(text)
    return path
