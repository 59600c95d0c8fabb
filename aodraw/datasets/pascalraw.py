"""PASCALRAW (Omid-Zohoor et al.): 4,259 daylight photos of a Nikon D3200 (12-bit DNG, about 6000 x 4000) with
person, bicycle and car boxes. The published COCO files (RawAdaptationModule) use string image ids (the file
stem, ``2014_003084``), category ids from 0 and a 602 x 400 frame (RGGB planes resized to height 400)."""
from __future__ import annotations

import os

from aodraw.datasets.spec import DatasetSpec, read_camera_raw
from aodraw.raw import RawImage


def read_pascalraw(path: str | os.PathLike, **overrides) -> RawImage:
    """A PASCALRAW DNG: 12-bit Nikon D3200 mosaic, levels and CFA from the DNG (``read_camera_raw``)."""
    return read_camera_raw(path, 12, **overrides)


SPEC = DatasetSpec("pascalraw", "PASCALRAW", "Nikon D3200", 12, ("person", "bicycle", "car"), 0, (".dng",),
                   (602, 400), read_pascalraw)
