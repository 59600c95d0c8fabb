"""Properties of the USS scorer on generated maps (Hypothesis): splitting and merging changes nothing, perfect
predictions under any cluster numbering score 100."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from evaluators.uss import USSEvaluator

maps = st.tuples(st.integers(2, 6), st.integers(0, 3), st.integers(1, 4), st.integers(0, 2**31 - 1))


def _data(classes, extra, images, seed):
    rng = np.random.default_rng(seed)
    gt = rng.integers(-1, classes, (images, 5, 6))
    pred = rng.integers(0, classes + extra, (images, 5, 6))
    return gt, pred


@settings(max_examples=40, deadline=None)
@given(maps)
def test_merge_of_any_split_equals_the_whole(args):
    classes, extra, images, seed = args
    gt, pred = _data(classes, extra, images + 1, seed)
    whole, first, rest = (USSEvaluator(classes, classes + extra) for _ in range(3))
    whole.update(gt, pred)
    first.update(gt[:1], pred[:1])
    rest.update(gt[1:], pred[1:])
    merged = first.merge(rest)
    for switches in (("pixel-hungarian", "nan-skip", "drop"), ("image-cooccurrence", "official", "wrong")):
        assert merged.compute(*switches).to_dict() == whole.compute(*switches).to_dict()


@settings(max_examples=40, deadline=None)
@given(maps)
def test_perfect_predictions_under_any_numbering_score_100(args):
    classes, extra, images, seed = args
    gt, _ = _data(classes, extra, images, seed)
    gt[:, 0, 0] = np.arange(images) % classes
    perm = np.random.default_rng(seed).permutation(classes + extra)[:classes]
    pred = np.where(gt >= 0, perm[np.maximum(gt, 0)], perm[0])
    ev = USSEvaluator(classes, classes + extra)
    ev.update(gt, pred)
    present = np.unique(gt[gt >= 0])
    for extra_rule in ("drop", "wrong"):
        result = ev.compute(extra=extra_rule, matching="pixel-hungarian")
        # STEGO's rule drops the classes predicted into a cluster >= C outright (their IoU is 0/0): still 100
        if extra_rule == "wrong" or (perm[present] < classes).any():
            assert result.metrics["pixel_accuracy"] == 100 and result.metrics["mIoU"] == 100
