"""The PASS threshold sweep (``imagenet-s sweep``): hand-computed gating and per-threshold matching, equality
with a literal restatement of the PASS evaluator on generated data, the command's files and its refusals."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
from click.testing import CliRunner
from luss_data import make_pairs, save_mask, write_pairs
from pass_reference import pass_sweep

from evaluators.luss.metrics import METRIC_KEYS
from evaluators.luss.sweep import gate, sweep_folders, threshold_grid
from imagenet_s.cli import main


def attention_map(rng: np.random.Generator, shape: tuple) -> np.ndarray:
    """Smooth blobs plus pixels sitting exactly on a threshold (float32 k / 100), as a PASS map could."""
    h, w = shape
    y, x = np.mgrid[0:h, 0:w]
    cy, cx = rng.uniform(0, h), rng.uniform(0, w)
    smooth = np.exp(-((y - cy) ** 2 + (x - cx) ** 2) / (2 * rng.uniform(4, 12) ** 2))
    exact = rng.integers(0, 81, shape).astype(np.float64) / 100.0
    att = np.where(rng.random(shape) < 0.3, exact, smooth).astype(np.float32)
    att[rng.random(shape) < 0.02] = np.nan if rng.random() < 0.5 else -1.0
    return att


def write_sweep_tree(root, pairs, seed=0):
    rng = np.random.default_rng(seed)
    gt_dir, pred_dir, names = write_pairs(root, pairs)
    maps = []
    for name, (gt, _pred) in zip(names, pairs):
        att = attention_map(rng, gt.shape)
        np.save(pred_dir / (name[:-4] + ".npy"), att)
        maps.append(att)
    return gt_dir, pred_dir, names, maps


def test_gate_keeps_pixels_equal_to_the_threshold():
    pred = np.array([[1, 2], [3, 4]])
    att = np.array([[0.5, 0.37], [0.2, np.nan]], np.float32)
    assert gate(pred, att, 0.37).tolist() == [[1, 2], [0, 4]]
    assert gate(pred, att, 0.0).tolist() == [[1, 2], [3, 4]]
    assert gate(pred, att, 0.51).tolist() == [[0, 0], [0, 4]]


def test_default_grid_is_upstreams_percents_as_fractions():
    grid = threshold_grid()
    assert len(grid) == 81 and grid == [k / 100.0 for k in range(81)]
    assert threshold_grid(0.3, 0.5, 0.1) == [0.3, 0.4, 0.5]
    with pytest.raises(ValueError, match="percents"):
        threshold_grid(0, 37)
    with pytest.raises(ValueError, match="0 <= min <= max <= 1") as info:
        threshold_grid(0.5, 0.2)  # fractions in the wrong order: no word about percents
    assert "percents" not in str(info.value)


def test_hand_computed_matching_changes_with_the_threshold(tmp_path):
    """Three images where label 1 meets class 2 only on weak-attention pixels: at t = 0 the match swaps the two
    labels, at t = 0.5 those pixels are background and the identity wins (mIoU 31.11 then 23.33)."""
    full = lambda v: np.full((4, 4), v)  # noqa: E731
    images = [(full(2), full(1), 0.2)] * 3 + [(full(1), full(1), 0.9), (full(1), full(2), 0.9),
                                             (full(2), full(2), 0.9)]
    for i, (gt, pred, att) in enumerate(images):
        name = f"n00000001/img_{i}.png"
        save_mask(tmp_path / "gt" / name, gt)
        save_mask(tmp_path / "pred" / name, pred)
        np.save(tmp_path / "pred" / name.replace(".png", ".npy"), np.full((4, 4), att, np.float32))
    result = sweep_folders(tmp_path / "gt", tmp_path / "pred", 2, [0.0, 0.5], workers=1, progress=False)
    assert result.matches[0] == {0: 0, 1: 2, 2: 1}
    assert result.matches[1] == {0: 0, 1: 1, 2: 2}
    assert result.results[0].metrics["mIoU"] == pytest.approx((0 + 16 / 48 + 48 / 80) / 3 * 100)
    assert result.results[1].metrics["mIoU"] == pytest.approx((0 + 16 / 32 + 16 / 80) / 3 * 100)
    assert result.results[1].metrics["Acc"] == pytest.approx(2 / 6 * 100)
    out = result.to_dict()
    assert out["best"]["threshold"] == 0.0 and out["best"]["match"] == {"0": 0, "1": 2, "2": 1}


@pytest.mark.parametrize("seed, num_classes, shape", [(1, 5, (30, 40)), (2, 4, (23, 57))])
def test_sweep_equals_the_literal_pass_evaluator(tmp_path, seed, num_classes, shape):
    pairs = make_pairs(seed, 10, num_classes, shape)
    gt_dir, pred_dir, _names, maps = write_sweep_tree(tmp_path, pairs, seed)
    thresholds = threshold_grid(0.0, 0.8, 0.05) + [0.37, 0.41]
    result = sweep_folders(gt_dir, pred_dir, num_classes, thresholds, workers=1, progress=False)
    ordered = sorted(thresholds)
    logs, best = pass_sweep([(g, p, a) for (g, p), a in zip(pairs, maps)], num_classes, ordered)
    assert result.thresholds == ordered
    for ours, theirs, match in zip(result.results, logs, result.matches):
        for key in METRIC_KEYS:
            if math.isnan(theirs[key]):
                assert math.isnan(ours.metrics[key]), key
            else:
                assert ours.metrics[key] == pytest.approx(theirs[key], rel=1e-9, abs=1e-9), key
        assert match == theirs["match"]
    assert result.best_index == best


def test_sweep_command_writes_json_csv_and_plot(tmp_path):
    pairs = make_pairs(3, 8, 5)
    gt_dir, pred_dir, names, _maps = write_sweep_tree(tmp_path, pairs, 3)
    out, csv, png = tmp_path / "sweep.json", tmp_path / "curve.csv", tmp_path / "curve.png"
    res = CliRunner().invoke(main, ["sweep", "--gt-dir", str(gt_dir), "--pred-dir", str(pred_dir), "--mode", "50",
                                    "--max", "0.3", "--step", "0.1", "--json", str(out), "--csv", str(csv),
                                    "--plot", str(png), "--workers", "2"])
    assert res.exit_code == 0, res.output
    data = json.loads(out.read_text())
    assert data["mode"] == 50 and data["thresholds"] == [0.0, 0.1, 0.2, 0.3]
    assert [row["threshold"] for row in data["curve"]] == data["thresholds"]
    assert set(data["curve"][0]) == {"threshold", *METRIC_KEYS}
    assert set(data["best"]) == {"threshold", *METRIC_KEYS, "match"}
    assert len(data["best"]["match"]) == 51 and data["best"]["match"]["0"] == 0
    best = max(data["curve"], key=lambda row: row["mIoU"])
    assert data["best"]["mIoU"] == best["mIoU"]
    lines = csv.read_text().splitlines()
    assert lines[0].split(",") == ["threshold", *METRIC_KEYS] and len(lines) == 5
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "best" in res.output


def test_missing_attention_map_and_percent_thresholds_are_refused(tmp_path):
    pairs = make_pairs(4, 3, 5)
    gt_dir, pred_dir, names, _maps = write_sweep_tree(tmp_path, pairs, 4)
    (pred_dir / (names[1][:-4] + ".npy")).unlink()
    runner = CliRunner()
    res = runner.invoke(main, ["sweep", "--gt-dir", str(gt_dir), "--pred-dir", str(pred_dir), "--mode", "50",
                               "--workers", "1"])
    assert res.exit_code == 2 and "error:" in res.output and names[1][:-4] + ".npy" in res.output
    res = runner.invoke(main, ["sweep", "--gt-dir", str(gt_dir), "--pred-dir", str(pred_dir), "--mode", "50",
                               "--max", "80"])
    assert res.exit_code == 2 and "0.37" in res.output
    out = tmp_path / "never.json"
    assert not out.exists()


@pytest.mark.parametrize("grid", [threshold_grid(), threshold_grid(0.1, 0.9, 0.003), [0.0, 0.2, 0.21, 0.7]])
def test_gate_levels_equal_a_binary_search(grid):
    from evaluators.luss.sweep import gate_levels

    rng = np.random.default_rng(5)
    thr = np.asarray(grid, np.float32)
    att = np.concatenate([rng.uniform(-0.2, 1.2, 5000), thr, np.nextafter(thr, 2), np.nextafter(thr, -2),
                          [np.nan, np.inf, -np.inf, 0.0, 1.0]]).astype(np.float32).reshape(1, -1)
    expected = np.searchsorted(thr, att, side="right")
    assert (gate_levels(att, thr) == expected).all()
    for k in (0, len(grid) // 2, len(grid) - 1):  # level > k exactly when the gate keeps the pixel
        assert ((gate_levels(att, thr) > k) == (gate(np.ones_like(att, np.int64), att, grid[k]) == 1)).all()


def test_matching_that_changes_with_the_threshold_equals_the_literal_evaluator(tmp_path):
    """Weak-attention pixels carry a second labelling of the classes that reaches more images than the strong
    one: low thresholds match that labelling, higher ones the strong labelling."""
    from luss_data import random_mask

    rng = np.random.default_rng(7)
    n = 4
    strong = np.array([0, 2, 3, 4, 1])
    weak = np.array([0, 4, 1, 2, 3])
    pairs, maps = [], []
    for i in range(12):
        classes = list(rng.choice(np.arange(1, n + 1), size=2, replace=False))
        gt = random_mask(rng, (20, 24), [0, *classes])
        gt[:2] = 1000
        halo = rng.random(gt.shape) < 0.3
        pred = np.where(halo, weak[gt.clip(0, n)], strong[gt.clip(0, n)])
        if i % 3 == 0:
            pred[~halo] = 0
        att = np.where(halo, 0.1, rng.uniform(0.5, 0.9, gt.shape)).astype(np.float32)
        pairs.append((gt, pred))
        maps.append(att)
    gt_dir, pred_dir, names = write_pairs(tmp_path, pairs)
    for name, att in zip(names, maps):
        np.save(pred_dir / (name[:-4] + ".npy"), att)
    thresholds = [0.0, 0.05, 0.1, 0.11, 0.5, 0.6]
    result = sweep_folders(gt_dir, pred_dir, n, thresholds, workers=1, progress=False)
    logs, best = pass_sweep([(g, p, a) for (g, p), a in zip(pairs, maps)], n, thresholds)
    assert result.matches[0] != result.matches[4]
    assert result.matches[4] == {0: 0, **{int(strong[c]): c for c in range(1, n + 1)}}
    for ours, theirs, match in zip(result.results, logs, result.matches):
        assert match == theirs["match"]
        for key in METRIC_KEYS:
            assert ours.metrics[key] == pytest.approx(theirs[key], rel=1e-9, abs=1e-9, nan_ok=True), key
    assert result.best_index == best


def test_names_list_and_labels_above_n(tmp_path):
    pairs = make_pairs(6, 4, 5)
    gt_dir, pred_dir, names, maps = write_sweep_tree(tmp_path, pairs, 6)
    some = sweep_folders(gt_dir, pred_dir, 5, [0.0, 0.5], names=names[:2], workers=1, progress=False)
    logs, _best = pass_sweep([(g, p, a) for (g, p), a in list(zip(pairs, maps))[:2]], 5, [0.0, 0.5])
    assert some.results[0].num_images == 2
    assert some.results[1].metrics["mIoU"] == pytest.approx(logs[1]["mIoU"], rel=1e-9)
    save_mask(pred_dir / names[3], np.full(pairs[3][0].shape, 6))
    with pytest.raises(ValueError, match="above 5"):
        sweep_folders(gt_dir, pred_dir, 5, [0.0], workers=1, progress=False)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_counts_of_every_threshold_equal_the_evaluator_on_the_gated_prediction(seed):
    """The one-pass counts (levels, window minimum/maximum, cumulative histograms) against gating each threshold
    and counting it with the evaluator's own per-image routine, boundaries included."""
    from evaluators.luss.metrics import _joint_counts
    from evaluators.luss.sweep import _threshold_joint, gate_levels

    rng = np.random.default_rng(seed)
    (gt, pred), = make_pairs(seed, 1, 6, (37, 45))
    att = attention_map(rng, gt.shape)
    grid = threshold_grid(0.0, 0.8, 0.1)
    thr = np.asarray(grid, np.float32)
    labels, plabels, joint = _threshold_joint(gt.astype(np.uint16), pred.astype(np.uint16), gate_levels(att, thr),
                                              thr.size)
    for k, t in enumerate(grid):
        ref_labels, ref = _joint_counts(gt, gate(pred, att, t), 7)
        assert labels.tolist() == ref_labels.tolist()
        expected = np.zeros_like(joint[k])
        for p, label in enumerate(plabels):
            expected[:, p] = ref[:, label]
        assert (joint[k] == expected).all(), t
        assert ref[:, [c for c in range(8) if c not in plabels]].sum() == 0


def test_many_classes_few_used_equals_the_literal_evaluator(tmp_path):
    """40 classes of which each image touches a few (the per-image counts run in the image's own class space)."""
    pairs = make_pairs(8, 8, 40, (26, 31))
    gt_dir, pred_dir, _names, maps = write_sweep_tree(tmp_path, pairs, 8)
    thresholds = [0.0, 0.3, 0.6]
    result = sweep_folders(gt_dir, pred_dir, 40, thresholds, workers=1, progress=False)
    logs, best = pass_sweep([(g, p, a) for (g, p), a in zip(pairs, maps)], 40, thresholds)
    for ours, theirs in zip(result.results, logs):
        for key in METRIC_KEYS:
            assert ours.metrics[key] == pytest.approx(theirs[key], rel=1e-9, abs=1e-9, nan_ok=True), key
        assert np.allclose(ours.ious, theirs["IoUs"], rtol=1e-9, atol=1e-9)
    assert result.best_index == best
