"""``LUSSMetric``: MMEngine's evaluator hook into ``evaluators.luss`` (the official ImageNet-S metrics).

Each process accumulates the evaluators' mergeable LUSS state (``LUSSEvaluator``: summed counts, never per-image
records); MMEngine gathers one state per process and the parent merges them, so the numbers equal ``imagenet-s
evaluate`` on the same predictions. MMEngine's distributed sampler pads the last round with repeated images; those
repeats are recognised from the sample's position (rank + k * world size >= dataset size) and left out.
"""
from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence

import numpy as np
from mmengine.dist import get_rank, get_world_size
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger
from mmseg.registry import METRICS

from evaluators.luss import report
from evaluators.luss.metrics import METRIC_KEYS, LUSSEvaluator, LUSSResult
from plumbing.errors import UnknownNameError
from plumbing.files import write_json

MEANS = ("official", "nan-skip")


def nan_skip_miou(evaluator: LUSSEvaluator, result: LUSSResult) -> float:
    """MMSegmentation's mIoU: the mean of the IoUs of classes whose union (prediction or ground truth) is not
    empty over the dataset, in percent (the official mean counts such classes as 0)."""
    tp, pred, gt = (evaluator.counts[0, 0, s] for s in range(3))
    present = (pred + gt - tp) > 0
    return float(np.mean(result.ious[present])) if present.any() else math.nan


@METRICS.register_module()
class LUSSMetric(BaseMetric):
    """The official LUSS metrics of ImageNet-S (``evaluators.luss``) as an MMEngine metric.

    Args:
        mean: ``official`` (classes empty in both prediction and ground truth count 0, as upstream's evaluator and
            the group's protocol) or ``nan-skip`` (they are skipped, MMSegmentation's mean); applies to ``mIoU``.
        output_file: where to write the official JSON record (``imagenet-s evaluate --json``'s keys plus ``mean``
            and ``mIoU_official``/``mIoU_nan_skip``); default: ``luss_eval.json`` beside the run's log file.
    Returns (logged by MMEngine to its logger and visualizer, prefix ``luss/``): ``mIoU Acc mBIoU S MS ML L BS BMS
    BML BL FMeasure`` in percent (NaN where a size bucket is empty), ``mIoU_official`` and ``mIoU_nan_skip``;
    per-class IoUs go to the log as a table and to the JSON file.
    """

    default_prefix = "luss"

    def __init__(self, mean: str = "official", output_file: str | None = None, collect_device: str = "cpu",
                 prefix: str | None = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        if mean not in MEANS:
            raise UnknownNameError(f"LUSSMetric mean {mean!r}: expected one of {', '.join(MEANS)}")
        self.mean, self.output_file = mean, output_file
        self._evaluator: LUSSEvaluator | None = None
        self._recent: deque = deque()
        self._seen = 0

    @property
    def num_classes(self) -> int:
        """N: the dataset's classes without ``others``."""
        return len(self.dataset_meta["classes"]) - 1

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Add each sample's prediction (``pred_sem_seg``, original size) against its ground truth
        (``gt_sem_seg``) to this process's state (MMEngine ``BaseMetric.process``)."""
        if self._evaluator is None:
            self._evaluator = LUSSEvaluator(self.num_classes)
        world = get_world_size()
        for sample in data_samples:
            pred = sample["pred_sem_seg"]["data"][0].cpu().numpy().astype(np.int32)
            gt = sample["gt_sem_seg"]["data"][0].cpu().numpy().astype(np.int32)
            one = LUSSEvaluator(self.num_classes)
            one.update(gt, pred)
            self._recent.append((self._seen, one))
            self._seen += 1
            while len(self._recent) > world:  # only the last round can hold the sampler's repeats
                self._evaluator.merge(self._recent.popleft()[1])

    def evaluate(self, size: int) -> dict:
        """Merge this process's state (without the sampler's repeats), gather the states of all processes and
        compute (MMEngine ``BaseMetric.evaluate``)."""
        evaluator = self._evaluator or LUSSEvaluator(max(self.num_classes, 1))
        rank, world = get_rank(), get_world_size()
        for k, one in self._recent:
            if rank + k * world < size:
                evaluator.merge(one)
        self.results = [evaluator.state()]
        self._evaluator, self._recent, self._seen = None, deque(), 0
        return super().evaluate(size)

    def compute_metrics(self, results: list) -> dict:
        """Merge the processes' states and compute the official metrics (MMEngine ``BaseMetric.compute_metrics``);
        writes the JSON record and logs the per-class table."""
        total = LUSSEvaluator.from_state(results[0])
        for state in results[1:]:
            total.merge(LUSSEvaluator.from_state(state))
        result = total.compute()
        official, nan_skip = result.metrics["mIoU"], nan_skip_miou(total, result)
        logger = MMLogger.get_current_instance()
        logger.info("\n" + report.class_table(result, self._wnids()))
        logger.info("\n" + report.summary_table(result) + f"\nmIoU official {official:.2f}, nan-skip "
                    f"{nan_skip:.2f} (reported: {self.mean})")
        metrics = {k: result.metrics[k] for k in METRIC_KEYS}
        metrics["mIoU"] = official if self.mean == "official" else nan_skip
        metrics["mIoU_official"], metrics["mIoU_nan_skip"] = official, nan_skip
        path = self.output_file or self._default_output(logger)
        if path:
            write_json(path, {**result.to_dict(), "mean": self.mean, "mIoU_official": official,
                              "mIoU_nan_skip": nan_skip, "num_images": result.num_images})
            logger.info(f"LUSSMetric: evaluation written to {path}")
        return metrics

    def _wnids(self):
        names = list(self.dataset_meta["classes"])[1:]
        return names if all(n.startswith("n") for n in names) else None

    @staticmethod
    def _default_output(logger) -> str | None:
        log_file = getattr(logger, "log_file", None)
        if not log_file:
            return None
        import os.path as osp

        return osp.join(osp.dirname(log_file), "luss_eval.json")
