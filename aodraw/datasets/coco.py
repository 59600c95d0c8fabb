"""Annotation files of PASCALRAW, NOD, LOD and ROD into this toolkit's COCO layout, scored unchanged by
``aodraw evaluate --preset coco``, pycocotools and MMDetection.

Normalisations, each noted in the output's ``conversion.notes`` when it changed something:
* image ids: integers stay; digit strings (LOD) become their number; other strings (PASCALRAW, ROD) are numbered
  0, 1, ... in file order. Every image entry keeps its original id as ``source_id``.
* category ids: renumbered 1..K in id order (files start at 0 or 1); names kept; each keeps ``source_id``.
* annotation ids: where id 0 occurs (pycocotools never matches a ground-truth box of id 0) among unique non-negative
  integers, every id + 1 (files that share ids, such as NOD's two Sony files, keep sharing them); where ids are not
  unique integers, renumbered 1..N in file order; either way each keeps ``source_id``.
* ``file_name``: an absolute path is reduced to its last component (ROD).
* ``area``: recomputed as w*h where the file's value disagrees (more than 1 % and 1 px^2; LOD stores about
  1.97 x w*h) or is missing; ``iscrowd`` added (0) where missing.
* dataset fields: LOD images get ``exposure`` (dark | normal) and ``pair``; ROD images a ``tag`` (day | night);
  NOD images the ``camera`` where the file name names the RAW file.
A file of another dataset is refused (BadInputError naming the dataset it looks like).
"""
from __future__ import annotations

import math
import re
from pathlib import PurePosixPath, PureWindowsPath

from aodraw.datasets import DATASETS, dataset_spec
from aodraw.datasets.spec import DatasetSpec
from plumbing.errors import BadInputError
from plumbing.jsonio import read_json

AREA_REL_TOL, AREA_ABS_TOL = 0.01, 1.0


def guess_dataset(categories: list[dict]) -> str | None:
    """The dataset whose class names (case-insensitive) and first category id match ``categories``; where the
    names match several datasets (PASCALRAW and NOD share person, bicycle, car) the first id decides. None when
    the names match no dataset."""
    names = {str(c.get("name", "")).lower() for c in categories}
    first = min((c["id"] for c in categories if isinstance(c.get("id"), int)), default=None)
    named = [s for s in DATASETS.values() if set(s.classes) == names]
    exact = [s for s in named if s.first_category_id == first]
    found = exact or named
    return found[0].name if found else None


def convert_annotations(src, dataset: str) -> dict:
    """The converted COCO dict of the annotation file (path or loaded dict) ``src`` of ``dataset`` (see the module
    rules), with a ``conversion`` block: dataset, source name, notes. Raises BadInputError for a file that is not
    a COCO detection file of ``dataset``, naming the file and why."""
    spec = dataset_spec(dataset)
    data, source = read_json(src, "annotation file")
    if not isinstance(data, dict) or not all(isinstance(data.get(k), list) for k in ("images", "annotations",
                                                                                     "categories")):
        raise BadInputError(f"{source}: not a COCO detection file (a JSON object with images, annotations and "
                            "categories lists)")
    _check_dataset(data, spec, source)
    notes: list[str] = []
    image_map, images = _images(data["images"], spec, source, notes)
    cat_map, categories = _categories(data["categories"], source, notes)
    annotations = _annotations(data["annotations"], image_map, cat_map, source, notes)
    extra = {k: v for k, v in data.items() if k not in ("images", "annotations", "categories", "conversion")}
    return {**extra, "images": images, "annotations": annotations, "categories": categories,
            "conversion": {"dataset": spec.name, "source": PurePosixPath(str(source)).name, "notes": notes}}


def _check_dataset(data: dict, spec: DatasetSpec, source: str) -> None:
    done = data.get("conversion")
    if isinstance(done, dict) and done.get("dataset") in DATASETS:
        raise BadInputError(f"{source}: already converted (a {DATASETS[done['dataset']].title} file written by "
                            "'aodraw datasets convert-annotations'); use it as it is")
    categories = data["categories"]
    if not all(isinstance(c, dict) and isinstance(c.get("id"), int) and not isinstance(c["id"], bool)
               for c in categories):
        raise BadInputError(f"{source}: every category needs an integer 'id' and a 'name'")
    guess = guess_dataset(categories)
    if guess != spec.name:
        names = ", ".join(str(c.get("name")) for c in categories[:8])
        looks = f"it looks like {DATASETS[guess].title} (--dataset {guess})" if guess else \
            "its classes match none of " + ", ".join(s.title for s in DATASETS.values())
        raise BadInputError(f"{source}: not a {spec.title} annotation file: categories {names} from id "
                            f"{min((c['id'] for c in categories), default='-')}; {looks}")


