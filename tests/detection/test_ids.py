"""Ids as pycocotools takes them: integers of any size, strings; integral float references; type mismatches named.

The reference is stock pycocotools on a renumbered copy: every id replaced by its rank among the sorted ids (the
order pycocotools itself sorts them in), which no float conversion can disturb."""
import copy
import json
import random
import re
import warnings

import numpy as np
import pytest
from detection_data import box, det, tiny_gt, write
from official_reference import official_precision
from test_parity import pycocotools_stats

from aodraw.convert.merge import merge_slices
from aodraw.synthetic import SyntheticSpec, make_dataset
from evaluators.detection import evaluate_detections
from plumbing.errors import BadInputError, InputWarning


def _new_ids(kind: str, n: int, seed: int) -> list:
    """n distinct ids of a kind, in no particular order."""
    base = {"above 2**53": [2 ** 53 + k for k in range(n)],
            "around 2**63": [2 ** 63 - n // 2 + k for k in range(n)],
            "around 2**64": [2 ** 64 - n // 2 + k for k in range(n)],
            "negative": [-(2 ** 70) + 3 * k for k in range(n // 2)] + [-k for k in range(n - n // 2)],
            "strings": [f"{random.Random(k).getrandbits(32):x}-{k}" for k in range(n)]}[kind]
    random.Random(seed).shuffle(base)
    return base


def _remap(gt: dict, dt: list, image_of: dict, cat_of: dict) -> tuple[dict, list]:
    gt, dt = copy.deepcopy(gt), copy.deepcopy(dt)
    for im in gt["images"]:
        im["id"] = image_of[im["id"]]
    for c in gt["categories"]:
        c["id"] = cat_of[c["id"]]
    for a in gt["annotations"] + dt:
        a["image_id"], a["category_id"] = image_of[a["image_id"]], cat_of[a["category_id"]]
    return gt, dt


def _with_ids(gt: dict, dt: list, kind: str) -> tuple[tuple, tuple]:
    """(the set with new image and category ids, its renumbered copy: each id -> its rank among the new ids)."""
    image_ids, cat_ids = [im["id"] for im in gt["images"]], [c["id"] for c in gt["categories"]]
    image_of = dict(zip(image_ids, _new_ids(kind, len(image_ids), 1)))
    cat_of = dict(zip(cat_ids, _new_ids(kind, len(cat_ids), 2)))
    renamed = _remap(gt, dt, image_of, cat_of)
    rank_image = {v: r + 1 for r, v in enumerate(sorted(image_of.values()))}
    rank_cat = {v: r + 1 for r, v in enumerate(sorted(cat_of.values()))}
    return renamed, _remap(*renamed, rank_image, rank_cat)


KINDS = ["above 2**53", "around 2**63", "around 2**64", "negative", "strings"]


@pytest.fixture(scope="module")
def small_sets():
    """Small sets (the reference runs pycocotools per bucket): COCO-style and AODRaw-style with tags and ignore."""
    coco = make_dataset(SyntheticSpec(num_images=24, width=640, height=480, boxes_per_image=5, dets_per_image=12,
                                      num_classes=5, tags=False, ignore_regions=0, crowd=0.05, max_size=300, seed=5))
    aodraw = make_dataset(SyntheticSpec(num_images=40, boxes_per_image=5, dets_per_image=12, num_classes=4, seed=6))
    for d in aodraw[1][::3]:  # score ties: the image order decides them
        d["score"] = round(d["score"], 1)
    return {"coco": coco, "aodraw": aodraw}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("backend", ["hotcoco", "pycocotools"])
def test_coco_preset_equals_pycocotools_on_the_renumbered_copy(tmp_path, small_sets, kind, backend):
    (gt, dt), (ref_gt, ref_dt) = _with_ids(*small_sets["coco"], kind)
    # files written by Python's json keep every digit; the evaluator must read them without a float in between
    result = evaluate_detections(write(tmp_path / "gt.json", gt), write(tmp_path / "dt.json", dt), preset="coco",
                                 backend=backend)
    assert result.stats == pycocotools_stats(ref_gt, ref_dt).tolist()
    # each category's id is reported back as the file has it (beyond 64 bits as a string: JSON writers refuse those)
    assert {key: c["id"] for key, c in result.categories.items()} == {
        c["name"]: str(c["id"]) if isinstance(c["id"], int) and not -2 ** 63 <= c["id"] < 2 ** 64 else c["id"]
        for c in gt["categories"]}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("preset", ["aodraw", "aodraw-slice"])
def test_aodraw_presets_equal_the_official_metric_on_the_renumbered_copy(tmp_path, small_sets, kind, preset):
    (gt, dt), (ref_gt, ref_dt) = _with_ids(*small_sets["aodraw"], kind)
    areas = {"aodraw": (128, 320), "aodraw-slice": (64, 160)}[preset]
    for backend in ("hotcoco", "pycocotools"):
        result = evaluate_detections(write(tmp_path / "gt.json", gt), write(tmp_path / "dt.json", dt), preset=preset,
                                     backend=backend)
        assert len(result.buckets) > 4
        for b, bucket in enumerate(result.buckets):
            precision, _ = official_precision(ref_gt, ref_dt, bucket, area_ranges=(
                (0, 1e5 ** 2), (0, areas[0] ** 2), (areas[0] ** 2, areas[1] ** 2), (areas[1] ** 2, 1e5 ** 2)))
            np.testing.assert_array_equal(result.precision[:, :, b], precision[:, :, :, 0, [0, 2]])


@pytest.mark.parametrize("backend", ["hotcoco", "pycocotools"])
def test_adjacent_image_ids_above_2p53_stay_apart(tmp_path, cli, backend):
    gt = tiny_gt([box(10, 10, 40, 40, image_id=2 ** 53), box(50, 50, 40, 40, image_id=2 ** 53 + 1)])
    gt["images"] = [{"id": 2 ** 53}, {"id": 2 ** 53 + 1}]
    dt = [det(10, 10, 40, 40, 0.9, image_id=2 ** 53), det(50, 50, 40, 40, 0.8, image_id=2 ** 53 + 1)]
    out = cli("evaluate", "--gt", write(tmp_path / "gt.json", gt), "--dt", write(tmp_path / "dt.json", dt),
              "--preset", "coco", "--backend", backend, "--json", tmp_path / "r.json")
    assert out.exit_code == 0, out.output
    assert json.loads((tmp_path / "r.json").read_text())["metrics"]["AP"] == 1.0


def test_category_ids_beyond_64_bits_are_reported_as_strings(tmp_path, cli):
    big = 2 ** 64 + 7
    gt = tiny_gt([box(10, 10, 40, 40, cat=big)], categories=[{"id": big, "name": "car"}])
    out = cli("evaluate", "--gt", write(tmp_path / "gt.json", gt),
              "--dt", write(tmp_path / "dt.json", [det(10, 10, 40, 40, 0.9, cat=big)]), "--json", tmp_path / "r.json")
    assert out.exit_code == 0, out.output
    car = json.loads((tmp_path / "r.json").read_text())["categories"]["car"]
    assert car["id"] == str(big) and car["AP"] == pytest.approx(1.0)


STRING_GT = {"images": [{"id": "0001"}, {"id": "2014_000002"}], "categories": [{"id": 1, "name": "car"}],
             "annotations": [{"id": 1, "image_id": "0001", "category_id": 1, "bbox": [10, 10, 40, 40], "area": 1600,
                              "iscrowd": 0}]}


@pytest.mark.parametrize("gt, dt, message", [
    (STRING_GT, [det(10, 10, 40, 40, 0.9, image_id=1)], "detection 0: unknown image_id 1 (not in the ground truth)"),
    (tiny_gt([box(10, 10, 40, 40)]), [det(10, 10, 40, 40, 0.9), det(1, 1, 4, 4, 0.9, image_id="0001")],
     "detection 1: unknown image_id '0001' (not in the ground truth)"),
    (tiny_gt([box(10, 10, 40, 40)]), [det(10, 10, 40, 40, 0.9, cat="1")],
     "detection 0: unknown category_id '1' (not in the ground truth)"),
    (tiny_gt([box(10, 10, 40, 40)]), [det(10, 10, 40, 40, 0.9, cat=1.5)],
     "detection 0: 'category_id' must be an integer or a string, got 1.5"),
    (tiny_gt([box(10, 10, 40, 40)]), [det(10, 10, 40, 40, 0.9, image_id=True)],
     "detection 0: 'image_id' must be an integer or a string, got True"),
])
def test_an_id_of_another_type_or_value_is_unknown_and_named(tmp_path, cli, gt, dt, message):
    dt_path = write(tmp_path / "dt.json", dt)
    out = cli("evaluate", "--gt", write(tmp_path / "gt.json", gt), "--dt", dt_path, "--json", tmp_path / "r.json")
    assert out.exit_code == 2 and out.stderr.strip().splitlines() == [f"error: {dt_path}: {message}"]
    assert not (tmp_path / "r.json").exists()


@pytest.mark.parametrize("gt, message", [
    ({**STRING_GT, "images": [{"id": "0001"}, {"id": 2}, {"id": "3"}]},
     "image 1: 'id' must be a string like the other image ids of the file, got 2"),
    ({"images": [{"id": "2299"}], "categories": [{"id": 1}],
      "annotations": [box(1, 1, 4, 4, id=n, image_id="2299" if n == 0 else 2299, area=16) for n in range(3)]},
     "image 0: 'id' must be an integer like the other image ids of the file, got '2299'"),
    ({**STRING_GT, "categories": [{"id": 1.0, "name": "car"}]},  # a declared id is never a float
     "category 0: 'id' must be an integer or a string, got 1.0"),
    ({**STRING_GT, "images": [{"id": "0001"}, {"id": "0001"}]}, "duplicate image id '0001'"),
])
def test_ground_truth_ids_of_one_kind_are_of_one_type(gt, message):
    with pytest.raises(BadInputError, match=re.escape(message)):
        evaluate_detections(gt, [])


@pytest.mark.parametrize("backend", ["hotcoco", "pycocotools"])
def test_string_image_ids_are_scored_as_pycocotools_scores_them(backend):
    dt = [det(10, 10, 40, 40, 0.9, image_id="0001"), det(12, 10, 40, 40, 0.9, image_id="2014_000002")]
    result = evaluate_detections(STRING_GT, dt, preset="coco", backend=backend)
    assert result.stats == pycocotools_stats(STRING_GT, dt).tolist() and result.metrics["AP"] == pytest.approx(1.0)


def test_integral_float_references_are_integers_with_one_warning(small_sets):
    gt, dt = small_sets["coco"]
    floats = [{**d, "category_id": float(d["category_id"])} for d in dt]  # as torchmetrics' COCO export writes them
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = evaluate_detections(gt, floats, preset="coco")
    messages = [str(w.message) for w in caught if issubclass(w.category, InputWarning)]
    assert messages == [f"<detections>: {len(dt)} image_id/category_id values are floats with integral values "
                        "(such as 1.0); read as the integers they hold"]
    assert result.to_dict() == evaluate_detections(gt, dt, preset="coco").to_dict()


def test_merge_slices_keeps_image_and_category_ids_exact():
    big = 2 ** 64 + 1
    slices = {"images": [{"id": "s0", "ori_id": big, "x_start": 0, "y_start": 0},
                         {"id": "s1", "ori_id": big, "x_start": 50, "y_start": 0},
                         {"id": "s2", "ori_id": 2 ** 53 + 1, "x_start": 0, "y_start": 0}],
              "categories": [{"id": 2 ** 53, "name": "car"}], "annotations": []}
    dt = [det(1, 1, 10, 10, 0.9, cat=2 ** 53, image_id=s) for s in ("s0", "s1", "s2")]
    merged = merge_slices(slices, dt)
    assert [(d["image_id"], d["category_id"], d["bbox"]) for d in merged] == [
        (2 ** 53 + 1, 2 ** 53, [1, 1, 10, 10]), (big, 2 ** 53, [1, 1, 10, 10]), (big, 2 ** 53, [51, 1, 10, 10])]
