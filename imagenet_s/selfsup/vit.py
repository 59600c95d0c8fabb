"""Token-level forward of MMPretrain's ``VisionTransformer`` for self-distillation: masked patch embeddings and extra
tokens without changing the backbone's structure, so its state dict stays that of a stock ``VisionTransformer``.

``vit_tokens`` reproduces ``VisionTransformer.forward`` step by step (patch embedding, [CLS], position embedding
resized to the view's grid, pre-norm, the encoder layers, the final norm) and adds two things iBOT-style methods need:

- ``mask`` (B x h x w, bool): patch embeddings at True positions are replaced by ``mask_token`` (1 x 1 x C) before the
  position embedding is added, as in iBOT/BEiT. The mask token is a parameter of the *algorithm*, not of the backbone.
- ``extra_tokens`` (B x M x C or 1 x M x C): tokens inserted right after [CLS] (after the position embedding, which
  they do not get), attending in every block. For auxiliary [CLS] tokens (MTE).
"""
from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn


class ViTTokens(NamedTuple):
    """Last-layer tokens of one view: ``cls`` (B x C), ``patches`` (B x N x C, row-major over the grid), ``extra``
    (B x M x C, empty when no extra tokens) and ``grid`` = (h, w) with N = h * w."""
    cls: torch.Tensor
    patches: torch.Tensor
    extra: torch.Tensor
    grid: tuple[int, int]


def vit_tokens(backbone: nn.Module, images: torch.Tensor, mask: torch.Tensor | None = None,
               mask_token: torch.Tensor | None = None, extra_tokens: torch.Tensor | None = None) -> ViTTokens:
    """Run ``backbone`` (an ``mmpretrain.models.VisionTransformer`` with a [CLS] token and ``final_norm``) on
    ``images`` (B x 3 x H x W) and return its last-layer tokens (see ``ViTTokens``).

    ``mask`` (B x h x w or B x N, bool, h x w the patch grid of ``images``) requires ``mask_token`` (1 x 1 x C).
    Mirrors ``VisionTransformer.forward`` of MMPretrain 1.2 (same modules, same order), so with neither mask nor
    extra tokens the tokens equal the backbone's own output."""
    from mmpretrain.models.utils import resize_pos_embed

    batch = images.shape[0]
    x, grid = backbone.patch_embed(images)
    if mask is not None:
        keep = mask.reshape(batch, -1, 1).to(x.dtype)
        x = x * (1 - keep) + mask_token.to(x.dtype) * keep
    cls = backbone.cls_token.expand(batch, -1, -1)
    x = torch.cat((cls, x), dim=1)
    x = x + resize_pos_embed(backbone.pos_embed, backbone.patch_resolution, grid, mode=backbone.interpolate_mode,
                             num_extra_tokens=backbone.num_extra_tokens)
    num_extra = 0
    if extra_tokens is not None:
        num_extra = extra_tokens.shape[1]
        x = torch.cat((x[:, :1], extra_tokens.expand(batch, -1, -1).to(x.dtype), x[:, 1:]), dim=1)
    x = backbone.drop_after_pos(x)
    x = backbone.pre_norm(x)
    for layer in backbone.layers:
        x = layer(x)
    if backbone.final_norm:
        x = backbone.ln1(x)
    return ViTTokens(x[:, 0], x[:, 1 + num_extra:], x[:, 1:1 + num_extra], tuple(grid))
