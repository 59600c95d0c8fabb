"""``UnsupervisedSegMetric``: MMEngine's evaluator hook into ``evaluators.uss`` (the only module of the package that
imports mmengine; load it with ``custom_imports=dict(imports=["uss.mmseg.metric"])``).

Each rank keeps one ``USSEvaluator`` (the summed pixel state, a few hundred kB at most) and puts it into
``self.results`` once, so MMEngine's gathering across ranks moves one small state per rank instead of one record per
image; ``compute_metrics`` merges them and matches clusters to classes once, on the whole set.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.registry import METRICS

from evaluators.uss import USSEvaluator, preset
from evaluators.uss.stream import as_array


def _data(sample, key: str) -> np.ndarray:
    """``sample[key].data`` (a data sample object or its dict form) as an (H, W) array."""
    field = sample[key] if isinstance(sample, dict) else getattr(sample, key)
    data = field["data"] if isinstance(field, dict) else field.data
    return as_array(data).reshape(as_array(data).shape[-2:])


@METRICS.register_module()
class UnsupervisedSegMetric(BaseMetric):
    """The USS protocol (STEGO / PiCIE by default) as an MMEngine metric.

    Args:
        dataset: a preset of ``evaluators.uss`` (class names, thing/stuff split), or None with ``num_classes``.
        num_classes: C when no preset is given; ground-truth values outside 0..C-1 (255) are void.
        clusters: K >= C, the model's output classes (default C).
        matching, mean, extra: the switches of ``USSEvaluator.compute``.
    Reads ``pred_sem_seg.data`` (cluster ids) and ``gt_sem_seg.data`` (class ids) of each data sample. Returns
    (logged under the prefix ``uss/``): ``mIoU``, ``pixel_accuracy``, and where defined ``image_accuracy``,
    ``mIoU_things``, ``mIoU_stuff``, in percent.
    """

    default_prefix = "uss"

    def __init__(self, dataset: str | None = None, num_classes: int | None = None, clusters: int | None = None,
                 matching: str = "pixel-hungarian", mean: str = "nan-skip", extra: str = "drop",
                 collect_device: str = "cpu", prefix: str | None = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        spec = preset(dataset) if dataset is not None else None
        self.num_classes = spec.num_classes if spec is not None else int(num_classes)
        self.clusters, self.things = clusters, spec.things if spec is not None else None
        self.dataset, self.names = dataset, spec.names if spec is not None else None
        self.options = {"matching": matching, "mean": mean, "extra": extra}
        self._evaluator: USSEvaluator | None = None

    def process(self, data_batch, data_samples: Sequence) -> None:
        """Add each sample's predicted clusters and ground truth to this rank's evaluator (MMEngine
        ``BaseMetric.process``)."""
        if not self.results:  # a new evaluation round: BaseMetric emptied the results after the last one
            self._evaluator = USSEvaluator(self.num_classes, self.clusters, things=self.things)
            self.results.append(self._evaluator)
        for sample in data_samples:
            self._evaluator.update(_data(sample, "gt_sem_seg"), _data(sample, "pred_sem_seg"))

    def compute_metrics(self, results: list) -> dict:
        """Merge the ranks' evaluators and score (MMEngine ``BaseMetric.compute_metrics``)."""
        total = USSEvaluator(self.num_classes, self.clusters, things=self.things)
        for part in results:
            total.merge(part)
        result = total.compute(**self.options, class_names=self.names, dataset=self.dataset)
        return {k: v for k, v in result.metrics.items() if not math.isnan(v)}
