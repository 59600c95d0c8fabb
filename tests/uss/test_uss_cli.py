"""``uss evaluate`` end to end on generated trees in each dataset's own format (CliRunner on the click group)."""
from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from click.testing import CliRunner
from scipy.io import savemat
from stego_reference import StegoMetric

from evaluators.uss import evaluate_tree, labels
from plumbing.errors import BadInputError
from uss.cli import main


def _run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def _coco_tree(tmp_path, count=7, clusters=30, seed=0):
    """COCO-Stuff-style ground truth (fine ids, 255 unlabeled) and predictions, half PNG, half .npy."""
    rng = np.random.default_rng(seed)
    used = [v for v in range(182) if v not in labels.COCO_UNUSED]
    gt_dir, pred_dir = tmp_path / "gt" / "annotations" / "val2017", tmp_path / "pred" / "annotations" / "val2017"
    gt_dir.mkdir(parents=True)
    pred_dir.mkdir(parents=True)
    ids, pairs = [], []
    for i in range(count):
        image_id = f"{139 + 1000 * i:012d}"
        fine = np.full((24, 32), rng.choice(used), np.uint8)
        for _ in range(4):
            y, x = rng.integers(0, 20), rng.integers(0, 28)
            fine[y:y + rng.integers(2, 12), x:x + rng.integers(2, 16)] = rng.choice(used)
        fine[rng.random(fine.shape) < 0.05] = 255
        coarse = labels.coco27_table()[fine]
        pred = np.where(rng.random(fine.shape) < 0.7, (coarse.astype(int) * 5) % clusters,
                        rng.integers(0, clusters, fine.shape)).astype(np.uint8)
        cv2.imwrite(str(gt_dir / f"{image_id}.png"), fine)
        if i % 2:
            np.save(pred_dir / f"{image_id}.npy", pred.astype(np.int64))
        else:
            cv2.imwrite(str(pred_dir / f"{image_id}.png"), pred)
        ids.append(image_id)
        pairs.append((np.where(coarse == labels.VOID, -1, coarse.astype(np.int64)), pred.astype(np.int64)))
    return tmp_path / "gt", tmp_path / "pred", ids, pairs


def test_a_cocostuff_tree_scored_end_to_end(tmp_path):
    gt, pred, ids, pairs = _coco_tree(tmp_path)
    reference = StegoMetric(27, 3)
    for target, guess in pairs:
        reference.update(guess, target)
    expected = reference.compute()
    out, csv = tmp_path / "r.json", tmp_path / "c.csv"
    result = _run("evaluate", "--dataset", "cocostuff27", "--gt-dir", gt, "--pred-dir", pred, "--clusters", 30,
                  "--json", out, "--csv", csv, "--workers", 1)
    assert result.exit_code == 0, result.output
    got = json.loads(out.read_text())
    assert {"dataset", "matching", "mean", "clusters", "mIoU", "pixel_accuracy", "IoUs", "assignment",
            "mIoU_things", "mIoU_stuff"} <= set(got)
    assert (got["dataset"], got["matching"], got["mean"], got["extra"], got["clusters"], got["num_images"]) == \
        ("cocostuff27", "pixel-hungarian", "nan-skip", "drop", 30, 7)
    assert got["mIoU"] == expected["mIoU"] and got["pixel_accuracy"] == expected["Accuracy"]
    assert len(got["IoUs"]) == 27 and sorted(got["assignment"], key=int) == [str(k) for k in range(30)]
    assert csv.read_text().splitlines()[0] == "id,class,IoU,cluster" and len(csv.read_text().splitlines()) == 28
    assert "mIoU_things" in result.output and "electronic" in result.output
    # the LUSS switches on the same tree, and a subset through a names list of ids
    (tmp_path / "names.txt").write_text("\n".join(ids[:3]) + "\n")
    luss = _run("evaluate", "--dataset", "cocostuff27", "--gt-dir", gt, "--pred-dir", pred, "--clusters", 30,
                "--matching", "image-cooccurrence", "--mean", "official", "--names", tmp_path / "names.txt",
                "--json", out, "--workers", 1)
    assert luss.exit_code == 0, luss.output
    subset = json.loads(out.read_text())
    assert subset["num_images"] == 3 and subset["matching"] == "image-cooccurrence" and None not in subset["IoUs"]


def test_workers_and_fine_preset_agree(tmp_path):
    gt, pred, _ids, _pairs = _coco_tree(tmp_path, count=9, clusters=171)
    one = evaluate_tree("cocostuff171", gt, pred, workers=1, progress=False)
    two = evaluate_tree("cocostuff171", gt, pred, workers=2, progress=False)
    assert one.to_dict() == two.to_dict() and one.num_classes == 171


def test_bad_input_is_one_line(tmp_path):
    gt, pred, ids, _pairs = _coco_tree(tmp_path, count=3)
    result = _run("evaluate", "--dataset", "cocostuff27", "--gt-dir", gt, "--pred-dir", pred, "--workers", 1)
    assert result.exit_code == 2 and "is not in 0..26 (give --clusters K)" in result.output
    next((pred / "annotations" / "val2017").iterdir()).unlink()
    missing = _run("evaluate", "--dataset", "cocostuff27", "--gt-dir", gt, "--pred-dir", pred, "--clusters", 30)
    assert missing.exit_code == 2 and "1 of 3 predictions missing" in missing.output
    bad = gt / "annotations" / "val2017" / f"{ids[0]}.png"
    cv2.imwrite(str(bad), np.full((4, 4), 200, np.uint8))
    wrong = _run("evaluate", "--dataset", "cocostuff27", "--gt-dir", gt, "--pred-dir", gt, "--clusters", 256)
    assert wrong.exit_code == 2 and "value(s) 200 do not occur in cocostuff27" in wrong.output
    unknown = _run("evaluate", "--dataset", "voc", "--gt-dir", gt, "--pred-dir", pred)
    assert unknown.exit_code == 2 and unknown.output.startswith("error:")


