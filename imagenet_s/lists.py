"""Reading the official ImageNet-S list files given by the user (categories, validation names)."""
from __future__ import annotations

import os
import re
from pathlib import Path

from plumbing.errors import BadInputError

WNID = re.compile(r"n\d{8}")


def read_lines(path: str | os.PathLike) -> list[str]:
    """The stripped non-empty lines of a UTF-8 text file (BadInputError naming the file otherwise)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInputError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise BadInputError(f"{path}: not UTF-8 text ({exc.reason})") from None
    return [line.strip() for line in text.splitlines() if line.strip()]


def read_categories(path: str | os.PathLike, num_classes: int | None = None) -> list[str]:
    """WordNet ids of ``ImageNetS_categories_im{N}.txt``; line i is class id i (1-based)."""
    wnids = read_lines(path)
    for number, wnid in enumerate(wnids, start=1):
        if not WNID.fullmatch(wnid):
            raise BadInputError(f"{path}: line {number}: {wnid!r} is not a WordNet id such as n01443537")
    if num_classes is not None and len(wnids) != num_classes:
        raise BadInputError(f"{path}: {len(wnids)} categories, but --mode {num_classes} needs {num_classes}")
    return wnids


def read_names(path: str | os.PathLike) -> list[str]:
    """Mask names of a names list (``wnid/name.JPEG wnid/name.png`` per line, or just ``wnid/name.png``)."""
    names = []
    for number, line in enumerate(read_lines(path), start=1):
        name = line.split()[-1]
        if not name.endswith(".png") or name.startswith("/") or ".." in name.split("/"):
            raise BadInputError(f"{path}: line {number}: {name!r} is not a relative mask name ending in .png")
        names.append(name)
    return names


def read_pairs(path: str | os.PathLike) -> list[tuple[str, str]]:
    """The two columns of a mapping or names list (``wnid/a.JPEG wnid/b.JPEG``), as relative paths."""
    pairs = []
    for number, line in enumerate(read_lines(path), start=1):
        fields = line.split()
        if len(fields) != 2 or any(f.startswith("/") or ".." in f.split("/") or f.count("/") != 1 for f in fields):
            raise BadInputError(f"{path}: line {number}: {line!r} is not two relative paths 'wnid/file wnid/file'")
        pairs.append((fields[0], fields[1]))
    return pairs
