"""Getting and checking the USS datasets: COCO-Stuff annotations and the curated list through the manifest
(``data_manifests/uss.json``), instructions and a check of a local copy for the login-only Cityscapes and Potsdam.

Layouts (STEGO / PiCIE): COCO-Stuff ``ROOT/annotations/val2017/<id>.png`` and
``ROOT/curated/val2017/Coco164kFull_Stuff_Coarse_7.txt``; Cityscapes ``ROOT/gtFine/val/<city>/*_gtFine_labelIds.png``;
Potsdam ``ROOT/gt/<id>.mat`` with the split list ``ROOT/labelled_test.txt``.
"""
from __future__ import annotations

import os
import shutil
import zipfile
from collections import Counter
from pathlib import Path

from data_manifests import manifest as manifests
from data_manifests.fetch import default_cache_dir, fetch_all
from evaluators.uss.datasets import CURATED_COCO, preset
from plumbing.errors import BadInputError

ANNOTATIONS_ZIP = "stuffthingmaps_trainval2017.zip"
COCO_VAL = "annotations/val2017"
CITYSCAPES_VAL_IMAGES = 500
INSTRUCTIONS = {
    "cityscapes27": (
        "Cityscapes needs a login: register at https://www.cityscapes-dataset.com/, download gtFine_trainvaltest.zip "
        "(and leftImg8bit_trainvaltest.zip for images), unzip both into ROOT, then run "
        "`uss prepare --dataset cityscapes27 --root ROOT` to check ROOT/gtFine/val/<city>/*_gtFine_labelIds.png "
        f"({CITYSCAPES_VAL_IMAGES} val images)."),
    "potsdam3": (
        "Potsdam (ISPRS 2D semantic labelling) needs a request form: get it from "
        "https://www.isprs.org/education/benchmarks/UrbanSemLab/2d-sem-label-potsdam.aspx, or the crops STEGO uses "
        "(imgs/, gt/*.mat, labelled_test.txt) from STEGO's data download, put them under ROOT, then run "
        "`uss prepare --dataset potsdam3 --root ROOT` to check ROOT/gt/<id>.mat for every id of "
        "ROOT/labelled_test.txt."),
}


def is_coco(dataset: str) -> bool:
    """True for the COCO-Stuff presets (whose files the manifest lists)."""
    return preset(dataset).curated == CURATED_COCO


def check_annotation_zip(path: Path) -> None:
    """The structure check of the COCO-Stuff annotation archive (published without a digest): a zip with
    ``val2017/*.png``.

    Raises:
        BadInputError: not a zip, or no val2017 PNGs in it."""
    try:
        with zipfile.ZipFile(path) as archive:
            if not any(_val_member(n) for n in archive.namelist()):
                raise BadInputError(f"{path}: no val2017/*.png in the archive")
    except zipfile.BadZipFile:
        raise BadInputError(f"{path}: not a zip archive") from None


def _val_member(name: str) -> str | None:
    parts = name.split("/")
    return parts[-1] if len(parts) >= 2 and parts[-2] == "val2017" and parts[-1].endswith(".png") else None


def download(dataset: str, root: str | os.PathLike, what: str = "all", **options) -> list[str]:
    """Download the COCO-Stuff curated list (``lists``) and/or annotation archive (``annotations``) into ``root``,
    verified; for Cityscapes and Potsdam, the instructions. Returns lines to print."""
    if not is_coco(dataset):
        return [INSTRUCTIONS[dataset]]
    manifest = manifests.load("uss")
    counts = Counter()
    for group in ("lists", "annotations") if what == "all" else (what,):
        check = check_annotation_zip if group == "annotations" else None
        counts += fetch_all(manifest, manifest.select(group), root, check=check, **options)
    return [f"{root}: {sum(counts.values())} files verified ({counts['downloaded']} downloaded, {counts['cached']} "
            f"from the cache, {counts['present']} already there)"]


def default_root() -> Path:
    """Where ``--names curated`` keeps the curated list without ``--data-root``: ``<download cache>/uss``."""
    return default_cache_dir() / "uss"


