"""The shipped PR-MIM and MTE (MoCo v3) recipes train through tools/train.py (shrunk to a tiny ViT on a written
image folder), and `imagenet-s selfsup export` writes backbones of their checkpoints (PR-MIM's student, MTE's
momentum encoder) that load strictly into MMPretrain's VisionTransformer, without any auxiliary part."""
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from click.testing import CliRunner
from train_extra import require_train_extra

require_train_extra(module_level=True)

from mmpretrain.registry import MODELS  # noqa: E402

from imagenet_s.cli import main  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
RECIPES = REPO / "imagenet_s" / "configs" / "selfsup"
ARCH = dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64)
COMMON = f"""
crop = [dict(type='RandomResizedCrop', scale=32, crop_ratio_range=(0.5, 1.0), backend='pillow'),
        dict(type='RandomFlip', prob=0.5)]
train_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False,
                        dataset=dict(_delete_=True, type='CustomDataset', data_root=ROOT, pipeline=PIPELINE))
optim_wrapper = dict(type='OptimWrapper', _delete_=True, optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05))
train_cfg = dict(max_epochs=2)
default_hooks = dict(logger=dict(interval=1))
_arch = dict(_delete_=True, **{ARCH!r})
"""
SHRINK = {
    "prmim_vit-base-p16_8xb512-amp-coslr-400e_in1k.py": (
        "[dict(type='LoadImageFromFile'), *crop, dict(type='PackInputs')]",
        """model = dict(backbone=dict(arch=_arch, img_size=32, patch_size=8),
             neck=dict(num_patches=16, patch_size=8, embed_dim=32, decoder_embed_dim=16, decoder_depth=1,
                       decoder_num_heads=2, progressive=dict(num_heads=2, num_neighbours=3)),
             head=dict(patch_size=8))""", "student", "neck.progressive."),
    "mte_mocov3_vit-small-p16_16xb256-amp-coslr-300e_in1k.py": (
        "[dict(type='LoadImageFromFile'), dict(type='MultiView', num_views=2, transforms=[crop]), "
        "dict(type='PackInputs')]",
        """model = dict(backbone=dict(arch=_arch, img_size=32, patch_size=8),
             neck=dict(in_channels=32, hid_channels=64, out_channels=16),
             head=dict(predictor=dict(in_channels=16, hid_channels=64, out_channels=16)))""", "teacher", "mte."),
}


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    """8 smooth 40 x 40 PNG images in two class folders."""
    root = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    for label in ("a", "b"):
        (root / label).mkdir()
        for i in range(4):
            small = rng.uniform(0, 255, (4, 4, 3)).astype(np.float32)
            cv2.imwrite(str(root / label / f"{i}.png"),
                        cv2.resize(small, (40, 40), interpolation=cv2.INTER_LINEAR).astype(np.uint8))
    return root


@pytest.mark.parametrize("recipe", list(SHRINK))
def test_recipe_trains_and_exports_a_plain_backbone(recipe, images, tmp_path):
    pipeline, model, which, auxiliary = SHRINK[recipe]
    config = tmp_path / f"tiny_{recipe}"
    config.write_text(f"_base_ = [{str(RECIPES / recipe)!r}]\n"
                      + COMMON.replace("ROOT", repr(str(images))).replace("PIPELINE", pipeline) + model + "\n")
    work = tmp_path / "work"
    proc = subprocess.run([sys.executable, str(REPO / "tools" / "train.py"), str(config), "--work-dir", str(work)],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    state = torch.load(work / "epoch_2.pth", map_location="cpu", weights_only=False)["state_dict"]
    assert any(k.startswith(auxiliary) for k in state)  # the auxiliary part trained ...

    out = tmp_path / "backbone.pth"
    result = CliRunner().invoke(main, ["selfsup", "export", str(work / "epoch_2.pth"), "--out", str(out),
                                       "--which", which])
    assert result.exit_code == 0, result.output
    exported = torch.load(out, map_location="cpu", weights_only=True)["state_dict"]
    vit = MODELS.build(dict(type="VisionTransformer", arch=ARCH, img_size=32, patch_size=8))
    vit.load_state_dict(exported, strict=True)  # ... and is not in the export: the base structure exactly


OURS = ("mae_", "partial_", "prmim_", "mocov3_", "mte_")


def test_every_recipe_of_ours_reads_and_names_registered_parts():
    from mmengine.config import Config

    recipes = sorted(p for p in RECIPES.glob("*.py") if p.name.startswith(OURS))
    assert len(recipes) == 9
    for path in recipes:
        cfg = Config.fromfile(str(path))  # imports its custom_imports
        for part in (cfg.model, cfg.model.backbone, cfg.model.get("neck"), cfg.model.get("head")):
            if part is not None:
                assert MODELS.get(part.type) is not None, (path.name, part.type)
        if path.name.startswith("mte_"):
            assert cfg.model.type.startswith("MTE") and cfg.model.mte.num_aux_cls == 3, path.name
            assert cfg.published.imagenet_finetune_top1 is None and len(cfg.published) == 2, path.name
