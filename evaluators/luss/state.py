"""State files of ``--shard K/N`` runs (``.npz``, no pickles) and merging them into one result.

Any accumulator with ``state()``/``from_state()``/``merge()`` can be saved: LUSS evaluators and match counters, and
classes naming their own ``STATE_KIND`` (``evaluators.uss.USSEvaluator``), read back by passing ``kinds``."""
from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np

from evaluators.luss.matching import MatchCounter
from evaluators.luss.metrics import LUSSEvaluator
from plumbing.errors import BadInputError, warn
from plumbing.files import atomic_write_bytes, load_numpy

STATE_VERSION = 1
EVALUATION, MATCHING = "luss-evaluation", "luss-matching"


def match_digest(match: dict[int, int] | None) -> str | None:
    """A fingerprint of a match, so that states evaluated under different matches are never merged."""
    if match is None:
        return None
    return hashlib.sha256(json.dumps(sorted(match.items())).encode()).hexdigest()


def save_state(path: str | os.PathLike, accumulated: LUSSEvaluator | MatchCounter, *,
               shard: tuple[int, int] | None = None, match: dict[int, int] | None = None,
               info: dict | None = None) -> Path:
    """Write an evaluator's or a match counter's state with what identifies the run (``info``: JSON values that
    must agree between merged shards, e.g. a dataset preset)."""
    state = accumulated.state()
    kind = getattr(accumulated, "STATE_KIND", None) or (EVALUATION if isinstance(accumulated, LUSSEvaluator)
                                                         else MATCHING)
    arrays = {k: v for k, v in state.items() if isinstance(v, np.ndarray)}
    meta = {k: v for k, v in state.items() if not isinstance(v, np.ndarray)}
    meta.update(version=STATE_VERSION, kind=kind, shard=list(shard) if shard else None, match=match_digest(match),
                info=info)
    buf = io.BytesIO()
    np.savez_compressed(buf, meta=np.array(json.dumps(meta)), **arrays)
    return atomic_write_bytes(path, buf.getvalue())


def load_state(path: str | os.PathLike, kinds: dict | None = None) -> tuple[LUSSEvaluator | MatchCounter, dict]:
    """Read a state file back; returns (evaluator or counter, metadata). ``kinds`` maps the accepted kinds to their
    classes (default: the LUSS evaluation and matching states).

    Raises:
        BadInputError: a missing, unreadable or incomplete file, or one of another kind or version."""
    kinds = kinds or {EVALUATION: LUSSEvaluator, MATCHING: MatchCounter}
    family = sorted(kinds)[0].split("-")[0].upper()  # LUSS, USS
    path = Path(path)
    try:
        data = load_numpy(path)
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise BadInputError(f"{path}: not a {family} state file (a single .npy array, not an .npz archive)")
        with data:
            meta = json.loads(str(data["meta"]))
            arrays = {k: data[k] for k in data.files if k != "meta"}
    except FileNotFoundError:
        raise BadInputError(f"{path}: no such file") from None
    except BadInputError as exc:
        if str(exc).startswith(f"{path}: not a {family} state file"):
            raise
        raise BadInputError(f"{path}: not a {family} state file (no NumPy .npz header)") from None
    except (ValueError, KeyError, OSError, zipfile.BadZipFile) as exc:
        raise BadInputError(f"{path}: not a {family} state file ({exc})") from None
    if not isinstance(meta, dict) or meta.get("version") != STATE_VERSION or meta.get("kind") not in kinds:
        raise BadInputError(f"{path}: not a {family} state file of version {STATE_VERSION}")
    kind = kinds[meta["kind"]]
    try:
        accumulated = kind.from_state({**meta, **arrays})
    except (KeyError, TypeError, ValueError) as exc:
        raise BadInputError(f"{path}: incomplete state ({exc})") from None
    return accumulated, meta


def merge_states(paths: list[str | os.PathLike], kinds: dict | None = None) -> tuple[LUSSEvaluator | MatchCounter,
                                                                                     dict]:
    """Merge the states of one run's shards; refuses mixing kinds, class counts, matches, shard counts or
    repeating a shard; warns when shards are missing. Returns (merged, metadata of the first)."""
    if not paths:
        raise BadInputError("merge: no state files given")
    merged, first = load_state(paths[0], kinds)
    seen = {tuple(first["shard"]) if first["shard"] else None: paths[0]}
    for path in paths[1:]:
        part, meta = load_state(path, kinds)
        for key in ("kind", "num_classes", "match", "info"):
            if meta.get(key) != first.get(key):
                raise BadInputError(f"{path}: {key} {meta.get(key)!r} differs from {paths[0]}'s {first.get(key)!r}")
        shard = tuple(meta["shard"]) if meta["shard"] else None
        if shard is None or None in seen or shard[1] != next(iter(seen))[1]:
            raise BadInputError(f"{path}: shard {meta['shard']} does not belong to the shards of {paths[0]} "
                                f"({first['shard']})")
        if shard in seen:
            raise BadInputError(f"{path}: shard {shard[0]}/{shard[1]} repeats {seen[shard]}")
        seen[shard] = path
        merged.merge(part)
    if first["shard"]:
        total = first["shard"][1]
        missing = sorted(set(range(1, total + 1)) - {k for k, _ in seen})
        if missing:
            warn(f"merge: shards {', '.join(f'{k}/{total}' for k in missing)} are missing; the result covers "
                 f"{len(seen)} of {total} shards")
    return merged, first
