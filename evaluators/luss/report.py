"""Readable LUSS tables: the summary of the official metrics and the per-class IoUs."""
from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

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


SWEEP_SHOWN = ("mIoU", "Acc", "mBIoU", "FMeasure", "S", "MS", "ML", "L")


def sweep_table(curve: Sequence[dict]) -> str:
    """One row per threshold of a sweep curve (``SweepResult.to_dict()["curve"]``): the threshold (a fraction)
    and the main metrics in percent."""
    rows = [[f"{row['threshold']:.4g}", *(_cell(row[k]) for k in SWEEP_SHOWN)] for row in curve]
    return format_table(("threshold", *SWEEP_SHOWN), rows, align_left=0)


def plot_sweep(curve: Sequence[dict], best: dict, path, title: str = "PASS threshold sweep"):
    """Write a PNG of mIoU and FMeasure (percent) against the threshold (fraction), the best mIoU marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from evaluators.report import _save

    thresholds = [row["threshold"] for row in curve]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.plot(thresholds, [row["mIoU"] for row in curve], label="mIoU", linewidth=2)
    ax.plot(thresholds, [row["FMeasure"] for row in curve], label="FMeasure", linewidth=1.2)
    ax.scatter([best["threshold"]], [best["mIoU"]], color="red", zorder=3,
               label=f"best mIoU {best['mIoU']:.2f} at t = {best['threshold']:.2f}")
    ax.set(xlabel="attention threshold t (fraction)", ylabel="%", title=title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, Path(path))
