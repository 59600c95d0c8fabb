"""Key names of ViT checkpoints in timm's layout (the public DINO, iBOT, SERE, MAE releases) mapped to MMPretrain's
``VisionTransformer``: one table for every plug-in that reads such files (``imagenet_s.selfsup.export``,
``imagenet_s.mmseg.checkpoints``).

timm -> MMPretrain: ``patch_embed.proj`` -> ``patch_embed.projection``; ``blocks.N.norm1/norm2`` ->
``layers.N.ln1/ln2``; ``blocks.N.attn.{qkv,proj}`` -> ``layers.N.attn.{qkv,proj}``; ``blocks.N.mlp.fc1/fc2`` ->
``layers.N.ffn.layers.0.0`` / ``layers.N.ffn.layers.1``; the final ``norm`` -> ``ln1``; ``cls_token`` and
``pos_embed`` keep their names.
"""
from __future__ import annotations

import re

TIMM_VIT_KEY_RULES: tuple[tuple[str, str], ...] = (
    (r"^patch_embed\.proj\.", "patch_embed.projection."),
    (r"^blocks\.(\d+)\.norm1\.", r"layers.\1.ln1."),
    (r"^blocks\.(\d+)\.norm2\.", r"layers.\1.ln2."),
    (r"^blocks\.(\d+)\.attn\.", r"layers.\1.attn."),
    (r"^blocks\.(\d+)\.mlp\.fc1\.", r"layers.\1.ffn.layers.0.0."),
    (r"^blocks\.(\d+)\.mlp\.fc2\.", r"layers.\1.ffn.layers.1."),
    (r"^norm\.", "ln1."),
)


def timm_vit_key(key: str) -> str:
    """The MMPretrain ``VisionTransformer`` name of a timm ViT key (unchanged when no rule applies)."""
    for pattern, replacement in TIMM_VIT_KEY_RULES:
        key = re.sub(pattern, replacement, key)
    return key
