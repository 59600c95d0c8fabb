"""HSSL: heterogeneous self-supervised learning (Li et al., "Heterogeneous Self-Supervised Learning"), on the iBOT
base: the ViT learns from an auxiliary head of a different architecture sitting on its last-layer patch grid.

- ``HSSLAuxHead``: candidate heads on the patch grid (B x C x h x w), each ending in a global average pool with its
  own LayerNorm, the head's [CLS]. ``convnext`` (default, depth 3): MMPretrain's ``ConvNeXtBlock`` (7 x 7 depthwise
  conv - LayerNorm - 4x MLP with GELU, no layer scale), the residual from the second block on; ``mixer``: MLP-Mixer
  blocks (token MLP over the h x w positions, channel MLP); ``bottleneck``: MMPretrain's ResNet ``Bottleneck`` stack;
  ``transformer``: MMPretrain's ViT encoder layer (a *homogeneous* head, the reference point of the search).
- ``HSSL``: the teacher's [CLS] target is the teacher's auxiliary-head [CLS] (through the shared projection head),
  its patch targets the teacher's base patch tokens; the student's base [CLS] and auxiliary [CLS] both learn the
  auxiliary target across views, the student's masked patches the teacher's base patches. Loss
  ``1/2 (lambda1 (C_base + C_aux) + lambda2 P)``, each term the mean over its own (view-pair) terms (the term-count
  balancing), lambda1 = lambda2 = 1. The head is training-only: exports keep ``backbone.*`` alone.
- ``search_aux_heads`` (in ``hssl_search``): ranks candidate heads by a label-free proxy.
"""
from __future__ import annotations

import torch
from mmpretrain.models.backbones.convnext import ConvNeXtBlock
from mmpretrain.models.backbones.resnet import Bottleneck
from mmpretrain.models.backbones.vision_transformer import TransformerEncoderLayer
from mmpretrain.registry import MODELS
from torch import nn

from imagenet_s.selfsup.ibot import IBOT, ViewOutput
from imagenet_s.selfsup.losses import cross_view_loss, masked_patch_loss
from imagenet_s.selfsup.vit import vit_tokens
from plumbing.errors import BadInputError

HEAD_KINDS = ("convnext", "mixer", "bottleneck", "transformer")


class ConvNeXtAuxBlock(ConvNeXtBlock):
    """MMPretrain's ``ConvNeXtBlock`` without layer scale; ``residual=False`` drops the shortcut (HSSL's first
    block)."""

    def __init__(self, channels: int, residual: bool):
        super().__init__(channels, layer_scale_init_value=0.0)
        self.residual = residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """B x C x h x w -> B x C x h x w."""
        out = super().forward(x)
        return out if self.residual else out - x