def curated_names(root: str | os.PathLike, **options) -> list[str]:
    """The curated COCO-Stuff val ids: ``root/curated/...`` when there (verified), else fetched through the
    manifest into ``root``."""
    manifest = manifests.load("uss")
    fetch_all(manifest, manifest.select("lists"), root, **options)
    return (Path(root) / CURATED_COCO).read_text(encoding="ascii").split()


def prepare(dataset: str, root: str | os.PathLike, **options) -> list[str]:
    """Put a dataset in its evaluation layout under ``root`` and check it; returns lines to print.

    COCO-Stuff: extracts ``val2017/*.png`` of the downloaded archive into ``root/annotations/val2017`` (unless that
    folder exists), fetches the curated list and checks that every curated image has its annotation. Cityscapes,
    Potsdam: checks the local copy.

    Raises:
        BadInputError: missing archive or files (naming what and where)."""
    root = Path(root)
    if dataset == "cityscapes27":
        return _check_cityscapes(root)
    if dataset == "potsdam3":
        return _check_potsdam(root)
    target, archive = root / COCO_VAL, root / ANNOTATIONS_ZIP
    written = 0
    if not target.is_dir():
        if not archive.is_file():
            raise BadInputError(f"{archive}: no such file (run `uss download --dataset {dataset} --root {root}`)")
        written = _extract_val(archive, target)
    ids = curated_names(root, **options)
    missing = [i for i in ids if not (target / f"{i}.png").is_file()]
    if missing:
        raise BadInputError(f"{target}: {len(missing)} of {len(ids)} curated annotations missing, first: "
                            f"{', '.join(missing[:5])}")
    return [f"{target}: {written} annotations extracted; all {len(ids)} curated images present",
            f"evaluate with: uss evaluate --dataset {dataset} --gt-dir {target} --pred-dir PRED --names curated"]


def _extract_val(archive: Path, target: Path) -> int:
    """Extract the archive's ``val2017/*.png`` into a temporary sibling folder, flush once, then rename it to
    ``target``: an interrupted run leaves no ``target`` (and its temporary folder is cleared on the next run)."""
    check_annotation_zip(archive)
    partial = target.parent / f".{target.name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    written = 0
    with zipfile.ZipFile(archive) as z:
        for member in z.namelist():
            name = _val_member(member)
            if name:
                (partial / name).write_bytes(z.read(member))
                written += 1
    os.sync()
    os.replace(partial, target)
    return written


def _check_cityscapes(root: Path) -> list[str]:
    val = root / "gtFine" / "val"
    found = sorted(val.glob("*/*_gtFine_labelIds.png")) if val.is_dir() else []
    if len(found) != CITYSCAPES_VAL_IMAGES:
        raise BadInputError(f"{val}: {len(found)} *_gtFine_labelIds.png files, expected {CITYSCAPES_VAL_IMAGES}. "
                            + INSTRUCTIONS["cityscapes27"])
    return [f"{val}: all {len(found)} val label maps present",
            f"evaluate with: uss evaluate --dataset cityscapes27 --gt-dir {val} --pred-dir PRED"]


def _check_potsdam(root: Path) -> list[str]:
    listed = root / "labelled_test.txt"
    if not listed.is_file():
        raise BadInputError(f"{listed}: no such file. " + INSTRUCTIONS["potsdam3"])
    ids = listed.read_text(encoding="utf-8").split()
    missing = [i for i in ids if not (root / "gt" / f"{i}.mat").is_file()]
    if missing or not ids:
        raise BadInputError(f"{root / 'gt'}: {len(missing)} of {len(ids)} listed label files missing, first: "
                            f"{', '.join(missing[:5])}")
    return [f"{root / 'gt'}: all {len(ids)} labelled_test label files present",
            f"evaluate with: uss evaluate --dataset potsdam3 --gt-dir {root / 'gt'} --pred-dir PRED --names "
            f"{listed}"]
