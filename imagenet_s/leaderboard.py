"""A leaderboard of ImageNet-S submission archives, with scores cached by archive sha256."""
from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from evaluators.luss.masks import MaskFolder
from evaluators.luss.metrics import METRIC_KEYS
from imagenet_s.submission import METHOD_FIELDS, Limits, score_submission
from plumbing.errors import BadInputError
from plumbing.files import write_json
from plumbing.hashing import file_digest
from plumbing.system_files import is_system_file, warn_skipped

BOARD_COLUMNS = ("rank", "method", "archive", "match", *METRIC_KEYS, "training_data", "training_scheme",
                 "networks", "link", "sha256", "status")
_METHOD_COLUMNS = dict(zip(("method", "training_data", "training_scheme", "networks", "link"), METHOD_FIELDS))


def _ground_truth_key(gt: MaskFolder, num_classes: int, names: list[str] | None, limits: Limits) -> str:
    """What a cached score depends on besides the archive: ground truth files, mode, names, limits."""
    listing = [(n, (gt.root / n).stat().st_size) for n in gt.names()]
    context = [listing, num_classes, sorted(set(names)) if names is not None else None, asdict(limits)]
    return hashlib.sha256(json.dumps(context).encode()).hexdigest()


def leaderboard(directory: str | os.PathLike, gt_dir: str | os.PathLike, num_classes: int, *,
                cache_dir: str | os.PathLike | None = None, names: list[str] | None = None,
                limits: Limits | None = None, workers: int | None = None, progress: bool = True,
                notify: Callable[[str], None] = print) -> list[dict]:
    """Score every ``*.zip`` in ``directory`` (AppleDouble ``._*.zip`` files skipped with a warning); rows (dicts
    keyed by ``BOARD_COLUMNS``) best mIoU first.

    Scores and refusals are cached in ``cache_dir`` (default ``directory/.scores``) by archive sha256,
    valid while the ground truth, mode, names and limits stay the same.
    """
    directory, limits = Path(directory), limits or Limits()
    found = sorted(directory.glob("*.zip"))
    skipped = [a.name for a in found if is_system_file(a.name)]
    warn_skipped(str(directory), skipped)
    archives = [a for a in found if a.name not in skipped]
    if not archives:
        raise BadInputError(f"{directory}: no .zip archives")
    cache = Path(cache_dir) if cache_dir is not None else directory / ".scores"
    gt = MaskFolder(gt_dir, max_pixels=limits.max_pixels)
    context = _ground_truth_key(gt, num_classes, names, limits)
    rows = []
    for archive in archives:
        digest = file_digest(archive, "sha256")
        cached = cache / f"{digest}.json"
        entry = None
        if cached.is_file():
            try:
                stored = json.loads(cached.read_text())
                entry = stored["row"] if stored.get("context") == context else None
            except (ValueError, TypeError, KeyError):
                entry = None  # an unreadable cache entry is recomputed
        if entry is None:
            notify(f"scoring {archive.name}")
            entry = _board_row(archive, digest, gt, num_classes, names, limits, workers, progress, notify)
            write_json(cached, {"context": context, "row": entry})
        rows.append({**entry, "archive": archive.name, "sha256": digest})
    scored = sorted((r for r in rows if r["status"] == "ok"), key=lambda r: -r["mIoU"])
    for rank, row in enumerate(scored, start=1):
        row["rank"] = rank
    return scored + [r for r in rows if r["status"] != "ok"]


def _board_row(archive: Path, digest: str, gt: MaskFolder, num_classes, names, limits, workers, progress,
               notify) -> dict:
    try:
        scored = score_submission(archive, gt, num_classes, names=names, limits=limits, workers=workers,
                                  progress=progress, notify=notify, sha256=digest)
    except BadInputError as exc:
        notify(f"refused {archive.name}: {exc}")
        return {"status": f"refused: {exc}"}
    row = {column: scored.method[name] for column, name in _METHOD_COLUMNS.items()}
    row.update({k: None if math.isnan(v) else v for k, v in scored.result.metrics.items()})
    row.update(match=scored.match_source, status="ok")
    return row
