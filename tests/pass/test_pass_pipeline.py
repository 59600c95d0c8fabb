"""Every PASS stage on a tiny generated ImageNet-S-style tree, each handing its files to the next:
pretrain -> pixel-attention -> cluster -> pseudo-label (with attention maps) -> sweep -> finetune -> infer
(with the sweep's match, zipped, scored) and distance-match; reruns skip finished stages."""
from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from pass_tree import make_tree

from evaluators.luss import MaskFolder, evaluate_folders, write_match
from evaluators.luss.sweep import sweep_folders
from imagenet_s.cli import main
from imagenet_s.submission import score_submission

pytest.importorskip("torch")


def run(*args):
    result = CliRunner().invoke(main, ["pass", *map(str, args)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = make_tree(tmp_path_factory.mktemp("imagenet_s_tiny"))
    return root, tmp_path_factory.mktemp("pass_work")


def test_stages_hand_over_to_each_other(tree, tmp_path):
    root, work = tree
    common = ["pass_tiny", "--data-root", root, "--work-dir", work]
    run("pretrain", *common)
    assert (work / "pretrain.pth").is_file() and not (work / "pretrain_latest.pth").exists()
    assert "already done" in run("pretrain", *common)
    run("pixel-attention", *common)
    assert (work / "attention.pth").is_file()

    out = run("cluster", *common)
    assert "NMI" in out
    metrics = json.loads((work / "cluster" / "metrics.json").read_text())
    assert 0 <= metrics["NMI"] <= 100 and 100 / 3 <= metrics["accuracy"] <= 100 and metrics["num_images"] == 24
    lines = (work / "cluster" / "labels.txt").read_text().splitlines()
    assert len(lines) == 24 and all(int(line.split()[1]) in (1, 2, 3) for line in lines)
    assert np.load(work / "cluster" / "centroids.npy").shape == (3, 16)

    pseudo_val = tmp_path / "pseudo_val"
    run("pseudo-label", *common, "--split", "validation", "--out", pseudo_val, "--threshold", "0",
        "--save-attention")
    names = MaskFolder(root / "validation-segmentation").names()
    assert MaskFolder(pseudo_val).names() == names
    att = np.load(pseudo_val / names[0].replace(".png", ".npy"))
    assert att.dtype == np.float32 and att.shape == (64, 80) and 0 <= att.min() and att.max() <= 1

    swept = sweep_folders(root / "validation-segmentation", pseudo_val, 3, [0.0, 0.25, 0.5], workers=1,
                          progress=False)
    best = swept.to_dict()["best"]
    match = work / "match.json"
    write_match(match, swept.matches[swept.best_index])

    pseudo_train = tmp_path / "pseudo_train"
    run("pseudo-label", *common, "--split", "train", "--out", pseudo_train, "--shard", "1/2")
    assert len(MaskFolder(pseudo_train).names()) == 12
    run("pseudo-label", *common, "--split", "train", "--out", pseudo_train, "--shard", "2/2")
    assert len(MaskFolder(pseudo_train).names()) == 24
    run("finetune", *common, "--pseudo", pseudo_train)  # MMEngine, backbone loaded strictly from pretrain.pth
    assert (work / "finetune.pth").is_file() and (work / "finetune" / "epoch_1.pth").is_file()
    assert "already done" in run("finetune", *common, "--pseudo", pseudo_train)
    pred, sub, raw = tmp_path / "pred", tmp_path / "sub.zip", tmp_path / "raw"
    run("infer", *common, "--split", "validation", "--out", pred, "--match", match, "--zip", sub)
    run("infer", *common, "--split", "validation", "--out", raw)
    table = np.arange(4)
    for k, v in json.loads(match.read_text()).items():
        table[int(k)] = v
    for name in names:  # the match is applied to the predicted labels
        assert np.array_equal(MaskFolder(pred).read(name), table[MaskFolder(raw).read(name)]), name
    result = evaluate_folders(root / "validation-segmentation", pred, 3, workers=1, progress=False)
    assert 0 <= result.metrics["mIoU"] <= 100 and sub.is_file()
    scored = score_submission(sub, root / "validation-segmentation", 3, workers=1, progress=False, notify=print)
    assert scored.result.metrics == pytest.approx(result.metrics, nan_ok=True)
    assert scored.method["Method name"] == "PASS"
    assert best["threshold"] in (0.0, 0.25, 0.5)

    dm = tmp_path / "dm"
    run("distance-match", *common, "--split", "validation", "--out", dm)
    assert "Method name: PASS distance matching" in (dm / "method.txt").read_text()
    result = evaluate_folders(root / "validation-segmentation", dm, 3, workers=1, progress=False)
    assert result.metrics["mIoU"] > 0


def test_bad_threshold_and_missing_stage_are_one_line_errors(tree, tmp_path):
    root, _work = tree
    res = CliRunner().invoke(main, ["pass", "pseudo-label", "pass_tiny", "--data-root", str(root), "--work-dir",
                                    str(tmp_path), "--out", str(tmp_path / "o"), "--threshold", "41"])
    assert res.exit_code == 2 and "error:" in res.output
    res = CliRunner().invoke(main, ["pass", "cluster", "pass_tiny", "--data-root", str(root), "--work-dir",
                                    str(tmp_path)])
    assert res.exit_code == 2 and "attention.pth" in res.output
    (tmp_path / "pseudo").mkdir()
    res = CliRunner().invoke(main, ["pass", "finetune", "pass_tiny", "--data-root", str(root), "--work-dir",
                                    str(tmp_path), "--pseudo", str(tmp_path / "pseudo")])
    assert res.exit_code == 2 and "pretrain.pth" in res.output and len(res.output.strip().splitlines()) == 1
    res = CliRunner().invoke(main, ["pass", "finetune", "pass_tiny", "--data-root", str(root), "--work-dir",
                                    str(tmp_path), "--pseudo", str(tmp_path / "none")])
    assert res.exit_code == 2 and "no pseudo-label folder" in res.output
