"""Fast decoding of well-formed ground-truth and detections files straight into columns (msgspec typed structs).

Both readers return None when anything is off for these types (a missing or mistyped field, a float or string id, an
integer beyond 64 bits, invalid JSON); ``evaluators.detection.validate`` then parses the file generically and names the
culprit. Values are checked there too, on the columns.

The detections and the ground truth's annotations are decoded in pieces of about ``CHUNK_BYTES``: the structs of one
piece are read into columns while they are still in the CPU cache, which takes a third less time than decoding the
whole list first (and holds less memory). Each piece is a JSON list cut from the list between two objects (``}, {``);
a cut that falls inside a string or a nested value leaves a piece that does not decode, so a list either decodes to
exactly its own entries or not at all.

A large detections file is cut once more, near ``helper_share`` of its length from the end, and a forked helper
(``plumbing.forked``) decodes the part after that cut into shared columns while this process decodes the part before
it (and, in ``validate.load_inputs``, reads the ground truth first): msgspec holds the GIL, so a second process is the
way to use a second core. Without a helper (``helper_available`` false, a small file, no cut) this process decodes
everything; the columns are the same either way.
"""
from __future__ import annotations

import re
from itertools import chain
from operator import attrgetter

import msgspec
import numpy as np

from plumbing.forked import Filling, helper_available

CHUNK_BYTES = 1 << 19
HELPER_MIN_BYTES = 1 << 21  # below this a helper's fork and wait cost more than it saves
# The shortest detection a typed decode accepts: one-character numbers, no spaces, then a comma.
_MIN_DETECTION_BYTES = len(b'{"image_id":0,"category_id":0,"bbox":[0,0,0,0],"score":0},')
_DETECTION_SPECS = ((np.int64, ()), (np.int64, ()), (np.float64, (4,)), (np.float64, ()))
_CUT = re.compile(rb"}\s*,\s*{")  # between two objects of a list
_DECODE_ERRORS = (msgspec.DecodeError, msgspec.ValidationError, OverflowError)


class _Image(msgspec.Struct, gc=False):
    id: int
    tag: list[str] | None = None


class _Category(msgspec.Struct, gc=False):
    id: int
    name: str | msgspec.UnsetType = msgspec.UNSET


class _Annotation(msgspec.Struct, gc=False):
    id: int
    image_id: int
    category_id: int
    bbox: tuple[float, float, float, float]
    area: float | None = None
    iscrowd: int = 0


class _GroundTruthFile(msgspec.Struct, gc=False):
    images: list[_Image]
    categories: list[_Category]
    annotations: msgspec.Raw = msgspec.Raw(b"[]")  # decoded in pieces


class _Detection(msgspec.Struct, gc=False):
    image_id: int
    category_id: int
    bbox: tuple[float, float, float, float]
    score: float


_GROUND_TRUTH = msgspec.json.Decoder(_GroundTruthFile)
_ANNOTATIONS = msgspec.json.Decoder(list[_Annotation])
_DETECTIONS = msgspec.json.Decoder(list[_Detection])


def ground_truth_columns(data: bytes) -> dict | None:
    """The columns of a ground-truth file: ``image_ids``, ``image_tags`` (per image a list of strings or None),
    ``cat_ids``, ``cat_names`` (None where a category has no name), ``ann_ids``, ``ann_image_ids``, ``ann_cat_ids``,
    ``ann_crowd`` (int64 as written), ``ann_boxes`` (N, 4) and ``ann_areas`` (NaN where an annotation has no
    ``area``). None when the file does not decode to these types."""
    try:
        f = _GROUND_TRUTH.decode(data)
        image_ids, cat_ids = _ints(f.images, "id"), _ints(f.categories, "id")
    except _DECODE_ERRORS:
        return None
    anns = _in_pieces(memoryview(f.annotations), _ANNOTATIONS, lambda items: (
        *(_ints(items, name) for name in ("id", "image_id", "category_id", "iscrowd")), _boxes(items),
        np.array([a.area for a in items], np.float64)))
    if anns is None:
        return None
    return dict(zip(("ann_ids", "ann_image_ids", "ann_cat_ids", "ann_crowd", "ann_boxes", "ann_areas"), anns),
                image_ids=image_ids, image_tags=[im.tag for im in f.images], cat_ids=cat_ids,
                cat_names=[None if c.name is msgspec.UNSET else c.name for c in f.categories])


