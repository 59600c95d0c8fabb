"""Images of an ImageNet-S split for the PASS stages: listing, loading, resizing, multi-crop views."""
from __future__ import annotations

import math
import os
import random
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from plumbing.errors import BadInputError

MEAN = torch.tensor([0.485, 0.456, 0.406]).view(3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(3, 1, 1)
IMAGE_SUFFIXES = (".jpeg", ".jpg", ".png")


def list_images(folder: str | os.PathLike) -> list[str]:
    """Sorted ``wnid/name.JPEG`` paths of a split folder (class folders of images).

    Raises:
        BadInputError: not a folder or no images in it."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BadInputError(f"{folder}: not a folder")
    names = sorted(p.relative_to(folder).as_posix() for p in folder.glob("*/*")
                   if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith("."))
    if not names:
        raise BadInputError(f"{folder}: no images in class folders")
    return names


def load_rgb(path: str | os.PathLike) -> torch.Tensor:
    """An image as float (3, H, W) in [0, 1]. Raises BadInputError if it cannot be read."""
    try:
        with Image.open(path) as img:
            array = np.asarray(img.convert("RGB"), np.float32) / 255.0
    except (OSError, ValueError) as exc:
        raise BadInputError(f"{path}: not a readable image ({exc})") from None
    return torch.from_numpy(array).permute(2, 0, 1).contiguous()


def normalize(image: torch.Tensor) -> torch.Tensor:
    """ImageNet mean/std normalisation of (..., 3, H, W) values in [0, 1]."""
    return (image - MEAN) / STD


def resize_shorter(image: torch.Tensor, size: int) -> torch.Tensor:
    """Bilinear resize of (3, H, W) so that the shorter side is ``size``."""
    h, w = image.shape[-2:]
    scale = size / min(h, w)
    out = (max(1, round(h * scale)), max(1, round(w * scale)))
    return F.interpolate(image[None], size=out, mode="bilinear", align_corners=False)[0]


def center_crop(image: torch.Tensor, size: int) -> torch.Tensor:
    """The central ``size`` x ``size`` crop of (3, H, W) (H, W >= size)."""
    h, w = image.shape[-2:]
    top, left = max(0, (h - size) // 2), max(0, (w - size) // 2)
    return image[:, top:top + size, left:left + size]


def random_box(h: int, w: int, scale: tuple, rng: random.Random) -> tuple[int, int, int, int]:
    """A RandomResizedCrop box (top, left, height, width): area share in ``scale``, aspect 3/4..4/3."""
    for _ in range(10):
        area = h * w * rng.uniform(*scale)
        ratio = math.exp(rng.uniform(math.log(3 / 4), math.log(4 / 3)))
        bw, bh = round(math.sqrt(area * ratio)), round(math.sqrt(area / ratio))
        if 0 < bw <= w and 0 < bh <= h:
            return rng.randint(0, h - bh), rng.randint(0, w - bw), bh, bw
    return 0, 0, h, w


def jitter(image: torch.Tensor, rng: random.Random) -> torch.Tensor:
    """Colour jitter (brightness, contrast, saturation 0.8 with p 0.8) and grayscale (p 0.2), SwAV-style."""
    if rng.random() < 0.8:
        image = image * rng.uniform(0.2, 1.8)
        mean = image.mean()
        image = (image - mean) * rng.uniform(0.2, 1.8) + mean
        gray = image.mean(dim=0, keepdim=True)
        image = (image - gray) * rng.uniform(0.2, 1.8) + gray
    if rng.random() < 0.2:
        image = image.mean(dim=0, keepdim=True).expand(3, -1, -1)
    return image.clamp(0, 1)


def multi_crop(image: torch.Tensor, cfg: dict, rng: random.Random) -> dict:
    """PASS's views of one image for pixel-to-pixel alignment.

    One RandomResizedCrop region (scale ``global_scale``) is rendered twice at ``global_size`` with independent
    colour jitter and flips (``flips`` records them, to undo on the features: the two views' pixels correspond);
    ``n_local`` sub-boxes of it (scale ``local_scale`` of the region) are rendered at ``local_size``, with their
    boxes in the global view's pixel coordinates (x1, y1, x2, y2) for RoIAlign of the targets."""
    h, w = image.shape[-2:]
    top, left, bh, bw = random_box(h, w, tuple(cfg["global_scale"]), rng)
    region = image[:, top:top + bh, left:left + bw]
    g = cfg["global_size"]
    base = F.interpolate(region[None], size=(g, g), mode="bilinear", align_corners=False)[0]
    views, flips = [], []
    for _ in range(2):
        flip = rng.random() < 0.5
        view = jitter(base, rng)
        views.append(normalize(view.flip(-1) if flip else view))
        flips.append(flip)
    locals_, boxes = [], []
    for _ in range(cfg.get("n_local", 0)):
        t, lft, lh, lw = random_box(g, g, tuple(cfg["local_scale"]), rng)
        crop = base[:, t:t + lh, lft:lft + lw]
        size = cfg["local_size"]
        locals_.append(normalize(jitter(F.interpolate(crop[None], size=(size, size), mode="bilinear",
                                                      align_corners=False)[0], rng)))
        boxes.append([lft, t, lft + lw, t + lh])
    return {"views": views, "flips": flips, "locals": locals_, "boxes": torch.tensor(boxes, dtype=torch.float32)}
