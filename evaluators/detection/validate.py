"""Loading and validating COCO ground truth and COCO-results detections into column arrays.

Every malformed entry raises ``BadInputError("<source>: <what> <index/id>: ...")``. A file takes the fast path
(``evaluators.detection.typed``: typed decoding straight into columns) and its columns are checked whole with NumPy;
only when that fails is the file parsed generically and its list walked to name the culprit.

Ids are read exactly (``evaluators.detection.ids``): integers of any size or strings, as pycocotools keys them. The
ids a file declares (``images[].id``, ``categories[].id``, ``annotations[].id``) must be integers or strings; the ids
that refer to them (``image_id``, ``category_id``) may also be integral floats (``1.0``, as torchmetrics' COCO export
writes them), read as their integers with one warning per file.
"""
from __future__ import annotations

import contextlib
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np

from evaluators.detection.ids import codes, id_array, is_id, is_str
from evaluators.detection.typed import DetectionDecoding, ground_truth_columns
from plumbing.errors import BadInputError, ToolkitError, warn
from plumbing.jsonio import mapped_bytes, parse_json, read_bytes, read_json

# Typed decoding costs per byte of JSON, measured here (tools/benchmarks/bench_detection.py's files): a ground truth
# with its checks, detections in this process, and detections in the forked helper, which also pays a start (the
# fork, and copies of the parent's pages it writes to). They only balance the two processes' work; the columns do
# not depend on them.
GT_SECONDS_PER_BYTE, DT_SECONDS_PER_BYTE, HELPER_SECONDS_PER_BYTE = 10.4e-9, 6.2e-9, 7.0e-9
HELPER_START_SECONDS = 0.008
MAX_HELPER_SHARE = 0.9


@dataclass(frozen=True)
class GroundTruth:
    """A validated COCO detection ground truth, as columns (annotations in file order).

    Id columns hold the exact ids (see ``evaluators.detection.ids``): int64 in the common case, strings, or Python
    ints beyond 64 bits; image ids are all of one type, and so are category ids and annotation ids.
    """

    source: str
    image_ids: np.ndarray  # (I,) file order
    image_tags: list  # per image: list of tag strings, or None when the image has no `tag`
    cat_ids: np.ndarray  # (C,) file order
    cat_names: list
    cat_keys: list  # per category: its key in per-category results (category_keys)
    ann_ids: np.ndarray  # (N,)
    ann_image_ids: np.ndarray
    ann_cat_ids: np.ndarray
    ann_boxes: np.ndarray  # (N, 4) float64, x y w h
    ann_areas: np.ndarray  # (N,) float64, the file's `area`
    ann_crowd: np.ndarray  # (N,) bool


@dataclass(frozen=True)
class Detections:
    """Validated detections (COCO results format), as columns in file order."""

    source: str
    image_ids: np.ndarray  # (D,) exact ids, each one of the ground truth's
    cat_ids: np.ndarray  # (D,)
    boxes: np.ndarray  # (D, 4) float64, x y w h; w, h >= 0
    scores: np.ndarray  # (D,) float64

    @classmethod
    def concatenate(cls, parts: list["Detections"], source: str) -> "Detections":
        """One ``Detections`` of ``parts``' columns in order, named ``source`` (empty columns when ``parts`` is
        empty); the parts are assumed validated against the same ground truth."""
        if not parts:
            return cls(source, *_empty_det_columns())
        return cls(source, *(np.concatenate([getattr(p, f) for p in parts])
                             for f in ("image_ids", "cat_ids", "boxes", "scores")))


def read_ground_truth(src: Any) -> tuple[dict, GroundTruth]:
    """Read a ground-truth file (or take a loaded dict) once: ``(the parsed dict, its validated GroundTruth)``, for
    tools that need the file's own fields (converters, checkers) besides the validated arrays. Messages name the
    file. Raises as ``load_ground_truth``."""
    obj, source = read_json(src, "ground truth")
    return obj, load_ground_truth(obj, source)


