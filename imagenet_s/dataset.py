"""The whole-dataset workflows behind ``imagenet-s prepare`` and ``imagenet-s verify``: fetch and verify the list
files through the manifest, build each subset's layout from ImageNet-1k (``imagenet_s.prepare``), unpack the
segmentation folders from the md5-verified annotation archive (``imagenet_s.archives``), check a built folder."""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from data_manifests import manifest as manifests
from data_manifests.fetch import SourceUnavailableError, default_cache_dir, fetch_all
from imagenet_s import archives, prepare
from plumbing.errors import ToolkitRuntimeError
from plumbing.jobs import default_workers
from plumbing.tables import format_table

MODES = ("50", "300", "919")


def modes_of(mode: str) -> tuple[str, ...]:
    """``("50", "300", "919")`` for ``"all"``, else ``(mode,)``."""
    return MODES if mode == "all" else (mode,)


def verified_lists(mode: str, lists_mirror: str | None = None, cache_dir: str | os.PathLike | None = None) -> Path:
    """A folder holding the sha256-verified list files of subset ``mode`` (fetched into the cache through the
    manifest from ``lists_mirror``, ``$IMAGENET_S_MIRROR`` or upstream). Raises as ``fetch_all``."""
    manifest = manifests.load("imagenet_s")
    root = Path(cache_dir or default_cache_dir()) / "imagenet_s-lists"
    fetch_all(manifest, manifest.select("lists", mode), root, mirror=lists_mirror, cache_dir=cache_dir,
              progress=False)
    return root


def prepare_dataset(imagenet_dir: str | os.PathLike, save_dir: str | os.PathLike, mode: str,
                    link: str = "symlink", workers: int | None = None, val_labels: str | os.PathLike | None = None,
                    val_synsets: str | os.PathLike | None = None, lists_mirror: str | None = None,
                    archive_mirror: str | None = None, cache_dir: str | os.PathLike | None = None) -> Iterator[str]:
    """Build ``SAVE_DIR/ImageNetS{N}/`` for each subset of ``mode`` (50, 300, 919 or all); yields report lines.

    Every source is checked before anything of a subset is written; reruns keep what is already right. The
    segmentation folders come from the annotation archive: when no source has it, a line says how to get it and
    the rest stands; a checksum mismatch is an error (ChecksumMismatchError, nothing unpacked). ImageNet's flat
    ``val/`` needs ``val_labels`` (default: ``IMAGENET_DIR/LOC_val_solution.csv`` when it exists).
    Raises BadInputError (missing sources, conflicts), ChecksumMismatchError, ToolkitError (downloads)."""
    default_labels = Path(imagenet_dir) / "LOC_val_solution.csv"
    if val_labels is None and default_labels.is_file():
        val_labels = default_labels
    labels = prepare.read_val_labels(val_labels, val_synsets) if val_labels else None
    plans = {m: prepare.plan(imagenet_dir, Path(save_dir) / f"ImageNetS{m}", verified_lists(m, lists_mirror, cache_dir),
                             m, link, labels) for m in modes_of(mode)}
    for m, entries in plans.items():
        written, kept = prepare.build(entries, workers or default_workers())
        out = Path(save_dir) / f"ImageNetS{m}"
        yield (f"{out}: {written} entries written, {kept} already in place" if written else
               f"{out}: complete, nothing changed ({kept} entries already in place)")
        yield unpack_annotations(m, out, archive_mirror, cache_dir)


def unpack_annotations(mode: str, out: Path, archive_mirror: str | None = None,
                       cache_dir: str | os.PathLike | None = None) -> str:
    """Unpack the segmentation folders of subset ``mode`` into ``out`` from the verified annotation archive; the
    report line. When no source has the archive, the line says how to get it (nothing raised); a checksum mismatch
    raises ChecksumMismatchError and nothing is unpacked."""
    manifest = manifests.load("imagenet_s")
    [archive] = manifest.select("annotations", mode)
    root = Path(cache_dir or default_cache_dir()) / "imagenet_s-annotations"
    try:
        fetch_all(manifest, [archive], root, mirror=archive_mirror, cache_dir=cache_dir)
    except SourceUnavailableError as exc:
        return (f"  segmentation folders not built ({exc}); get the archive with: imagenet-s download annotations "
                f"--mode {mode} --root DIR, then rerun with --annotations DIR")
    written, kept = archives.unpack_segmentation(root / archive.path, out)
    return f"  segmentation masks from {archive.name}: {written} written, {kept} already in place"


def verify_dataset(root: str | os.PathLike, mode: str, lists_mirror: str | None = None,
                   cache_dir: str | os.PathLike | None = None) -> Iterator[str]:
    """Check file counts per split and class of a built folder (``ROOT/ImageNetS{N}`` or ROOT itself) against the
    list files; yields a table per subset, then one line per problem. Raises ToolkitRuntimeError (exit code 1)
    after the report when a split is incomplete."""
    problems = []
    for m in modes_of(mode):
        folder = Path(root) / f"ImageNetS{m}"
        folder = folder if folder.is_dir() else Path(root)
        rows, found = prepare.verify(folder, verified_lists(m, lists_mirror, cache_dir), m)
        yield f"{folder} (ImageNet-S-{m})"
        yield format_table(("split", "expected", "found", "missing", "extra"), rows, align_left=1)
        problems += [f"{folder}: {p}" for p in found]
    yield from problems
    if problems:
        raise ToolkitRuntimeError(f"{len(problems)} incomplete splits (see above)")
    yield "complete"
