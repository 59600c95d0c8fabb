"""Scoring ImageNet-S submission archives, safe against hostile uploads, and a leaderboard of them.

A submission is a zip with class folders of PNG predictions at its root (``n01443537/name.png``, the
ground truth's relative paths), an optional ``match.json`` (official format) and ``method.txt`` with
the six fields of ``METHOD_FIELDS`` (``Field: value`` lines). Members are read straight from the
archive, never extracted. Everything about the archive is checked from its central directory before
any member is decompressed; each PNG's header is checked before its pixels are. Operating-system
metadata that archivers add (``__MACOSX/``, ``._*``, ``.DS_Store``, ...) is skipped unread.
"""
from __future__ import annotations

import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from evaluators.luss import folders
from evaluators.luss.masks import (
    DEFAULT_MAX_PIXELS,
    HEADER_BYTES,
    MaskFolder,
    check_header,
    decode_mask,
    pair_names,
)
from evaluators.luss.matching import loads_match
from evaluators.luss.metrics import LUSSResult
from plumbing.archives import METHOD_FILE, ArchiveLimits, check_archive, name_method, parse_fields, read_member
from plumbing.errors import warn
from plumbing.hashing import file_digest

MATCH_FILE = "match.json"
METHOD_FIELDS = ("Method name", "Training data", "Training scheme", "Networks", "Paper/Project link",
                 "Method description")
_ACCEPTED = f"a PNG prediction, {MATCH_FILE} or {METHOD_FILE} at the root"


@dataclass(frozen=True)
class Limits(ArchiveLimits):
    """What an archive may hold before it is refused unread (``ArchiveLimits``), and the largest PNG."""

    max_pixels: int = DEFAULT_MAX_PIXELS  # per PNG, from its header


@dataclass(frozen=True)
class Archive:
    """A checked archive: its PNG members and its small text members (bytes or None)."""

    path: Path
    masks: list[str]
    match_json: bytes | None
    method_txt: bytes | None


def _kind_of(name: str) -> str | None:
    if name.lower().endswith(".png"):
        return "mask"
    return "text" if name in (MATCH_FILE, METHOD_FILE) else None


def inspect_archive(path: str | os.PathLike, limits: Limits = Limits()) -> Archive:
    """Check every member from the central directory (``plumbing.archives.check_archive``), then read the small
    text members.

    Operating-system metadata (``__MACOSX/``, ``._*``, ``.DS_Store``, ... see ``plumbing.system_files``)
    is skipped unread, with one warning that counts it.
    Raises:
        BadInputError: not a zip; a member with an absolute or ``..`` path, a symlink, encryption, a
            type other than PNG/match.json/method.txt, an unsupported compression, a compression ratio
            above ``limits.max_ratio``; members totalling more than ``limits.max_total_bytes``.
    """
    checked = check_archive(path, limits, _kind_of, _ACCEPTED, texts=(MATCH_FILE, METHOD_FILE))
    return Archive(checked.path, checked.members.get("mask", []), checked.texts.get(MATCH_FILE),
                   checked.texts.get(METHOD_FILE))


class ZipMasks:
    """Predicted masks read straight from a checked archive (a mask source for ``evaluators.luss``).

    Each process opens its own handle, so the object can be sent to worker processes.
    """

    def __init__(self, archive: Archive, max_pixels: int | None = DEFAULT_MAX_PIXELS):
        self.path, self.masks, self.max_pixels = archive.path, archive.masks, max_pixels
        self._handle: tuple[int, zipfile.ZipFile] | None = None

    def __str__(self) -> str:
        return self.path.name

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_handle": None}

    def _zip(self) -> zipfile.ZipFile:
        if self._handle is None or self._handle[0] != os.getpid():
            self._handle = (os.getpid(), zipfile.ZipFile(self.path))
        return self._handle[1]

    def names(self) -> list[str]:
        """The archive's mask members (relative names), sorted."""
        return self.masks

    def read(self, name: str, *, ground_truth: bool = False, shape: tuple | None = None,
             num_classes: int | None = None) -> np.ndarray:
        """Member ``name`` decoded as int32 (H, W) ids (see ``decode_mask``); the header is checked before the rest
        is decompressed.

        Raises:
            BadInputError: corrupt member data, or any refusal of ``check_header``/``decode_mask``."""
        label = f"{self.path.name}:{name}"
        data = read_member(self._zip(), self.path, name,
                           lambda head: check_header(head, label, shape=shape, max_pixels=self.max_pixels),
                           head_bytes=HEADER_BYTES)
        return decode_mask(data, label, ground_truth=ground_truth, shape=shape, max_pixels=self.max_pixels,
                           num_classes=num_classes)

    def close(self) -> None:
        """Close this process's handle on the archive, if open (a later ``read`` reopens it)."""
        if self._handle is not None:
            self._handle[1].close()
            self._handle = None


