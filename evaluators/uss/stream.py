"""``USSMetric``: a torchmetrics-style class (``update``/``compute``/``merge``/``reset``) for training loops.

It takes batches as NumPy arrays or anything with ``.numpy()`` after ``.detach().cpu()`` (torch tensors) without
importing torch, and keeps only the small ``USSEvaluator`` state, so ranks merge it exactly (gather ``state()``).
"""
from __future__ import annotations

import numpy as np

from evaluators.uss.datasets import preset
from evaluators.uss.metrics import USSEvaluator


def as_array(value) -> np.ndarray:
    """A NumPy array of ``value``: a NumPy array or list as is, a tensor through ``.detach().cpu().numpy()``."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


class USSMetric:
    """The USS protocol as a streaming metric.

    Args:
        dataset: a preset name (its classes and thing/stuff split), or None with ``num_classes``.
        num_classes: C when no preset is given.
        clusters: K >= C (default C).
        matching, mean, extra: the switches of ``USSEvaluator.compute`` (defaults: STEGO's protocol).
    ``update(preds, target)``: (B, H, W) or (H, W) cluster ids and class ids (void: anything outside 0..C-1, as
    -1 or 255). ``compute()`` returns ``USSResult.to_dict()`` (percent).
    """

    def __init__(self, dataset: str | None = None, *, num_classes: int | None = None, clusters: int | None = None,
                 matching: str = "pixel-hungarian", mean: str = "nan-skip", extra: str = "drop"):
        spec = preset(dataset) if dataset is not None else None
        c = spec.num_classes if spec is not None else num_classes
        self.dataset, self.names = dataset, spec.names if spec is not None else None
        self.options = {"matching": matching, "mean": mean, "extra": extra}
        self.evaluator = USSEvaluator(c, clusters, things=spec.things if spec is not None else None)

    def reset(self) -> None:
        """Forget every batch."""
        self.evaluator.reset()

    def update(self, preds, target) -> None:
        """Add a batch of predicted cluster ids and ground-truth class ids (same shape)."""
        self.evaluator.update(as_array(target), as_array(preds))

    def merge(self, other: USSMetric) -> USSMetric:
        """Add another metric's batches (another rank, a shard); returns ``self``."""
        self.evaluator.merge(other.evaluator)
        return self

    def compute(self) -> dict:
        """Match and score everything seen so far: ``USSResult.to_dict()``."""
        return self.evaluator.compute(**self.options, class_names=self.names, dataset=self.dataset).to_dict()
