"""Rendering results for people: text tables, long-format CSV rows and plots."""
from __future__ import annotations

import io
from pathlib import Path

from plumbing.files import atomic_write_bytes
from plumbing.tables import format_table, percent


def detection_report(result) -> str:
    """The overall metrics, the per-condition table and the per-category table of a DetectionResult."""
    m = result.metrics
    head = (f"preset {result.preset} | protocol {result.protocol} | backend {result.backend} | "
            f"values in % (-: no ground truth)")
    overall = format_table(list(m), [[percent(v) for v in m.values()]], "Overall", align_left=0)
    conditions = format_table(
        ["condition", "AP", "AP50", "AP75", "images"],
        [[name, percent(c["AP"]), percent(c["AP50"]), percent(c["AP75"]), c["num_images"]]
         for name, c in result.conditions.items()], "Per condition")
    categories = format_table(["category", "id", "AP", "AP50"],
                              [[key, c["id"], percent(c["AP"]), percent(c["AP50"])]
                               for key, c in result.categories.items()], "Per category", align_left=2)
    parts = [head, overall, conditions, categories]
    if result.errors:
        e = result.errors
        parts.append(format_table(["error", "count", "dAP"],
                                  [[k, e["counts"].get(k, "-"), percent(v)] for k, v in e["delta_ap"].items()],
                                  f"TIDE errors (AP50 base {percent(e['ap_base'])})"))
    return "\n\n".join(parts)


def detection_rows(result) -> list:
    """Long-format rows (scope, name, metric, value) of every number in a DetectionResult."""
    rows = [("overall", "all", k, v) for k, v in result.metrics.items()]
    rows += [("condition", name, k, v) for name, c in result.conditions.items() for k, v in c.items()]
    rows += [("category", name, k, v) for name, c in result.categories.items() for k, v in c.items()]
    if result.errors:
        rows += [("tide", k, "delta_ap", v) for k, v in result.errors["delta_ap"].items()]
    return rows


def plot_detection(result, out_dir: str | Path) -> list:
    """Write ``pr_curves.png`` (PR at IoU .50 per condition) and ``conditions_ap.png``; return the paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    out_dir = Path(out_dir)
    recall = np.linspace(0, 1, 101)
    fig, ax = plt.subplots(figsize=(7, 5))
    for name in result.buckets:
        curve = result.pr_curve(name, 0.5)
        if (curve > -1).any():
            label = f"{name} (AP50 {percent(result.conditions[name]['AP50'])})"
            ax.plot(recall, np.where(curve > -1, curve, np.nan), label=label, linewidth=2.5 if name == "all" else 1.2)
    ax.set(xlabel="recall", ylabel="precision", xlim=(0, 1), ylim=(0, 1.02),
           title=f"Precision-recall at IoU 0.50 per condition ({result.preset}, {result.protocol})")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    paths = [_save(fig, out_dir / "pr_curves.png")]

    names = list(result.conditions)
    fig, ax = plt.subplots(figsize=(max(6, 0.8 * len(names)), 4.5))
    values = [max(result.conditions[n]["AP"], 0) * 100 for n in names]
    bars = ax.bar(names, values, color=["#444444" if n == "all" else "#4C72B0" for n in names])
    ax.bar_label(bars, labels=[percent(result.conditions[n]["AP"]) for n in names], fontsize=8)
    ax.set(ylabel="AP (%)", title=f"AP per condition ({result.preset}, {result.protocol})")
    ax.tick_params(axis="x", rotation=30)
    fig.tight_layout()
    paths.append(_save(fig, out_dir / "conditions_ap.png"))
    return paths


def plot_luss(result, out_dir: str | Path) -> list:
    """Write ``iou_histogram.png``, the histogram of the per-class IoUs (percent) of a LUSSResult (classes 1..N;
    background and classes absent everywhere, NaN, left out), the mIoU marked; return the paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    ious = np.asarray(result.ious, float)[1:]
    ious = ious[np.isfinite(ious)]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.hist(ious, bins=np.linspace(0, 100, 21), color="#4C72B0", edgecolor="white")
    miou = result.metrics["mIoU"]
    if miou == miou:
        ax.axvline(miou, color="#C44E52", linewidth=2, label=f"mIoU {miou:.2f}")
        ax.legend()
    ax.set(xlabel="IoU of a class (%)", ylabel="classes", xlim=(0, 100),
           title=f"Per-class IoU, {len(ious)} classes, {result.num_images} images")
    ax.grid(alpha=0.3, axis="y")
    return [_save(fig, Path(out_dir) / "iou_histogram.png")]


def _save(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120, bbox_inches="tight")
    plt.close(fig)
    return atomic_write_bytes(path, buf.getvalue())
