"""The USS scorer: hand-computed confusion matrices, STEGO's metric restated from the facts, ImageNet-S unchanged
under the official switches, and the mergeable state."""
from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
from stego_reference import StegoMetric

from evaluators.luss import LUSSEvaluator, MatchCounter, match_lookup
from evaluators.uss import USSEvaluator, USSMetric, joint_counts
from plumbing.errors import BadInputError, IncompatibleError


def _one(gt, pred, classes, clusters, **options):
    ev = USSEvaluator(classes, clusters, **options)
    ev.update(np.array(gt), np.array(pred))
    return ev


def test_joint_counts_keep_void_out_and_collect_out_of_range_predictions():
    gt = np.array([[0, 1, 255, 1], [2, 2, 0, -1]])
    pred = np.array([[0, 0, 1, 5], [1, -3, 1, 0]])
    got = joint_counts(gt, pred, 3, 3)
    assert got.tolist() == [[1, 1, 0], [1, 0, 1], [0, 0, 0], [0, 1, 1]]
    wide = joint_counts(gt.astype(np.int64), pred, 3, 400)  # the int64 path; 5 is a cluster now
    assert wide[[0, 1, 2, 5, 400]].tolist() == [[1, 1, 0], [1, 0, 1], [0, 0, 0], [0, 1, 0], [0, 0, 1]]
    assert wide.sum() == got.sum()


def test_hand_computed_with_an_extra_cluster():
    # clusters 0..2 x classes 0..1; cluster 2 is an extra cluster holding 2 pixels of class 0
    gt = [[0, 0, 0, 0, 1, 1, 1, 0, 0]]
    pred = [[0, 0, 0, 0, 1, 1, 1, 2, 2]]
    ev = _one(gt, pred, 2, 3)
    assert ev.confusion.tolist() == [[4, 0], [0, 3], [2, 0], [0, 0]]
    stego = ev.compute()  # STEGO: pixels predicted into cluster 2 >= C are dropped
    assert stego.metrics["mIoU"] == 100 and stego.metrics["pixel_accuracy"] == 100
    assert math.isnan(stego.extra_iou) and stego.assignment == {0: 0, 1: 1, 2: -1}
    fixed = ev.compute(extra="wrong")  # corrected: they are errors against class 0
    assert fixed.ious.tolist() == pytest.approx([400 / 6, 100])
    assert fixed.metrics["mIoU"] == pytest.approx((400 / 6 + 100) / 2)
    assert fixed.metrics["pixel_accuracy"] == pytest.approx(700 / 9)


def test_hand_computed_nan_class_skipped_or_zero():
    # class 2 never occurs and no cluster is matched to it with pixels: IoU 0/0
    gt = [[0, 0, 1, 1, 1, 255]]
    pred = [[1, 1, 0, 0, 1, 2]]
    ev = _one(gt, pred, 3, 3)
    nan_skip = ev.compute()
    assert nan_skip.assignment == {0: 1, 1: 0, 2: 2}
    assert nan_skip.ious[:2].tolist() == pytest.approx([2 / 3 * 100, 2 / 3 * 100]) and math.isnan(nan_skip.ious[2])
    assert nan_skip.metrics["mIoU"] == pytest.approx(200 / 3)
    official = ev.compute(mean="official")
    assert official.ious[2] == 0 and official.metrics["mIoU"] == pytest.approx(2 * 200 / 3 / 3)
    assert nan_skip.metrics["pixel_accuracy"] == pytest.approx(80)


def test_thing_stuff_split_follows_the_mean():
    ev = _one([[0, 1, 2, 2]], [[0, 1, 1, 2]], 3, 3, things=1)
    result = ev.compute()
    assert result.metrics["mIoU_things"] == 100
    assert result.metrics["mIoU_stuff"] == pytest.approx((50 + 50) / 2)


def _generated(seed, n, extra, images=6, shape=(9, 11)):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(images):
        gt = rng.integers(-1, n + 1, shape)  # -1 and n are void
        gt[rng.random(shape) < 0.1] = 255
        pred = np.where(rng.random(shape) < 0.6, (gt * 7 + 3) % (n + extra), rng.integers(0, n + extra, shape))
        pred[rng.random(shape) < 0.03] = -1  # no cluster: STEGO drops it
        out.append((gt, pred))
    return out


@pytest.mark.parametrize("seed", range(40))
def test_equals_the_literal_stego_metric(seed):
    n = [2, 3, 5, 27][seed % 4]
    extra = [0, 1, 3, 0, 5][seed % 5]
    reference, ours = StegoMetric(n, extra), USSEvaluator(n, n + extra)
    for gt, pred in _generated(seed, n, extra):
        reference.update(pred, gt)
        ours.update(gt, pred)
    expected = reference.compute()
    got = ours.compute()  # the defaults are STEGO's protocol
    assert got.metrics["mIoU"] == expected["mIoU"] or (math.isnan(expected["mIoU"]) and math.isnan(got.metrics["mIoU"]))
    assert got.metrics["pixel_accuracy"] == expected["Accuracy"]


