"""A leaderboard of ImageNet-S submission archives, with scores cached by archive sha256
(``plumbing.archives.ScoreCache``), and its board for the static site (``plumbing.site``)."""
from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from evaluators.luss.masks import GroundTruthError, MaskFolder
from evaluators.luss.metrics import METRIC_KEYS
from evaluators.report import plot_luss
from imagenet_s.submission import METHOD_FIELDS, Limits, score_submission
from plumbing.archives import ScoreCache, list_submissions
from plumbing.errors import BadInputError
from plumbing.site import Board, Column, Page, Table, page_slug, registry_entries

BOARD_COLUMNS = ("rank", "method", "archive", "match", *METRIC_KEYS, "training_data", "training_scheme",
                 "networks", "link", "sha256", "status")
_METHOD_COLUMNS = dict(zip(("method", "training_data", "training_scheme", "networks", "link"), METHOD_FIELDS))
PLOTS = ("iou_histogram.png",)


def _context(gt: MaskFolder, num_classes: int, names: list[str] | None, limits: Limits) -> list:
    """What a cached score depends on besides the archive: ground truth files, mode, names, limits."""
    listing = [(n, (gt.root / n).stat().st_size) for n in gt.names()]
    return [listing, num_classes, sorted(set(names)) if names is not None else None, asdict(limits)]


def leaderboard(directory: str | os.PathLike, gt_dir: str | os.PathLike, num_classes: int, *,
                cache_dir: str | os.PathLike | None = None, names: list[str] | None = None,
                limits: Limits | None = None, workers: int | None = None, progress: bool = True,
                notify: Callable[[str], None] = print, plots: bool = False) -> list[dict]:
    """Score every ``*.zip`` in ``directory`` (AppleDouble ``._*.zip`` files skipped with a warning); rows (dicts
    keyed by ``BOARD_COLUMNS``, plus ``record``, the full JSON record of ``imagenet-s score``, and ``plots``, the
    plot files) best mIoU first, refused archives last.

    Scores and refusals are cached in ``cache_dir`` (default ``directory/.scores``) by archive sha256,
    valid while the ground truth, mode, names and limits stay the same. With ``plots`` the per-class IoU histogram
    is drawn too (kept in the cache beside the score).
    """
    directory, limits = Path(directory), limits or Limits()
    archives = list_submissions(directory, ["*.zip"], ".zip archives")
    gt = MaskFolder(gt_dir, max_pixels=limits.max_pixels)
    cache = ScoreCache(cache_dir if cache_dir is not None else directory / ".scores",
                       _context(gt, num_classes, names, limits))
    return cache.ranked_rows(archives, lambda path, digest, plot_dir: _score_entry(
        path, digest, gt, num_classes, names, limits, workers, progress, notify, plot_dir), "mIoU", "archive", PLOTS,
        plots, notify)



def _score_entry(archive: Path, digest: str, gt: MaskFolder, num_classes, names, limits, workers, progress,
                 notify, plot_dir: Path | None) -> dict:
    try:
        scored = score_submission(archive, gt, num_classes, names=names, limits=limits, workers=workers,
                                  progress=progress, notify=notify, sha256=digest, name_unnamed=False)
    except GroundTruthError:
        raise  # the ground truth's fault (e.g. the wrong --mode): stop, refuse and cache no submission for it
    except BadInputError as exc:
        notify(f"refused {archive.name}: {exc}")
        return {"row": {"status": f"refused: {exc}"}}
    if plot_dir is not None:
        plot_luss(scored.result, plot_dir)
    row = {column: scored.method[name] for column, name in _METHOD_COLUMNS.items()}
    row.update({k: None if math.isnan(v) else v for k, v in scored.result.metrics.items()})
    row.update(match=scored.match_source, status="ok")
    record = scored.to_dict()
    return {"row": row, "record": {k: (None if isinstance(v, float) and math.isnan(v) else v)
                                   for k, v in record.items()}}


