"""NOD (Morawski et al., "Night Object Detection"): low-light photos of a Sony RX100 VII (``.ARW``) and a Nikon
D750 (``.NEF``), 14-bit, person / bicycle / car. COCO files per camera and split: integer image ids enumerated per
file (2.. in the Sony test file), category ids from 1, annotation id 0 present. RawAdaptationModule's files use a
599 x 400 frame; the authors' RAW-NOD files the sensor frame (5472 x 3648 for the Sony)."""
from __future__ import annotations

import os
from pathlib import Path

from aodraw.datasets.spec import DatasetSpec, read_camera_raw
from aodraw.raw import RawImage

CAMERAS = {".arw": "Sony RX100 VII", ".nef": "Nikon D750"}


def read_nod(path: str | os.PathLike, **overrides) -> RawImage:
    """A NOD RAW (Sony ARW or Nikon NEF): 14-bit mosaic, each camera's black/white levels and CFA from its file."""
    return read_camera_raw(path, 14, **overrides)


def nod_image_fields(image: dict) -> dict:
    """The camera of a NOD image entry, from its file name's extension when it names the RAW file."""
    camera = CAMERAS.get(Path(str(image.get("file_name", ""))).suffix.lower())
    return {"camera": camera} if camera else {}


SPEC = DatasetSpec("nod", "NOD", "Sony RX100 VII / Nikon D750", 14, ("person", "bicycle", "car"), 1,
                   (".arw", ".nef"), (599, 400), read_nod, nod_image_fields)
