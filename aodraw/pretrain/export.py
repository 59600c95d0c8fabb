"""``aodraw pretrain export``: the student backbone of a training checkpoint as a detector-ready file.

Format: ``{'state_dict': {backbone keys without prefix: tensor}, 'meta': {...}}`` (tensors, strings and numbers
only, so ``torch.load(weights_only=True)`` reads it). ``backbone.load_state_dict(ckpt['state_dict'], strict=True)``
works for the MMDetection/MMPretrain backbone built from the same config; ResNet and ``mmpretrain.ConvNeXt`` load it
through ``init_cfg=dict(type='Pretrained', checkpoint=PATH)``, MMDetection's SwinTransformer through
``aodraw.mmdet.backbone_scheme`` (see there).
"""
from __future__ import annotations

import io
import os

import torch

from plumbing.errors import BadInputError
from plumbing.files import atomic_write_bytes


def backbone_state(checkpoint: dict, path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """The student backbone's tensors of an ``aodraw pretrain train`` checkpoint, ``backbone.`` prefix removed.

    Raises:
        BadInputError: no ``student`` entry, or a student without backbone tensors (the message names ``path``)."""
    student = checkpoint.get("student") if isinstance(checkpoint, dict) else None
    if not isinstance(student, dict):
        raise BadInputError(f"{path}: not a checkpoint of 'aodraw pretrain train' (no 'student' entry)")
    state = {k.removeprefix("backbone."): v for k, v in student.items() if k.startswith("backbone.")}
    if not state:
        raise BadInputError(f"{path}: the student has no backbone tensors")
    return state


def export_backbone(checkpoint_path: str | os.PathLike, out: str | os.PathLike) -> dict:
    """Write the backbone file; returns its ``meta``."""
    try:
        checkpoint = torch.load(os.fspath(checkpoint_path), map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise BadInputError(f"{checkpoint_path}: checkpoint not found") from None
    except Exception as exc:  # torch raises several types for files that are not checkpoints
        raise BadInputError(f"{checkpoint_path}: not a readable checkpoint ({type(exc).__name__})") from None
    state = backbone_state(checkpoint, checkpoint_path)
    backbone = checkpoint.get("backbone", {})
    meta = {"arch": str(backbone.get("type", "unknown")), "backbone": backbone, "step": int(checkpoint["step"]),
            "num_tensors": len(state), "source": os.fspath(checkpoint_path),
            "method": "RAW pre-training with sRGB distillation (aodraw pretrain)"}
    buf = io.BytesIO()
    torch.save({"state_dict": state, "meta": meta}, buf)
    atomic_write_bytes(out, buf.getbuffer())
    return meta
