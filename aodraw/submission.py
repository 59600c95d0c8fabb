"""Scoring AODRaw submissions: a COCO results JSON, or a zip holding one plus ``method.txt``.

The zip is read with the toolkit's one safe archive reader (``plumbing.archives``, the reader of ``imagenet-s
score``): never extracted, central directory checked first (paths, symlinks, encryption, compression ratio, total
size), operating-system metadata skipped unread. It must hold exactly one ``.json`` (the detections, as MMDetection's
``--format-only`` writes them) and may hold ``method.txt`` with the ``METHOD_FIELDS`` as ``Field: value`` lines;
nothing else. The detections are validated against the ground truth and scored with the AODRaw protocol
(``evaluators.detection``: overall, per condition, per category), exactly as ``aodraw evaluate``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from evaluators.detection import evaluate_detections
from evaluators.detection.core import DetectionResult
from evaluators.detection.validate import GroundTruth, load_detections, load_ground_truth
from plumbing.archives import (
    METHOD_FILE,
    ArchiveLimits,
    check_archive,
    name_method,
    open_zip,
    parse_fields,
    read_member,
)
from plumbing.errors import BadInputError
from plumbing.hashing import file_digest

METHOD_FIELDS = ("Method name", "Input", "Backbone", "Pre-training", "Paper/Project link", "Method description")
INPUTS = ("srgb", "raw")
SUBMISSION_PRESETS = ("aodraw", "aodraw-slice")
DEFAULT_LIMITS = ArchiveLimits()
_ACCEPTED = f"a COCO results .json or {METHOD_FILE} at the root"


def _kind_of(name: str) -> str | None:
    if "/" in name:
        return None
    if name == METHOD_FILE:
        return "text"
    return "results" if name.lower().endswith(".json") else None


def _check_head(path: Path, name: str):
    def check(head: bytes) -> None:
        start = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
        if start and start != b"[":
            raise BadInputError(f"{path.name}:{name}: detections must be a JSON list of COCO results "
                                f"({{image_id, category_id, bbox, score}}), starting with '['")
    return check


def read_submission(path: str | os.PathLike, gt: GroundTruth, limits: ArchiveLimits = DEFAULT_LIMITS):
    """``(detections, method.txt bytes or None)`` of a submission: a ``.json`` file, or a ``.zip`` checked with
    ``plumbing.archives.check_archive`` whose one results member is read without extraction.

    Raises:
        BadInputError: any refusal of the archive reader (zip slip, symlink, bomb, ...), a zip without exactly one
            results ``.json``, a file that is neither ``.json`` nor ``.zip``, detections that do not validate
            against ``gt`` (unknown image or category ids, malformed boxes, ...).
    """
    path = Path(path)
    if path.suffix.lower() == ".json":
        if not path.is_file():
            raise BadInputError(f"{path}: no such file")
        return load_detections(path, gt), None
    if path.suffix.lower() != ".zip":
        raise BadInputError(f"{path}: a submission is a COCO results .json or a .zip holding one")
    checked = check_archive(path, limits, _kind_of, _ACCEPTED, texts=(METHOD_FILE,))
    results = checked.members.get("results", [])
    if len(results) != 1:
        found = ", ".join(results) if results else "none"
        raise BadInputError(f"{path.name}: expected exactly one COCO results .json at the root, found {found}")
    with open_zip(path) as zf:
        data = read_member(zf, path, results[0], _check_head(path, results[0]))
    return load_detections(data, gt, source=f"{path.name}:{results[0]}"), checked.texts.get(METHOD_FILE)


def parse_method(text: bytes | None, source: str) -> dict[str, str]:
    """The ``METHOD_FIELDS`` of method.txt (``plumbing.archives.parse_fields``; missing ones warned about, empty);
    ``Input`` lower-cased. Raises BadInputError when ``Input`` is given but not ``srgb`` or ``raw``."""
    method = parse_fields(text, METHOD_FIELDS, source)
    method["Input"] = method["Input"].lower()
    if method["Input"] and method["Input"] not in INPUTS:
        raise BadInputError(f"{source}: {METHOD_FILE}: Input is {method['Input']!r}; expected one of "
                            f"{', '.join(INPUTS)}")
    return method


@dataclass(frozen=True)
class SubmissionScore:
    """A scored submission: its file name, sha256 (hex), method.txt fields and the AODRaw-protocol result."""

    submission: str
    sha256: str
    method: dict
    result: DetectionResult = field(repr=False)

    def to_dict(self) -> dict:
        """The JSON record: ``submission``, ``sha256``, ``method``, then every key of ``aodraw evaluate --json``
        (preset, backend, protocol, params, stats, metrics, conditions, categories; fractions, -1 undefined)."""
        return {"submission": self.submission, "sha256": self.sha256, "method": self.method,
                **self.result.to_dict()}


def score_submission(path: str | os.PathLike, gt, preset: str = "aodraw", *,
                     limits: ArchiveLimits = DEFAULT_LIMITS, sha256: str | None = None,
                     name_unnamed: bool = True) -> SubmissionScore:
    """Validate a submission (``read_submission``) and score it with the AODRaw protocol (official counting). A
    submission without a method name (a plain results ``.json``, or a zip without one in ``method.txt``) is named
    by its file name (``name_method``), unless ``name_unnamed`` is False (a leaderboard's cache keeps only what the
    bytes decide and names each file itself).

    ``gt`` is the ground-truth path or a ``GroundTruth`` already loaded (a leaderboard loads it once); ``sha256``
    the submission's digest when the caller has it.
    Raises:
        BadInputError: an unknown preset (only ``aodraw`` and ``aodraw-slice`` are AODRaw protocols), any refusal
            of ``read_submission`` or ``parse_method``, a malformed ground truth.
    """
    if preset not in SUBMISSION_PRESETS:
        raise BadInputError(f"unknown preset {preset!r} for a submission; choose one of "
                            f"{', '.join(SUBMISSION_PRESETS)}")
    path = Path(path)
    gt = load_ground_truth(gt)
    detections, method_txt = read_submission(path, gt, limits)
    if method_txt is None and path.suffix.lower() == ".json":
        method = dict.fromkeys(METHOD_FIELDS, "")  # a plain results file cannot carry method.txt: no warning
    else:
        method = parse_method(method_txt, path.name)
    if name_unnamed:
        name_method(method, path)
    result = evaluate_detections(gt, detections, preset=preset)
    return SubmissionScore(path.name, sha256 or file_digest(path, "sha256"), method, result)
