"""Building the official ImageNet-S layout from an ImageNet-1k tree, and checking a built one.

``SAVE/ImageNetS{N}/``: ``train/`` (class folders linked from ImageNet ``train/``; for 919 the five merged classes
are added to their targets), ``train-full/`` (919: all of ImageNet ``train/``), ``train-semi/``, ``validation/`` and
``test/`` (copied through the list files). Every source is checked before anything is written, existing entries that
are already right are kept, anything else at a destination is never overwritten, and each entry takes its name
atomically, so an interrupted run is simply rerun.
"""
from __future__ import annotations

import csv
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from imagenet_s import lists
from plumbing.errors import BadInputError
from plumbing.files import commit_temp

# merged ImageNet class -> the ImageNet-S-919 class that receives its training images
MERGES_919 = {"n04356056": "n04355933", "n04493381": "n02808440", "n03642806": "n03832673",
              "n04008634": "n03773504", "n03887697": "n15075141"}
LINKS = ("symlink", "hardlink", "copy")
_SHOWN = 10


@dataclass(frozen=True)
class Entry:
    """One entry of the layout to build: source, destination and how (symlink | hardlink | copy)."""
    src: Path
    dst: Path
    how: str  # symlink | hardlink | copy


def list_files(lists_root: str | os.PathLike, mode: str) -> dict[str, Path]:
    """The five list files of subset ``mode`` under a lists root (``imagenet-s download lists`` layout)."""
    root = Path(lists_root)
    return {"categories": root / "categories" / f"ImageNetS_categories_im{mode}.txt",
            "validation": root / "mapping" / f"ImageNetS_im{mode}_mapping_validation.txt",
            "test": root / "mapping" / f"ImageNetS_im{mode}_mapping_test.txt",
            "names": root / "names" / f"ImageNetS_im{mode}_validation.txt",
            "train-semi": root / "names" / f"ImageNetSemi_im{mode}_train.txt"}


def read_val_labels(path: str | os.PathLike, synsets: str | os.PathLike | None = None) -> dict[str, str]:
    """ImageNet validation labels ``{file name: wnid}`` from ``LOC_val_solution.csv``, or from
    ``ILSVRC2012_validation_ground_truth.txt`` (label i on line i) with its synset list (wnid of label k on line k)."""
    path = Path(path)
    if path.suffix == ".csv":
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        if not rows or not {"ImageId", "PredictionString"} <= rows[0].keys():
            raise BadInputError(f"{path}: expected the columns ImageId,PredictionString of LOC_val_solution.csv")
        return {f"{r['ImageId']}.JPEG": r["PredictionString"].split()[0] for r in rows}
    if synsets is None:
        raise BadInputError(f"{path}: a ground-truth file of label numbers needs --val-synsets (wnid of label k on "
                            "line k)")
    wnids = [line.split()[0] for line in lists.read_lines(synsets)]
    labels = {}
    for number, line in enumerate(lists.read_lines(path), start=1):
        if not line.isdigit() or not 1 <= int(line) <= len(wnids):
            raise BadInputError(f"{path}: line {number}: {line!r} is not a label 1..{len(wnids)}")
        labels[f"ILSVRC2012_val_{number:08d}.JPEG"] = wnids[int(line) - 1]
    return labels


def plan(imagenet_dir: str | os.PathLike, out: str | os.PathLike, lists_root: str | os.PathLike, mode: str,
         link: str = "symlink", val_labels: dict[str, str] | None = None) -> list[Entry]:
    """Every entry of the ImageNet-S-``mode`` layout; raises listing the missing sources (nothing written)."""
    imagenet, out = Path(imagenet_dir).resolve(), Path(out)
    files = list_files(lists_root, mode)
    wnids = lists.read_categories(files["categories"], int(mode))
    train, val = imagenet / "train", imagenet / "val"
    flat_val = val.is_dir() and not any(p.is_dir() and lists.WNID.fullmatch(p.name) for p in val.iterdir())
    entries, missing = [], []

    def train_files(wnid: str) -> list[str]:
        folder = train / wnid
        if not folder.is_dir():
            missing.append(str(folder))
            return []
        return sorted(p.name for p in os.scandir(folder) if p.is_file())

    merged = MERGES_919 if mode == "919" else {}
    for wnid in wnids:
        sources = [wnid] + [src for src, dst in merged.items() if dst == wnid]
        if link == "symlink" and len(sources) == 1:  # a folder link, as upstream
            if (train / wnid).is_dir():
                entries.append(Entry(train / wnid, out / "train" / wnid, link))
            else:
                missing.append(str(train / wnid))
            continue
        for src in sources:
            entries += [Entry(train / src / name, out / "train" / wnid / name, link) for name in train_files(src)]
    if mode == "919":
        if link == "symlink":
            entries.append(Entry(train, out / "train-full", link))
        else:
            for folder in sorted(p.name for p in os.scandir(train) if p.is_dir()):
                entries += [Entry(train / folder / n, out / "train-full" / folder / n, link)
                            for n in train_files(folder)]
    for image, _mask in lists.read_pairs(files["train-semi"]):
        folder, name = image.split("/")
        entries.append(Entry(train / name.split("_")[0] / name, out / "train-semi" / folder / name, "copy"))
    for split in ("validation", "test"):
        for src, dst in lists.read_pairs(files[split]):
            folder, name = src.split("/")
            if val_labels is not None and val_labels.get(name) != folder:
                raise BadInputError(f"{name}: the validation labels say {val_labels.get(name)}, the ImageNet-S "
                                    f"mapping {files[split].name} says {folder}: wrong labels file?")
            entries.append(Entry(val / name if flat_val else val / src, out / split / dst, "copy"))
    missing += [str(e.src) for e in entries if e.how == "copy" and not e.src.is_file()]
    if missing:
        shown = ", ".join(missing[:_SHOWN]) + (f" and {len(missing) - _SHOWN} more" if len(missing) > _SHOWN else "")
        raise BadInputError(f"{len(missing)} source files or folders missing under {imagenet}: {shown}; nothing "
                            "was written")
    return entries