def parse_method(text: bytes | None, source: str) -> dict[str, str]:
    """The six ``Field: value`` entries of method.txt (``plumbing.archives.parse_fields``; continuation lines join
    the previous field). Missing fields are warned about and left empty; they never refuse a submission."""
    return parse_fields(text, METHOD_FIELDS, source)


@dataclass(frozen=True)
class SubmissionScore:
    """A scored submission: archive file name, its sha256 (hex), method.txt fields, where the match came from
    (``submitted`` match.json or ``fitted``) and the official LUSS result (percent)."""
    archive: str
    sha256: str
    method: dict
    match_source: str  # "submitted" (match.json) or "fitted" (official matching on the submission)
    result: LUSSResult = field(repr=False)

    def to_dict(self) -> dict:
        """The JSON record: archive, sha256, method, match source, number of images and the official
        metrics and ``IoUs``."""
        return {"archive": self.archive, "sha256": self.sha256, "method": self.method, "match": self.match_source,
                "num_images": self.result.num_images, **self.result.to_dict()}


def score_submission(path: str | os.PathLike, gt_dir: str | os.PathLike | MaskFolder, num_classes: int, *,
                     names: list[str] | None = None, limits: Limits = Limits(), workers: int | None = None,
                     progress: bool = True, notify: Callable[[str], None] = print,
                     sha256: str | None = None, name_unnamed: bool = True) -> SubmissionScore:
    """Validate a submission archive, then score it with the official metrics.

    An unnamed method (no name in method.txt) is named after the archive (``name_method``) unless ``name_unnamed``
    is False (a leaderboard's cache, shared by byte-identical archives, names it per file).

    Without ``match.json`` the official fully-unsupervised matching is fitted on the submission itself.
    ``gt_dir`` may be a ``MaskFolder`` already listed (a leaderboard scores many archives against one), and
    ``sha256`` the archive's digest when the caller has it already.
    Raises:
        BadInputError: any refusal of ``inspect_archive``, an invalid match.json, missing predictions, a
            PNG that is not 8-bit RGB, too large (``limits.max_pixels``) or not of the ground truth's size.
    """
    archive = inspect_archive(path, limits)
    method = parse_method(archive.method_txt, archive.path.name)
    if name_unnamed:
        name_method(method, archive.path)
    match = None
    if archive.match_json is not None:
        match = loads_match(archive.match_json, num_classes, f"{archive.path.name}:{MATCH_FILE}")
    gt = gt_dir if isinstance(gt_dir, MaskFolder) else MaskFolder(gt_dir, max_pixels=limits.max_pixels)
    wanted = pair_names(gt.names(), list(archive.masks), None if names is None else sorted(set(names)),
                        archive.path.name)
    if len(archive.masks) > len(wanted):
        warn(f"{archive.path.name}: {len(archive.masks) - len(wanted)} PNG members match no evaluated mask; "
             "they are ignored")
    preds = ZipMasks(archive, limits.max_pixels)
    source = "submitted"
    try:
        if match is None:
            notify(f"{archive.path.name}: no {MATCH_FILE}; using the matching fitted on the submission itself "
                   "(official fully unsupervised protocol)")
            match = folders.match_folders(gt, preds, num_classes, names=wanted, workers=workers,
                                          progress=progress)
            source = "fitted"
        result = folders.evaluate_folders(gt, preds, num_classes, match, names=wanted, workers=workers,
                                          progress=progress)
    finally:
        preds.close()
    return SubmissionScore(archive.path.name, sha256 or file_digest(archive.path, "sha256"), method, source, result)
