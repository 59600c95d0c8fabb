"""The shipped recipes: the list contract, the published AP table, and every config building its model."""
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from train_extra import require_train_extra

from aodraw.cli import main
from aodraw.recipes import RECIPES, find_recipe

KEYS = {"name", "config", "detector", "backbone", "input", "data", "published_AP", "latency"}


def test_list_json_contract():
    result = CliRunner().invoke(main, ["recipes", "list", "--format", "json"])
    assert result.exit_code == 0, result.output
    entries = json.loads(result.output)
    assert len(entries) == len(RECIPES) == 44
    for entry in entries:
        assert KEYS <= set(entry)
        assert entry["input"] in ("srgb", "raw", "raw-pretraining", "bayer")
        assert entry["data"] in ("downsample", "slice")
        assert entry["config"].endswith(f"{entry['name']}.py")
    published = [e for e in entries if e["published_AP"] is not None]
    assert len(published) == 24
    assert len({e["name"] for e in entries}) == len(entries)


SPEC = Path(__file__).resolve().parents[3] / "shared" / "specs" / "aodraw.md"
SPEC_DETECTORS = {"Faster R-CNN": "Faster R-CNN", "RetinaNet": "RetinaNet", "GFL": "GFL",
                  "Sparse R-CNN": "Sparse R-CNN", "Deformable DETR": "Deformable DETR", "Cascade": "Cascade R-CNN",
                  "Cascade R-CNN": "Cascade R-CNN"}
SPEC_BACKBONES = {"R50": "ResNet-50", "Swin-T": "Swin-T", "ConvNeXt-T": "ConvNeXt-T"}
SPEC_COLUMNS = ("srgb", "raw", "raw-pretraining")


def spec_published_table() -> dict:
    """(detector, backbone, input, data) -> AP, read from the project's spec of the paper's table (an independent
    source: the recipes table is typed separately in aodraw/recipes.py)."""
    lines = SPEC.read_text(encoding="utf-8").split("Published AP (test set", 1)[1].splitlines()[3:]
    table = {}
    for line in lines:
        if not line.startswith("| "):
            break
        label, *cells = [c.strip() for c in line.strip("|").split("|")]
        model, _, data = label.partition(", ")
        detector, backbone = model.rsplit(" ", 1)
        for column, cell in zip(SPEC_COLUMNS, cells):
            if cell:
                key = (SPEC_DETECTORS[detector], SPEC_BACKBONES[backbone], column,
                       "slice" if data == "slices" else "downsample")
                table[key] = float(cell)
    return table


def test_published_ap_table_equals_the_papers():
    published = spec_published_table()
    assert len(published) == 24
    shipped = {(r.detector, r.backbone, r.input, r.data): r.published_AP for r in RECIPES
               if r.published_AP is not None}
    assert shipped == published
    assert find_recipe("faster-rcnn_swin-t_fpn_1x_aodraw-raw").published_AP is None  # not in the paper


def test_list_table_prints_every_recipe():
    result = CliRunner().invoke(main, ["recipes", "list"])
    assert result.exit_code == 0
    assert all(r.name in result.output for r in RECIPES)
    assert "34.8" in result.output


def _cfg(name):
    from mmengine.config import Config

    return Config.fromfile(str(find_recipe(name).config))


def _train_set(cfg):
    dataset = cfg.train_dataloader.dataset
    return dataset.dataset if "dataset" in dataset else dataset


