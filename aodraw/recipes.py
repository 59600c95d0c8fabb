"""The AODRaw detection recipes shipped in ``aodraw/configs/``: the paper's, with its test-set AP, the variants users
asked for, and the real-time track (RTMDet-tiny, YOLOX-tiny at 640 px), whose measured latency comes from the
report file ``aodraw/configs/latency.json`` when present (written by ``tools/benchmarks/bench_realtime.py``)."""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

from plumbing.errors import BadInputError, MissingInputError, UnknownNameError
from plumbing.jsonio import read_json

CONFIG_DIR = Path(__file__).parent / "configs"
LATENCY_REPORT = CONFIG_DIR / "latency.json"
DETECTORS = {"faster-rcnn": "Faster R-CNN", "retinanet": "RetinaNet", "gfl": "GFL", "sparse-rcnn": "Sparse R-CNN",
             "deformable-detr": "Deformable DETR", "cascade-rcnn": "Cascade R-CNN", "rtmdet": "RTMDet",
             "yolox": "YOLOX"}
BACKBONES = {"r18": "ResNet-18", "r50": "ResNet-50", "swin-t": "Swin-T", "convnext-t": "ConvNeXt-T",
             "cspnext-tiny": "CSPNeXt-tiny", "cspdarknet-tiny": "CSPDarknet-tiny"}
REALTIME_INPUTS = ("srgb", "raw", "bayer")


@dataclass(frozen=True)
class Recipe:
    """A shipped detection recipe: config ``name``, detector and backbone (display names), ``input``
    (srgb | raw | raw-pretraining | bayer), ``data`` (downsample | slice), the paper's test-set AP in percent (None
    where unpublished) and an optional ``variant`` (``real-time 640`` for the real-time track)."""
    name: str
    detector: str
    backbone: str
    input: str  # srgb | raw | raw-pretraining | bayer
    data: str  # downsample | slice
    published_AP: float | None  # noqa: N815 (the contract's key)
    variant: str = ""

    @property
    def config(self) -> Path:
        """The recipe's config file, ``aodraw/configs/<name>.py`` (not checked to exist)."""
        return CONFIG_DIR / f"{self.name}.py"

    def to_dict(self, latencies: dict | None = None) -> dict:
        """The recipe's fields, its ``config`` path and ``latency`` (its entry of ``latencies``, the measured
        report; None when not measured) as a JSON-ready dict."""
        return {**asdict(self), "config": str(self.config), "latency": (latencies or {}).get(self.name)}


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


def _realtime(detector: str, backbone: str, input: str) -> Recipe:
    return Recipe(f"{detector}-tiny_640_aodraw-{input}", DETECTORS[detector], BACKBONES[backbone], input,
                  "downsample", None, "real-time 640")


# the real-time track (not in the paper): RTMDet-tiny and YOLOX-tiny at 640 px on sRGB, RAW and packed Bayer input
REALTIME: tuple[Recipe, ...] = tuple(_realtime(d, b, inp) for d, b in (("rtmdet", "cspnext-tiny"),
                                                                      ("yolox", "cspdarknet-tiny"))
                                     for inp in REALTIME_INPUTS)

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
    *REALTIME,
)


def load_latencies(path: str | os.PathLike | None = None) -> dict:
    """The measured latency report ({recipe name: {device, input, p50_ms, p95_ms, fps, ...}}) at ``path``
    (default ``LATENCY_REPORT``); empty when the file does not exist. Raises BadInputError for a file that is not
    a JSON object."""
    path = Path(path or LATENCY_REPORT)
    if not path.is_file():
        return {}
    report, source = read_json(path, "latency report")
    if not isinstance(report, dict):
        raise BadInputError(f"{source}: a latency report must be a JSON object {{recipe name: measurement}}")
    return report


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
