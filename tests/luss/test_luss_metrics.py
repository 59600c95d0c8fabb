"""The official LUSS metrics: hand-computed cases, the literal reference, mergeable state."""
from __future__ import annotations

import json
import math

import luss_reference as reference
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from luss_data import make_pairs, random_mask

from evaluators.luss import LUSSEvaluator
from evaluators.luss.metrics import METRIC_KEYS, _size_groups, boundary_mask, boundary_width
from plumbing.errors import BadInputError
from plumbing.files import write_json


def evaluate(pairs, num_classes):
    evaluator = LUSSEvaluator(num_classes)
    for gt, pred in pairs:
        evaluator.update(gt, pred)
    return evaluator.compute()


def assert_metrics_equal(ours: dict, expected: dict, rel=1e-9):
    for key in METRIC_KEYS:
        if math.isnan(expected[key]):
            assert math.isnan(ours[key]), key
        else:
            assert ours[key] == pytest.approx(expected[key], rel=rel, abs=1e-9), key


# 3x4 image, N = 2: row 2 is half ignored; label 7 is outside 1..N.
GT_A = np.array([[1, 1, 0, 0],
                 [1, 1, 0, 0],
                 [1000, 1000, 2, 2]])
PRED_A = np.array([[1, 0, 0, 0],
                   [1, 1, 7, 0],
                   [2, 2, 2, 0]])


def test_hand_computed_small_image_with_ignore_and_out_of_range_label():
    result = evaluate([(GT_A, PRED_A)], 2)
    # 10 non-ignored pixels. class 0: T 4, P 5, TP 3; class 1: T 4, P 3, TP 3; class 2: T 2, P 1, TP 1.
    # The 7 costs class 0 a true positive but is nobody's false positive.
    np.testing.assert_allclose(result.ious, [50.0, 75.0, 50.0], rtol=1e-9)
    assert result.metrics["mIoU"] == pytest.approx(175 / 3)
    # F: t = 6, p = 5 (the 7 is foreground), tp = 4 -> P = 4/5, R = 2/3, F = 1.3PR / (0.3P + R) = 13/17
    assert result.metrics["FMeasure"] == pytest.approx(1300 / 17)
    assert result.metrics["Acc"] == 100.0  # largest predicted class 1 is in the ground truth
    # sizes: class 1 ceil(40) -> ML, class 2 ceil(20) -> MS; S and L are empty everywhere
    assert math.isnan(result.metrics["S"]) and math.isnan(result.metrics["L"])
    assert result.metrics["MS"] == pytest.approx(55.0)  # bg (3/5 -> 0.6) and class 2 (0.5)
    assert result.metrics["ML"] == pytest.approx(67.5)  # bg 0.6 and class 1 (0.75)
    # d = 1 and the image is 3 pixels high: every pixel is boundary, so boundary IoUs equal region IoUs
    np.testing.assert_allclose(result.boundary_ious, result.ious)
    assert (result.metrics["BMS"], result.metrics["BML"]) == pytest.approx((55.0, 67.5))


def test_hand_computed_boundary_iou_of_a_shifted_square():
    gt = np.zeros((20, 20), np.int64)
    gt[5:15, 5:15] = 1
    pred = np.zeros_like(gt)
    pred[5:15, 6:16] = 1  # one column to the right
    assert boundary_width(20, 20) == 1
    result = evaluate([(gt, pred)], 1)
    np.testing.assert_allclose(result.ious, [290 / 310 * 100, 90 / 110 * 100])
    # class 1: two 36-pixel rings sharing 18 pixels; background: the 76-pixel image edge plus 22 of the
    # two 44-pixel rings around the squares, out of 120 + 120
    np.testing.assert_allclose(result.boundary_ious, [98 / 142 * 100, 18 / 54 * 100])
    # class 1 covers ceil(25.0) = 25 % -> MS, which then holds every pixel
    assert result.metrics["MS"] == pytest.approx(result.metrics["mIoU"])
    assert result.metrics["BMS"] == pytest.approx(result.metrics["mBIoU"])
    assert all(math.isnan(result.metrics[k]) for k in ("S", "ML", "L", "BS", "BML", "BL"))


def test_images_without_foreground_score_zero_fmeasure_and_acc():
    empty = np.zeros((6, 7), np.int64)
    result = evaluate([(empty, empty)], 2)
    assert result.metrics["FMeasure"] == 0.0
    assert result.metrics["Acc"] == 0.0  # no predicted foreground counts as wrong
    assert result.metrics["mIoU"] == pytest.approx(100 / 3)  # background 100, absent classes 0 stay in the mean
    assert all(math.isnan(result.metrics[k]) for k in ("S", "MS", "ML", "L", "BS", "BMS", "BML", "BL"))


def test_fully_ignored_image_counts_as_an_image_with_nothing():
    ignored = np.full((4, 4), 1000)
    result = evaluate([(ignored, np.ones((4, 4), np.int64)), (GT_A, PRED_A)], 2)
    assert result.num_images == 2
    assert result.metrics["Acc"] == 50.0
    assert result.metrics["FMeasure"] == pytest.approx(1300 / 17 / 2)
    np.testing.assert_allclose(result.ious, [50.0, 75.0, 50.0])  # the ignored image adds no pixel


def test_acc_takes_the_first_of_tied_largest_classes():
    pred = np.array([[1, 1, 2, 2]])
    assert evaluate([(np.array([[0, 0, 2, 2]]), pred)], 2).metrics["Acc"] == 0.0
    assert evaluate([(np.array([[1, 0, 0, 0]]), pred)], 2).metrics["Acc"] == 100.0


