"""``imagenet-s selfsup export``: the student or teacher backbone of a pre-training checkpoint as a plain state dict,
and the key conversion of the public DINO/iBOT ViT release checkpoints.

Exported file: ``{'state_dict': {backbone key without prefix: tensor}, 'meta': {...}}`` (tensors, strings, numbers:
``torch.load(weights_only=True)`` reads it). The keys are those of MMPretrain's ``VisionTransformer``
(``patch_embed.projection.weight``, ``layers.0.attn.qkv.weight``, ``ln1.weight`` ...), so
``VisionTransformer(arch).load_state_dict(ckpt['state_dict'], strict=True)`` works for the same arch, and
``init_cfg=dict(type='Pretrained', checkpoint=PATH)`` works in MMSegmentation/MMDetection recipes whose backbone is
that ViT. Auxiliary parts (mask token, projection heads, SERE's relation heads, HSSL's head, MTE's tokens) live
outside ``backbone`` and are never exported.

Where the backbone lives in a training checkpoint's ``state_dict``:
- the student: ``STUDENT_PREFIX`` (``backbone.``) for every MMPretrain self-supervised algorithm;
- the teacher / momentum encoder: ``TEACHER_PREFIXES``, one row per algorithm family. Add a row for a new algorithm
  (the first prefix found in the checkpoint wins; rows are tried in order).
"""
from __future__ import annotations

import io
import os
import re

import torch

from mmglue.vit_keys import timm_vit_key
from plumbing.errors import BadInputError, MissingInputError
from plumbing.files import atomic_write_bytes

STUDENT_PREFIX = "backbone."
TEACHER_PREFIXES: dict[str, str] = {
    # IBOT, DINO, SERE, HSSL (and MTE on the iBOT base): CosineEMA over a ModuleDict of the mirrored parts
    "ibot": "teacher.module.backbone.",
    # MMPretrain's MoCoV3 (and MTEMoCoV3): CosineEMA over nn.Sequential(backbone, neck)
    "mocov3": "momentum_encoder.module.0.",
}
WHICH = ("teacher", "student")

# Release entries that are not part of the ViT backbone: iBOT's mask embedding, DINO/iBOT heads, a fc classifier.
RELEASE_DROPPED = re.compile(r"^(masked_embed|mask_token|head\.|fc\.|fc_norm\.)")
# Wrappers of the official training scripts around the ViT keys.
RELEASE_WRAPPERS = ("module.", "backbone.")


def backbone_state(state: dict, which: str | None = "teacher", source: str = "checkpoint") -> tuple[dict, str]:
    """The backbone tensors of a training ``state_dict`` with their prefix removed, and that prefix. ``which=None``:
    the teacher when the checkpoint has one (iBOT-style methods, MoCo v3), else the student (MAE, PR-MIM).

    Raises:
        BadInputError: ``which`` is not teacher/student, or no tensor has the prefix (the message names ``source``
            and the prefixes tried)."""
    if which is None:
        has_teacher = any(k.startswith(tuple(TEACHER_PREFIXES.values())) for k in state)
        which = "teacher" if has_teacher else "student"
    if which not in WHICH:
        raise BadInputError(f"--which {which!r}: choose teacher or student")
    prefixes = [STUDENT_PREFIX] if which == "student" else list(TEACHER_PREFIXES.values())
    for prefix in prefixes:
        found = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix) and isinstance(v, torch.Tensor)}
        if found:
            return found, prefix
    raise BadInputError(f"{source}: no {which} backbone (no key starts with {' or '.join(prefixes)})")


def read_checkpoint(path: str | os.PathLike) -> dict:
    """The ``state_dict`` of an MMEngine checkpoint (or a bare state dict), read with ``weights_only=True`` (runner
    checkpoints load thanks to ``mmglue.checkpoints``). Raises MissingInputError / BadInputError."""
    from mmglue.checkpoints import allow_mmengine_checkpoints

    allow_mmengine_checkpoints()
    try:
        checkpoint = torch.load(os.fspath(path), map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise MissingInputError(f"{path}: checkpoint not found") from None
    except Exception as exc:  # torch raises several types for files that are not (safe) checkpoints
        raise BadInputError(f"{path}: not a readable checkpoint ({type(exc).__name__}: {str(exc)[:120]})") from None
    state = checkpoint.get("state_dict", checkpoint) if isinstance(checkpoint, dict) else None
    if not isinstance(state, dict):
        raise BadInputError(f"{path}: no state_dict in the checkpoint")
    return checkpoint


def export_backbone(checkpoint_path: str | os.PathLike, out: str | os.PathLike, which: str | None = None) -> dict:
    """Write the ``which`` backbone (None: the teacher where there is one, see ``backbone_state``) of a training
    checkpoint to ``out`` (atomically); returns the written ``meta`` (``which``, ``prefix``, ``num_tensors``,
    ``source``, and the run's ``epoch``/``iter`` when recorded)."""
    checkpoint = read_checkpoint(checkpoint_path)
    state, prefix = backbone_state(checkpoint.get("state_dict", checkpoint), which, os.fspath(checkpoint_path))
    which = "student" if prefix == STUDENT_PREFIX else "teacher"
    run_meta = checkpoint.get("meta") or {}
    meta = {"which": which, "prefix": prefix, "num_tensors": len(state), "source": os.fspath(checkpoint_path),
            **{k: run_meta[k] for k in ("epoch", "iter") if isinstance(run_meta.get(k), int)}}
    buffer = io.BytesIO()
    torch.save({"state_dict": state, "meta": meta}, buffer)
    atomic_write_bytes(out, buffer.getvalue())
    return meta


def convert_release_state(state: dict) -> dict:
    """A DINO/iBOT release state dict (timm layout: ``cls_token``, ``pos_embed``, ``patch_embed.proj.*``,
    ``blocks.N.{norm1,attn.qkv,attn.proj,norm2,mlp.fc1,mlp.fc2}.*``, ``norm.*``; possibly under ``teacher``/
    ``student``/``state_dict`` and ``module.``/``backbone.`` wrappers) -> MMPretrain ``VisionTransformer`` keys
    (``mmglue.vit_keys``). Heads and the mask embedding are dropped (``RELEASE_DROPPED``)."""
    for entry in ("teacher", "state_dict", "model"):
        if isinstance(state.get(entry), dict):
            state = state[entry]
    converted = {}
    for key, value in state.items():
        for wrapper in RELEASE_WRAPPERS:
            key = key.removeprefix(wrapper)
        if RELEASE_DROPPED.match(key):
            continue
        converted[timm_vit_key(key)] = value
    return converted


def convert_release_checkpoint(src: str | os.PathLike, out: str | os.PathLike) -> dict:
    """Convert a downloaded release file (``convert_release_state``) and write it in the export format; returns
    ``meta``."""
    state = convert_release_state(read_checkpoint(src))
    meta = {"which": "release", "num_tensors": len(state), "source": os.fspath(src)}
    buffer = io.BytesIO()
    torch.save({"state_dict": state, "meta": meta}, buffer)
    atomic_write_bytes(out, buffer.getvalue())
    return meta