def reference_rows(num_classes: int) -> list[dict]:
    """Published baselines of the shipped ImageNet-S recipes for mode ``num_classes`` as marked board rows: read
    from ``imagenet_s.recipes.RECIPES`` when that registry exists (objects or dicts with ``name``, ``mode``,
    ``backbone``, ``pretraining``, ``scheme``, ``published_mIoU_val``/``published_mIoU_test`` in percent); no rows
    when it does not."""
    rows = []
    for entry in registry_entries("imagenet_s.recipes"):
        if str(entry.get("mode")) != str(num_classes):
            continue
        for split in ("val", "test"):
            value = entry.get(f"published_mIoU_{split}")
            if isinstance(value, (int, float)):
                rows.append({"method": entry.get("name", "recipe"), "networks": entry.get("backbone", ""),
                             "training_data": entry.get("pretraining", ""),
                             "training_scheme": entry.get("scheme", ""), "mIoU": float(value),
                             "_reference": True, "_note": f"published, {split} set"})
                break
    return rows


def site_board(rows: list[dict], num_classes: int) -> Board:
    """The site board of a leaderboard's ``rows`` (as ``leaderboard`` returns them) with the recipes' published
    baselines as reference rows, and one page per scored archive (metrics, per-class IoUs, IoU histogram)."""
    columns = (Column("method", "Method", numeric=False), Column("rank", "Rank", digits=0, ascending_first=True),
               *(Column(k, k, digits=2, title="percent") for k in ("mIoU", "Acc", "mBIoU", "FMeasure")),
               *(Column(k, k, digits=2, shade=True, title="mIoU of the classes of that size, percent")
                 for k in ("S", "MS", "ML", "L")),
               Column("training_data", "Training data", numeric=False),
               Column("training_scheme", "Training scheme", numeric=False),
               Column("networks", "Networks", numeric=False),
               Column("match", "Match", numeric=False), Column("archive", "Archive", numeric=False),
               Column("status", "Status", numeric=False))
    table_rows, pages = [], []
    for row in rows:
        shown = {**row, "method": row.get("method") or f"(unnamed) {row['archive']}"}
        if row["status"] == "ok" and row.get("record"):
            shown["_page"] = page_slug(row["archive"], row["sha256"])
            pages.append(_page(shown, num_classes))
        table_rows.append(shown)
    references = reference_rows(num_classes)
    scored = [r for r in table_rows if r["status"] == "ok"]
    ordered = sorted(scored + references, key=lambda r: -(r.get("mIoU") or 0))
    table = Table(f"ImageNet-S{num_classes} submissions, values in percent, best mIoU first", columns,
                  ordered + [r for r in table_rows if r["status"] != "ok"], sorted_by="mIoU")
    return Board(f"imagenet-s-{num_classes}", "ImageNet-S", f"ImageNet-S{num_classes} (LUSS)",
                 f"Submissions scored with the official LUSS metrics (Hungarian-matched mIoU) on {num_classes} "
                 "classes; rows marked published are the reported numbers of the shipped recipes.", table, pages)


def _page(row: dict, num_classes: int) -> Page:
    record = row["record"]
    facts = [(name, record["method"].get(name, "")) for name in METHOD_FIELDS]
    facts += [("Archive", row["archive"]), ("sha256", row["sha256"]), ("Match", record["match"]),
              ("Images", str(record["num_images"])), ("Rank", str(row.get("rank", "")))]
    metrics = Table("Official metrics, percent",
                    (Column("scope", "Scope", numeric=False), *(Column(k, k, digits=2) for k in METRIC_KEYS)),
                    [{"scope": "all images", **{k: record.get(k) for k in METRIC_KEYS}}])
    ious = record.get("IoUs") or []
    per_class = Table("IoU per class, percent (0 = background)",
                      (Column("id", "Class id", digits=0), Column("IoU", "IoU", digits=2)),
                      [{"id": i, "IoU": v} for i, v in enumerate(ious)], collapsed=True)
    images = [(p, f"Histogram of the per-class IoUs of {row['method']}") for p in row.get("plots", [])]
    return Page(row["_page"], row["method"], facts, [metrics, per_class], images)

