"""The shipped PASS finetune configs build on the ImageNet-S MMSegmentation plug-in with upstream's settings, and a
PASS pretrain checkpoint loads strictly into their backbones (the PASS heads left out)."""
from __future__ import annotations

import importlib

import pytest

from imagenet_s.cli.pass_cmd import finetune_config_path, load_config

torch = pytest.importorskip("torch")
launch = pytest.importorskip("imagenet_s.mmseg.launch")
model = importlib.import_module("imagenet_s.pass.model")


@pytest.mark.parametrize("name, arch, classes", [("pass_r18_luss50", "resnet18", 51),
                                                 ("pass_r50_luss300", "resnet50", 301),
                                                 ("pass_r50_luss919", "resnet50", 920)])
def test_finetune_config_loads_a_pass_checkpoint(tmp_path, name, arch, classes):
    cfg = load_config(name)
    seg = launch.load_config(finetune_config_path(cfg))
    assert seg.model.decode_head.num_classes == classes == cfg["num_classes"] + 1
    assert seg.train_dataloader.dataset.split == "train" and seg.train_cfg.max_epochs == 20
    assert seg.optim_wrapper.optimizer.type == "mmpretrain.LARS" and seg.optim_wrapper.optimizer.lr == 0.6
    assert seg.optim_wrapper.accumulative_counts == 8  # 1 process x 32: 8 steps make upstream's 256
    net = model.PASSNet(**cfg["model"])
    model.save_checkpoint(tmp_path / "pretrain.pth", net, epoch=1)
    seg.model.backbone_checkpoint = str(tmp_path / "pretrain.pth")
    segmentor = launch.build_segmentor(seg, weights=True)  # strict: every backbone key, nothing else
    assert torch.equal(segmentor.backbone.layer4[0].conv1.weight, net.layer4[0].conv1.weight)
    assert not any(k.startswith(("fbg", "prototypes", "projection_head", "shallow_heads"))
                   for k in segmentor.backbone.state_dict())
