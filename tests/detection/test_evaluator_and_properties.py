"""The streaming evaluator, and invariants that must hold on any input (hypothesis)."""
import pytest
from detection_data import box, det, tiny_gt
from hypothesis import given, settings
from hypothesis import strategies as st

from evaluators.detection import DetectionEvaluator, evaluate_detections


def test_streaming_updates_and_merge_equal_one_shot(aodraw_set):
    gt, dt = aodraw_set
    a, b = DetectionEvaluator(gt), DetectionEvaluator(gt)
    by_image = {}
    for d in dt:
        by_image.setdefault(d["image_id"], []).append(d)
    for image_id, dets in by_image.items():
        (a if image_id % 2 else b).update(dets)
    a.merge(b)
    merged = a.compute()
    assert merged.to_dict() == evaluate_detections(gt, dt).to_dict()
    a.reset()
    assert a.compute().metrics["AP"] == 0.0


def test_merge_refuses_an_evaluator_with_other_options(aodraw_set):
    from plumbing.errors import IncompatibleError

    gt, dt = aodraw_set
    a, coco = DetectionEvaluator(gt, preset="aodraw"), DetectionEvaluator(gt, preset="coco")
    a.update(dt[:100])
    coco.update(dt[100:200])
    with pytest.raises(IncompatibleError, match=r"different options \(preset: \['aodraw'\] vs \['coco'\]\)"):
        a.merge(coco)
    with pytest.raises(IncompatibleError, match="protocol"):
        a.merge(DetectionEvaluator(gt, preset="aodraw", protocol="corrected"))
    assert a.compute().to_dict() == evaluate_detections(gt, dt[:100]).to_dict()  # nothing was added


def test_streaming_update_fails_fast_on_bad_batch(aodraw_set):
    evaluator = DetectionEvaluator(aodraw_set[0])
    with pytest.raises(ValueError, match="unknown image_id 99999"):
        evaluator.update([det(1, 1, 5, 5, 0.5, cat=0, image_id=99999)])


def test_custom_parameters_change_what_is_scored(aodraw_set):
    gt, dt = aodraw_set
    loose = evaluate_detections(gt, dt, iou_thrs=[0.5, 0.75], max_dets=[10, 100], area_ranges=[(0, 1e10)] * 4)
    assert loose.params["iou_thrs"] == [0.5, 0.75] and list(loose.metrics)[6:8] == ["AR10", "AR100"]
    # Equal ranges give equal numbers (hotcoco alone would leave all but the last at -1).
    assert loose.metrics["AP"] == loose.metrics["APs"] == loose.metrics["APm"] == loose.metrics["APl"] > 0
    assert loose.metrics["AP"] == pytest.approx((loose.metrics["AP50"] + loose.metrics["AP75"]) / 2, abs=1e-12)
    reference = evaluate_detections(gt, dt, backend="pycocotools", iou_thrs=[0.5, 0.75], max_dets=[10, 100],
                                    area_ranges=[(0, 1e10)] * 4)
    assert loose.metrics == reference.metrics


boxes = st.tuples(st.integers(0, 80), st.integers(0, 80), st.integers(4, 40), st.integers(4, 40),
                  st.sampled_from([1, 2]))


@settings(max_examples=30, deadline=None)
@given(st.lists(boxes, min_size=1, max_size=8), st.randoms(use_true_random=False))
def test_permuting_detections_with_distinct_scores_changes_nothing(gt_boxes, rnd):
    gt = tiny_gt([box(x, y, w, h, cat=c) for x, y, w, h, c in gt_boxes], tags=[["fog"]])
    dt = [det(x + 2, y - 1, w, h, 0.9 - 0.05 * i, cat=c) for i, (x, y, w, h, c) in enumerate(gt_boxes)]
    dt += [det(5, 5, 10, 10, 0.93, cat=1)]
    shuffled = dt[:]
    rnd.shuffle(shuffled)
    assert evaluate_detections(gt, shuffled).to_dict() == evaluate_detections(gt, dt).to_dict()


@settings(max_examples=30, deadline=None)
@given(st.lists(boxes, min_size=1, max_size=8))
def test_perfect_detections_score_one(gt_boxes):
    gt = tiny_gt([box(x, y, w, h, cat=c) for x, y, w, h, c in gt_boxes], tags=[["rain", "fog"]])
    dt = [det(*a["bbox"], score=0.99, cat=a["category_id"]) for a in gt["annotations"]]
    result = evaluate_detections(gt, dt, preset="coco")
    # pycocotools' precision is tp / (tp + fp + eps): a single box scores 1 - 2**-52.
    for value in (result.metrics["AP"], result.metrics["AP50"], result.conditions["rain_fog"]["AP"]):
        assert value == pytest.approx(1.0, abs=1e-15)


IGNORE_CATS = [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}, {"id": 62, "name": "ignore"}]


@settings(max_examples=30, deadline=None)
@given(st.lists(boxes, min_size=1, max_size=6), st.floats(0.01, 0.99), st.sampled_from([1, 2]))
def test_a_detection_inside_an_ignore_region_changes_nothing(gt_boxes, score, cls):
    anns = [box(x, y, w, h, cat=c) for x, y, w, h, c in gt_boxes] + [box(150, 150, 40, 40, cat=62, iscrowd=1)]
    gt = tiny_gt(anns, tags=[["low_light"]], categories=IGNORE_CATS)
    gt["images"][0].update(width=200, height=200)
    dt = [det(x, y, w, h, 0.5, cat=c) for x, y, w, h, c in gt_boxes]
    before = evaluate_detections(gt, dt, preset="aodraw")
    after = evaluate_detections(gt, dt + [det(155, 155, 20, 20, score, cat=cls)], preset="aodraw")
    assert after.to_dict() == before.to_dict()
    # ...whereas without the ignore region the same detection, scored above the rest, is a false positive.
    plain = tiny_gt(anns[:-1], tags=[["low_light"]], categories=IGNORE_CATS)
    with_fp = evaluate_detections(plain, dt + [det(155, 155, 20, 20, 0.99, cat=gt_boxes[0][4])], preset="aodraw")
    assert with_fp.categories != evaluate_detections(plain, dt, preset="aodraw").categories