def _images(images: list, spec: DatasetSpec, source: str, notes: list) -> tuple[dict, list]:
    ids = [im.get("id") if isinstance(im, dict) else None for im in images]
    for k, i in enumerate(ids):
        if isinstance(i, bool) or not isinstance(i, (int, str)):
            raise BadInputError(f"{source}: image {k}: 'id' must be an integer or a string, got {i!r:.40}")
    if len(set(ids)) != len(ids):
        raise BadInputError(f"{source}: duplicate image ids")
    if all(isinstance(i, int) for i in ids):
        new = ids
    elif all(isinstance(i, str) and re.fullmatch(r"\d+", i) for i in ids) and len({int(i) for i in ids}) == len(ids):
        new = [int(i) for i in ids]
        notes.append(f"image ids: {len(ids)} digit strings turned into their numbers (source_id keeps them)")
    else:
        new = list(range(len(ids)))
        notes.append(f"image ids: {len(ids)} string ids numbered 0..{len(ids) - 1} in file order (source_id keeps "
                     "them)")
    out, shortened = [], 0
    for image, new_id in zip(images, new):
        entry = {**image, "id": new_id, "source_id": image["id"]}
        name = str(image.get("file_name", ""))
        if PurePosixPath(name).is_absolute() or PureWindowsPath(name).is_absolute():
            entry["file_name"] = PureWindowsPath(name).name if "\\" in name else PurePosixPath(name).name
            entry["source_file_name"] = name
            shortened += 1
        if spec.image_fields:
            entry.update(spec.image_fields(image))
        out.append(entry)
    if shortened:
        notes.append(f"file_name: {shortened} absolute paths reduced to the file name (source_file_name keeps them)")
    return dict(zip(ids, new)), out


def _categories(categories: list, source: str, notes: list) -> tuple[dict, list]:
    ordered = sorted(categories, key=lambda c: c["id"])
    mapping = {c["id"]: k + 1 for k, c in enumerate(ordered)}
    if len(mapping) != len(categories):
        raise BadInputError(f"{source}: duplicate category ids")
    if any(old != new for old, new in mapping.items()):
        notes.append(f"category ids: {', '.join(f'{o}->{n}' for o, n in mapping.items())} (names kept)")
    return mapping, [{**c, "id": mapping[c["id"]], "source_id": c["id"]} for c in ordered]


def _annotations(annotations: list, image_map: dict, cat_map: dict, source: str, notes: list) -> list:
    ids = [a.get("id") if isinstance(a, dict) else None for a in annotations]
    integers = all(isinstance(i, int) and not isinstance(i, bool) for i in ids) and len(set(ids)) == len(ids)
    # Unique non-negative integer ids with a 0 are shifted by one, so files that share ids (NOD's two Sony files)
    # still share them; anything else is renumbered in file order.
    shift = integers and 0 in ids and min(ids) >= 0
    renumber = not integers or (0 in ids and not shift)
    out, recomputed, ratios, crowd_added = [], 0, [], 0
    for k, ann in enumerate(annotations):
        if not isinstance(ann, dict):
            raise BadInputError(f"{source}: annotation {k} must be a JSON object")
        for key, known, what in (("image_id", image_map, "image"), ("category_id", cat_map, "category")):
            if ann.get(key) not in known:
                raise BadInputError(f"{source}: annotation {k}: unknown {what} id {ann.get(key)!r}")
        box = ann.get("bbox")
        if not (isinstance(box, list) and len(box) == 4 and all(isinstance(v, (int, float)) for v in box)):
            raise BadInputError(f"{source}: annotation {k}: 'bbox' must be [x, y, w, h] numbers, got {box!r:.60}")
        entry = {**ann, "image_id": image_map[ann["image_id"]], "category_id": cat_map[ann["category_id"]]}
        if renumber or shift:
            entry.update(id=ann["id"] + 1 if shift else k + 1, source_id=ann.get("id"))
        wh = box[2] * box[3]
        area = ann.get("area")
        if not isinstance(area, (int, float)) or not math.isclose(area, wh, rel_tol=AREA_REL_TOL,
                                                                 abs_tol=AREA_ABS_TOL):
            if isinstance(area, (int, float)) and wh > 0:
                ratios.append(area / wh)
            entry["area"] = wh
            recomputed += 1
        if "iscrowd" not in ann:
            entry["iscrowd"] = 0
            crowd_added += 1
        out.append(entry)
    if shift:
        notes.append("annotation ids: every id + 1 (id 0 present; shifted rather than renumbered, so files that "
                     "share ids keep sharing them; source_id keeps them)")
    if renumber:
        notes.append(f"annotation ids: renumbered 1..{len(out)} in file order (id 0 or non-unique ids; source_id "
                     "keeps them)")
    if recomputed:
        spread = f"; the file's area was {min(ratios):.2f}..{max(ratios):.2f} x w*h" if ratios else ""
        notes.append(f"area: {recomputed} of {len(out)} recomputed as w*h{spread}")
    if crowd_added:
        notes.append(f"iscrowd: added (0) to {crowd_added} annotations")
    return out
