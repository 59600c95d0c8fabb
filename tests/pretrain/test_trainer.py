"""The distillation trainer on a tiny written image folder and tiny backbones: training, resume, frozen teacher,
export loading strictly and through a detector's init_cfg."""
from __future__ import annotations

import copy
import json
import re

import cv2
import numpy as np
import pytest
import torch
from click.testing import CliRunner
from train_extra import require_train_extra

require_train_extra(module_level=True)

from mmengine.config import ConfigDict  # noqa: E402

from aodraw.cli import main  # noqa: E402
from aodraw.mmdet.backbone_scheme import SCHEME  # noqa: E402
from aodraw.pretrain.camera import Camera  # noqa: E402
from aodraw.pretrain.data import DistillationDataset  # noqa: E402
from aodraw.pretrain.losses import distillation_loss  # noqa: E402
from aodraw.pretrain.models import Classifier, build_backbone, load_classifier  # noqa: E402
from aodraw.pretrain.train import build_models, load_config  # noqa: E402
from aodraw.synthetic_raw import scene  # noqa: E402

BACKBONES = {
    "resnet": dict(type="ResNet", depth=18, base_channels=8, stem_channels=8, out_indices=(0, 1, 2, 3),
                   norm_eval=False, frozen_stages=-1, style="pytorch"),
    "convnext": dict(type="mmpretrain.ConvNeXt", arch=dict(depths=[1, 1, 1, 1], channels=[8, 16, 24, 32]),
                     out_indices=[0, 1, 2, 3], layer_scale_init_value=1.0, gap_before_final_norm=False),
    "swin": dict(type="SwinTransformer", embed_dims=8, depths=[1, 1, 1, 1], num_heads=[1, 1, 1, 2], window_size=4,
                 out_indices=(0, 1, 2, 3), convert_weights=False),
}



@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """Two classes of written images (PNG and JPG): reddish and bluish scenes."""
    root = tmp_path_factory.mktemp("imagenet")
    for label, name in enumerate(("n001", "n002")):
        (root / name).mkdir()
        for i in range(4):
            rgb = scene(40 + 2 * i, 44, 10 * label + i) * 150
            rgb[..., 0 if label == 0 else 2] += 100
            cv2.imwrite(str(root / name / f"{i}.{'png' if i % 2 else 'jpg'}"), rgb[..., ::-1].astype(np.uint8))
    return root


def teacher_file(tmp_path, backbone, layout="mmpretrain"):
    torch.manual_seed(0)
    model = Classifier(backbone, 2)
    state = model.state_dict()
    if layout == "torchvision":
        state = {k.removeprefix("backbone.").replace("head.fc.", "fc."): v for k, v in state.items()}
    path = tmp_path / f"teacher_{layout}.pth"
    torch.save({"state_dict": state, "meta": {"note": "test"}} if layout == "mmpretrain" else state, path)
    return path, model


def config_file(tmp_path, folder, backbone, teacher, **extra):
    cfg = dict(work_dir=str(tmp_path / "work"), log_interval=1, save_interval=2,
               data=dict(root=str(folder), crop_size=32, batch_size=4, num_workers=0, scale=(0.5, 1.0)),
               model=dict(backbone=backbone, num_classes=2, teacher_checkpoint=str(teacher)),
               optimizer=dict(type="AdamW", lr=1e-3, weight_decay=0.0),
               schedule=dict(max_steps=3, warmup_steps=1, accum_steps=2), **extra)
    path = tmp_path / "cfg.py"
    path.write_text("\n".join(f"{k} = {v!r}" for k, v in cfg.items()))
    return path


def test_dataset_gives_the_same_crop_to_teacher_and_student(folder):
    dataset = DistillationDataset(folder, Camera(), size=32, seed=0)
    assert dataset.classes == ["n001", "n002"] and len(dataset) == 8
    srgb, raw, label = dataset[5]
    assert srgb.shape == raw.shape == (3, 32, 32) and label == 1
    again = dataset[5]
    assert torch.equal(srgb, again[0]) and torch.equal(raw, again[1])
    # same crop: the student's RAW rendering correlates with the sRGB crop channel by channel
    for c in range(3):
        assert np.corrcoef(srgb[c].ravel(), raw[c].ravel())[0, 1] > 0.5
    dataset.epoch = 1
    assert not torch.equal(dataset[5][0], srgb)


def test_dataset_skips_hidden_entries_and_names_an_unreadable_image(tmp_path):
    from plumbing.errors import BadInputError

    for name in ("a", "b", ".ipynb_checkpoints"):
        (tmp_path / name).mkdir()
        cv2.imwrite(str(tmp_path / name / "0.PNG"), np.full((6, 8, 3), 200, np.uint8))
    (tmp_path / "a" / "._0.png").write_bytes(b"resource fork")
    (tmp_path / "b" / "1.jpg").write_bytes(b"nothing")
    dataset = DistillationDataset(tmp_path, Camera(), size=4)
    assert dataset.classes == ["a", "b"] and len(dataset) == 3 and dataset[1][2] == 1
    with pytest.raises(BadInputError, match=r"b/1\.jpg: not a readable JPG/PNG image"):
        dataset[2]
    (tmp_path / "empty" / "c").mkdir(parents=True)
    with pytest.raises(BadInputError, match="no class subfolders with JPG/PNG images"):
        DistillationDataset(tmp_path / "empty", Camera())
    with pytest.raises(BadInputError, match="is not a folder"):
        DistillationDataset(tmp_path / "missing", Camera())