def load_ground_truth(src: Any, source: str | None = None) -> GroundTruth:
    """Load and validate a COCO detection ground truth (path or dict); ``source`` names a dict in messages
    (default ``<ground truth>``)."""
    if isinstance(src, GroundTruth):
        return src
    if isinstance(src, (str, os.PathLike)):
        data = read_bytes(src, "ground truth")
        fast = _typed_ground_truth(data, str(src))
        if fast is not None:
            return fast
        obj, source = parse_json(data, src), str(src)
    else:
        obj, source = src, source or "<ground truth>"
    if not isinstance(obj, dict):
        raise BadInputError(f"{source}: ground truth must be a JSON object with images/annotations/categories, "
                            f"got {type(obj).__name__}")
    lists = {}
    for key in ("images", "annotations", "categories"):
        value = obj.get(key, [] if key == "annotations" else None)
        if not isinstance(value, list):
            raise BadInputError(f"{source}: ground truth field '{key}' must be a list")
        lists[key] = value
    images, anns, cats = lists["images"], lists["annotations"], lists["categories"]

    image_ids, _ = _id_column(images, "id", source, "image")
    cat_ids, _ = _id_column(cats, "id", source, "category")
    cat_names = [c.get("name", str(c["id"])) for c in cats]
    for i, name in enumerate(cat_names):
        if not isinstance(name, str):
            raise BadInputError(f"{source}: category {i}: 'name' must be a string, got {name!r}")
    image_tags = [_tags(im, source, i) for i, im in enumerate(images)]

    ann_ids, _ = _id_column(anns, "id", source, "annotation")
    ann_image_ids, image_floats = _id_column(anns, "image_id", source, "annotation", floats_ok=True)
    ann_cat_ids, cat_floats = _id_column(anns, "category_id", source, "annotation", floats_ok=True)
    _require_one_type(source, "image ids", (image_ids, images, "id", "image"),
                      (ann_image_ids, anns, "image_id", "annotation"))
    _require_one_type(source, "category ids", (cat_ids, cats, "id", "category"),
                      (ann_cat_ids, anns, "category_id", "annotation"))
    _require_one_type(source, "annotation ids", (ann_ids, anns, "id", "annotation"))
    _require_unique(image_ids, source, "image id")
    _require_unique(cat_ids, source, "category id")
    _require_unique(ann_ids, source, "annotation id")
    _require_known(ann_image_ids, image_ids, "image_id", source, "annotation")
    _require_known(ann_cat_ids, cat_ids, "category_id", source, "annotation")
    boxes = _box_column(anns, source, "annotation")
    areas, missing_area = _area_column(anns, boxes, source)
    crowd = _crowd_column(anns, source)
    _ground_truth_warnings(source, boxes, areas, missing_area)
    _float_id_warning(source, image_floats + cat_floats)
    return GroundTruth(source, image_ids, image_tags, cat_ids, cat_names, category_keys(cat_ids, cat_names, source),
                       ann_ids, ann_image_ids, ann_cat_ids, boxes, areas, crowd)


def category_keys(cat_ids: np.ndarray, names: list, source: str) -> list:
    """The key of each category in per-category results: its name, or ``"<name> (id <id>)"`` for every category
    whose name another category shares (with one warning), so that no result overwrites another."""
    shared = {name for name, n in Counter(names).items() if n > 1}
    if not shared:
        return list(names)
    keys = [f"{name} (id {i})" if name in shared else name for name, i in zip(names, cat_ids.tolist())]
    clash = [key for key, n in Counter(keys).items() if n > 1]
    if clash:
        raise BadInputError(f"{source}: the category name {clash[0]!r} is also the key given to a category whose "
                            "name is shared; rename one of them")
    warn(f"{source}: {sum(name in shared for name in names)} categories share a name; their per-category results "
         f"are keyed name plus id: {', '.join(repr(k) for k, name in zip(keys, names) if name in shared)}")
    return keys


def _float_id_warning(source: str, count: int) -> None:
    if count:
        warn(f"{source}: {count} image_id/category_id values are floats with integral values (such as 1.0); "
             "read as the integers they hold")


def _ground_truth_warnings(source: str, boxes: np.ndarray, areas: np.ndarray, missing_area: int) -> None:
    flat = int((boxes[:, 2:] == 0).any(axis=1).sum())
    if flat:  # official slice annotation files hold boxes clipped to zero width or height
        warn(f"{source}: {flat} annotations have zero width or height; they count as ground truth that "
             "no detection can match")
    negative = int((areas < 0).sum())
    if negative:  # the official slicer's area of a box clipped past the window edge
        warn(f"{source}: {negative} annotations have a negative 'area'; no area range holds them, so they are "
             "ignored (a detection matching one counts neither way), as in pycocotools")
    if missing_area:
        warn(f"{source}: {missing_area} annotations have no 'area'; using bbox width*height")


