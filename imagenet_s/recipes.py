"""The semi-supervised ImageNet-S recipes shipped in ``imagenet_s/configs/`` (fine-tuning on ``train-semi``, the
group's protocol), with the published val/test mIoU of the 919 recipes (None where none is published)."""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

from plumbing.errors import MissingInputError, UnknownNameError

CONFIG_DIR = Path(__file__).parent / "configs"
MODES = ("50", "300", "919")


@dataclass(frozen=True)
class Recipe:
    """A semi-supervised recipe: config ``name``, ``backbone`` (display name), ``pretraining`` (what the backbone
    starts from), ``scheme`` (SSL | SSL+Sup | Sup), ``mode`` (50 | 300 | 919) and the published val/test mIoU in
    percent (the 919 numbers of the protocol; None where unpublished), and the layout of its backbone checkpoint."""
    name: str
    backbone: str
    pretraining: str
    scheme: str
    mode: str
    published_mIoU_val: float | None  # noqa: N815 (the contract's key)
    published_mIoU_test: float | None  # noqa: N815
    checkpoint_layout: str

    @property
    def config(self) -> Path:
        """The recipe's config file, ``imagenet_s/configs/<name>.py`` (not checked to exist)."""
        return CONFIG_DIR / f"{self.name}.py"

    def to_dict(self) -> dict:
        """The recipe's fields and its ``config`` path as a JSON-ready dict."""
        return {**asdict(self), "config": str(self.config)}


# (stem, backbone, pretraining, scheme, checkpoint layout, published 919 val, test): the protocol's table
_PUBLISHED = (
    ("vit-b16_mae-ssl", "ViT-B/16", "MAE 1600 ep", "SSL", "timm", 38.3, 37.0),
    ("vit-b16_mae-ssl-sup", "ViT-B/16", "MAE 1600 ep + supervised fine-tuning", "SSL+Sup", "timm", 61.0, 60.2),
    ("vit-s16_sere-ssl", "ViT-S/16", "SERE 100 ep", "SSL", "timm", 41.0, 40.2),
    ("vit-s16_sere-ssl-sup", "ViT-S/16", "SERE 100 ep + supervised fine-tuning", "SSL+Sup", "timm", 58.9, 57.8),
    ("vit-b16_sere-ssl", "ViT-B/16", "SERE 100 ep (third-party mirror)", "SSL", "timm", 48.6, 48.2),
    ("vit-b16_sere-ssl-sup", "ViT-B/16", "SERE 100 ep + supervised (third-party mirror)", "SSL+Sup", "timm", 63.0,
     63.3),
    ("r50-d32_pass-ssl", "ResNet-50 D32", "PASS 100 ep", "SSL", "torchvision", 21.0, 20.3),
    ("r50-d16_pass-ssl", "ResNet-50 D16", "PASS 100 ep", "SSL", "torchvision", 21.6, 20.8),
    ("convnext-t_sup", "ConvNeXt-T", "supervised 300 ep", "Sup", "mmpretrain", 48.7, 48.8),
    ("rf-convnext-t-rfsingle_sup", "RF-ConvNeXt-T (rfsingle)", "supervised + RF-Next rfsingle", "Sup", "mmpretrain",
     50.7, 50.5),
    ("rf-convnext-t-rfmultiple_sup", "RF-ConvNeXt-T (rfmultiple)", "supervised + RF-Next rfmultiple", "Sup",
     "mmpretrain", 50.8, 50.5),
    ("rf-convnext-t-rfmerge_sup", "RF-ConvNeXt-T (rfmerge)", "supervised + RF-Next rfmerge", "Sup", "mmpretrain",
     51.3, 51.1),
)

RECIPES: tuple[Recipe, ...] = tuple(
    Recipe(f"{stem}_imagenet-s{mode}", backbone, pre, scheme, mode, val if mode == "919" else None,
           test if mode == "919" else None, layout)
    for mode in ("919", "300", "50") for stem, backbone, pre, scheme, layout, val, test in _PUBLISHED)


def find_recipe(name: str) -> Recipe:
    """The shipped recipe called ``name`` (``.py`` optional). Raises UnknownNameError naming the lister command."""
    for recipe in RECIPES:
        if name in (recipe.name, f"{recipe.name}.py"):
            return recipe
    raise UnknownNameError(f"{name}: no shipped recipe of that name (see `imagenet-s recipes list`)")


def shipped_config(config: str | os.PathLike) -> Path | None:
    """The shipped config under ``imagenet_s/configs`` named ``config`` (``.py`` optional), if there is one."""
    name = str(config)
    shipped = CONFIG_DIR / (name if name.endswith(".py") else f"{name}.py")
    return shipped if shipped.is_file() and "/" not in name.replace(os.sep, "/") else None


def resolve_config(config: str | os.PathLike) -> Path:
    """A config file path as it is, or the path of the shipped recipe (or shipped config) named ``config``.
    Raises MissingInputError when it is neither."""
    if Path(config).is_file():
        return Path(config)
    shipped = shipped_config(config)
    if shipped is not None:
        return shipped
    raise MissingInputError(f"{config}: no such config file or shipped recipe (see `imagenet-s recipes list`)")