@pytest.mark.parametrize("layout", ["mmpretrain", "torchvision"])
def test_teacher_weights_load_from_several_layouts(tmp_path, layout):
    path, reference = teacher_file(tmp_path, BACKBONES["resnet"], layout)
    model = Classifier(BACKBONES["resnet"], 2)
    load_classifier(model, path)
    for key, value in reference.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key


def test_wrong_teacher_is_one_line_exit_2(tmp_path, folder):
    path, _ = teacher_file(tmp_path, BACKBONES["swin"])
    cfg = config_file(tmp_path, folder, BACKBONES["resnet"], path)
    result = CliRunner().invoke(main, ["pretrain", "train", str(cfg)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert lines[-1].startswith(f"error: {path}: ") and "tensors of the model are missing" in lines[-1]


def test_missing_config_field_is_one_line_exit_2(tmp_path):
    cfg = tmp_path / "cfg.py"
    cfg.write_text("work_dir = 'w'\ndata = dict(root='x')\nmodel = dict(num_classes=2)\n")
    result = CliRunner().invoke(main, ["pretrain", "train", str(cfg)])
    assert result.exit_code == 2
    assert result.output.strip() == f"error: {cfg}: config field 'model.backbone' is missing"


@pytest.mark.parametrize("arch", ["resnet", "convnext", "swin"])
def test_loss_decreases_and_teacher_gets_no_gradient(tmp_path, folder, arch):
    path, _ = teacher_file(tmp_path, BACKBONES[arch])
    cfg = load_config(config_file(tmp_path, folder, BACKBONES[arch], path))
    teacher, student = build_models(cfg, torch.device("cpu"))
    frozen = copy.deepcopy(teacher.state_dict())
    dataset = DistillationDataset(folder, Camera(), size=32)
    srgb, raw, labels = (torch.stack([dataset[i][j] for i in range(8)]) if j < 2 else
                         torch.tensor([dataset[i][2] for i in range(8)]) for j in range(3))
    optimizer = torch.optim.Adam(student.parameters(), lr=3e-3)
    losses = []
    for _ in range(10):
        with torch.no_grad():
            target = teacher(srgb)
        parts = distillation_loss(student(raw), target, labels, feature_stages=(-1, -2), feature_type="cosine"
                                  if arch == "swin" else "mse")
        optimizer.zero_grad()
        parts["loss"].backward()
        optimizer.step()
        losses.append(parts["loss"].item())
    assert losses[-1] < 0.75 * losses[0]
    assert all(p.grad is None for p in teacher.parameters())
    for key, value in teacher.state_dict().items():
        assert torch.equal(value, frozen[key]), key


def test_train_resume_export_and_detector_init(tmp_path, folder):
    path, _ = teacher_file(tmp_path, BACKBONES["resnet"])
    cfg = config_file(tmp_path, folder, BACKBONES["resnet"], path)
    result = CliRunner().invoke(main, ["pretrain", "train", str(cfg)])
    assert result.exit_code == 0, result.output
    work = tmp_path / "work"
    steps = [json.loads(line)["step"] for line in (work / "log.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3]
    assert torch.load(work / "latest.pth", weights_only=True)["step"] == 3
    result = CliRunner().invoke(main, ["pretrain", "train", str(cfg), "--cfg-options", "schedule.max_steps=5"])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in (work / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [1, 2, 3, 4, 5] and records[-1]["images_per_s"] > 0
    assert torch.load(work / "latest.pth", weights_only=True)["step"] == 5

    out = tmp_path / "backbone.pth"
    result = CliRunner().invoke(main, ["pretrain", "export", str(work / "latest.pth"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    exported = torch.load(out, weights_only=True)
    assert exported["meta"]["step"] == 5 and exported["meta"]["arch"] == "ResNet"
    backbone = build_backbone(BACKBONES["resnet"])
    backbone.load_state_dict(exported["state_dict"], strict=True)

    from mmdet.registry import MODELS
    from mmdet.utils import register_all_modules

    register_all_modules()
    detector = MODELS.build(dict(
        type="RetinaNet",
        data_preprocessor=dict(type="DetDataPreprocessor", mean=[123.675, 116.28, 103.53],
                               std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_size_divisor=32),
        backbone=dict(BACKBONES["resnet"], init_cfg=dict(type="Pretrained", checkpoint=str(out))),
        neck=dict(type="FPN", in_channels=[8, 16, 32, 64], out_channels=16, start_level=1, add_extra_convs="on_input",
                  num_outs=5),
        bbox_head=dict(type="RetinaHead", num_classes=3, in_channels=16, feat_channels=16, stacked_convs=1,
                       anchor_generator=dict(type="AnchorGenerator", octave_base_scale=4, scales_per_octave=1,
                                             ratios=[1.0], strides=[8, 16, 32, 64, 128]),
                       bbox_coder=dict(type="DeltaXYWHBBoxCoder", target_means=[0.0] * 4, target_stds=[1.0] * 4),
                       loss_cls=dict(type="FocalLoss", use_sigmoid=True, gamma=2.0, alpha=0.25, loss_weight=1.0),
                       loss_bbox=dict(type="L1Loss", loss_weight=1.0)),
        test_cfg=dict(nms_pre=100, score_thr=0.05, nms=dict(type="nms", iou_threshold=0.5), max_per_img=10)))
    key = "layer2.0.conv1.weight"
    assert not torch.equal(detector.backbone.state_dict()[key], exported["state_dict"][key])
    detector.init_weights()
    assert torch.equal(detector.backbone.state_dict()[key], exported["state_dict"][key])


@pytest.mark.parametrize("arch", ["convnext", "swin"])
def test_export_loads_into_convnext_and_swin_init_cfg(tmp_path, arch):
    torch.manual_seed(1)
    student = Classifier(BACKBONES[arch], 2)
    ckpt = tmp_path / "latest.pth"
    torch.save({"student": student.state_dict(), "step": 7, "backbone": BACKBONES[arch]}, ckpt)
    out = tmp_path / "backbone.pth"
    assert CliRunner().invoke(main, ["pretrain", "export", str(ckpt), "--out", str(out)]).exit_code == 0
    state = torch.load(out, weights_only=True)["state_dict"]
    build_backbone(BACKBONES[arch]).load_state_dict(state, strict=True)
    checkpoint = str(out) if arch == "convnext" else SCHEME + str(out)
    from mmdet.registry import MODELS

    init_cfg = ConfigDict(type="Pretrained", checkpoint=checkpoint)  # what a config file gives
    backbone = MODELS.build(dict(BACKBONES[arch], init_cfg=init_cfg))
    backbone.init_weights()
    for key, value in state.items():
        assert torch.equal(backbone.state_dict()[key], value), key


def test_export_of_a_wrong_file_is_one_line_exit_2(tmp_path):
    (tmp_path / "x.pth").write_bytes(b"nothing")
    result = CliRunner().invoke(main, ["pretrain", "export", str(tmp_path / "x.pth"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and result.output.strip().startswith(f"error: {tmp_path / 'x.pth'}: not a readable")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("name", ["resnet50", "convnext-t", "swin-t"])
def test_shipped_configs_build_their_backbones(name):
    from pathlib import Path

    import aodraw

    path = Path(aodraw.__file__).parent / "configs" / "pretrain" / f"{name}_distill_imagenet.py"
    cfg = load_config(path, ["data.root=/nowhere"])
    assert cfg["data"]["root"] == "/nowhere" and cfg["loss"]["feature_type"] == "mse"
    model = Classifier(cfg["model"]["backbone"], cfg["model"]["num_classes"])
    assert model.head.fc.in_features == {"resnet50": 2048, "convnext-t": 768, "swin-t": 768}[name]


def original_swin_layout(state: dict) -> dict:
    """The keys of the original Swin release (microsoft/Swin-Transformer) for an MMDetection Swin classifier: the
    inverse of MMDetection's swin_converter, written out so the converter path is tested against known weights."""
    out = {}
    for key, value in state.items():
        if key.startswith("head.fc."):
            out["head." + key[8:]] = value
            continue
        key = key.removeprefix("backbone.")
        if re.match(r"norm[012]\.", key):
            continue
        if "downsample.reduction." in key:
            o, i = value.shape
            value = value.reshape(o, i // 4, 4).transpose(1, 2)[:, [0, 2, 1, 3]].reshape(o, i)
        elif "downsample.norm." in key:
            value = value.reshape(-1, 4).transpose(0, 1)[[0, 2, 1, 3]].reshape(-1)
        key = (key.replace("stages.", "layers.", 1).replace("attn.w_msa.", "attn.")
               .replace("ffn.layers.0.0.", "mlp.fc1.").replace("ffn.layers.1.", "mlp.fc2.")
               .replace("patch_embed.projection", "patch_embed.proj"))
        out[re.sub(r"^norm3\.", "norm.", key)] = value
    return out


def test_teacher_weights_load_from_the_original_swin_release(tmp_path):
    torch.manual_seed(2)
    reference = Classifier(BACKBONES["swin"], 2)
    torch.save({"model": original_swin_layout(reference.state_dict())}, tmp_path / "swin.pth")
    model = Classifier(BACKBONES["swin"], 2)
    left = load_classifier(model, tmp_path / "swin.pth")
    assert all(re.match(r"backbone\.norm[012]\.", k) for k in left)  # per-stage output norms: detector only
    for key, value in reference.state_dict().items():
        if key not in left:
            assert torch.equal(model.state_dict()[key], value), key
