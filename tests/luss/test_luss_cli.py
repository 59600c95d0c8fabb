"""The ``imagenet-s match / evaluate / merge`` commands, through CliRunner and as a real subprocess."""
from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from luss_data import make_pairs, write_pairs

from evaluators.luss import evaluate_folders, match_folders, read_match
from evaluators.luss.metrics import METRIC_KEYS
from imagenet_s.cli import main
from imagenet_s.lists import read_categories, read_names


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_match_then_evaluate_with_json_and_csv(folders, tmp_path):
    gt_dir, pred_dir, _names, _pairs = folders
    out = tmp_path / "m.json"
    run = invoke("match", "--gt-dir", gt_dir, "--pred-dir", pred_dir, "--mode", "50", "--out", out,
                 "--workers", 2)
    assert run.exit_code == 0, run.output
    assert sorted(json.loads(out.read_text()), key=int) == [str(i) for i in range(51)]
    assert read_match(out, 50) == match_folders(gt_dir, pred_dir, 50, progress=False)
    assert "over 12 images" in run.stdout

    run = invoke("evaluate", "--gt-dir", gt_dir, "--pred-dir", pred_dir, "--mode", "50", "--match", out,
                 "--json", tmp_path / "e.json", "--csv", tmp_path / "e.csv")
    assert run.exit_code == 0, run.output
    written = json.loads((tmp_path / "e.json").read_text())
    assert list(written) == [*METRIC_KEYS, "IoUs"] and len(written["IoUs"]) == 51
    expected = evaluate_folders(gt_dir, pred_dir, 50, read_match(out, 50), progress=False)
    assert written["mIoU"] == pytest.approx(expected.metrics["mIoU"], rel=1e-12)
    rows = list(csv.DictReader((tmp_path / "e.csv").open()))
    assert len(rows) == 51 and rows[0]["class"] == "background"
    assert float(rows[3]["IoU"]) == pytest.approx(expected.ious[3])
    assert "mIoU" in run.stdout and "BIoU" in run.stdout and f"{expected.metrics['mIoU']:.2f}" in run.stdout


def test_real_names_list_and_categories(tmp_path, reference_lists):
    names_file = reference_lists / "names" / "ImageNetS_im50_validation.txt"
    categories = reference_lists / "categories" / "ImageNetS_categories_im50.txt"
    names = read_names(names_file)
    wnids = read_categories(categories, 50)
    assert len(names) == 752 and names[0].endswith(".png") and len(wnids) == 50
    rng = np.random.default_rng(4)
    pairs = []
    for name in names:
        gt = np.zeros((6, 8), np.int64)
        gt[1:5, 2:6] = wnids.index(name.split("/")[0]) + 1
        pairs.append((gt, np.where(rng.random((6, 8)) < 0.9, gt, 0)))
    gt_dir, pred_dir, _ = write_pairs(tmp_path, pairs, names)
    extra = gt_dir / "n99999999" / "extra.png"
    extra.parent.mkdir()
    extra.write_bytes((gt_dir / names[0]).read_bytes())  # not listed: must not be evaluated
    run = invoke("evaluate", "--gt-dir", gt_dir, "--pred-dir", pred_dir, "--mode", "50", "--names", names_file,
                 "--categories", categories, "--json", tmp_path / "e.json")
    assert run.exit_code == 0, run.output
    assert "752 images, 50 classes" in run.stdout
    assert "n01443537" in run.stdout and "n12998815" in run.stdout
    assert json.loads((tmp_path / "e.json").read_text())["Acc"] == 100.0


def test_shards_and_merge_through_the_command_line(folders, tmp_path):
    gt_dir, pred_dir, _names, _pairs = folders
    common = ["--gt-dir", gt_dir, "--pred-dir", pred_dir, "--mode", "50"]
    for k in (1, 2):
        run = invoke("match", *common, "--shard", f"{k}/2", "--save-state", tmp_path / f"m{k}.npz")
        assert run.exit_code == 0, run.output
    run = invoke("merge", tmp_path / "m1.npz", tmp_path / "m2.npz", "--out", tmp_path / "m.json")
    assert run.exit_code == 0, run.output
    assert read_match(tmp_path / "m.json", 50) == match_folders(gt_dir, pred_dir, 50, progress=False)
    for k in (1, 2):
        run = invoke("evaluate", *common, "--match", tmp_path / "m.json", "--shard", f"{k}/2",
                     "--save-state", tmp_path / f"e{k}.npz")
        assert run.exit_code == 0, run.output
    run = invoke("merge", tmp_path / "e2.npz", tmp_path / "e1.npz", "--json", tmp_path / "merged.json")
    assert run.exit_code == 0, run.output
    whole = evaluate_folders(gt_dir, pred_dir, 50, read_match(tmp_path / "m.json", 50), progress=False)
    assert json.loads((tmp_path / "merged.json").read_text())["mIoU"] == pytest.approx(whole.metrics["mIoU"])


