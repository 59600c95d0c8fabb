"""A literal restatement of STEGO's ``UnsupervisedMetrics`` (src/utils.py at eb4d6b5), written from
``../shared/reference/uss/FACTS.md`` section 4 in NumPy, to check ``evaluators.uss`` against on generated data.

Kept deliberately naive: the update filter, the one bincount over a combined index reshaped and transposed, the two
independent assignments with extra clusters, the "Extra" row and zero column, the NaN-skipping mean.
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment


class StegoMetric:
    def __init__(self, n_classes: int, extra_clusters: int):
        self.n_classes, self.extra_clusters = n_classes, extra_clusters
        self.histogram = np.zeros((n_classes + extra_clusters, n_classes), np.int64)

    def update(self, preds: np.ndarray, target: np.ndarray) -> None:
        actual = target.reshape(-1)
        preds = preds.reshape(-1)
        mask = (actual >= 0) & (actual < self.n_classes) & (preds >= 0) & (preds < self.n_classes)
        actual, preds = actual[mask], preds[mask]
        total = self.n_classes + self.extra_clusters
        self.histogram += np.bincount(total * actual + preds, minlength=self.n_classes * total) \
            .reshape(self.n_classes, total).T

    def compute(self) -> dict:
        histogram = self.histogram
        if self.extra_clusters == 0:
            assignments = linear_sum_assignment(histogram, maximize=True)
            histogram = histogram[np.argsort(assignments[1]), :]
        else:
            assignments = linear_sum_assignment(histogram, maximize=True)
            assignments_t = linear_sum_assignment(histogram.T, maximize=True)
            missing = sorted(set(range(self.n_classes + self.extra_clusters)) - set(assignments[0]))
            new_row = histogram[missing, :].sum(0, keepdims=True)
            histogram = np.concatenate([histogram[assignments_t[1], :], new_row], axis=0)
            histogram = np.concatenate([histogram, np.zeros([histogram.shape[0], 1], np.int64)], axis=1)
        tp = np.diag(histogram)
        fp = histogram.sum(0) - tp
        fn = histogram.sum(1) - tp
        with np.errstate(invalid="ignore", divide="ignore"):
            iou = tp / (tp + fp + fn)
        opc = tp.sum() / histogram.sum()
        return {"mIoU": iou[~np.isnan(iou)].mean() * 100, "Accuracy": opc * 100}
