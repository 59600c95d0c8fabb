"""A literal restatement of the PASS evaluator's threshold sweep (``LUSSeg/PASS`` ``evaluator.py``,
``src/singlecropdataset.py`` ``EvalDataset``, ``src/utils.py`` ``hungarian``), the oracle of the sweep tests.

Two passes as upstream: the matching pass gates the prediction on the non-ignored pixels and collects label
sets per threshold, ``hungarian`` builds an N x N matrix of -(co-occurrence) and solves it with munkres; the
metric pass gates the whole image, remaps labels through that threshold's match and runs the ImageNet-S
evaluation (``luss_reference.evaluate``, itself literal). NumPy and munkres only; nothing from ``evaluators``.
"""
from __future__ import annotations

import numpy as np
from luss_reference import evaluate
from munkres import Munkres


def hungarian(target, prediction, num_classes):
    """PASS's ``hungarian``: rows are predicted labels - 1, columns ground-truth classes - 1."""
    matrix = np.zeros(shape=(num_classes, num_classes), dtype=np.float32)
    preds, gts = {}, {}
    for i in range(num_classes):
        preds[i] = np.array([i in item for item in prediction])
        gts[i] = np.array([i in item for item in target])
    for i in range(num_classes):
        for j in range(num_classes):
            matrix[i][j] = -np.sum(np.logical_and(preds[i], gts[j]))
    matched = {}
    for row, column in Munkres().compute(matrix.tolist()):
        matched[row] = column
    return matched


def unique_minus_one(values):
    out = (np.unique(values.reshape(-1)) - 1).tolist()
    if -1 in out:
        out.remove(-1)
    return out


def pass_sweep(images, num_classes: int, thresholds: list[float]):
    """images: [(gt, pred, attention)] with gt ids (1000 ignore), raw predicted labels, float32 attention.
    Returns (logs per threshold: metrics dict with "match" {label: class}, index of the best)."""
    targets, predictions = [], {t: [] for t in thresholds}
    for gt, pred, attention in images:
        keep = gt != 1000
        targets.append(unique_minus_one(gt[keep]))
        logit = attention.astype(np.float32)[keep]
        for t in thresholds:
            predict = pred[keep].copy()
            predict[logit < np.float32(t)] = 0  # torch compares a float32 tensor with the scalar in float32
            predictions[t].append(unique_minus_one(predict))
    logs = []
    for t in thresholds:
        match = hungarian(targets, predictions[t], num_classes)
        pairs = []
        for gt, pred, attention in images:
            prediction = pred.copy()
            prediction[attention.astype(np.float32) < t] = 0
            matched = np.zeros_like(prediction)
            for k in np.unique(prediction):
                if k.item() == 0:
                    continue
                matched[prediction == k.item()] = match[k.item() - 1] + 1
            pairs.append((gt, matched))
        log = evaluate(pairs, num_classes)
        log["match"] = {0: 0, **{row + 1: col + 1 for row, col in match.items()}}
        logs.append(log)
    best = int(np.argmax([log["mIoU"] for log in logs]))
    return logs, best