def test_an_empty_shard_writes_its_state_and_merges(folders, tmp_path):
    gt_dir, pred_dir, _names, _pairs = folders
    common = ["--gt-dir", gt_dir, "--pred-dir", pred_dir, "--mode", "50"]
    run = invoke("evaluate", *common, "--shard", "13/13", "--save-state", tmp_path / "e13.npz")
    assert run.exit_code == 0, run.output
    assert run.stdout.strip() == f"wrote evaluation state of 0 images to {tmp_path / 'e13.npz'}"
    states = [tmp_path / "e13.npz"]
    for k in range(1, 13):
        states.append(tmp_path / f"e{k}.npz")
        assert invoke("evaluate", *common, "--shard", f"{k}/13", "--save-state", states[-1]).exit_code == 0
    run = invoke("merge", *states, "--json", tmp_path / "all.json")
    assert run.exit_code == 0, run.output
    whole = evaluate_folders(gt_dir, pred_dir, 50, progress=False)
    assert json.loads((tmp_path / "all.json").read_text())["mBIoU"] == pytest.approx(whole.metrics["mBIoU"])


@pytest.mark.parametrize("args, message", [
    (["evaluate", "--gt-dir", "{gt}", "--pred-dir", "{tmp}/none", "--mode", "50"], "error: {tmp}/none: not a folder"),
    (["evaluate", "--gt-dir", "{gt}", "--pred-dir", "{pred}", "--mode", "50", "--shard", "1/2"],
     "error: --shard needs --save-state FILE"),
    (["evaluate", "--gt-dir", "{gt}", "--pred-dir", "{pred}", "--mode", "50", "--match", "{tmp}/bad.json"],
     "error: {tmp}/bad.json: keys '1' and '2' both map to 3 (a match must be one-to-one)"),
    (["match", "--gt-dir", "{gt}", "--pred-dir", "{pred}", "--mode", "50"], "error: match: give --out MATCH.json"),
    (["evaluate", "--gt-dir", "{gt}", "--pred-dir", "{pred}", "--mode", "50", "--categories",
      "{tmp}/bad.json"], "error: {tmp}/bad.json: line 1:"),
])
def test_bad_input_is_one_error_line_with_exit_code_2(folders, tmp_path, args, message):
    gt_dir, pred_dir, _names, _pairs = folders
    (tmp_path / "bad.json").write_text('{"1": 3, "2": 3}')
    fill = {"gt": gt_dir, "pred": pred_dir, "tmp": tmp_path}
    run = invoke(*[a.format(**fill) for a in args])
    assert run.exit_code == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message.format(**fill)), run.stderr
    assert "Traceback" not in run.output


def test_missing_predictions_error_names_count_and_files(folders):
    gt_dir, pred_dir, names, _pairs = folders
    for name in names[:3]:
        (pred_dir / name).unlink()
    run = invoke("evaluate", "--gt-dir", gt_dir, "--pred-dir", pred_dir, "--mode", "50")
    assert run.exit_code == 2
    assert run.stderr.strip() == f"error: {pred_dir}: 3 of 12 predictions missing, first: {', '.join(names[:3])}"


def test_console_script_runs_as_a_subprocess(tmp_path):
    gt_dir, pred_dir, _ = write_pairs(tmp_path, make_pairs(9, 5, 50))
    script = Path(sys.executable).with_name("imagenet-s")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "imagenet_s"]
    done = subprocess.run([*command, "evaluate", "--gt-dir", str(gt_dir), "--pred-dir", str(pred_dir),
                           "--mode", "50", "--workers", "2", "--json", str(tmp_path / "e.json")],
                          check=False, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    expected = evaluate_folders(gt_dir, pred_dir, 50, progress=False)
    assert json.loads((tmp_path / "e.json").read_text())["FMeasure"] == pytest.approx(expected.metrics["FMeasure"])
    done = subprocess.run([*command, "match", "--gt-dir", str(gt_dir), "--pred-dir", str(tmp_path / "x"),
                           "--mode", "50", "--out", str(tmp_path / "m.json")], check=False,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stderr == f"error: {tmp_path / 'x'}: not a folder\n"
    assert not (tmp_path / "m.json").exists()
