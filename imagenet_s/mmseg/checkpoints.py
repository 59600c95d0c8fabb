"""Backbone checkpoints in the layouts people have, converted on load to MMPretrain's key names and loaded
strictly (a key that does not load is an error, not a warning).

Layouts (``auto`` detects them from the keys):

- ``toolkit``: this toolkit's own pre-training exports (``aodraw pretrain export``, ``imagenet-s selfsup export``):
  a plain backbone state dict in MMPretrain's names, no ``backbone.`` prefix (optionally under ``state_dict``).
- ``mmpretrain``: an MMPretrain/MMEngine checkpoint (``state_dict`` with ``backbone.``-prefixed keys; the neck and
  head are left out); a file without ``backbone.`` keys is read as ``toolkit``. The ``timm`` and ``torchvision``
  conversions leave MMPretrain's names as they are, so a ``toolkit`` export loads under every recipe's layout.
- ``timm``: ViT releases in timm's names: MAE (``model``; its decoder and ``mask_token`` left out; a fine-tuned MAE
  checkpoint's ``fc_norm`` becomes the final norm when there is no ``norm``), DINO, iBOT and SERE
  (``teacher``/``student``/``state_dict``, with ``module.``/``backbone.`` prefixes; projection heads left out).
- ``torchvision``: torchvision's ResNet (``fc`` left out); its names are MMPretrain ResNet's. PASS/SwAV
  ResNet-50 checkpoints are this layout with DDP's ``module.`` prefix (stripped) and ``projection_head``/``prototypes``
  (left out); ``imagenet-s pass pretrain``'s checkpoints are too, with the attention head ``fbg`` and the
  deep-to-shallow ``shallow_heads`` also left out.

What is "left out" is the parts of a whole-model checkpoint that are not the backbone (listed in ``NOT_BACKBONE``);
every other key must load and every backbone parameter must be loaded.
"""
from __future__ import annotations

import os
import re

import torch

from mmglue.vit_keys import timm_vit_key
from plumbing.errors import BadInputError, UnknownNameError

LAYOUTS = ("auto", "toolkit", "mmpretrain", "timm", "torchvision")
CONTAINERS = ("state_dict", "model", "module")
NOT_BACKBONE = re.compile(r"^(decoder|decoder_.*|mask_token|head|heads|fc|neck|fc_norm|projector|predictor|"
                          r"projection_head|prototypes|fbg|shallow_heads)(\.|$)")


def read_checkpoint(path: str | os.PathLike, key: str = "teacher") -> dict:
    """The tensors of a checkpoint file: ``key`` (teacher/student) of a DINO-style file, else the first of
    ``state_dict``/``model``/``module`` present, else the file's dict. Read with ``weights_only=True``.

    Raises:
        BadInputError: the file is missing, unreadable or holds no dict of tensors."""
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise BadInputError(f"{path}: backbone checkpoint not found") from None
    except Exception as exc:  # noqa: BLE001 -- unpickling failures have many types
        raise BadInputError(f"{path}: not a readable checkpoint ({type(exc).__name__}: {exc})") from None
    if isinstance(obj, dict) and isinstance(obj.get(key), dict):
        obj = obj[key]
    while isinstance(obj, dict) and not any(isinstance(v, torch.Tensor) for v in obj.values()):
        inner = next((obj[c] for c in CONTAINERS if isinstance(obj.get(c), dict)), None)
        if inner is None:
            break
        obj = inner
    if not isinstance(obj, dict) or not any(isinstance(v, torch.Tensor) for v in obj.values()):
        raise BadInputError(f"{path}: holds no state dict of tensors")
    return {k: v for k, v in obj.items() if isinstance(v, torch.Tensor)}


def detect_layout(state: dict) -> str:
    """``mmpretrain`` (``backbone.`` keys), ``timm`` (``blocks.N.`` keys, after ``module.``/``backbone.``
    prefixes), ``torchvision`` (``layer1.`` and ``fc.`` keys) or ``toolkit`` (anything else)."""
    keys = list(state)
    if any(k.startswith("backbone.") for k in keys) and not any(k.startswith("backbone.blocks.") for k in keys):
        return "mmpretrain"
    stripped = [_strip(k) for k in keys]
    if any(k.startswith("blocks.") for k in stripped):
        return "timm"
    if any(k.startswith("fc.") for k in keys) and any(k.startswith("layer1.") for k in keys):
        return "torchvision"
    return "toolkit"


def _strip(key: str) -> str:
    for prefix in ("module.", "backbone.", "encoder."):
        if key.startswith(prefix):
            key = key[len(prefix):]
    return key


def convert(state: dict, layout: str) -> dict:
    """``state`` in MMPretrain's backbone names (no prefix), with the non-backbone parts (``NOT_BACKBONE``) left
    out. Raises UnknownNameError for an unknown layout."""
    if layout not in LAYOUTS:
        raise UnknownNameError(f"checkpoint layout {layout!r}: expected one of {', '.join(LAYOUTS)}")
    if layout == "auto":
        layout = detect_layout(state)
    out = {}
    if layout == "mmpretrain" and not any(k.startswith("backbone.") for k in state):
        layout = "toolkit"  # a backbone-only file (MMPretrain's names, no prefix), as this toolkit exports
    if layout == "timm":
        stripped = {_strip(k) for k in state}
        if "fc_norm.weight" in stripped and "norm.weight" not in stripped:  # MAE fine-tuned with global pooling
            state = {k.replace("fc_norm.", "norm.") if _strip(k).startswith("fc_norm.") else k: v
                     for k, v in state.items()}
    for key, value in state.items():
        if layout == "mmpretrain":
            if not key.startswith("backbone."):
                continue
            key = key[len("backbone."):]
        elif layout == "timm":
            key = timm_vit_key(_strip(key))
        elif key.startswith("module."):  # saved from a DDP-wrapped model (PASS, SwAV)
            key = key[len("module."):]
        if not NOT_BACKBONE.match(key):
            out[key] = value
    return out


def load_backbone(backbone: torch.nn.Module, path: str | os.PathLike, layout: str = "auto",
                  key: str = "teacher") -> dict:
    """Load the backbone weights of ``path`` (``layout``, see the module) into ``backbone`` strictly; returns the
    loaded state. MMPretrain's ViT resizes ``pos_embed`` to its own patch grid while loading.

    Raises:
        BadInputError: an unreadable file, or keys that do not load (unexpected, missing or of another shape),
            naming the first few."""
    state = convert(read_checkpoint(path, key), layout)
    try:
        missing, unexpected = backbone.load_state_dict(state, strict=False)
    except RuntimeError as exc:
        raise BadInputError(f"{path}: does not fit the backbone ({str(exc).splitlines()[-1].strip()})") from None
    if missing or unexpected:
        parts = [f"{len(unexpected)} unexpected keys (first: {', '.join(unexpected[:4])})" if unexpected else "",
                 f"{len(missing)} missing keys (first: {', '.join(missing[:4])})" if missing else ""]
        raise BadInputError(f"{path}: does not load strictly into {type(backbone).__name__} (layout {layout}): "
                            + "; ".join(p for p in parts if p))
    return state
