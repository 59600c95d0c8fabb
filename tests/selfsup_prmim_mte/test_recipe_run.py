"""The shipped PR-MIM recipe trains through tools/train.py (shrunk to a tiny ViT on a written image folder), and the
student backbone of its checkpoint (``backbone.*``) loads strictly into MMPretrain's VisionTransformer."""
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import torch
from train_extra import require_train_extra

require_train_extra(module_level=True)

from mmpretrain.registry import MODELS  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
RECIPE = REPO / "imagenet_s" / "configs" / "selfsup" / "prmim_vit-base-p16_8xb512-amp-coslr-400e_in1k.py"
ARCH = dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64, _delete_=True)
TINY = f"""_base_ = [{str(RECIPE)!r}]
pipeline = [dict(type='LoadImageFromFile'),
            dict(type='RandomResizedCrop', scale=32, crop_ratio_range=(0.5, 1.0), backend='pillow'),
            dict(type='RandomFlip', prob=0.5), dict(type='PackInputs')]
train_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False,
                        dataset=dict(_delete_=True, type='CustomDataset', data_root=ROOT, pipeline=pipeline))
model = dict(backbone=dict(arch={ARCH!r}, img_size=32, patch_size=8),
             neck=dict(num_patches=16, patch_size=8, embed_dim=32, decoder_embed_dim=16, decoder_depth=1,
                       decoder_num_heads=2, progressive=dict(num_heads=2, num_neighbours=3)),
             head=dict(patch_size=8))
optim_wrapper = dict(type='OptimWrapper', _delete_=True, optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05))
train_cfg = dict(max_epochs=2)
default_hooks = dict(logger=dict(interval=1))
"""


def test_prmim_recipe_trains_and_its_backbone_loads_strictly(tmp_path):
    rng = np.random.default_rng(0)
    for label in ("a", "b"):
        (tmp_path / "images" / label).mkdir(parents=True)
        for i in range(4):
            small = rng.uniform(0, 255, (4, 4, 3)).astype(np.float32)
            cv2.imwrite(str(tmp_path / "images" / label / f"{i}.png"),
                        cv2.resize(small, (40, 40), interpolation=cv2.INTER_LINEAR).astype(np.uint8))
    config = tmp_path / "tiny_prmim.py"
    config.write_text(TINY.replace("ROOT", repr(str(tmp_path / "images"))))
    work = tmp_path / "work"
    proc = subprocess.run([sys.executable, str(REPO / "tools" / "train.py"), str(config), "--work-dir", str(work)],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    checkpoint = torch.load(work / "epoch_2.pth", map_location="cpu", weights_only=False)
    state = checkpoint["state_dict"]
    assert any(k.startswith("neck.progressive.") for k in state)
    backbone = {k.removeprefix("backbone."): v for k, v in state.items() if k.startswith("backbone.")}
    arch = {k: v for k, v in ARCH.items() if k != "_delete_"}
    vit = MODELS.build(dict(type="VisionTransformer", arch=arch, img_size=32, patch_size=8))
    vit.load_state_dict(backbone, strict=True)
