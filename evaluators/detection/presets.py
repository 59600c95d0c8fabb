"""Evaluation presets: the parameter sets of the standard COCO metric and of the AODRaw protocol."""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from plumbing.errors import BadInputError, UnknownNameError

AREA_LABELS = ("all", "small", "medium", "large")
PROTOCOLS = ("official", "corrected")


def _areas(small: float, medium: float) -> tuple:
    return ((0.0, 1e5 ** 2), (0.0, small ** 2), (small ** 2, medium ** 2), (medium ** 2, 1e5 ** 2))


@dataclass(frozen=True)
class Preset:
    """What is scored and how.

    ``area_ranges``: (all, small, medium, large), both ends inclusive as in pycocotools.
    ``max_dets``: detection limits per image and class; AR is reported at each, APs/APm/APl and
    AP50/AP75 at the last one, AP at ``ap_max_det`` (pycocotools' summary uses 100 there).
    ``ignore_category``: name of the category whose boxes are ignore regions (AODRaw), or None.
    """

    name: str
    area_ranges: tuple = _areas(32, 96)
    max_dets: tuple = (1, 10, 100)
    iou_thrs: tuple = tuple(np.linspace(0.5, 0.95, 10))
    ap_max_det: int = 100
    ignore_category: str | None = None

    def with_overrides(self, area_ranges=None, max_dets=None, iou_thrs=None) -> "Preset":
        """A copy with custom area ranges, detection limits or IoU thresholds."""
        changes = {}
        if area_ranges is not None:
            changes["area_ranges"] = tuple((float(lo), float(hi)) for lo, hi in area_ranges)
            if len(changes["area_ranges"]) != 4:
                raise BadInputError("area_ranges must give 4 ranges: all, small, medium, large")
        if max_dets is not None:
            changes["max_dets"] = tuple(sorted({int(m) for m in max_dets}))
        if iou_thrs is not None:
            changes["iou_thrs"] = tuple(float(t) for t in iou_thrs)
        return replace(self, **changes)


PRESETS = {
    "coco": Preset("coco"),
    "aodraw": Preset("aodraw", _areas(128, 320), (100, 300, 1000), ignore_category="ignore"),
    "aodraw-slice": Preset("aodraw-slice", _areas(64, 160), (100, 300, 1000), ignore_category="ignore"),
}


def get_preset(preset: "str | Preset") -> Preset:
    """The preset named ``preset`` (``coco``, ``aodraw``, ``aodraw-slice``); a ``Preset`` is returned as is.

    Raises:
        UnknownNameError: an unknown name (the message lists the known ones)."""
    if isinstance(preset, Preset):
        return preset
    try:
        return PRESETS[preset]
    except KeyError:
        raise UnknownNameError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}") from None
