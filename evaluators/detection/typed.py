"""Fast decoding of well-formed ground-truth and detections files straight into columns (msgspec typed structs).

Both readers return None when anything is off for these types (a missing or mistyped field, a float or string id, an
integer beyond 64 bits, invalid JSON); ``evaluators.detection.validate`` then parses the file generically and names the
culprit. Values are checked there too, on the columns.

The detections and the ground truth's annotations are decoded in pieces of about ``CHUNK_BYTES``: the structs of one
piece are read into columns while they are still in the CPU cache, which takes a third less time than decoding the
whole list first (and holds less memory). Each piece is a JSON list cut from the list between two objects (``}, {``);
a cut that falls inside a string or a nested value leaves a piece that does not decode, so a list either decodes to
exactly its own entries or not at all.
"""
from __future__ import annotations

import re
from itertools import chain
from operator import attrgetter

import msgspec
import numpy as np

CHUNK_BYTES = 1 << 19
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


def detection_columns(data: bytes) -> tuple | None:
    """``(image_ids, cat_ids, boxes, scores)`` of a detections file (int64, int64, (D, 4) and (D,) float64), in file
    order; None when the file does not decode to a list of ``{image_id, category_id, bbox, score}``."""
    return _in_pieces(data, _DETECTIONS, lambda items: (
        _ints(items, "image_id"), _ints(items, "category_id"), _boxes(items),
        np.fromiter(map(attrgetter("score"), items), np.float64, len(items))))


def _in_pieces(data, decoder: msgspec.json.Decoder, columns) -> tuple | None:
    """``columns`` (structs -> tuple of arrays) of the JSON list ``data`` (bytes-like), decoded piece by piece and
    concatenated; None when a piece does not decode or a column does not convert."""
    parts = []
    for piece in _pieces(data):
        try:
            parts.append(columns(decoder.decode(piece)))
        except _DECODE_ERRORS:
            return None
    return tuple(np.concatenate(column) for column in zip(*parts))


def _pieces(data):
    """The JSON list ``data`` as lists of about ``CHUNK_BYTES`` each, cut between two objects (all of it when
    small)."""
    start = 0
    while start + CHUNK_BYTES < len(data) and (cut := _CUT.search(data, start + CHUNK_BYTES)):
        yield (b"[" if start else b"") + data[start:cut.start() + 1] + b"]"
        start = cut.end() - 1
    yield b"[" + data[start:] if start else data


def _ints(items: list, name: str) -> np.ndarray:
    """Attribute ``name`` of the decoded structs as int64 (OverflowError beyond 64 bits)."""
    return np.fromiter(map(attrgetter(name), items), np.int64, len(items))


def _boxes(items: list) -> np.ndarray:
    """The decoded structs' ``bbox`` tuples as an (N, 4) float64 array."""
    return np.fromiter(chain.from_iterable(map(attrgetter("bbox"), items)), np.float64, 4 * len(items)).reshape(-1, 4)