def state(entry: Entry) -> str:
    """``todo`` (nothing there), ``done`` (already what this entry makes) or ``conflict`` (something else)."""
    dst = entry.dst
    if not os.path.lexists(dst):
        return "todo"
    if entry.how == "symlink":
        ok = dst.is_symlink() and os.readlink(dst) == str(entry.src)
    elif entry.how == "hardlink":
        ok = not dst.is_symlink() and dst.is_file() and os.path.samefile(dst, entry.src)
    else:
        ok = (not dst.is_symlink() and dst.is_file() and dst.stat().st_size == entry.src.stat().st_size
              and int(dst.stat().st_mtime) == int(entry.src.stat().st_mtime))
    return "done" if ok else "conflict"


def place(entry: Entry) -> None:
    """Create ``entry.dst`` under a temporary name, then rename it into place."""
    entry.dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = entry.dst.parent / f".{entry.dst.name}.prepare.tmp"
    if os.path.lexists(tmp):
        os.unlink(tmp)
    if entry.how == "symlink":
        os.symlink(entry.src, tmp)
    elif entry.how == "hardlink":
        os.link(entry.src, tmp)
    else:
        shutil.copyfile(entry.src, tmp)
        shutil.copystat(entry.src, tmp)
        commit_temp(tmp, entry.dst)
        return
    os.replace(tmp, entry.dst)


def build(entries: list[Entry], workers: int = 4, progress: bool = True) -> tuple[int, int]:
    """Place the entries that are not there yet; ``(written, already there)``. Refuses (writing nothing) when a
    destination holds something else."""
    states = [state(e) for e in entries]
    conflicts = [str(e.dst) for e, s in zip(entries, states) if s == "conflict"]
    if conflicts:
        shown = ", ".join(conflicts[:_SHOWN]) + (f" and {len(conflicts) - _SHOWN} more" if len(conflicts) > _SHOWN
                                                 else "")
        raise BadInputError(f"{len(conflicts)} destinations already hold something else (not overwritten): {shown}; "
                            "move them away, or rerun with the --link of the first run")
    todo = [e for e, s in zip(entries, states) if s == "todo"]
    with ThreadPoolExecutor(workers) as pool, tqdm(total=len(todo), unit="file", desc="prepare",
                                                   disable=None if progress else True) as bar:
        for _ in pool.map(place, todo):
            bar.update()
    return len(todo), len(entries) - len(todo)


def _files_under(folder: Path) -> set[str]:
    if not folder.is_dir():
        return set()
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if not p.name.startswith(".")
            and p.is_file()}


def verify(root: str | os.PathLike, lists_root: str | os.PathLike, mode: str) -> tuple[list[list], list[str]]:
    """Compare a built ``ImageNetS{N}`` folder with the lists: rows ``[split, expected, found, missing, extra]``
    and one problem line per incomplete split (naming the classes with missing files)."""
    root, files = Path(root), list_files(lists_root, mode)
    wnids = lists.read_categories(files["categories"], int(mode))
    semi, names = lists.read_pairs(files["train-semi"]), lists.read_pairs(files["names"])
    expected = {"validation": {dst for _, dst in lists.read_pairs(files["validation"])},
                "test": {dst for _, dst in lists.read_pairs(files["test"])},
                "train-semi": {image for image, _ in semi},
                "validation-segmentation": {mask for _, mask in names},
                "train-semi-segmentation": {mask for _, mask in semi}}
    train = root / "train"
    classes = {p.name for p in train.iterdir() if p.is_dir() and any(p.iterdir())} if train.is_dir() else set()
    rows = [["train (classes)", len(wnids), len(classes & set(wnids)), len(set(wnids) - classes),
             len(classes - set(wnids))]]
    problems = [f"train: {len(set(wnids) - classes)} classes missing or empty, e.g. {min(set(wnids) - classes)}"] \
        if set(wnids) - classes else []
    if mode == "919" and not (root / "train-full").is_dir():
        problems.append("train-full: missing")
    for split, want in expected.items():
        if split.endswith("segmentation") and not (root / split).exists():
            rows.append([split, len(want), "absent", "", ""])
            continue
        found = _files_under(root / split)
        missing, extra = want - found, found - want
        rows.append([split, len(want), len(found & want), len(missing), len(extra)])
        if missing or extra:
            by_class = sorted({m.split("/")[0] for m in missing})
            problems.append(f"{split}: {len(missing)} missing in {len(by_class)} classes "
                            f"({', '.join(by_class[:_SHOWN])}), {len(extra)} unexpected files")
    return rows, problems