def test_equals_stego_when_clusters_tie():
    # two real clusters tie for class 0, and class 1 may take either the other one or the empty extra cluster
    reference, ours = StegoMetric(2, 1), USSEvaluator(2, 3)
    gt, pred = np.array([[0] * 10]), np.array([[0] * 5 + [1] * 5])
    reference.update(pred, gt)
    ours.update(gt, pred)
    assert ours.compute().metrics["mIoU"] == reference.compute()["mIoU"]
    assert ours.compute().metrics["pixel_accuracy"] == reference.compute()["Accuracy"]


def _luss_pairs(seed, n, images=15, shape=(12, 16)):
    rng = np.random.default_rng(seed)
    perm = np.concatenate([[0], rng.permutation(n) + 1])
    pairs = []
    for i in range(images):
        gt = np.zeros(shape, np.int64)
        for label in rng.choice(np.arange(1, n + 1), size=2, replace=False):
            y, x = rng.integers(0, shape[0] - 3), rng.integers(0, shape[1] - 3)
            gt[y:y + rng.integers(2, 8), x:x + rng.integers(2, 10)] = label
        gt[: i % 3] = 1000
        pred = perm[np.minimum(gt, n)]
        noise = rng.random(shape) < 0.2
        pred[noise] = rng.integers(0, n + 3, noise.sum())  # a few labels above N: no class
        pred[0, i % shape[1]] = i % (n + 1)  # a distinct count per image keeps the largest class unique
        pairs.append((gt, pred))
    return pairs


@pytest.mark.parametrize("seed", range(4))
def test_imagenet_s_numbers_unchanged_under_the_official_switches(seed):
    n = 6
    pairs = _luss_pairs(seed, n)
    counter = MatchCounter(n)
    for gt, pred in pairs:
        counter.update(gt, pred)
    lookup = match_lookup(counter.match())
    luss, uss = LUSSEvaluator(n), USSEvaluator(n + 1, background=0)
    for gt, pred in pairs:
        luss.update(gt, np.take(lookup, pred))
        uss.update(gt, pred)
    expected = luss.compute()
    got = uss.compute("image-cooccurrence", "official", "wrong")
    assert got.metrics["mIoU"] == expected.metrics["mIoU"]
    assert got.ious.tolist() == (expected.ious).tolist()
    assert got.assignment == counter.match()
    assert got.metrics["image_accuracy"] == pytest.approx(expected.metrics["Acc"])


def test_merge_and_state_are_exact():
    pairs = _generated(7, 5, 2, images=8)
    whole, first, second = USSEvaluator(5, 7), USSEvaluator(5, 7), USSEvaluator(5, 7)
    for i, (gt, pred) in enumerate(pairs):
        whole.update(gt, pred)
        (first if i % 2 else second).update(gt, pred)
    merged = USSEvaluator.from_state(pickle.loads(pickle.dumps(first.state()))).merge(second)
    for switches in (("pixel-hungarian", "nan-skip", "drop"), ("image-cooccurrence", "official", "wrong")):
        assert merged.compute(*switches).to_dict() == whole.compute(*switches).to_dict()
    batched = USSEvaluator(5, 7)
    batched.update(np.stack([g for g, _ in pairs]), np.stack([p for _, p in pairs]))
    assert batched.compute().to_dict() == whole.compute().to_dict()
    with pytest.raises(IncompatibleError):
        whole.merge(USSEvaluator(5, 8))


def test_cluster_numbering_does_not_matter():
    pairs = _generated(3, 4, 0)
    perm = np.array([2, 0, 3, 1])
    a, b = USSEvaluator(4), USSEvaluator(4)
    for gt, pred in pairs:
        a.update(gt, pred)
        b.update(gt, np.where(pred >= 0, perm[pred], pred))
    for key in ("mIoU", "pixel_accuracy"):
        assert a.compute().metrics[key] == b.compute().metrics[key]


def test_refusals():
    with pytest.raises(BadInputError, match="clusters >= classes"):
        USSEvaluator(5, 3)
    ev = USSEvaluator(2)
    with pytest.raises(BadInputError, match="no images"):
        ev.compute()
    with pytest.raises(BadInputError, match="shape"):
        ev.update(np.zeros((2, 2), int), np.zeros((2, 3), int))
    ev.update(np.zeros((2, 2), int), np.zeros((2, 2), int))
    with pytest.raises(BadInputError, match="matching"):
        ev.compute(matching="pixel")


def test_streaming_metric_takes_batches_and_merges():
    metric, other = USSMetric("cocostuff27", clusters=30), USSMetric("cocostuff27", clusters=30)
    rng = np.random.default_rng(1)
    target = rng.integers(-1, 27, (2, 8, 8))
    preds = rng.integers(0, 30, (2, 8, 8))
    metric.update(preds[:1], target[:1])
    other.update(preds[1:], target[1:])
    whole = USSMetric("cocostuff27", clusters=30)
    whole.update(preds, target)
    result = metric.merge(other).compute()
    assert result == whole.compute()
    assert result["dataset"] == "cocostuff27" and len(result["IoUs"]) == 27 and "mIoU_things" in result
    metric.reset()
    assert metric.evaluator.num_images == 0
