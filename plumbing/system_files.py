"""Files that operating systems add to folders and archives: never data. Folders skip them unread with one warning;
submission archives refuse them (``plumbing.archives``).

macOS: ``__MACOSX/`` (Finder's Compress puts resource forks there), ``._*`` (AppleDouble files, beside every
file on non-Apple disks and in archives), ``.DS_Store``, and the volume folders ``.Spotlight-V100/``,
``.Trashes/``, ``.fseventsd/``; Windows: ``Thumbs.db``, ``ehthumbs.db``, ``desktop.ini``, ``$RECYCLE.BIN/``,
``System Volume Information/``. Names compare case-insensitively, at any depth.
"""
from __future__ import annotations

import os
from pathlib import Path

from plumbing.errors import warn

SYSTEM_FOLDERS = frozenset({"__macosx", ".spotlight-v100", ".trashes", ".fseventsd", "$recycle.bin",
                            "system volume information"})
SYSTEM_FILES = frozenset({".ds_store", "thumbs.db", "ehthumbs.db", "desktop.ini"})
APPLE_DOUBLE = "._"
_SHOWN = 3


def metadata_kind(path: str) -> str | None:
    """The kind of operating-system metadata a relative POSIX path (a file in a folder, an archive member) is --
    its system folder (``__MACOSX/``), its file name (``.DS_Store``) or ``._*`` -- or None when it is data."""
    parts = path.rstrip("/").split("/")
    for part in parts:
        if part.lower() in SYSTEM_FOLDERS:
            return f"{part}/"
    if parts[-1].lower() in SYSTEM_FILES:
        return parts[-1]
    return f"{APPLE_DOUBLE}*" if parts[-1].startswith(APPLE_DOUBLE) else None


def is_system_file(path: str) -> bool:
    """Whether a relative POSIX path (a file in a folder, an archive member) is operating-system metadata."""
    return metadata_kind(path) is not None


def warn_skipped(source: str, skipped: list[str], noun: str = "file") -> None:
    """One warning counting the operating-system files skipped in ``source`` (nothing when there are none)."""
    if skipped:
        shown = ", ".join(skipped[:_SHOWN]) + (", ..." if len(skipped) > _SHOWN else "")
        plural = "" if len(skipped) == 1 else "s"
        warn(f"{source}: skipped {len(skipped)} operating-system metadata {noun}{plural} ({shown}), never read")


def walk_files(root, keep) -> list[str]:
    """Relative POSIX paths of the files below ``root`` (symlinked folders followed) whose name ``keep(name)``
    accepts, sorted; operating-system metadata is skipped unread, with one warning naming ``root``."""
    found, skipped = [], []
    for folder, _dirs, files in os.walk(root, followlinks=True):
        rel = Path(folder).relative_to(root)
        for name in files:
            path = (rel / name).as_posix()
            if is_system_file(path):
                skipped.append(path)
            elif keep(name):
                found.append(path)
    warn_skipped(str(root), sorted(skipped))
    return sorted(found)
