"""The published AODRaw detection recipes shipped in ``aodraw/configs/``, with the paper's test-set AP."""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

from plumbing.errors import MissingInputError, UnknownNameError

CONFIG_DIR = Path(__file__).parent / "configs"
DETECTORS = {"faster-rcnn": "Faster R-CNN", "retinanet": "RetinaNet", "gfl": "GFL", "sparse-rcnn": "Sparse R-CNN",
             "deformable-detr": "Deformable DETR", "cascade-rcnn": "Cascade R-CNN"}
BACKBONES = {"r18": "ResNet-18", "r50": "ResNet-50", "swin-t": "Swin-T", "convnext-t": "ConvNeXt-T"}


@dataclass(frozen=True)
class Recipe:
    """A published detection recipe: config ``name``, detector and backbone (display names), ``input``
    (srgb | raw | raw-pretraining), ``data`` (downsample | slice), the paper's test-set AP in percent (None where
    unpublished) and an optional ``variant``."""
    name: str
    detector: str
    backbone: str
    input: str  # srgb | raw | raw-pretraining
    data: str  # downsample | slice
    published_AP: float | None  # noqa: N815 (the contract's key)
    variant: str = ""

    @property
    def config(self) -> Path:
        """The recipe's config file, ``aodraw/configs/<name>.py`` (not checked to exist)."""
        return CONFIG_DIR / f"{self.name}.py"

    def to_dict(self) -> dict:
        """The recipe's fields and its ``config`` path as a JSON-ready dict."""
        return {**asdict(self), "config": str(self.config)}


def _recipe(detector: str, backbone: str, input: str, ap: float | None, data: str = "downsample",
            variant: str = "") -> Recipe:
    neck = "" if detector == "deformable-detr" else "_fpn"
    suffix = f"{'slice-' if data == 'slice' else ''}{input}"
    tag = f"-{variant}" if variant else ""
    name = f"{detector}_{backbone}{tag}{neck}_1x_aodraw-{suffix}"
    return Recipe(name, DETECTORS[detector], BACKBONES[backbone], input, data, ap, variant)


# Published AP (AODRaw paper, test set): sRGB -> sRGB | sRGB-pretrained -> RAW | RAW-pretrained -> RAW.
_PUBLISHED = {
    ("faster-rcnn", "r50"): (23.3, None, None), ("retinanet", "r50"): (19.1, None, None),
    ("gfl", "r50"): (24.2, None, None), ("sparse-rcnn", "r50"): (15.6, None, None),
    ("deformable-detr", "r50"): (16.6, None, None), ("cascade-rcnn", "r50"): (25.6, None, None),
    ("faster-rcnn", "swin-t"): (28.4, None, None), ("faster-rcnn", "convnext-t"): (29.7, None, None),
    ("gfl", "swin-t"): (30.1, 29.9, 30.7), ("gfl", "convnext-t"): (32.1, 31.5, 32.1),
    ("cascade-rcnn", "swin-t"): (32.0, 31.7, 32.2), ("cascade-rcnn", "convnext-t"): (34.0, 33.7, 34.8),
}
_PUBLISHED_SLICES = {"swin-t": (29.2, 29.8), "convnext-t": (29.7, 30.7)}

RECIPES: tuple[Recipe, ...] = (
    *(_recipe(d, b, "srgb", aps[0]) for (d, b), aps in _PUBLISHED.items() if b == "r50"),
    *(_recipe(d, b, inp, ap) for (d, b), aps in _PUBLISHED.items() if b != "r50"
      for inp, ap in zip(("srgb", "raw", "raw-pretraining"), aps)),
    *(_recipe("cascade-rcnn", b, inp, ap, data="slice") for b, aps in _PUBLISHED_SLICES.items()
      for inp, ap in zip(("raw", "raw-pretraining"), aps)),
    # not in the paper: the ResNet-18 variants users asked for, and RF-Next receptive-field search
    *(_recipe(d, "r18", inp, None) for d in ("faster-rcnn", "retinanet", "gfl", "cascade-rcnn")
      for inp in ("srgb", "raw")),
    _recipe("cascade-rcnn", "r50", "srgb", None, variant="rfnext-search"),
    _recipe("cascade-rcnn", "r50", "srgb", None, variant="rfnext-fixed"),
)


def find_recipe(name: str) -> Recipe:
    """The shipped recipe called ``name`` (``.py`` optional). Raises UnknownNameError naming the lister command."""
    for recipe in RECIPES:
        if name in (recipe.name, f"{recipe.name}.py"):
            return recipe
    raise UnknownNameError(f"{name}: no shipped recipe of that name (see `aodraw recipes list`)")


def resolve_config(config: str | os.PathLike) -> Path:
    """A config file path as it is, or the path of the shipped recipe (or shipped config under ``aodraw/configs``)
    named ``config``. Raises MissingInputError when it is neither."""
    if Path(config).is_file():
        return Path(config)
    name = str(config)
    shipped = CONFIG_DIR / (name if name.endswith(".py") else f"{name}.py")
    if shipped.is_file():
        return shipped
    raise MissingInputError(f"{config}: no such config file or shipped recipe (see `aodraw recipes list`)")
