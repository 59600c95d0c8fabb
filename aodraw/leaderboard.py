"""A leaderboard of AODRaw submissions (``aodraw leaderboard``), scores cached by sha256 like ImageNet-S's
(``plumbing.archives.ScoreCache``), and its board for the static site (``plumbing.site``)."""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from aodraw.submission import METHOD_FIELDS, score_submission
from evaluators.detection.validate import load_ground_truth
from evaluators.report import plot_detection
from plumbing.archives import ArchiveLimits, ScoreCache, list_submissions
from plumbing.errors import BadInputError
from plumbing.hashing import file_digest
from plumbing.site import Board, Column, Page, Table, page_slug, registry_entries

METRICS = ("AP", "AP50", "AP75", "APs", "APm", "APl")
HEAD_COLUMNS = ("rank", "method", "submission", "input", "backbone", "pretraining", "link", *METRICS)
TAIL_COLUMNS = ("sha256", "status")
_METHOD_COLUMNS = dict(zip(("method", "input", "backbone", "pretraining", "link"), METHOD_FIELDS))
PLOTS = ("pr_curves.png", "conditions_ap.png")
CONDITION_PREFIX = "AP_"
_CACHE_VERSION = "names-per-file"  # entries cached before held the first file's name as the method's


def board_columns(rows: list[dict]) -> list[str]:
    """The CSV columns of ``rows``: ``HEAD_COLUMNS``, ``AP_<bucket>`` for every condition bucket of the scored rows
    (the ground truth's buckets, in the evaluator's order), then ``sha256`` and ``status``."""
    buckets = []
    for row in rows:
        for key in row.get("conditions", {}):
            if key not in buckets:
                buckets.append(key)
    return [*HEAD_COLUMNS, *(CONDITION_PREFIX + b for b in buckets), *TAIL_COLUMNS]


def leaderboard(directory: str | os.PathLike, gt: str | os.PathLike, preset: str = "aodraw", *,
                cache_dir: str | os.PathLike | None = None, limits: ArchiveLimits | None = None,
                notify: Callable[[str], None] = print, plots: bool = False) -> list[dict]:
    """Score every ``*.zip`` and ``*.json`` submission in ``directory`` (but ``gt`` itself) once; rows best AP
    first, refused ones last.

    A row holds ``board_columns`` keys (metrics as fractions, -1 undefined; ``AP_<bucket>`` per condition bucket),
    ``conditions`` (bucket -> AP), ``record`` (the JSON of ``aodraw score``) and ``plots`` (PR curves and
    per-condition AP bars, when ``plots``). Scores and refusals are cached in ``cache_dir`` (default
    ``directory/.scores``) by sha256, valid while the ground truth file, the preset and the limits stay the same.
    Raises:
        BadInputError: no submission in ``directory``; a malformed ground truth.
    """
    directory, limits = Path(directory), limits or ArchiveLimits()
    submissions = [p for p in list_submissions(directory, ["*.zip", "*.json"], ".zip or .json submissions")
                   if p.resolve() != Path(gt).resolve()]  # the ground truth kept beside the submissions
    truth = load_ground_truth(gt)
    cache = ScoreCache(cache_dir if cache_dir is not None else directory / ".scores",
                       [file_digest(gt, "sha256"), preset, asdict(limits), _CACHE_VERSION])
    return cache.ranked_rows(submissions, lambda path, digest, plot_dir: _score_entry(
        path, digest, truth, preset, limits, notify, plot_dir), "AP", "submission", PLOTS, plots, notify)


def _score_entry(path: Path, digest: str, truth, preset: str, limits, notify, plot_dir: Path | None) -> dict:
    try:
        scored = score_submission(path, truth, preset, limits=limits, sha256=digest, name_unnamed=False)
    except BadInputError as exc:
        notify(f"refused {path.name}: {exc}")
        return {"row": {"status": f"refused: {exc}"}}
    if plot_dir is not None:
        plot_detection(scored.result, plot_dir)
    record = scored.to_dict()
    row = {column: scored.method[name] for column, name in _METHOD_COLUMNS.items()}
    row.update({k: record["metrics"][k] for k in METRICS})
    row["conditions"] = {name: c["AP"] for name, c in record["conditions"].items()}
    row.update({CONDITION_PREFIX + name: ap for name, ap in row["conditions"].items()})
    row["status"] = "ok"
    return {"row": row, "record": record}


