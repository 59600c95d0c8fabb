"""The segmentation folders of the ImageNet-S annotation archives (``ImageNetS{N}-<md5>.zip``)."""
from __future__ import annotations

import os
import zipfile
from pathlib import Path, PurePosixPath

from tqdm import tqdm

from plumbing.errors import BadInputError
from plumbing.files import atomic_write_bytes

SEGMENTATION = ("validation-segmentation", "train-semi-segmentation")
_SHOWN = 10


def _members(z: zipfile.ZipFile, archive: Path) -> dict[str, zipfile.ZipInfo]:
    """``{path from the segmentation folder on: member}``, whatever folder the archive puts them in."""
    members = {}
    for info in z.infolist():
        parts = PurePosixPath(info.filename).parts
        start = next((i for i, part in enumerate(parts) if part in SEGMENTATION), None)
        if info.is_dir() or start is None:
            continue
        if any(part in ("..", "") for part in parts[start:]):
            raise BadInputError(f"{archive}: unsafe member name {info.filename!r}")
        members["/".join(parts[start:])] = info
    if not members:
        raise BadInputError(f"{archive}: no {' or '.join(f'{s}/' for s in SEGMENTATION)} inside")
    return members


def unpack_segmentation(archive: str | os.PathLike, out: str | os.PathLike, progress: bool = True) -> tuple[int, int]:
    """Write the segmentation folders of ``archive`` into ``out`` (each file atomically); ``(written, already
    there)``. Refuses, writing nothing, when a destination holds other content."""
    archive, out = Path(archive), Path(out)
    if not zipfile.is_zipfile(archive):
        raise BadInputError(f"{archive}: not a zip archive")
    with zipfile.ZipFile(archive) as z:
        members = _members(z, archive)
        todo, conflicts = [], []
        for rel, info in sorted(members.items()):
            dest = out / rel
            if not dest.exists():
                todo.append((dest, info))
            elif dest.stat().st_size != info.file_size or dest.read_bytes() != z.read(info):
                conflicts.append(str(dest))
        if conflicts:
            shown = ", ".join(conflicts[:_SHOWN]) + (f" and {len(conflicts) - _SHOWN} more"
                                                     if len(conflicts) > _SHOWN else "")
            raise BadInputError(f"{len(conflicts)} files differ from {archive.name} (not overwritten): {shown}")
        for dest, info in tqdm(todo, unit="file", desc="masks", disable=None if progress else True):
            atomic_write_bytes(dest, z.read(info))
    return len(todo), len(members) - len(todo)