class MixerBlock(nn.Module):
    """An MLP-Mixer block on ``num_tokens`` positions: x + TokenMLP(LN(x)), then x + ChannelMLP(LN(x))."""

    def __init__(self, channels: int, num_tokens: int):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(channels), nn.LayerNorm(channels)
        self.token_mlp = nn.Sequential(nn.Linear(num_tokens, num_tokens * 2), nn.GELU(),
                                       nn.Linear(num_tokens * 2, num_tokens))
        self.channel_mlp = nn.Sequential(nn.Linear(channels, channels * 4), nn.GELU(),
                                         nn.Linear(channels * 4, channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """B x N x C -> B x N x C (N must be ``num_tokens``)."""
        x = x + self.token_mlp(self.norm1(x).transpose(1, 2)).transpose(1, 2)
        return x + self.channel_mlp(self.norm2(x))


@MODELS.register_module()
class HSSLAuxHead(nn.Module):
    """An auxiliary head on the last-layer patch tokens (see the module docstring for ``kind``).

    ``forward(patches, grid)``: patches B x N x C on the h x w ``grid`` -> (cls B x C, tokens B x N x C).

    Args:
        in_channels: C.
        kind: one of ``HEAD_KINDS``.
        depth: number of blocks (HSSL's ``auxiliary_depth``, 3).
        grid: (h, w) of the views, needed by ``mixer`` only (its token MLP has a fixed width).
    Raises BadInputError for an unknown kind or a mixer without ``grid``.
    """

    def __init__(self, in_channels: int, kind: str = "convnext", depth: int = 3, grid: tuple[int, int] | None = None):
        super().__init__()
        self.kind, self.depth = kind, depth
        if kind == "convnext":
            self.blocks = nn.ModuleList(ConvNeXtAuxBlock(in_channels, residual=i > 0) for i in range(depth))
        elif kind == "mixer":
            if grid is None:
                raise BadInputError("HSSLAuxHead(kind='mixer') needs the patch grid (grid=(h, w))")
            self.blocks = nn.ModuleList(MixerBlock(in_channels, grid[0] * grid[1]) for _ in range(depth))
        elif kind == "bottleneck":
            self.blocks = nn.ModuleList(Bottleneck(in_channels, in_channels, expansion=4) for _ in range(depth))
        elif kind == "transformer":
            heads = max(1, in_channels // 64)
            self.blocks = nn.ModuleList(TransformerEncoderLayer(in_channels, heads, in_channels * 4)
                                        for _ in range(depth))
        else:
            raise BadInputError(f"unknown auxiliary head kind {kind!r} (choose from {', '.join(HEAD_KINDS)})")
        self.norm = nn.LayerNorm(in_channels)

    def forward(self, patches: torch.Tensor, grid: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
        """(cls, tokens) of the head on ``patches`` (B x N x C, N = h * w)."""
        batch, tokens, channels = patches.shape
        if self.kind in ("mixer", "transformer"):
            x = patches
            for block in self.blocks:
                x = block(x)
        else:
            x = patches.transpose(1, 2).reshape(batch, channels, *grid)
            for block in self.blocks:
                x = block(x)
            x = x.reshape(batch, channels, tokens).transpose(1, 2)
        return self.norm(x.mean(1)), x


@MODELS.register_module()
class HSSL(IBOT):
    """iBOT with an HSSL auxiliary head (see the module docstring). ``aux_head``: an ``HSSLAuxHead`` config
    (``in_channels`` filled from the backbone); other arguments as ``IBOT``'s (``loss_weights`` cls = lambda1, patch =
    lambda2)."""

    teacher_parts = ("backbone", "head", "aux_head")

    def __init__(self, *args, aux_head: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        cfg = {"type": "HSSLAuxHead", "kind": "convnext", "depth": 3, **(aux_head or {})}
        cfg.setdefault("in_channels", self.backbone.embed_dims)
        self.aux_head = MODELS.build(cfg)
        self.build_teacher()

    def teacher_view(self, images: torch.Tensor, index: int) -> ViewOutput:
        """Teacher: [CLS] logits from its auxiliary head, patch logits from its base ViT."""
        parts = self.teacher.module
        tokens = vit_tokens(parts["backbone"], images)
        aux_cls, _ = parts["aux_head"](tokens.patches, tokens.grid)
        patch_logits = parts["head"](tokens.patches) if self.loss_weights["patch"] else None
        return ViewOutput(tokens, parts["head"](aux_cls), patch_logits, None, index)

    def student_view(self, images: torch.Tensor, mask: torch.Tensor | None, index: int) -> ViewOutput:
        """Student: the base outputs plus ``extras['aux_cls_logits']`` (its auxiliary head's [CLS] logits)."""
        out = super().student_view(images, mask, index)
        aux_cls, _ = self.aux_head(out.tokens.patches, out.tokens.grid)
        out.extras["aux_cls_logits"] = self.head(aux_cls)
        return out

    def distillation_losses(self, student: list[ViewOutput], teacher: list[ViewOutput]) -> dict:
        """``loss_cls`` (base [CLS]), ``loss_aux_cls`` (auxiliary [CLS]) and ``loss_patch``, each halved and
        weighted."""
        targets = self.teacher_targets(teacher, "cls")
        base, _ = cross_view_loss([s.cls_logits for s in student], targets, self.student_temperature)
        aux, _ = cross_view_loss([s.extras["aux_cls_logits"] for s in student], targets, self.student_temperature)
        lam1, lam2 = self.loss_weights["cls"], self.loss_weights["patch"]
        losses = {"loss_cls": 0.5 * lam1 * base * self.distill_scale,
                  "loss_aux_cls": 0.5 * lam1 * aux * self.distill_scale}
        masked = [s for s in student[:self.num_global_views] if s.mask is not None and s.patch_logits is not None]
        if masked and len(masked) == len(teacher):
            patch, _ = masked_patch_loss([s.patch_logits for s in masked], self.teacher_targets(teacher, "patch"),
                                         [s.mask for s in masked], self.student_temperature)
            losses["loss_patch"] = 0.5 * lam2 * patch * self.distill_scale
        return losses
