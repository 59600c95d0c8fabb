"""Each method's shipped recipe, shrunk to a tiny ViT, trains on a generated image folder: the loss is finite and
falls on a fixed batch; a run resumes where it stopped (iteration, teacher, centres); its teacher backbone exports
and loads strictly into MMPretrain's VisionTransformer."""
from __future__ import annotations

import pytest
import torch
from click.testing import CliRunner
from mmengine.dataset import default_collate
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmpretrain.registry import DATASETS, MODELS
from selfsup_tiny import TINY_VIT, tiny_recipe

from imagenet_s.cli import main
from imagenet_s.selfsup import hssl, ibot, sere  # noqa: F401  (registration)


@pytest.mark.parametrize("method", ["ibot", "sere", "hssl"])
def test_loss_is_finite_and_falls_on_a_fixed_batch(method, image_folder, tmp_path):
    init_default_scope("mmpretrain")
    cfg = tiny_recipe(method, image_folder, tmp_path)
    cfg.model.freeze_last_layer_epochs = 0
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    batch = default_collate([dataset[i] for i in range(4)])
    model = MODELS.build(cfg.model)
    model.init_weights()
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    totals = []
    for _ in range(8):
        log = model.train_step(batch, optim)
        totals.append(sum(v.item() for k, v in log.items() if "loss" in k and k != "loss"))
    assert all(torch.isfinite(torch.tensor(totals)))
    assert sum(totals[-2:]) < sum(totals[:2]), totals


def test_recipe_trains_resumes_and_exports(image_folder, tmp_path):
    from mmengine.runner import Runner

    work = tmp_path / "work"
    runner = Runner.from_cfg(tiny_recipe("sere", image_folder, work, max_epochs=2))
    runner.train()
    assert runner.iter == 4
    first = torch.load(work / "epoch_2.pth", map_location="cpu", weights_only=True)["state_dict"]
    cfg = tiny_recipe("sere", image_folder, work, max_epochs=3)
    cfg.resume, cfg.load_from = True, str(work / "epoch_2.pth")
    resumed = Runner.from_cfg(cfg)
    resumed.train()
    assert resumed.iter == 6 and resumed.epoch == 3
    last = torch.load(work / "epoch_3.pth", map_location="cpu", weights_only=True)["state_dict"]
    assert int(last["teacher.steps"]) == int(first["teacher.steps"]) + 2  # the EMA's step count continued
    assert not torch.equal(last["center_cls.center"], first["center_cls.center"])
    assert not torch.equal(last["teacher.module.backbone.ln1.weight"], last["backbone.ln1.weight"])

    out = tmp_path / "backbone.pth"
    result = CliRunner().invoke(main, ["selfsup", "export", str(work / "epoch_3.pth"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    exported = torch.load(out, map_location="cpu", weights_only=True)
    assert exported["meta"]["which"] == "teacher" and exported["meta"]["prefix"] == "teacher.module.backbone."
    vit = MODELS.build(dict(TINY_VIT))
    vit.load_state_dict(exported["state_dict"], strict=True)
    assert torch.equal(vit.ln1.weight, last["teacher.module.backbone.ln1.weight"])
