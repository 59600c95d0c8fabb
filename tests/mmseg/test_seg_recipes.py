"""The shipped recipes: listed with their published numbers, shipped as package data, every config loads with its
subset's classes, every architecture builds without weights (``imagenet-s recipes check``), and RF-Next structures
apply through the shared runner code."""
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from train_extra import require_train_extra

from imagenet_s.cli import main
from imagenet_s.recipes import CONFIG_DIR, RECIPES, find_recipe

require_train_extra(module_level=True)

ROOT = Path(__file__).resolve().parents[2]


def test_recipes_list_json_carries_the_contract_keys():
    result = CliRunner().invoke(main, ["recipes", "list", "--format", "json"])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.output)
    assert len(listed) == 36 and {r["mode"] for r in listed} == {"50", "300", "919"}
    keys = {"name", "config", "backbone", "pretraining", "mode", "published_mIoU_val", "published_mIoU_test"}
    assert all(keys <= set(r) and Path(r["config"]).is_file() for r in listed)
    sere = next(r for r in listed if r["name"] == "vit-s16_sere-ssl_imagenet-s919")
    assert (sere["published_mIoU_val"], sere["published_mIoU_test"]) == (41.0, 40.2)
    assert all(r["published_mIoU_val"] is None for r in listed if r["mode"] != "919")
    text = CliRunner().invoke(main, ["recipes", "list"]).output
    assert "rf-convnext-t-rfmerge_sup_imagenet-s919" in text and "51.3" in text


def test_configs_are_package_data():
    cfg = (ROOT / "setup.cfg").read_text()
    assert "imagenet_s = configs/*.py, configs/_base_/*.py, configs/_base_/*/*.py" in cfg
    shipped = {p.relative_to(CONFIG_DIR).as_posix() for p in CONFIG_DIR.rglob("*.py")}
    assert {f"{r.name}.py" for r in RECIPES} <= shipped


def test_every_config_loads_with_its_subset():
    from imagenet_s.mmseg.launch import load_config

    for recipe in RECIPES:
        cfg = load_config(recipe.name)
        n = int(recipe.mode)
        assert cfg.model.decode_head.num_classes == n + 1, recipe.name
        for loader in (cfg.train_dataloader, cfg.val_dataloader, cfg.test_dataloader):
            assert loader.dataset.subset == n, recipe.name
        assert cfg.optim_wrapper.get("accumulative_counts") == 8  # 256 = 32 per GPU x 1 process x 8
    assert load_config(find_recipe("r50-d16_pass-ssl_imagenet-s919").name).model.backbone.dilations == (1, 1, 1, 2)


def test_every_architecture_builds_without_weights():
    from imagenet_s.mmseg.launch import check_recipes

    report = list(check_recipes(tuple(r for r in RECIPES if r.mode == "50")))
    assert all(e["ok"] for e in report), [e for e in report if not e["ok"]]
    params = {e["name"].split("_")[0]: e["params"] for e in report}
    assert 21e6 < params["vit-s16"] < 23e6 and 85e6 < params["vit-b16"] < 87e6
    assert 23e6 < params["r50-d32"] < 25e6 and params["convnext-t"] > 27e6


def test_rf_structure_applies_when_its_file_exists(tmp_path):
    from mmcv.cnn.rfsearch.operator import Conv2dRFSearchOp

    from imagenet_s.mmseg.launch import build_segmentor, load_config
    from mmglue.rfnext import apply_rfsearch

    cfg = load_config("rf-convnext-t-rfsingle_sup_imagenet-s50")
    hook = cfg.custom_hooks[0]
    searched = build_segmentor(cfg)  # no structure file yet: built as ConvNeXt-T
    apply_rfsearch(searched, {**hook, "mode": "search", "rfstructure_file": None, "verbose": False})
    names = [n for n, m in searched.named_modules() if isinstance(m, Conv2dRFSearchOp)]
    assert "backbone.stages.0.0.depthwise_conv" in names
    structure = {n: [1, 1] for n in names}
    structure["backbone.stages.0.0.depthwise_conv"] = [2, 2]
    hook.rfstructure_file = str(tmp_path / "rf.json")
    (tmp_path / "rf.json").write_text(json.dumps({"structure": structure}))
    conv = dict(build_segmentor(cfg).named_modules())["backbone.stages.0.0.depthwise_conv"]
    assert conv.dilation == (2, 2) and conv.padding == (6, 6)


@pytest.mark.parametrize("args", [["recipes", "check", "--help"]])
def test_check_command_is_listed(args):
    assert CliRunner().invoke(main, args).exit_code == 0


def test_rf_rates_get_their_own_group_at_ten_times_the_lr():
    """The protocol's second parameter group (rfmultiple): RF-Next's branch weights at 10x the lr with their own
    layer-wise decay (0.9), every other parameter on MMPretrain's layer decay."""
    from mmengine.optim import build_optim_wrapper

    from imagenet_s.mmseg.launch import build_segmentor, load_config
    from mmglue.rfnext import apply_rfsearch

    cfg = load_config("rf-convnext-t-rfmultiple_sup_imagenet-s50")
    model = build_segmentor(cfg)  # no structure file here: plain ConvNeXt-T, then wrapped as a search would
    apply_rfsearch(model, {**cfg.custom_hooks[0], "mode": "search", "rfstructure_file": None, "verbose": False})
    optim_cfg = cfg.optim_wrapper.to_dict()
    assert optim_cfg["constructor"] == "RFLayerDecayOptimWrapperConstructor"
    groups = {g["param_name"]: g for g in build_optim_wrapper(model, optim_cfg).optimizer.param_groups}
    base_lr, decay = optim_cfg["optimizer"]["lr"], optim_cfg["paramwise_cfg"]["layer_decay_rate"]
    rates = [n for n in groups if n.endswith("branch_weights")]
    assert rates, "the search wrapping made no branch weights"
    for name in (rates[0], rates[-1]):
        depth, depths = model.get_layer_depth(name)
        assert groups[name]["lr"] == pytest.approx(base_lr * 10 * 0.9 ** (depths - depth - 1))
    plain = "backbone.stages.0.0.pointwise_conv1.weight"
    depth, depths = model.get_layer_depth(plain)
    assert groups[plain]["lr"] == pytest.approx(base_lr * decay ** (depths - depth - 1))