def test_empty_size_bucket_is_nan_and_written_as_json_null(tmp_path):
    result = evaluate([(GT_A, PRED_A)], 2)
    write_json(tmp_path / "r.json", result.to_dict())
    written = json.loads((tmp_path / "r.json").read_text())
    assert written["S"] is None and written["L"] is None and written["MS"] == pytest.approx(55.0)
    assert list(written) == [*METRIC_KEYS, "IoUs"] and len(written["IoUs"]) == 3


def test_size_bucket_limits_and_float32_rounding_as_upstream():
    labels = np.array([0, 1, 2, 3, 4, 5])
    pixels = np.array([100, 5, 6, 25, 26, 51])  # with a total of 100 each size is its pixel count
    groups = _size_groups(labels, pixels, 100)
    assert groups.tolist() == [4, 0, 1, 1, 2, 3]
    # 100 * 1,100,000 / 21,999,999 = 5.00000023: exactly MS, but float32 (as upstream on the GPU) gives 5.0 -> S
    groups = _size_groups(np.array([0, 1]), np.array([20_899_999, 1_100_000]), 21_999_999)
    assert groups.tolist() == [4, 0]


@pytest.mark.parametrize("shape", [(1, 1), (1, 9), (3, 2), (17, 23), (40, 31)])
def test_boundary_mask_equals_literal_per_label_erosion(shape):
    rng = np.random.default_rng(shape[0] * 100 + shape[1])
    for _ in range(5):
        labels = random_mask(rng, shape, [0, 1, 2, 1000, 65535])
        np.testing.assert_array_equal(boundary_mask(labels), reference.boundary_labels(labels) > 0)


def test_boundary_width_follows_the_diagonal():
    assert boundary_width(375, 500) == 19  # round(18.75)
    assert boundary_width(10, 10) == 1  # max(1, round(0.42))
    assert boundary_width(2000, 3000) == 108


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from([1, 3, 50]), st.integers(1, 45), st.integers(1, 45))
def test_equals_the_literal_reference(seed, num_classes, h, w):
    rng = np.random.default_rng(seed)
    pairs = []
    for _ in range(int(rng.integers(1, 4))):
        # ground truths hold only valid ids (0..N, 1000): anything else is refused (test_luss_gt_range)
        gt = random_mask(rng, (h, w), [0, 0, 1, num_classes, 1000])
        pred = random_mask(rng, (h, w), [0, 1, num_classes, num_classes + 1, 2 * num_classes + 5, 70000])
        pairs.append((gt, pred))
    ours = evaluate(pairs, num_classes)
    expected = reference.evaluate(pairs, num_classes)
    assert_metrics_equal(ours.metrics, expected)
    np.testing.assert_allclose(ours.ious, expected["IoUs"], rtol=1e-12, atol=1e-9)


def test_realistic_images_equal_the_reference_with_919_classes():
    pairs = make_pairs(3, 4, 919, shape=(60, 80))
    assert_metrics_equal(evaluate(pairs, 919).metrics, reference.evaluate(pairs, 919))


def test_perfect_prediction():
    pairs = make_pairs(5, 6, 5)
    result = evaluate([(gt, gt) for gt, _ in pairs], 5)
    present = sorted({int(c) for gt, _ in pairs for c in np.unique(gt) if c != 1000})
    np.testing.assert_allclose(result.ious[present], 100.0)
    assert result.metrics["Acc"] == 100.0 and result.metrics["FMeasure"] == pytest.approx(100.0)
    assert result.metrics["mBIoU"] == pytest.approx(result.metrics["mIoU"])


def test_merge_of_parts_equals_one_pass_in_any_order():
    pairs = make_pairs(7, 9, 5)
    whole = evaluate(pairs, 5)
    parts = [LUSSEvaluator(5) for _ in range(3)]
    for i, (gt, pred) in enumerate(reversed(pairs)):
        parts[i % 3].update(gt, pred)
    merged = parts[2].merge(parts[0]).merge(parts[1])
    restored = LUSSEvaluator.from_state(merged.state()).compute()
    assert restored.metrics == pytest.approx(whole.metrics, nan_ok=True)
    np.testing.assert_array_equal(merged.counts, LUSSEvaluator(5).merge(merged).counts)
    assert merged.num_images == 9


def test_bad_arrays_and_states_are_refused():
    ev = LUSSEvaluator(2)
    with pytest.raises(BadInputError, match="one shape"):
        ev.update(np.zeros((2, 2), int), np.zeros((2, 3), int))
    with pytest.raises(BadInputError, match="ground-truth id 1001 is above 1000"):
        ev.update(np.full((2, 2), 1001), np.zeros((2, 2), int))
    with pytest.raises(BadInputError, match="negative id -1"):
        ev.update(np.zeros((2, 2), int), np.full((2, 2), -1))
    with pytest.raises(BadInputError, match="integer ids"):
        ev.update(np.zeros((2, 2)), np.zeros((2, 2)))
    with pytest.raises(BadInputError, match="non-empty"):
        ev.update(np.zeros((0, 3), int), np.zeros((0, 3), int))
    with pytest.raises(BadInputError, match="no images"):
        ev.compute()
    with pytest.raises(BadInputError, match="cannot merge"):
        ev.merge(LUSSEvaluator(3))
    with pytest.raises(ValueError, match="num_classes"):
        LUSSEvaluator(1000)