def reference_rows(preset: str) -> list[dict]:
    """The published baselines of the shipped recipes for ``preset`` as marked board rows (AP as a fraction): read
    from ``aodraw.recipes.RECIPES`` (``published_AP`` in percent; slice recipes for ``aodraw-slice``, the others
    for ``aodraw``); no rows when the registry is missing or has no published number."""
    wanted = "slice" if preset == "aodraw-slice" else "downsample"
    rows = []
    for entry in registry_entries("aodraw.recipes"):
        ap = entry.get("published_AP")
        if not isinstance(ap, (int, float)) or entry.get("data", "downsample") != wanted:
            continue
        pretrained_raw = entry.get("input") == "raw-pretraining"
        rows.append({"method": f"{entry.get('detector', '')} {entry.get('backbone', '')}".strip() or entry["name"],
                     "input": "raw" if entry.get("input", "").startswith("raw") else "srgb",
                     "backbone": entry.get("backbone", ""), "pretraining": "RAW" if pretrained_raw else "sRGB",
                     "AP": ap / 100, "_reference": True})
    return rows


def site_board(rows: list[dict], preset: str) -> Board:
    """The site board of a leaderboard's ``rows`` (as ``leaderboard`` returns them), the shipped recipes' published
    AP as reference rows, per-condition AP columns shaded by value, and one page per scored submission."""
    names = [c[len(CONDITION_PREFIX):] for c in board_columns(rows) if c.startswith(CONDITION_PREFIX)]
    columns = (Column("method", "Method", numeric=False), Column("rank", "Rank", digits=0, ascending_first=True),
               Column("input", "Input", numeric=False), Column("backbone", "Backbone", numeric=False),
               Column("pretraining", "Pre-training", numeric=False),
               *(Column(k, k, scale=100, title="percent, AODRaw protocol") for k in METRICS),
               *(Column(CONDITION_PREFIX + n, n, scale=100, shade=True, title=f"AP (percent) on condition {n}")
                 for n in names),
               Column("submission", "Submission", numeric=False), Column("status", "Status", numeric=False))
    table_rows, pages = [], []
    for row in rows:
        shown = {**row, "method": row.get("method") or f"(unnamed) {row['submission']}"}
        if row["status"] == "ok" and row.get("record"):
            shown["_page"] = page_slug(row["submission"], row["sha256"])
            pages.append(_page(shown))
        table_rows.append(shown)
    scored = [r for r in table_rows if r["status"] == "ok"]
    ordered = sorted(scored + reference_rows(preset), key=lambda r: -r["AP"])
    table = Table(f"AODRaw submissions ({preset} preset), AP in percent, best AP first", columns,
                  ordered + [r for r in table_rows if r["status"] != "ok"], sorted_by="AP")
    return Board(f"aodraw-{preset}", "AODRaw", f"AODRaw ({preset} preset)",
                 "Detections scored with the AODRaw protocol (official counting): COCO AP at the preset's area "
                 "ranges and detection limits, ignore regions, AP per light/weather condition. Rows marked "
                 "published are the paper's test-set AP of the shipped recipes.", table, pages)


def _page(row: dict) -> Page:
    record = row["record"]
    facts = [(name, record["method"].get(name, "")) for name in METHOD_FIELDS]
    facts += [("Submission", row["submission"]), ("sha256", row["sha256"]), ("Preset", record["preset"]),
              ("Protocol", record["protocol"]), ("Rank", str(row.get("rank", "")))]
    overall = Table("Overall, percent (AP at 100 detections; AP50 to APl at the last limit)",
                    (Column("scope", "Scope", numeric=False), *(Column(k, k, scale=100) for k in record["metrics"])),
                    [{"scope": "all images", **record["metrics"]}])
    conditions = Table("Per condition, percent", (
        Column("name", "Condition", numeric=False), Column("AP", "AP", scale=100, shade=True),
        Column("AP50", "AP50", scale=100), Column("AP75", "AP75", scale=100),
        Column("num_images", "Images", digits=0)),
        [{"name": n, **c} for n, c in record["conditions"].items()])
    categories = Table("Per category, percent", (
        Column("name", "Category", numeric=False), Column("AP", "AP", scale=100), Column("AP50", "AP50", scale=100)),
        [{"name": n, **c} for n, c in record["categories"].items()], collapsed=True)
    alts = {"pr_curves.png": "Precision-recall curves at IoU 0.50 per condition",
            "conditions_ap.png": "AP per condition"}
    images = [(p, f"{alts.get(Path(p).name, Path(p).stem)}, {row['method']}") for p in row.get("plots", [])]
    return Page(row["_page"], row["method"], facts, [overall, conditions, categories], images)
