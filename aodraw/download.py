"""``aodraw download``: the annotation files from a mirror or from the Google Drive archive; the image folders,
which upstream only offers through browser mirrors (Baidu, TeraBox), as instructions.

Upstream publishes no checksums: every annotation file is checked structurally (a valid AODRaw/COCO ground truth)
before it takes its final name; ``aodraw lock`` / ``aodraw verify --lock`` pin a copy exactly.
"""
from __future__ import annotations

import os
import tarfile
import zipfile
from pathlib import Path

from data_manifests.fetch import fetch, fetch_all
from data_manifests.manifest import Artifact, load
from evaluators.detection.validate import load_ground_truth
from plumbing.errors import BadInputError, ChecksumMismatchError
from plumbing.files import atomic_write_bytes
from plumbing.jsonio import parse_json

# command-line name -> folder name
FOLDERS = {"annotations": "annotations", "images": "images", "downsampled-raw": "images_downsampled_raw",
           "downsampled-srgb": "images_downsampled_srgb", "slice-raw": "images_slice_raw",
           "slice-srgb": "images_slice_srgb"}


def _check_annotation(path: Path) -> None:
    load_ground_truth(path)


def _members(archive: Path, names: set[str]) -> dict[str, bytes]:
    """The members of a zip or tar archive whose file name is in ``names`` (any folder inside)."""
    found = {}
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as z:
            for info in z.infolist():
                if Path(info.filename).name in names and not info.is_dir():
                    found[Path(info.filename).name] = z.read(info)
    elif tarfile.is_tarfile(archive):
        with tarfile.open(archive) as t:
            for member in t.getmembers():
                if Path(member.name).name in names and member.isfile():
                    found[Path(member.name).name] = t.extractfile(member).read()
    else:
        raise BadInputError(f"{archive}: neither a zip nor a tar archive")
    if not found:
        raise BadInputError(f"{archive}: none of the annotation files ({', '.join(sorted(names))}) inside")
    return found


def _check_archive(path: Path) -> None:
    _members(path, set(load("aodraw").folders[0].names))


def unpack_annotations(archive: Path, root: Path) -> tuple[int, int]:
    """Write the annotation files of ``archive`` to ``root/annotations/`` (each validated, atomically);
    ``(written, already there)``. A different existing file is never overwritten."""
    written = present = 0
    for name, data in sorted(_members(archive, set(load("aodraw").folders[0].names)).items()):
        dest = root / "annotations" / name
        if dest.exists():
            if dest.read_bytes() != data:
                raise ChecksumMismatchError(f"{dest}: exists with other content than {archive}; it is not "
                                            "overwritten: move it away and rerun")
            present += 1
            continue
        load_ground_truth(parse_json(data, f"{archive}: {name}"), f"{archive}: {name}")  # refuses a broken file
        atomic_write_bytes(dest, data)
        written += 1
    return written, present


def download_annotations(root: str | os.PathLike, mirror: str | None = None, archive: Artifact | None = None,
                         **options) -> str:
    """Annotation files into ``root/annotations/``: from the mirror (``annotations/NAME``) when one is given (or
    ``$AODRAW_MIRROR``), else from the Google Drive archive. A summary line."""
    manifest, root = load("aodraw"), Path(root)
    mirror = mirror or os.environ.get(manifest.mirror_env) or None
    if mirror:
        counts = fetch_all(manifest, manifest.select("annotations"), root, mirror=mirror, check=_check_annotation,
                           **options)
        return (f"{root / 'annotations'}: {sum(counts.values())} annotation files checked ({counts['downloaded']} "
                f"downloaded, {counts['cached']} from the cache, {counts['present']} already there)")
    archive = archive or manifest.select("annotations-archive")[0]
    fetch(archive, root / archive.path, check=_check_archive, **options)
    written, present = unpack_annotations(root / archive.path, root)
    return f"{root / 'annotations'}: {written} annotation files written, {present} already there"


def instructions(what: str, root: str | os.PathLike) -> list[str]:
    """How to get an image folder that has no direct download link."""
    folder = next(f for f in load("aodraw").folders if f.name == FOLDERS[what])
    target = Path(root) / folder.name
    how = "only through browser mirrors, which this tool does not scrape" if folder.links else "no download link"
    lines = [f"{folder.name} ({folder.size}, {folder.files} files): upstream offers {how}."]
    if folder.links:
        lines.append(f"Download it in a browser and put the files in {target}/:")
        lines += [f"  {mirror}: {url}" for mirror, url in folder.links.items()]
    if folder.generate:
        lines.append(f"Or generate it from images/ with `{folder.generate}` (see docs/aodraw_data.md).")
    lines.append(f"A local copy elsewhere: copy it (e.g. rsync) to {target}/, then check it with: aodraw verify "
                 f"{root} [--lock LOCK.json]")
    return lines
