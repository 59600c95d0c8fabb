"""Real MMDetection runs on the tiny dataset: tools/train.py, resume, tools/test.py through AODRawMetric, and the
written results scored by ``aodraw evaluate``."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
from mmdet_data import tiny_config
from train_extra import require_train_extra

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _mmdet():
    require_train_extra()


def run_tool(script: str, *args, cwd) -> str:
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / script), *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


def test_train_resume_test_and_score(tiny_data, tmp_path):
    config = tiny_config(tmp_path, "faster-rcnn_r18_fpn_1x_aodraw-raw", tiny_data,
                         **{"train_cfg.max_epochs": 1, "train_cfg.val_interval": 1})
    work = tmp_path / "work"
    log = run_tool("train.py", config, "--work-dir", work, cwd=tmp_path)
    assert (work / "epoch_1.pth").is_file() and "aodraw/AP_low_light" in log
    # resume: the Runner checkpoint (message hub, NumPy state) loads under torch's weights_only default
    log = run_tool("train.py", config, "--work-dir", work, "--resume", "--cfg-options", "train_cfg.max_epochs=2",
                   cwd=tmp_path)
    assert "resumed epoch: 1" in log.lower() or "resumed epoch 1" in log.lower(), log[-2000:]
    assert (work / "epoch_2.pth").is_file()

    prefix = tmp_path / "out" / "run"
    prefix.parent.mkdir()
    log = run_tool("test.py", config, work / "epoch_2.pth", "--work-dir", tmp_path / "test", "--json-prefix", prefix,
                   "--cfg-options", "model.test_cfg.rcnn.score_thr=0", cwd=tmp_path)  # a barely trained model
    assert "Per condition" in log and "aodraw/AP_fog" in log
    detections = json.loads(prefix.with_suffix(".bbox.json").read_text())
    assert detections and {"image_id", "category_id", "bbox", "score"} <= set(detections[0])
    evaluation = json.loads(prefix.with_suffix(".eval.json").read_text())

    from click.testing import CliRunner

    from aodraw.cli import main

    scored = tmp_path / "scored.json"
    result = CliRunner().invoke(main, ["evaluate", "--gt", str(tiny_data["ann"]), "--dt",
                                       str(prefix.with_suffix(".bbox.json")), "--json", str(scored)])
    assert result.exit_code == 0, result.output
    assert json.loads(scored.read_text())["metrics"] == pytest.approx(evaluation["metrics"])


def _runner(config, work):
    from mmengine.config import Config

    from aodraw.mmdet.launch import build_runner

    cfg = Config.fromfile(config)
    cfg.work_dir = str(work)
    return build_runner(cfg)


def test_loss_decreases_on_a_fixed_batch(tiny_data, tmp_path):
    import math

    runner = _runner(tiny_config(tmp_path, "retinanet_r18_fpn_1x_aodraw-raw", tiny_data), tmp_path / "w")
    batch = next(iter(runner.build_dataloader(runner.cfg.train_dataloader)))
    optim = runner.build_optim_wrapper(runner.cfg.optim_wrapper)
    runner.model.init_weights()  # as Runner.train() does (the head's prior bias)
    runner.model.train()
    losses = [runner.model.train_step(batch, optim)["loss"].item() for _ in range(12)]
    assert all(math.isfinite(v) for v in losses), losses
    assert min(losses[-3:]) < 0.8 * losses[0], losses


@pytest.mark.parametrize("recipe, slices", [("faster-rcnn_r18_fpn_1x_aodraw-srgb", False),
                                            ("cascade-rcnn_swin-t_fpn_1x_aodraw-slice-raw", True)])
def test_srgb_and_slice_recipes_train_and_evaluate(tiny_data, tmp_path, recipe, slices):
    overrides = {"train_cfg.max_epochs": 1, "train_cfg.val_interval": 1}
    if slices:  # a small ResNet in place of Swin-T, the recipe's sliced RAW data and slice preset kept
        overrides.update({"model.backbone": dict(_delete_=True, type="ResNet", depth=18, base_channels=16,
                                                 init_cfg=None, out_indices=(0, 1, 2, 3), norm_eval=False),
                          "optim_wrapper": dict(_delete_=True, type="OptimWrapper",
                                                optimizer=dict(type="SGD", lr=0.01, momentum=0.9))})
    runner = _runner(tiny_config(tmp_path, recipe, tiny_data, slices=slices, **overrides), tmp_path / "w")
    runner.train()
    metrics = runner.val_loop.run()
    assert "aodraw/AP" in metrics and -1 <= metrics["aodraw/AP"] <= 1
    assert runner.cfg.val_evaluator.preset == ("aodraw-slice" if slices else "aodraw")


@pytest.mark.parametrize("args, words", [
    (["tools/train.py", "no-such-recipe"], "no-such-recipe: no such config file or shipped recipe"),
    (["tools/test.py", "no-such-recipe", "x.pth"], "no-such-recipe: no such config file or shipped recipe"),
])
def test_tools_refuse_an_unknown_config_in_one_line(args, words):
    run = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert lines[-1] == f"error: {words} (see `aodraw recipes list` and `imagenet-s recipes list`)", run.stderr
    assert len(lines) == 1, run.stderr


def test_tools_test_usage_error_exits_2():
    run = subprocess.run([sys.executable, "tools/test.py", "cfg", "x.pth", "--format-only"], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 2 and "--format-only needs --json-prefix" in run.stderr