def _typed_ground_truth(data: bytes, source: str) -> GroundTruth | None:
    """Fast path for a well-formed ground-truth file: typed decoding straight into columns, checked as columns. None
    when anything is off; the generic path then names the culprit."""
    c = ground_truth_columns(data)
    if c is None:
        return None
    boxes, areas, crowd, image_ids, cat_ids = c["ann_boxes"], c["ann_areas"], c["ann_crowd"], c["image_ids"], \
        c["cat_ids"]
    missing = np.isnan(areas)  # the file has no area: w * h
    areas[missing] = boxes[missing, 2] * boxes[missing, 3]
    good = (all(t is None or all(t) for t in c["image_tags"]) and np.isfinite(boxes).all()
            and (boxes[:, 2:] >= 0).all() and np.isfinite(areas).all() and ((crowd == 0) | (crowd == 1)).all()
            and all(_distinct(ids) for ids in (image_ids, cat_ids, c["ann_ids"]))
            and np.isin(c["ann_image_ids"], image_ids).all() and np.isin(c["ann_cat_ids"], cat_ids).all())
    if not good:
        return None
    names = [str(i) if name is None else name for i, name in zip(cat_ids.tolist(), c["cat_names"])]
    _ground_truth_warnings(source, boxes, areas, int(missing.sum()))
    return GroundTruth(source, image_ids, c["image_tags"], cat_ids, names, category_keys(cat_ids, names, source),
                       c["ann_ids"], c["ann_image_ids"], c["ann_cat_ids"], boxes, areas, crowd.astype(bool))


def load_detections(src: Any, gt: GroundTruth, source: str | None = None) -> Detections:
    """Load and validate detections in the COCO results format (a list of
    ``{"image_id", "category_id", "bbox": [x, y, w, h], "score"}``), as MMDetection's
    ``--format-only`` / ``outfile_prefix`` writes them: a path, the file's bytes (a member read from a submission
    archive) or the parsed list; ``source`` names bytes or a list in messages (default ``<detections>``)."""
    if isinstance(src, Detections):
        return src
    if isinstance(src, (str, os.PathLike)):
        with mapped_bytes(src, "detections") as data, DetectionDecoding(data) as decoding:
            return _detections_in(data, decoding, gt, str(src))
    if isinstance(src, (bytes, bytearray)):
        data = bytes(src)
        with DetectionDecoding(data) as decoding:
            return _detections_in(data, decoding, gt, source or "<detections>")
    return _checked_detections(src, gt, source or "<detections>")


def load_inputs(gt_src: Any, dt_src: Any) -> tuple[GroundTruth, Detections]:
    """``load_ground_truth(gt_src)`` and ``load_detections(dt_src, gt)`` (errors as theirs, the ground truth's
    first). A detections file's last part is decoded by a forked helper (``typed.DetectionDecoding``) while this
    process reads the ground truth and the first part, the part sized so that both finish together."""
    if not isinstance(dt_src, (str, os.PathLike)):
        gt = load_ground_truth(gt_src)
        return gt, load_detections(dt_src, gt)
    with contextlib.ExitStack() as stack:
        try:
            data = stack.enter_context(mapped_bytes(dt_src, "detections"))
        except ToolkitError:
            load_ground_truth(gt_src)  # a bad ground truth is named first, as when read one after the other
            raise
        decoding = stack.enter_context(DetectionDecoding(data, helper_share(gt_src, len(data))))
        gt = load_ground_truth(gt_src)
        return gt, _detections_in(data, decoding, gt, str(dt_src))


def helper_share(gt_src: Any, dt_bytes: int) -> float:
    """The part of a ``dt_bytes`` detections file the helper decodes while this process reads ``gt_src`` (its file's
    size counts; a loaded ground truth costs nothing) and the rest, from the decoding costs measured here."""
    gt_bytes = os.path.getsize(gt_src) if isinstance(gt_src, (str, os.PathLike)) and os.path.isfile(gt_src) else 0
    alone = gt_bytes * GT_SECONDS_PER_BYTE + dt_bytes * DT_SECONDS_PER_BYTE - HELPER_START_SECONDS
    helper_bytes = alone / (DT_SECONDS_PER_BYTE + HELPER_SECONDS_PER_BYTE)  # both finish together
    return min(MAX_HELPER_SHARE, max(0.0, helper_bytes / max(1, dt_bytes)))


def _detections_in(data, decoding: DetectionDecoding, gt: GroundTruth, source: str) -> Detections:
    """The validated detections of the file bytes ``data``: the typed columns when they decode and check, else the
    generic parse, which names the culprit."""
    fast = _typed_detections(decoding, gt, source)
    return fast if fast is not None else _checked_detections(parse_json(bytes(data), source), gt, source)


