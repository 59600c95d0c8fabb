"""An export loads strictly into the ImageNet-S segmentation recipes' ViT backbone through the plug-in's own loader
(``imagenet_s.mmseg.checkpoints.load_backbone``). Skipped where the segmentation plug-in is not there yet."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from mmengine.config import Config
from mmpretrain.registry import MODELS
from selfsup_tiny import TINY_HEAD, TINY_VIT

import imagenet_s
from imagenet_s.cli import main
from imagenet_s.selfsup import sere  # noqa: F401  (registration)

seg_checkpoints = pytest.importorskip("imagenet_s.mmseg.checkpoints")
RECIPES = ("vit-s16_sere-ssl_imagenet-s919.py", "vit-b16_sere-ssl_imagenet-s919.py")


@pytest.mark.parametrize("recipe", RECIPES)
def test_export_loads_into_the_segmentation_recipe_backbone(recipe, tmp_path):
    model = MODELS.build(dict(type="SERE", backbone=TINY_VIT, head=TINY_HEAD, spatial_grid=(3, 2)))
    model.update_teacher()
    torch.save({"state_dict": model.state_dict()}, tmp_path / "sere.pth")
    out = tmp_path / "backbone.pth"
    assert CliRunner().invoke(main, ["selfsup", "export", str(tmp_path / "sere.pth"), "--out", str(out)]).exit_code == 0
    cfg = Config.fromfile(str(Path(imagenet_s.__file__).parent / "configs" / recipe))
    backbone_cfg = dict(cfg.model.backbone, type="VisionTransformer", arch=TINY_VIT["arch"], img_size=32,
                        patch_size=8)  # the recipe's ViT settings (featmap output, final norm, [CLS]) at tiny size
    vit = MODELS.build(backbone_cfg)
    seg_checkpoints.load_backbone(vit, out, "toolkit")
    assert torch.equal(vit.ln1.weight, model.teacher.module["backbone"].ln1.weight)
    assert vit(torch.randn(1, 3, 32, 32))[0].shape == (1, 32, 4, 4)
