"""Our numbers against pycocotools itself and against a literal restatement of the official metric."""
import contextlib
import copy
import io

import numpy as np
import pytest
from detection_data import box, det, tiny_gt
from official_reference import official_precision
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from evaluators.detection import evaluate_detections


def pycocotools_stats(gt, dt):
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = copy.deepcopy(gt)
        coco.createIndex()
        ev = COCOeval(coco, coco.loadRes(copy.deepcopy(dt)), "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev.stats


@pytest.mark.parametrize("backend", ["hotcoco", "pycocotools"])
def test_coco_preset_stats_equal_pycocotools_exactly(coco_set, backend):
    gt, dt = coco_set
    assert any(a["iscrowd"] for a in gt["annotations"]) and gt["annotations"][0]["id"] == 0
    result = evaluate_detections(gt, dt, preset="coco", backend=backend)
    assert result.stats == pycocotools_stats(gt, dt).tolist()
    assert len(result.stats) == 12 and list(result.metrics)[6:9] == ["AR1", "AR10", "AR100"]


@pytest.mark.parametrize("protocol", ["official", "corrected"])
def test_backends_give_identical_arrays(aodraw_set, coco_set, protocol):
    for (gt, dt), preset in ((aodraw_set, "aodraw"), (aodraw_set, "aodraw-slice"), (coco_set, "coco")):
        a = evaluate_detections(gt, dt, preset=preset, backend="hotcoco", protocol=protocol)
        b = evaluate_detections(gt, dt, preset=preset, backend="pycocotools", protocol=protocol)
        np.testing.assert_array_equal(a.precision, b.precision)
        np.testing.assert_array_equal(a.recall, b.recall)
        assert a.to_dict() == {**b.to_dict(), "backend": "hotcoco"}


@pytest.mark.parametrize("protocol", ["official", "corrected"])
@pytest.mark.parametrize("backend", ["hotcoco", "pycocotools"])
def test_every_bucket_equals_the_official_metric(aodraw_set, protocol, backend):
    gt, dt = aodraw_set
    result = evaluate_detections(gt, dt, preset="aodraw", backend=backend, protocol=protocol)
    assert {"low_light_rain", "low_light_fog", "rain_fog", "fog", "all"} <= set(result.buckets)
    for b, name in enumerate(result.buckets):
        precision, recall = official_precision(gt, dt, name, protocol=protocol)
        np.testing.assert_array_equal(result.precision[:, :, b], precision[:, :, :, 0, [0, 2]])
        np.testing.assert_array_equal(result.recall[:, b], recall[:, :, 0, [0, 2]])
        ap = precision[:, :, :, 0, 0]
        assert result.conditions[name]["AP"] == (ap[ap > -1].mean() if (ap > -1).any() else -1)
    precision, _ = official_precision(gt, dt, "all", protocol=protocol)
    small = precision[:, :, :, 1, 2]
    assert result.metrics["APs"] == small[small > -1].mean()


def test_buckets_evaluated_in_groups_give_the_same_result(aodraw_set, monkeypatch):
    from evaluators.detection import core

    gt, dt = aodraw_set
    whole = evaluate_detections(gt, dt)
    monkeypatch.setattr(core, "MAX_DETECTIONS_PER_PASS", 500)
    problem = core.build_problem(core.load_ground_truth(gt), core.load_detections(dt, core.load_ground_truth(gt)),
                                 core.get_preset("aodraw"), "official")
    groups = core.bucket_groups(problem)
    assert len(groups) >= 4 and groups[0][0] == 1 and groups[-1][1] == len(problem.buckets)
    assert all(a[1] == b[0] for a, b in zip(groups, groups[1:]))
    grouped = evaluate_detections(gt, dt)
    np.testing.assert_array_equal(grouped.precision, whole.precision)
    assert grouped.to_dict() == whole.to_dict()


def test_official_weighting_differs_from_corrected_where_buckets_mix(aodraw_set):
    gt, dt = aodraw_set
    official = evaluate_detections(gt, dt, protocol="official").conditions
    corrected = evaluate_detections(gt, dt, protocol="corrected").conditions
    # "fog" mixes single-tag and two-tag images: the single-tag ones weigh double officially.
    assert official["fog"]["AP"] != corrected["fog"]["AP"]
    # A bucket of two-tag images only is the same either way, as is "all" (no id-0 box matched there).
    assert official["rain_fog"] == corrected["rain_fog"]


def test_id0_box_never_matches_officially_and_matches_when_corrected():
    gt = tiny_gt([box(10, 10, 20, 20, id=0), box(50, 50, 20, 20, id=1)])
    dt = [det(10, 10, 20, 20, 0.9), det(50, 50, 20, 20, 0.8)]
    for backend in ("hotcoco", "pycocotools"):
        official = evaluate_detections(gt, dt, preset="coco", backend=backend)
        corrected = evaluate_detections(gt, dt, preset="coco", backend=backend, protocol="corrected")
        assert official.stats == pycocotools_stats(gt, dt).tolist()
        assert official.metrics["AP"] == pytest.approx(0.2524752, abs=1e-6)  # the top detection is a "FP"
        assert corrected.metrics["AP"] == 1.0


def test_detection_limit_counts_the_copies_of_single_tag_images():
    # One single-tag image with 80 true positives of one class: officially the image is filed twice in
    # "fog", so the limit of 100 keeps 50 distinct detections there (recall 50/80), but 80 in "all".
    gts = [box(x * 11 % 90, x * 7 % 90, 10, 10) for x in range(80)]
    gt = tiny_gt(gts, tags=[["fog"]])
    dt = [det(*g["bbox"], score=1 - i / 1000) for i, g in enumerate(gts)]
    result = evaluate_detections(gt, dt, preset="aodraw", max_dets=(100, 300, 1000))
    p_all = result.precision[0, :, result.buckets.index("all"), 0, 0]
    p_fog = result.precision[0, :, result.buckets.index("fog"), 0, 0]
    assert (p_all > 0).sum() == 101  # every recall threshold up to 1.0 is reached
    assert (p_fog > 0).sum() == np.searchsorted(np.linspace(0, 1, 101), 50 / 80, side="right")
    corrected = evaluate_detections(gt, dt, preset="aodraw", protocol="corrected")
    assert corrected.conditions["fog"]["AP"] == corrected.conditions["all"]["AP"] == 1.0
    precision, _ = official_precision(gt, dt, "fog")
    np.testing.assert_array_equal(result.precision[:, :, result.buckets.index("fog")],
                                  precision[:, :, :, 0, [0, 2]])
