"""Readable LUSS tables: the summary of the official metrics and the per-class IoUs."""
from __future__ import annotations

import math
from collections.abc import Sequence

from evaluators.luss.metrics import LUSSResult
from plumbing.errors import BadInputError
from plumbing.tables import format_table

SUMMARY_GROUPS = (("mIoU", "Acc", "mBIoU", "FMeasure"), ("S", "MS", "ML", "L"), ("BS", "BMS", "BML", "BL"))


def _cell(value) -> str:
    if isinstance(value, float):
        return "n/a" if math.isnan(value) else f"{value:.2f}"
    return str(value)


def class_names(num_classes: int, wnids: Sequence[str] | None = None) -> list[str]:
    """Display names of ids 0..N: "background", then WordNet ids when known, else the ids."""
    if wnids is not None and len(wnids) != num_classes:
        raise BadInputError(f"expected {num_classes} category names, got {len(wnids)}")
    return ["background"] + (list(wnids) if wnids is not None else [str(i) for i in range(1, num_classes + 1)])


def class_rows(result: LUSSResult, wnids: Sequence[str] | None = None) -> list[tuple]:
    """(id, name, IoU, boundary IoU) per class 0..N, in percent."""
    names = class_names(result.num_classes, wnids)
    return [(i, names[i], float(result.ious[i]), float(result.boundary_ious[i])) for i in range(len(names))]


def class_table(result: LUSSResult, wnids: Sequence[str] | None = None) -> str:
    """The per-class table (id, class name, IoU and boundary IoU in percent) of ids 0..N as text."""
    rows = [[_cell(c) for c in row] for row in class_rows(result, wnids)]
    return format_table(("id", "class", "IoU", "BIoU"), rows, align_left=2)


def summary_table(result: LUSSResult) -> str:
    """The official metrics in percent, in three rows of four (n/a: no class of that size anywhere)."""
    blocks = []
    for group in SUMMARY_GROUPS:
        blocks.append(format_table(group, [[_cell(result.metrics[k]) for k in group]], align_left=0))
    return f"{result.num_images} images, {result.num_classes} classes\n" + "\n\n".join(blocks)
