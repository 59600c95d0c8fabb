"""``AODRawMetric``: MMDetection's evaluator hook into ``evaluators.detection`` (the AODRaw protocol)."""
from __future__ import annotations

import os.path as osp
from collections import defaultdict
from collections.abc import Sequence

import numpy as np
from mmdet.registry import METRICS
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from evaluators.detection import evaluate_detections
from evaluators.detection.ids import exact_id
from evaluators.detection.validate import load_ground_truth
from evaluators.report import detection_report
from plumbing.errors import BadInputError
from plumbing.files import write_json

METRIC_KEYS = ("AP", "AP50", "AP75", "APs", "APm", "APl")


def coco_results(img_id, bboxes: np.ndarray, scores: np.ndarray, labels: np.ndarray, cat_ids) -> list[dict]:
    """One image's predictions (x1 y1 x2 y2 boxes, class indices) as COCO results entries; the image id is kept
    exact (an integer of any size, or a string). A box clipped to x1 == x2 or y1 == y2 has zero width or height: the
    evaluator scores it as a false positive."""
    if len(labels) and labels.max() >= len(cat_ids):
        raise BadInputError(f"the model predicts class index {labels.max()} but only {len(cat_ids)} classes are "
                            "known: the heads' num_classes must match the dataset's classes")
    out, image_id = [], exact_id(img_id)
    for (x1, y1, x2, y2), score, label in zip(bboxes.tolist(), scores.tolist(), labels.tolist()):
        out.append({"image_id": image_id, "category_id": exact_id(cat_ids[label]),
                    "bbox": [x1, y1, x2 - x1, y2 - y1], "score": score})
    return out


@METRICS.register_module()
class AODRawMetric(BaseMetric):
    """Overall and per-condition AP of the official AODRaw metric, computed by ``evaluators.detection``.

    Args:
        ann_file: the ground-truth annotation file the dataset reads (full, downsampled or sliced).
        preset: ``aodraw`` (downsampled images), ``aodraw-slice`` (1280 px slices) or ``coco``.
        protocol: ``official`` (upstream's numbers, default) or ``corrected``.
        backend: ``hotcoco`` (fast) or ``pycocotools``; identical numbers.
        format_only: only write the COCO results (``{outfile_prefix}.bbox.json``) for a submission.
        outfile_prefix: where the results JSON and the evaluation JSON (``{outfile_prefix}.eval.json``) go;
            without it the evaluation JSON goes next to the run's log file.
    Returns (logged by MMEngine to its logger and visualizer): ``AP AP50 AP75 APs APm APl`` and ``AP_<condition>``
    for every condition bucket, as fractions, under the prefix ``aodraw/``.
    """

    default_prefix = "aodraw"

    def __init__(self, ann_file: str, preset: str = "aodraw", protocol: str = "official", backend: str = "hotcoco",
                 format_only: bool = False, outfile_prefix: str | None = None, collect_device: str = "cpu",
                 prefix: str | None = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        if format_only and not outfile_prefix:
            raise BadInputError("AODRawMetric: format_only needs an outfile_prefix for the results file")
        self.ann_file = ann_file
        self.preset, self.protocol, self.backend = preset, protocol, backend
        self.format_only = format_only
        self.outfile_prefix = outfile_prefix
        self._gt = None

    @property
    def gt(self):
        """The validated ground truth of ``ann_file``, loaded on first use (BadInputError if invalid)."""
        if self._gt is None:
            self._gt = load_ground_truth(self.ann_file)
        return self._gt

    def category_ids(self) -> list:
        """Category id of each class index of the dataset, matched by name as MMDetection's CocoMetric does; where
        categories share a name, the n-th class of that name is the n-th such category in the file."""
        unused = defaultdict(list)
        for name, cat_id in zip(self.gt.cat_names[::-1], self.gt.cat_ids.tolist()[::-1]):
            unused[name].append(cat_id)
        classes = (self.dataset_meta or {}).get("classes") or [n for n in self.gt.cat_names if n != "ignore"]
        ids = []
        for name in classes:
            if not unused[name]:
                what = "more classes" if name in self.gt.cat_names else "no category"
                raise BadInputError(f"{self.ann_file}: {what} named {name!r} (a class of the dataset) than categories")
            ids.append(unused[name].pop())
        return ids

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Keep each sample's image id and predictions (MMEngine ``BaseMetric.process``): x1 y1 x2 y2 boxes
        (n, 4) float32, scores (n,) float32 and class indices (n,), as NumPy arrays on the CPU."""
        for sample in data_samples:
            pred = sample["pred_instances"]
            self.results.append((sample["img_id"], pred["bboxes"].float().cpu().numpy(),
                                 pred["scores"].float().cpu().numpy(), pred["labels"].cpu().numpy()))

    def compute_metrics(self, results: list) -> dict:
        """Score the collected results (MMEngine ``BaseMetric.compute_metrics``) with ``evaluate_detections``,
        the official AODRaw metric of the authors' MMDetection fork: ``AP AP50 AP75 APs APm APl`` and
        ``AP_<condition>``.

        Writes the results JSON and the evaluation JSON where configured; with ``format_only`` returns {}.
        Raises BadInputError when classes cannot be matched to the annotation file's categories."""
        logger = MMLogger.get_current_instance()
        cat_ids = self.category_ids()
        detections = [d for img_id, boxes, scores, labels in results
                      for d in coco_results(img_id, boxes, scores, labels, cat_ids)]
        if self.outfile_prefix:
            path = write_json(f"{self.outfile_prefix}.bbox.json", detections)
            logger.info(f"AODRawMetric: {len(detections)} detections written to {path}")
        if self.format_only:
            return {}
        result = evaluate_detections(self.gt, detections, preset=self.preset, backend=self.backend,
                                     protocol=self.protocol)
        logger.info("\n" + detection_report(result))
        json_path = self._eval_json_path(logger)
        if json_path:
            write_json(json_path, result.to_dict())
            logger.info(f"AODRawMetric: evaluation written to {json_path}")
        metrics = {k: result.metrics[k] for k in METRIC_KEYS}
        metrics.update({f"AP_{name}": c["AP"] for name, c in result.conditions.items()})
        return metrics

    def _eval_json_path(self, logger) -> str | None:
        if self.outfile_prefix:
            return f"{self.outfile_prefix}.eval.json"
        log_file = getattr(logger, "log_file", None)
        return osp.join(osp.dirname(log_file), "aodraw_eval.json") if log_file else None
