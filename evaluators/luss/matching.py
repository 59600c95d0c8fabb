"""Hungarian matching of predicted labels to ground-truth classes, and match files.

The official matching (ImageNet-S ``match.py``): per image, the sets of labels 1..N present in the
ground truth and in the prediction (over non-ignored pixels); ``cost[i][j] = 1 - (images where
predicted label i+1 and ground-truth class j+1 co-occur) / (number of images)``, an N x N float32
matrix with predicted labels as rows, handed to the ``munkres`` package as the Python floats of those
float32 values; ``match[0] = 0``. Labels outside 1..N take no part. The result is the official one
whenever the same ``munkres`` version is installed: its assignment among tied optima depends on the
algorithm and on the exact cost values (float64 costs break some ties differently), so neither another
solver nor another precision is substituted.
"""
from __future__ import annotations

import json
import os
from importlib.metadata import version
from pathlib import Path

import munkres
import numpy as np

from evaluators.luss.masks import IGNORE, MAX_ID, as_uint16, count_ids
from plumbing.errors import BadInputError, IncompatibleError, warn
from plumbing.files import atomic_write_text

NO_CLASS = MAX_ID  # what predicted labels missing from a match become: a label outside 0..N


def munkres_version() -> str:
    """The installed ``munkres`` package's version; the matching equals the official one only under the
    version upstream used (ties among optima depend on it)."""
    return version("munkres")