class DetectionDecoding:
    """The columns of a detections file's bytes ``data`` (bytes-like, alive until ``columns`` returns), its last
    part (about ``helper_share`` of the bytes) decoded by a forked helper started here, when one is available and
    the file is large enough. Use as a context manager: leaving it stops a helper still running."""

    def __init__(self, data, helper_share: float = 0.5):
        self._data, self._split, self._tail, self._helper = data, len(data), len(data), None
        if 0 < helper_share < 1 and len(data) >= HELPER_MIN_BYTES and helper_available():
            cut = _CUT.search(data, int(len(data) * (1 - helper_share)))
            if cut:
                split, tail = cut.start() + 1, cut.end() - 1
                try:
                    self._helper = Filling(lambda columns: _fill(columns, data, tail), _DETECTION_SPECS,
                                           (len(data) - tail) // _MIN_DETECTION_BYTES + 1)
                except OSError:  # no process or memory to spare: this process decodes everything
                    return
                self._split, self._tail = split, tail

    def columns(self) -> tuple | None:
        """``(image_ids, cat_ids, boxes, scores)`` (int64, int64, (D, 4) and (D,) float64), in file order; None when
        the file does not decode to a list of ``{image_id, category_id, bbox, score}``."""
        parts = self._decoded(0, self._split)
        if parts is not None and self._helper is not None:
            tail, self._helper = self._helper.result(), None
            # a piece that does not decode, or a helper that died: this process decides
            rest = [tail] if tail is not None else self._decoded(self._tail, len(self._data))
            parts = None if rest is None else parts + rest
        return None if parts is None else _joined(parts)

    def _decoded(self, start: int, end: int) -> list | None:
        return _decoded(_pieces(self._data, start, end), _DETECTIONS, _detection_columns)

    def __enter__(self) -> "DetectionDecoding":
        return self

    def __exit__(self, *exc) -> None:
        if self._helper is not None:
            self._helper.close()


def _detection_columns(items: list) -> tuple:
    return (_ints(items, "image_id"), _ints(items, "category_id"), _boxes(items),
            np.fromiter(map(attrgetter("score"), items), np.float64, len(items)))


def _fill(columns: list, data, start: int) -> int:
    """The helper's work: decode ``data`` from byte ``start`` (an object after a cut) into the shared ``columns``;
    the number of rows, or -1 when a piece does not decode (the parent then parses the file itself)."""
    filled = 0
    for piece in _pieces(data, start, len(data)):
        try:
            part = _detection_columns(_DETECTIONS.decode(piece))
        except _DECODE_ERRORS:
            return -1
        rows = len(part[0])
        for shared, values in zip(columns, part):
            shared[filled:filled + rows] = values
        filled += rows
    return filled


def _in_pieces(data, decoder: msgspec.json.Decoder, columns) -> tuple | None:
    """``columns`` (structs -> tuple of arrays) of the JSON list ``data`` (bytes-like), decoded piece by piece and
    concatenated; None when a piece does not decode or a column does not convert."""
    parts = _decoded(_pieces(data, 0, len(data)), decoder, columns)
    return None if parts is None else _joined(parts)


def _decoded(pieces, decoder: msgspec.json.Decoder, columns) -> list | None:
    """``columns`` of each decoded piece; None when one does not decode or convert."""
    parts = []
    for piece in pieces:
        try:
            parts.append(columns(decoder.decode(piece)))
        except _DECODE_ERRORS:
            return None
    return parts


def _joined(parts: list) -> tuple:
    return tuple(np.concatenate(column) for column in zip(*parts))


def _pieces(data, start: int, end: int):
    """The objects of the JSON list ``data`` from byte ``start`` (0, or the ``{`` after a cut) to ``end`` (the
    length, or just after the ``}`` before a cut) as JSON lists of about ``CHUNK_BYTES`` each, cut between two
    objects (all of it at once when small)."""
    while start + CHUNK_BYTES < end and (cut := _CUT.search(data, start + CHUNK_BYTES, end)):
        yield _listed(data, start, cut.start() + 1)
        start = cut.end() - 1
    yield _listed(data, start, end)


def _listed(data, start: int, end: int):
    """``data[start:end]`` as a JSON list: the brackets a cut removed put back (``data`` itself when whole)."""
    if start == 0 and end == len(data):
        return data
    return b"".join((b"[" if start else b"", memoryview(data)[start:end], b"]" if end < len(data) else b""))


def _ints(items: list, name: str) -> np.ndarray:
    """Attribute ``name`` of the decoded structs as int64 (OverflowError beyond 64 bits)."""
    return np.fromiter(map(attrgetter(name), items), np.int64, len(items))


def _boxes(items: list) -> np.ndarray:
    """The decoded structs' ``bbox`` tuples as an (N, 4) float64 array."""
    return np.fromiter(chain.from_iterable(map(attrgetter("bbox"), items)), np.float64, 4 * len(items)).reshape(-1, 4)
