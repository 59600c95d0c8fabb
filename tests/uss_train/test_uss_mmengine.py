"""The MMEngine metric (train extra): built from the registry, fed MMSegmentation-style data samples with torch
tensors, equal to the torch-free evaluator."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("mmengine")

from mmengine.registry import METRICS  # noqa: E402

import uss.mmseg.metric  # noqa: E402,F401  (registers the metric)
from evaluators.uss import USSEvaluator  # noqa: E402


def _samples(rng, count):
    out = []
    for _ in range(count):
        gt = rng.integers(0, 3, (1, 6, 7))
        gt[0, 0] = 255
        pred = np.where(rng.random((1, 6, 7)) < 0.8, (gt + 1) % 4, rng.integers(0, 4, (1, 6, 7)))
        out.append({"gt_sem_seg": {"data": torch.from_numpy(gt)}, "pred_sem_seg": {"data": torch.from_numpy(pred)}})
    return out


def test_metric_matches_the_evaluator_over_two_rounds():
    metric = METRICS.build(dict(type="UnsupervisedSegMetric", dataset="potsdam3", clusters=4, extra="wrong"))
    rng = np.random.default_rng(0)
    for _ in range(2):  # BaseMetric empties its results after each evaluation: the second round starts afresh
        batches = [_samples(rng, 2), _samples(rng, 3)]
        for batch in batches:
            metric.process({}, batch)
        got = metric.evaluate(5)
        expected = USSEvaluator(3, 4)
        for batch in batches:
            for s in batch:
                expected.update(s["gt_sem_seg"]["data"].numpy()[0], s["pred_sem_seg"]["data"].numpy()[0])
        want = expected.compute(extra="wrong").metrics
        assert got == {"uss/mIoU": want["mIoU"], "uss/pixel_accuracy": want["pixel_accuracy"]}