def label_sets(gt: np.ndarray, pred: np.ndarray, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Labels 1..N present in the ground truth and in the prediction, over non-ignored pixels."""
    n = num_classes
    gt16 = as_uint16(gt)
    pred_kept = np.minimum(as_uint16(pred), n + 1)
    pred_kept[gt16 == IGNORE] = 0
    return np.flatnonzero(count_ids(gt16, n + 1)[1:]) + 1, np.flatnonzero(count_ids(pred_kept, n + 1)[1:]) + 1


class MatchCounter:
    """Image-level co-occurrence of predicted labels and ground-truth classes; mergeable by addition.

    ``cooccurrence[i, j]`` counts the images where predicted label i+1 and ground-truth class j+1 occur.
    """

    def __init__(self, num_classes: int):
        if not 1 <= int(num_classes) < IGNORE:
            raise BadInputError(f"num_classes must lie in 1..{IGNORE - 1}, got {num_classes}")
        self.num_classes = int(num_classes)
        self.cooccurrence = np.zeros((self.num_classes, self.num_classes), np.int64)
        self.num_images = 0

    def update(self, gt: np.ndarray, pred: np.ndarray) -> None:
        """Add one image (ground truth and raw prediction, (H, W) integer ids)."""
        self.add_label_sets(*label_sets(np.asarray(gt), np.asarray(pred), self.num_classes))

    def add_label_sets(self, gt_labels: np.ndarray, pred_labels: np.ndarray) -> None:
        """Add one image given its label sets (distinct labels in 1..N)."""
        self.cooccurrence[np.ix_(np.asarray(pred_labels) - 1, np.asarray(gt_labels) - 1)] += 1
        self.num_images += 1

    def merge(self, other: MatchCounter) -> MatchCounter:
        """Add ``other``'s co-occurrences and images to this counter in place; returns ``self``.

        Raises:
            IncompatibleError: the counters have different numbers of classes."""
        if other.num_classes != self.num_classes:
            raise IncompatibleError(f"cannot merge matchings of {other.num_classes} and {self.num_classes} classes")
        self.cooccurrence += other.cooccurrence
        self.num_images += other.num_images
        return self

    def state(self) -> dict:
        """The counter as plain values: ``num_classes``, ``cooccurrence`` (N x N int64 copy), ``num_images``."""
        return {"num_classes": self.num_classes, "cooccurrence": self.cooccurrence.copy(),
                "num_images": self.num_images}

    @classmethod
    def from_state(cls, state: dict) -> MatchCounter:
        """A counter rebuilt from ``state()``'s dict.

        Raises:
            BadInputError: ``num_classes`` out of range, or a co-occurrence that is not an N x N integer array."""
        counter = cls(int(state["num_classes"]))
        cooc = np.asarray(state["cooccurrence"])
        if cooc.shape != counter.cooccurrence.shape or cooc.dtype.kind not in "iu":
            raise BadInputError(f"state: co-occurrence of shape {cooc.shape} does not fit {counter.num_classes} "
                                "classes")
        counter.cooccurrence = cooc.astype(np.int64)
        counter.num_images = int(state["num_images"])
        return counter

    def cost_matrix(self) -> np.ndarray:
        """The official cost, float32: 1 - co-occurrence / number of images (rows: predicted labels).

        As upstream, each entry is computed in float64 and stored in a float32 matrix.
        """
        if self.num_images == 0:
            raise BadInputError("no images to match")
        return (1.0 - self.cooccurrence / self.num_images).astype(np.float32)

    def match(self) -> dict[int, int]:
        """The official matching {predicted label: ground-truth class}, 0 -> 0 included."""
        return assign(self.cost_matrix())


def munkres_pairs(cost: np.ndarray) -> list[tuple[int, int]]:
    """The minimum-cost assignment of ``munkres`` on a (rows, columns) cost rounded to float32 and passed as Python
    floats, as the official LUSS matching does; a rectangular cost is padded by ``munkres`` itself. Returns the
    (row, column) pairs, one per row or per column, whichever are fewer."""
    pairs = munkres.Munkres().compute(np.asarray(cost, np.float32).tolist())
    return [(int(row), int(col)) for row, col in pairs]


def assign(cost: np.ndarray) -> dict[int, int]:
    """Solve the N x N assignment with ``munkres`` as upstream does: on the float32 cost values (``cost`` is
    rounded to float32 first), passed as Python floats. Returns {row + 1: column + 1, 0: 0}."""
    match = {row + 1: col + 1 for row, col in munkres_pairs(cost)}
    match[0] = 0
    return dict(sorted(match.items()))


def parse_match(obj, num_classes: int, source: str) -> dict[int, int]:
    """Validate a decoded match file: an object of string keys "0".."N" to distinct ids 0..N.

    Keys may be missing (those predicted labels count for no class). Raises BadInputError naming the
    offending key or value.
    """
    if not isinstance(obj, dict):
        raise BadInputError(f"{source}: expected a JSON object of \"label\": class, got {type(obj).__name__}")
    match: dict[int, int] = {}
    owner: dict[int, str] = {}
    for key, value in obj.items():
        if not (isinstance(key, str) and key.isdigit() and key == str(int(key)) and int(key) <= num_classes):
            raise BadInputError(f"{source}: key {key!r} is not a label in \"0\"..\"{num_classes}\"")
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= num_classes:
            raise BadInputError(f"{source}: key {key!r} maps to {value!r}, not a class id in 0..{num_classes}")
        if value in owner:
            raise BadInputError(f"{source}: keys {owner[value]!r} and {key!r} both map to {value} "
                                "(a match must be one-to-one)")
        owner[value] = key
        match[int(key)] = value
    if 0 not in match:
        warn(f"{source}: no key \"0\": predicted background counts for no class")
    return dict(sorted(match.items()))


def _no_duplicate_keys(pairs):
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        dup = next(k for k in keys if keys.count(k) > 1)
        raise BadInputError(f"duplicate key {dup!r}")
    return dict(pairs)


def loads_match(text: str | bytes, num_classes: int, source: str) -> dict[int, int]:
    """Parse and validate the text of a match file (see ``parse_match``); duplicate keys are refused.

    Raises:
        BadInputError: invalid JSON or UTF-8, a duplicate key, or any refusal of ``parse_match``."""
    try:
        obj = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except BadInputError as exc:
        raise BadInputError(f"{source}: {exc}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadInputError(f"{source}: not valid JSON ({exc})") from None
    return parse_match(obj, num_classes, source)


def read_match(path: str | os.PathLike, num_classes: int) -> dict[int, int]:
    """Read and validate an official match file (``{"0": 0, "1": 17, ...}``)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise BadInputError(f"{path}: no such file") from None
    return loads_match(data, num_classes, str(path))


def write_match(path: str | os.PathLike, match: dict[int, int]) -> Path:
    """Write a match in the official format: string keys, integer values."""
    return atomic_write_text(path, json.dumps({str(k): int(v) for k, v in sorted(match.items())}) + "\n")


def match_lookup(match: dict[int, int] | None) -> np.ndarray | None:
    """A (65536,) uint16 table from raw predicted ids to matched classes; unmatched ids -> NO_CLASS."""
    if match is None:
        return None
    table = np.full(MAX_ID + 1, NO_CLASS, np.uint16)
    table[np.fromiter(match.keys(), np.intp)] = np.fromiter(match.values(), np.intp)
    return table