def _checked_detections(obj: Any, gt: GroundTruth, source: str) -> Detections:
    """Detections from a parsed JSON value, every entry checked (messages name the first bad one)."""
    if isinstance(obj, dict):
        raise BadInputError(f"{source}: detections must be a JSON list of COCO results "
                            f"({{image_id, category_id, bbox, score}}), got an object"
                            + (" (is this a ground-truth file?)" if "annotations" in obj else ""))
    if not isinstance(obj, list):
        raise BadInputError(f"{source}: detections must be a JSON list, got {type(obj).__name__}")
    if not obj:
        warn(f"{source}: the detections list is empty; every AP with ground truth is 0")
        return Detections(source, *_empty_det_columns())
    image_ids, image_floats = _id_column(obj, "image_id", source, "detection", floats_ok=True)
    _require_known(image_ids, gt.image_ids, "image_id", source, "detection")
    cat_ids, cat_floats = _id_column(obj, "category_id", source, "detection", floats_ok=True)
    _require_known(cat_ids, gt.cat_ids, "category_id", source, "detection")
    boxes = _box_column(obj, source, "detection")
    scores = _number_column(obj, "score", source, "detection")
    _float_id_warning(source, image_floats + cat_floats)
    return Detections(source, image_ids, cat_ids, boxes, scores)


def _typed_detections(decoding: DetectionDecoding, gt: GroundTruth, source: str) -> Detections | None:
    """Fast path for a well-formed detections file with int64 ids: typed decoding straight into columns, checked as
    columns. None when anything is off; the generic path then names the culprit."""
    if gt.image_ids.dtype != np.int64 or gt.cat_ids.dtype != np.int64:
        return None
    columns = decoding.columns()
    if columns is None:
        return None
    image_ids, cat_ids, boxes, scores = columns
    good = (len(scores) and np.isfinite(boxes).all() and (boxes[:, 2:] >= 0).all() and np.isfinite(scores).all()
            and np.isin(image_ids, gt.image_ids).all() and np.isin(cat_ids, gt.cat_ids).all())
    return Detections(source, *columns) if good else None


def _distinct(ids: np.ndarray) -> bool:
    """Whether the int64 ``ids`` hold no value twice (sorting, not ``np.unique``, which imports ``numpy.ma``)."""
    ordered = np.sort(ids)
    return not (ordered[1:] == ordered[:-1]).any()


def _empty_det_columns():
    return (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, 4)), np.zeros(0))


def _first_bad(items: list, ok: Callable[[Any], bool]) -> int:
    return next(i for i, item in enumerate(items) if not ok(item))


def _field(items: list, key: str, source: str, what: str) -> list:
    try:
        return [x[key] for x in items]
    except (KeyError, TypeError, IndexError):
        i = _first_bad(items, lambda x: isinstance(x, dict) and key in x)
        if not isinstance(items[i], dict):
            raise BadInputError(f"{source}: {what} {i} must be a JSON object, got {items[i]!r:.80}") from None
        raise BadInputError(f"{source}: {what} {i} has no '{key}'") from None


def _array(values: list, empty_shape=(0,)) -> np.ndarray:
    """The list (of numbers, or of lists of numbers) as an array; an object array, which the caller's checks refuse
    and then name the culprit, when it is ragged or holds a JSON ``true``/``false`` (NumPy would read them as 1/0)."""
    if not values:
        return np.zeros(empty_shape)
    try:
        arr = np.asarray(values)
    except ValueError:
        return np.empty(0, object)
    if arr.dtype.kind in "if" and bool in set(map(type, chain.from_iterable(values) if arr.ndim == 2 else values)):
        return np.empty(0, object)
    return arr


def _id_column(items: list, key: str, source: str, what: str, floats_ok: bool = False) -> tuple[np.ndarray, int]:
    """The exact ids and how many were integral floats (allowed with ``floats_ok``)."""
    values = _field(items, key, source, what)
    column = id_array(values, floats_ok)
    if column is None:
        i = _first_bad(values, lambda v: is_id(v, floats_ok))
        raise BadInputError(f"{source}: {what} {i}: '{key}' must be an integer or a string, got {values[i]!r:.80}")
    return column


def _show(ids: np.ndarray, i: int) -> str:
    """Id ``i`` as written in the file: 7, '0001'."""
    return repr(ids[i:i + 1].tolist()[0])


def _is_finite_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v)


