"""Checking a local AODRaw copy: folder completeness against the manifest, annotation consistency, lock files.

Upstream publishes no checksums, so ``verify`` checks structure: file counts per folder, that every file of every
image folder present is whole (not empty, JPGs with their end-of-image marker, ``.npy`` with complete header and
data; annotations or not), that every annotated image exists in each folder present (ARW and JPG in ``images/``),
and the annotations themselves (unique ids, known categories, boxes inside their image, known condition tags).
``lock`` records sha256 and size of every file of a copy so that copies elsewhere can be compared with it exactly.
"""
from __future__ import annotations

import os
from pathlib import Path

from tqdm import tqdm

from aodraw.categories import LIGHT_TAGS, WEATHER_TAGS
from data_manifests.manifest import load
from evaluators.detection.validate import read_ground_truth
from plumbing.errors import BadInputError
from plumbing.files import output_complete
from plumbing.hashing import file_digest
from plumbing.jobs import progress_bar

# annotation file suffix -> (folder, extensions) its images are in
_IMAGES_OF = {"_annotations.json": (("images", (".ARW", ".JPG")),),
              "_annotations_downsample_scale3_bbox_min_size32.json": (("images_downsampled_raw", (".npy",)),
                                                                      ("images_downsampled_srgb", (".JPG",))),
              "_annotations_slice_1280_300.json": (("images_slice_raw", (".npy",)), ("images_slice_srgb", (".JPG",)))}
_TAGS = set(LIGHT_TAGS + WEATHER_TAGS)
_SHOWN = 5


def _files(root: Path) -> list[str]:
    """Relative paths of the files under ``root`` (hidden files and lock files' temporaries left out)."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                  if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts))


def lock(root: str | os.PathLike, progress: bool = True) -> dict:
    """``{"dataset", "files": {relative path: {"size", "sha256"}}}`` of every file under ``root``."""
    root = Path(root)
    if not root.is_dir():
        raise BadInputError(f"{root}: no such folder")
    entries = {}
    for rel in tqdm(_files(root), unit="file", desc="lock", disable=None if progress else True):
        entries[rel] = {"size": (root / rel).stat().st_size, "sha256": file_digest(root / rel, "sha256")}
    return {"dataset": "aodraw", "files": entries}


def _shown(items: list[str]) -> str:
    return ", ".join(items[:_SHOWN]) + (f" and {len(items) - _SHOWN} more" if len(items) > _SHOWN else "")


def check_annotations(path: Path, root: Path) -> list[str]:
    """Problems of one annotation file: validity, tags, boxes inside images, image files present."""
    try:
        gt, _ = read_ground_truth(path)  # unique ids, known categories, well-formed boxes
    except BadInputError as exc:
        return [str(exc)]
    images = {im["id"]: im for im in gt["images"]}
    problems = []
    bad_tags = sorted({t for im in gt["images"] for t in im.get("tag") or [] if t not in _TAGS})
    if bad_tags:
        problems.append(f"{path}: unknown condition tags {_shown(bad_tags)}")
    outside = [str(a["id"]) for a in gt.get("annotations", []) if not _inside(a["bbox"], images[a["image_id"]])]
    if outside:
        problems.append(f"{path}: {len(outside)} boxes outside their image (annotation ids {_shown(outside)})")
    suffix = next((s for s in _IMAGES_OF if path.name.endswith(s)), None)
    for folder, exts in _IMAGES_OF.get(suffix, ()):
        if not (root / folder).is_dir():
            continue
        names = [f"{Path(im['file_name']).stem}{e}" for im in gt["images"] for e in exts]
        missing = [n for n in names if not (root / folder / n).is_file()]
        if missing:
            problems.append(f"{path.name}: {len(missing)} annotated images missing in {folder}/: {_shown(missing)}")
    return problems  # whether the annotated images that are there are whole: check_files, once per folder


def check_files(folder: Path, names: list[str], progress: bool = True) -> list[str]:
    """Problems of the files ``names`` (relative to ``folder``, sorted) of one image folder: one line naming how
    many are truncated or empty (see ``_whole``) and the first few. Reads only each file's size, a ``.npy``'s
    header and a JPG's last two bytes, so a folder of 15k images takes seconds."""
    broken = []
    with progress_bar(len(names), f"checking {folder.name}/", "file", progress) as bar:
        for name in names:
            if not _whole(folder / name):
                broken.append(name)
            bar.update()
    return [f"{folder.name}/: {len(broken)} truncated or empty files: {_shown(broken)}"] if broken else []


def _whole(path: Path) -> bool:
    """Not empty, and a .npy with its whole header and data / a JPG with its end-of-image marker."""
    return path.stat().st_size > 0 and output_complete(path)


def _inside(box, image, tolerance: float = 1.0) -> bool:
    x, y, w, h = box
    return x >= -tolerance and y >= -tolerance and x + w <= image["width"] + tolerance and \
        y + h <= image["height"] + tolerance


def verify(root: str | os.PathLike, lock_doc: dict | None = None,
           progress: bool = True) -> tuple[list[list], list[str], list[str]]:
    """Rows ``[folder, published size, published files, found, status]``, notes on incomplete folders (a copy may
    keep only some files) and the problems found: annotation problems (``check_annotations``), truncated or empty
    files of each image folder present (``check_files``, with or without annotations) and, given ``lock_doc``,
    differences from the lock. Raises BadInputError when ``root`` is not a folder or holds none of AODRaw's folders
    (a wrong path must not read as a copy without problems)."""
    root = Path(root)
    if not root.is_dir():
        raise BadInputError(f"{root}: no such folder")
    rows, notes, problems = [], [], []
    for folder in load("aodraw").folders:
        path = root / folder.name
        if not path.is_dir():
            rows.append([folder.name, folder.size or "-", folder.files, 0, "absent"])
            continue
        found = _files(path)
        status = "complete" if len(found) == folder.files else f"incomplete ({len(found)}/{folder.files})"
        rows.append([folder.name, folder.size or "-", folder.files, len(found), status])
        missing = [n for n in folder.names if n not in found]
        if missing:
            notes.append(f"{folder.name}/: not present: {_shown(missing)}")
        if folder.name == "annotations":
            for name in found:
                if name.endswith(".json"):
                    problems += check_annotations(path / name, root)
        else:
            problems += check_files(path, found, progress)
    if all(row[-1] == "absent" for row in rows):
        raise BadInputError(f"{root}: none of AODRaw's folders ({', '.join(row[0] for row in rows)}) is here; "
                            "give the AODRaw root, the folder that holds annotations/ and images/")
    if lock_doc is not None:
        problems += compare_lock(root, lock_doc)
    return rows, notes, problems


def compare_lock(root: Path, lock_doc: dict) -> list[str]:
    """Problems of ``root`` against a lock: missing files, and files of another size or sha256."""
    try:
        entries = lock_doc["files"]
        missing = [rel for rel in entries if not (root / rel).is_file()]
        changed = [rel for rel, e in tqdm(entries.items(), unit="file", desc="lock", disable=None)
                   if (root / rel).is_file() and ((root / rel).stat().st_size != e["size"]
                                                  or file_digest(root / rel, "sha256") != e["sha256"])]
    except (KeyError, TypeError, AttributeError):
        raise BadInputError("lock file: expected {\"files\": {path: {\"size\", \"sha256\"}}} as written by "
                            "`aodraw lock`") from None
    return ([f"lock: {len(missing)} files missing: {_shown(missing)}"] if missing else []) + \
        ([f"lock: {len(changed)} files differ from the lock: {_shown(changed)}"] if changed else [])
