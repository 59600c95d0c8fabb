"""End to end on the tiny tree: tools/train.py trains a tiny ViT, tools/test.py reports the LUSS metric and writes
PNGs, `imagenet-s infer` writes the same PNGs (batched, resumable, sharded) and a zip that `imagenet-s score` takes as
it is; every score equals `imagenet-s evaluate` on the PNGs."""
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from seg_data import SUBSET, tiny_config
from train_extra import require_train_extra

from evaluators.luss import MaskFolder
from imagenet_s.cli import main

require_train_extra(module_level=True)

ROOT = Path(__file__).resolve().parents[2]


def _tool(*args):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    run = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, env=env, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    return run


def _cli(*args):
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def trained(tiny_tree, tmp_path_factory):
    work = tmp_path_factory.mktemp("seg_train")
    cfg = tiny_config(work, tiny_tree, epochs=2)
    run = _tool("tools/train.py", str(cfg), "--work-dir", str(work / "run"))
    losses = [float(line.split("loss: ")[1].split()[0]) for line in (run.stdout + run.stderr).splitlines()
              if "loss: " in line]
    ckpt = work / "run" / "epoch_2.pth"
    assert ckpt.is_file() and losses and all(np.isfinite(losses))
    return cfg, ckpt, work


def test_tools_test_and_infer_agree_with_evaluate_and_score(trained, tiny_tree, tmp_path):
    cfg, ckpt, _ = trained
    gt = tiny_tree / "ImageNetS50" / "validation-segmentation"
    _tool("tools/test.py", str(cfg), str(ckpt), "--work-dir", str(tmp_path / "test"), "--json-prefix",
          str(tmp_path / "run"), "--pred-dir", str(tmp_path / "test_pred"))
    tested = json.loads((tmp_path / "run.eval.json").read_text())
    assert tested["num_images"] == 6 and len(tested["IoUs"]) == SUBSET + 1

    method = tmp_path / "method.txt"
    method.write_text("Method name: tiny\nTraining data: train-semi\nTraining scheme: SSL\nNetworks: ViT\n"
                      "Paper/Project link: -\nMethod description: test\n")
    out, sub = tmp_path / "pred", tmp_path / "sub.zip"
    _cli("infer", cfg, ckpt, "--data-root", tiny_tree, "--mode", SUBSET, "--split", "validation", "--shard", "1/2",
         "--out", out, "--method", method, "--batch-size", 2, "--device", "cpu", "--workers", 0)
    assert len(MaskFolder(out).names()) == 3
    result = _cli("infer", cfg, ckpt, "--data-root", tiny_tree, "--mode", SUBSET, "--split", "validation",
                  "--out", out, "--zip", sub, "--method", method, "--batch-size", 2, "--device", "cpu",
                  "--workers", 1, "--report", tmp_path / "speed.json")
    speed = json.loads((tmp_path / "speed.json").read_text())
    assert speed["images"] == 3 and speed["skipped"] == 3 and "images/s" in result.output
    names = MaskFolder(gt).names()
    for name in names:  # same predictions as MMEngine's test loop, at the ground truth's size
        assert np.array_equal(MaskFolder(out).read(name), MaskFolder(tmp_path / "test_pred").read(name)), name

    _cli("evaluate", "--gt-dir", gt, "--pred-dir", out, "--mode", SUBSET, "--json", tmp_path / "eval.json",
         "--workers", 1)
    evaluated = json.loads((tmp_path / "eval.json").read_text())
    _cli("score", sub, "--gt-dir", gt, "--mode", SUBSET, "--json", tmp_path / "score.json", "--workers", 1)
    scored = json.loads((tmp_path / "score.json").read_text())
    for key in ("mIoU", "Acc", "mBIoU", "FMeasure", "S", "L"):
        assert tested[key] == pytest.approx(evaluated[key], abs=1e-9, nan_ok=True), key
        assert scored[key] == pytest.approx(evaluated[key], abs=1e-9, nan_ok=True), key
    assert scored["match"] == "submitted" and scored["method"]["Method name"] == "tiny"
    with zipfile.ZipFile(sub) as z:
        assert sorted(n for n in z.namelist() if n.endswith(".png")) == names


def test_infer_predicts_the_test_split_and_refuses_bad_input(trained, tiny_tree, tmp_path):
    cfg, ckpt, _ = trained
    _cli("infer", cfg, ckpt, "--data-root", tiny_tree / "ImageNetS50", "--mode", SUBSET, "--split", "test",
         "--out", tmp_path / "test", "--device", "cpu", "--workers", 0)
    assert len(MaskFolder(tmp_path / "test").names()) == 3 and (tmp_path / "test" / "method.txt").is_file()
    table = np.roll(np.arange(SUBSET + 1), 1)  # 0 -> 50, 1 -> 0, 2 -> 1, ...: a match that moves every label
    match = tmp_path / "match.json"
    match.write_text(json.dumps({str(i): int(v) for i, v in enumerate(table)}))
    _cli("infer", cfg, ckpt, "--data-root", tiny_tree, "--mode", SUBSET, "--split", "test", "--out",
         tmp_path / "matched", "--match", match, "--device", "cpu", "--workers", 0)
    for name in MaskFolder(tmp_path / "test").names():
        assert np.array_equal(MaskFolder(tmp_path / "matched").read(name),
                              table[MaskFolder(tmp_path / "test").read(name)]), name
    runner = CliRunner()
    bad = runner.invoke(main, ["infer", str(cfg), str(ckpt), "--data-root", str(tiny_tree), "--mode", "300",
                               "--split", "test", "--out", str(tmp_path / "x")])
    assert bad.exit_code == 2 and "predicts 50 classes" in bad.output
    missing = runner.invoke(main, ["infer", str(cfg), str(tmp_path / "none.pth"), "--data-root", str(tiny_tree),
                                   "--mode", "50", "--split", "test", "--out", str(tmp_path / "y")])
    assert missing.exit_code == 2 and "checkpoint file not found" in missing.output


def test_tools_follow_the_error_convention(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for args in (["tools/test.py", "vit-s16_sere-ssl_imagenet-s50", str(tmp_path / "none.pth")],
                 ["tools/train.py", "no-such-recipe_imagenet-s50"]):
        run = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, env=env, timeout=300)
        assert run.returncode == 2 and run.stderr.startswith("error: "), run.stderr[-2000:]
        assert len(run.stderr.strip().splitlines()) == 1 and "Traceback" not in run.stderr