def test_recipe_settings_follow_the_spec():
    require_train_extra()
    srgb = _cfg("cascade-rcnn_r50_fpn_1x_aodraw-srgb")
    assert srgb.optim_wrapper.optimizer.type == "SGD" and srgb.optim_wrapper.optimizer.lr == 0.02
    assert srgb.train_cfg.max_epochs == 12 and srgb.param_scheduler[1].milestones == [8, 11]
    assert srgb.model.data_preprocessor.mean == [123.675, 116.28, 103.53]
    assert srgb.model.data_preprocessor.bgr_to_rgb and srgb.model.data_preprocessor.pad_size_divisor == 32
    assert srgb.train_dataloader.dataset.times == 4 and srgb.train_dataloader.batch_size == 2
    resize = [t for t in _train_set(srgb).pipeline if t.type == "RandomResize"][0]
    assert resize.scale == [(2048, 800), (2048, 1024)] and resize.keep_ratio
    assert [t for t in srgb.test_dataloader.dataset.pipeline if t.type == "Resize"][0].scale == (2048, 1024)
    assert _cfg("retinanet_r50_fpn_1x_aodraw-srgb").optim_wrapper.optimizer.lr == 0.01
    assert srgb.model.roi_head.bbox_head[2].num_classes == 61

    raw = _cfg("cascade-rcnn_convnext-t_fpn_1x_aodraw-raw")
    loader = _train_set(raw).pipeline[0]
    assert loader.type == "LoadAODRawImageFromFile" and abs(loader.gamma - 1 / 2.2) < 1e-12
    assert not loader.normalise_slices and _train_set(raw).data_prefix.img == "images_downsampled_raw/"
    assert raw.test_dataloader.dataset.pipeline[0].type == "LoadAODRawImageFromFile"
    assert raw.optim_wrapper.type == "AmpOptimWrapper" and raw.optim_wrapper.optimizer.lr == 0.0002
    assert raw.optim_wrapper.paramwise_cfg.decay_rate == 0.75
    assert raw.model.backbone.type == "mmpretrain.ConvNeXt" and "mmpretrain.models" in raw.custom_imports.imports
    swin = _cfg("gfl_swin-t_fpn_1x_aodraw-srgb")
    assert swin.optim_wrapper.optimizer.lr == 0.0001 and swin.optim_wrapper.optimizer.weight_decay == 0.05

    sliced = _cfg("cascade-rcnn_swin-t_fpn_1x_aodraw-slice-raw")
    assert sliced.train_dataloader.dataset.times == 1
    assert _train_set(sliced).data_prefix.img == "images_slice_raw/"
    assert _train_set(sliced).ann_file.endswith("train_annotations_slice_1280_300.json")
    assert sliced.test_evaluator.preset == "aodraw-slice"
    assert sliced.test_evaluator.ann_file.endswith("test_annotations_slice_1280_300.json")
    assert _cfg("cascade-rcnn_swin-t_fpn_1x_aodraw-raw").test_evaluator.preset == "aodraw"

    pretrained = _cfg("cascade-rcnn_swin-t_fpn_1x_aodraw-raw-pretraining")
    assert pretrained.model.backbone.init_cfg.checkpoint != raw.model.backbone.init_cfg.checkpoint


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda r: r.name)
def test_every_shipped_config_builds_its_model(recipe):
    require_train_extra()
    from aodraw.mmdet.launch import build_detector

    model = build_detector(str(recipe.config))
    n = sum(p.numel() for p in model.parameters())
    expected = {"ResNet-18": (10e6, 60e6), "ResNet-50": (20e6, 110e6), "Swin-T": (30e6, 90e6),
                "ConvNeXt-T": (30e6, 90e6), "CSPNeXt-tiny": (4e6, 6e6), "CSPDarknet-tiny": (4e6, 6e6)}[recipe.backbone]
    assert expected[0] < n < expected[1], n
    assert getattr(model, "bbox_head", None) is not None or getattr(model, "roi_head", None) is not None


@pytest.mark.parametrize("name", ["gfl_swin-t_fpn_1x_aodraw-raw-pretraining",
                                  "cascade-rcnn_convnext-t_fpn_1x_aodraw-raw-pretraining"])
def test_raw_pretraining_recipes_load_an_exported_backbone(tmp_path, name):
    require_train_extra()
    import torch
    from mmdet.registry import MODELS
    from mmengine.registry import init_default_scope

    import aodraw.mmdet  # noqa: F401  (the plug-in registers aodraw-backbone://)

    init_default_scope("mmdet")
    cfg = _cfg(name)
    backbone_cfg = {k: v for k, v in cfg.model.backbone.items() if k != "init_cfg"}
    exported = MODELS.build(backbone_cfg).state_dict()
    exported = {k: torch.randn_like(v) if v.is_floating_point() else v for k, v in exported.items()}
    path = tmp_path / "backbone.pth"
    torch.save({"state_dict": exported, "meta": {"arch": name}}, path)  # the `aodraw pretrain export` format
    checkpoint = cfg.model.backbone.init_cfg.checkpoint
    assert checkpoint.startswith("aodraw-backbone://") == ("swin" in name)
    cfg.model.backbone.init_cfg.checkpoint = checkpoint[:checkpoint.index("checkpoints/")] + str(path)
    model = MODELS.build(cfg.model)
    model.init_weights()
    loaded = model.backbone.state_dict()
    assert all(torch.equal(loaded[k], v) for k, v in exported.items())


def test_check_recipes_reports_each_recipe_and_never_raises(tmp_path):
    """``aodraw recipes check`` is a library call: one entry per recipe, a broken config on its own line."""
    require_train_extra()
    from aodraw.mmdet.launch import check_recipes
    from aodraw.recipes import Recipe

    broken = tmp_path / "broken.py"
    broken.write_text("model = dict(type='NoSuchDetector')\n")

    class Broken(Recipe):
        @property
        def config(self):
            return broken

    good = find_recipe("retinanet_r18_fpn_1x_aodraw-srgb")
    report = list(check_recipes((good, Broken("broken", "RetinaNet", "ResNet-18", "srgb", "downsample", None))))
    assert [e["name"] for e in report] == [good.name, "broken"]
    assert report[0]["ok"] and 10e6 < report[0]["params"] < 60e6 and report[0]["error"] is None
    assert not report[1]["ok"] and "NoSuchDetector" in report[1]["error"] and report[1]["params"] is None