def _number_column(items: list, key: str, source: str, what: str) -> np.ndarray:
    values = _field(items, key, source, what)
    arr = _array(values)
    if arr.dtype.kind not in "if" or arr.ndim != 1 or not np.isfinite(arr).all():
        i = _first_bad(values, _is_finite_number)
        raise BadInputError(f"{source}: {what} {i}: '{key}' must be a finite number, got {values[i]!r:.80}")
    return arr.astype(np.float64, copy=False)


def _box_ok(box) -> bool:
    return (isinstance(box, list) and len(box) == 4 and all(_is_finite_number(v) for v in box)
            and min(box[2:]) >= 0)


def _box_column(items: list, source: str, what: str) -> np.ndarray:
    """Boxes [x, y, w, h] as an (N, 4) array; w, h >= 0 (zero-size boxes match nothing, as in pycocotools)."""
    values = _field(items, "bbox", source, what)
    arr = _array(values, (0, 4))
    good = (arr.dtype.kind in "if" and arr.ndim == 2 and arr.shape[1] == 4 and np.isfinite(arr).all()
            and (arr[:, 2:] >= 0).all())
    if not good:
        i = _first_bad(values, _box_ok)
        raise BadInputError(f"{source}: {what} {i}: 'bbox' must be [x, y, w, h] with finite numbers and "
                            f"w, h >= 0, got {values[i]!r:.80}")
    return arr.astype(np.float64, copy=False)


def _area_column(anns: list, boxes: np.ndarray, source: str) -> tuple[np.ndarray, int]:
    values = [a.get("area") for a in anns]
    missing = np.array([v is None for v in values], bool)
    if missing.any():
        values = [w * h if v is None else v for v, (_, _, w, h) in zip(values, boxes.tolist())]
    arr = _array(values)
    if arr.dtype.kind not in "if" or arr.ndim != 1 or not np.isfinite(arr).all():
        i = _first_bad(values, _is_finite_number)
        raise BadInputError(f"{source}: annotation {i}: 'area' must be a finite number, got {values[i]!r:.80}")
    return arr.astype(np.float64, copy=False), int(missing.sum())


def _crowd_column(anns: list, source: str) -> np.ndarray:
    values = [a.get("iscrowd", 0) for a in anns]
    arr = _array(values) if values else np.zeros(0, np.int64)
    if arr.dtype.kind not in "biu" or arr.ndim != 1 or ((arr != 0) & (arr != 1)).any():
        i = _first_bad(values, lambda v: v in (0, 1) and not isinstance(v, float))
        raise BadInputError(f"{source}: annotation {i}: 'iscrowd' must be 0 or 1, got {values[i]!r:.80}")
    return arr.astype(bool)


def _tags(image: dict, source: str, index: int):
    tags = image.get("tag")
    if tags is None:
        return None
    if not isinstance(tags, list) or not all(isinstance(t, str) and t for t in tags):
        raise BadInputError(f"{source}: image {index} (id {image['id']}): 'tag' must be a list of non-empty "
                            f"strings, got {tags!r:.80}")
    return tags


def _require_one_type(source: str, ids_of: str, *columns) -> None:
    """The ids of one kind (declared and referred to; ``columns``: (ids, items, key, what)) are all integers or all
    strings, as pycocotools needs to sort them; else the first id of the rarer type is named."""
    if all(ids.dtype != object for ids, *_ in columns) and len({ids.dtype.kind for ids, *_ in columns if len(ids)}) < 2:
        return
    strs = [is_str(ids) for ids, *_ in columns]
    n_str, n = sum(int(s.sum()) for s in strs), sum(len(s) for s in strs)
    if n_str in (0, n):
        return
    odd_is_str = 2 * n_str <= n
    for s, (ids, _items, key, what) in zip(strs, columns):
        odd = np.flatnonzero(s == odd_is_str)
        if len(odd):
            i = int(odd[0])
            raise BadInputError(f"{source}: {what} {i}: '{key}' must be {'an integer' if odd_is_str else 'a string'} "
                                f"like the other {ids_of} of the file, got {_show(ids, i)}")


def _require_unique(ids: np.ndarray, source: str, what: str) -> None:
    order = np.argsort(ids, kind="stable")
    same = np.flatnonzero(ids[order][1:] == ids[order][:-1])
    if len(same):
        raise BadInputError(f"{source}: duplicate {what} {_show(ids, int(order[same[0]]))}")


def _require_known(values: np.ndarray, known: np.ndarray, key: str, source: str, what: str) -> None:
    ok = codes(values, np.sort(known)) >= 0
    if not ok.all():
        i = int(np.argmin(ok))
        raise BadInputError(f"{source}: {what} {i}: unknown {key} {_show(values, i)} (not in the ground truth)")