def test_cityscapes_label_ids_and_potsdam_arrays(tmp_path):
    rng = np.random.default_rng(2)
    city = tmp_path / "city" / "val" / "frankfurt"
    city_pred = tmp_path / "city_pred" / "val" / "frankfurt"
    city.mkdir(parents=True)
    city_pred.mkdir(parents=True)
    reference = StegoMetric(27, 0)
    for i in range(3):
        ids = rng.integers(0, 34, (16, 20)).astype(np.uint8)
        stem = f"frankfurt_000000_{i:06d}_gtFine"
        cv2.imwrite(str(city / f"{stem}_labelIds.png"), ids)
        cv2.imwrite(str(city / f"{stem}_color.png"), np.zeros((16, 20, 3), np.uint8))  # not ground truth
        pred = np.where(ids >= 7, ids.astype(int) - 7, rng.integers(0, 27, ids.shape)).astype(np.uint16)
        cv2.imwrite(str(city_pred / f"{stem}_labelIds.png"), pred)  # a 16-bit PNG
        reference.update(pred.astype(np.int64), ids.astype(np.int64) - 7)
    got = evaluate_tree("cityscapes27", tmp_path / "city", tmp_path / "city_pred", workers=1, progress=False)
    assert got.num_images == 3 and got.metrics["mIoU"] == reference.compute()["mIoU"]
    listed = ["frankfurt_000000_000001", "val/frankfurt/frankfurt_000000_000002_gtFine_labelIds.png"]
    subset = evaluate_tree("cityscapes27", tmp_path / "city", tmp_path / "city_pred", workers=1, progress=False,
                           names=listed)
    assert subset.num_images == 2

    pots, pots_pred = tmp_path / "potsdam" / "gt", tmp_path / "potsdam_pred"
    pots.mkdir(parents=True)
    pots_pred.mkdir()
    fine = rng.integers(0, 6, (10, 10)).astype(np.uint8)
    fine[0] = 255
    savemat(pots / "3_10_0.mat", {"gt": fine})
    np.save(pots_pred / "3_10_0.npy", labels.potsdam3_table()[fine].astype(np.int64) % 3)
    result = evaluate_tree("potsdam3", pots, pots_pred, workers=1, progress=False)
    assert result.metrics["mIoU"] == 100 and result.metrics["pixel_accuracy"] == 100
    assert result.class_names == ("roads and cars", "buildings and clutter", "trees and vegetation")


def test_prediction_formats_and_refusals(tmp_path):
    from evaluators.uss.datasets import read_array

    ids = np.array([[0, 300], [65535, 7]])
    rgb = np.stack([np.zeros_like(ids), ids >> 8, ids & 255], -1).astype(np.uint8)  # OpenCV order: B, G, R
    cv2.imwrite(str(tmp_path / "rgb.png"), rgb)
    assert read_array(tmp_path / "rgb.png").tolist() == ids.tolist()  # the LUSS codec R + 256 G
    np.save(tmp_path / "f.npy", np.zeros((2, 2), np.float32))
    savemat(tmp_path / "two.mat", {"a": np.zeros((2, 2), np.uint8), "b": np.ones((2, 2), np.uint8)})
    (tmp_path / "junk.png").write_bytes(b"not a png")
    whole = (tmp_path / "rgb.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(whole[:len(whole) - 20])
    for name, message in (("f.npy", "2-D integer array"), ("two.mat", "expected a 'gt' array"),
                          ("junk.png", "not a PNG file"), ("cut.png", "truncated PNG"), ("none.npy", "no such file")):
        with pytest.raises(BadInputError, match=message):
            read_array(tmp_path / name)


def test_shards_merge_to_the_whole(tmp_path):
    gt, pred, _ids, _pairs = _coco_tree(tmp_path, count=7)
    common = ("--dataset", "cocostuff27", "--gt-dir", gt, "--pred-dir", pred, "--clusters", 30, "--workers", 1)
    whole = _run("evaluate", *common, "--extra", "wrong", "--format", "json")
    states = []
    for k in (1, 2, 3):
        states.append(tmp_path / f"s{k}.npz")
        part = _run("evaluate", *common, "--shard", f"{k}/3", "--save-state", states[-1])
        assert part.exit_code == 0 and part.stdout == "", part.output
    merged = _run("merge", *states, "--extra", "wrong", "--format", "json")
    assert merged.exit_code == 0, merged.output
    assert json.loads(merged.stdout) == json.loads(whole.stdout)
    assert _run("evaluate", *common, "--shard", "1/3").exit_code == 2
    repeated = _run("merge", states[0], states[0])
    assert repeated.exit_code == 2 and "repeats" in repeated.output
    other = tmp_path / "other.npz"
    _run("evaluate", "--dataset", "cocostuff171", "--gt-dir", gt, "--pred-dir", pred, "--clusters", 171,
         "--workers", 1, "--shard", "2/3", "--save-state", other)
    mixed = _run("merge", states[0], other)
    assert mixed.exit_code == 2 and "differs" in mixed.output


def test_json_on_stdout(tmp_path):
    gt, pred, _ids, _pairs = _coco_tree(tmp_path, count=2)
    result = _run("evaluate", "--dataset", "cocostuff27", "--gt-dir", gt, "--pred-dir", pred, "--clusters", 30,
                  "--format", "json", "--workers", 1)
    assert result.exit_code == 0 and json.loads(result.stdout)["num_images"] == 2


@pytest.mark.parametrize("args", [["--help"], ["evaluate", "--help"]])
def test_help(args):
    assert _run(*args).exit_code == 0
