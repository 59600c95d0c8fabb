"""LOD (Hong et al., "Crafting Object Detection in Very Low Light"): a Canon EOS 5D Mark IV (14-bit CR2) shooting
each scene twice, a normal (long) exposure with an odd number n and a dark (short) exposure n + 1. Eight classes.
COCO files per exposure and split (``all_dark-val.json``...): digit-string image ids, category ids from 0, no
``segmentation``/``ignore``, and ``area`` about 1.97 x w*h (measured on a larger frame) in a 1200 x 800 frame.
RawAdaptationModule subtracts black level 2047 and divides by 14,336 (white level 16,383)."""
from __future__ import annotations

import os
import re
from pathlib import Path

from aodraw.datasets.spec import DatasetSpec, read_camera_raw
from aodraw.raw import RawImage
from plumbing.errors import BadInputError

BLACK_LEVEL = 2047  # the camera's, as RawAdaptationModule's preprocessing states; used where the file gives none


def read_lod(path: str | os.PathLike, **overrides) -> RawImage:
    """A LOD CR2: 14-bit mosaic; black level from the file (2047 where it gives none), CFA from the file."""
    return read_camera_raw(path, 14, default_black=BLACK_LEVEL, **overrides)


def exposure_of(stem: str) -> tuple[str, str]:
    """(exposure, partner stem) of a LOD image: an even number is the dark shot of the pair whose normal shot is
    number - 1; an odd number the normal shot whose dark shot is number + 1 (zero-padding kept). Raises
    BadInputError for a stem that is not a number."""
    if not re.fullmatch(r"\d+", stem):
        raise BadInputError(f"LOD image {stem!r}: its name must be the shot number (LOD pairs shots n and n + 1)")
    number = int(stem)
    partner = number - 1 if number % 2 == 0 else number + 1
    return ("dark" if number % 2 == 0 else "normal"), str(partner).zfill(len(stem))


def pairs(stems: list[str]) -> dict:
    """The exposure pairing of a LOD folder's shots: ``{"pairs": [[normal, dark], ...], "unpaired": [stem, ...]}``
    (sorted; a shot whose partner is not among ``stems``, or whose name is not a number, is unpaired)."""
    present = set(stems)
    found, alone = set(), []
    for stem in sorted(stems):
        if not stem.isdigit():
            alone.append(stem)
            continue
        exposure, partner = exposure_of(stem)
        if partner in present:
            found.add((stem, partner) if exposure == "normal" else (partner, stem))
        else:
            alone.append(stem)
    return {"pairs": [list(p) for p in sorted(found)], "unpaired": alone}


def exposure_fields(stem: str) -> dict:
    """``{"exposure": ..., "pair": ...}`` of a shot (``exposure_of``), empty when ``stem`` is not a number."""
    return dict(zip(("exposure", "pair"), exposure_of(stem))) if stem.isdigit() else {}


def lod_image_fields(image: dict) -> dict:
    """``exposure`` (dark | normal) and ``pair`` (the partner shot's number) of a LOD image entry."""
    exposure, partner = exposure_of(Path(str(image.get("file_name") or image["id"])).stem)
    return {"exposure": exposure, "pair": partner}


SPEC = DatasetSpec("lod", "LOD", "Canon EOS 5D Mark IV", 14,
                   ("car", "motorcycle", "bicycle", "chair", "dining table", "bottle", "tv", "bus"), 0, (".cr2",),
                   (1200, 800), read_lod, lod_image_fields)
