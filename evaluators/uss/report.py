"""Readable USS tables: the summary line of a result and its per-class IoUs."""
from __future__ import annotations

import math

from evaluators.uss.metrics import USSResult
from plumbing.tables import format_table

SUMMARY_KEYS = ("mIoU", "pixel_accuracy", "image_accuracy", "mIoU_things", "mIoU_stuff")


def _cell(value) -> str:
    if isinstance(value, float):
        return "n/a" if math.isnan(value) else f"{value:.2f}"
    return str(value)


def class_rows(result: USSResult) -> list[tuple]:
    """(class id, name, IoU in percent, matched cluster or -1) per class."""
    cluster_of = {cls: cluster for cluster, cls in result.assignment.items() if cls >= 0}
    return [(i, name, float(result.ious[i]), cluster_of.get(i, -1)) for i, name in enumerate(result.class_names)]


def class_table(result: USSResult) -> str:
    """The per-class table as text (n/a: IoU 0/0, left out of a NaN-skipping mean)."""
    rows = [[_cell(v) for v in row] for row in class_rows(result)]
    return format_table(("id", "class", "IoU", "cluster"), rows, align_left=2)


def summary_table(result: USSResult) -> str:
    """The protocol and the scores in percent."""
    keys = [k for k in SUMMARY_KEYS if k in result.metrics]
    head = (f"{result.dataset or 'USS'}: {result.num_images} images, {result.num_classes} classes, "
            f"{result.clusters} clusters; matching {result.matching}, mean {result.mean}, extra {result.extra}")
    return head + "\n" + format_table(keys, [[_cell(result.metrics[k]) for k in keys]], align_left=0)
