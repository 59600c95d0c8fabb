"""The DINO/iBOT projection head (MMPretrain has none): a 3-layer MLP to a bottleneck, L2 normalisation, then a
weight-normalised linear layer to K prototypes.

DINO (Caron et al., 2021, ``DINOHead``) and iBOT (Zhou et al., 2022, shared between [CLS] and patch tokens):
Linear(C, 2048) - GELU - Linear(2048, 2048) - GELU - Linear(2048, 256) - L2 normalise - WeightNorm(Linear(256, K)).
The published runs fix the weight norm's gain at 1 (``norm_last_layer=True``), i.e. the last layer's rows are unit
vectors; with ``norm_last_layer=False`` a learnable per-prototype gain (initialised at 1) multiplies them. Written as
an explicit normalisation of one weight matrix (``last_layer.weight``, K x 256) instead of torch's weight-norm
parametrisation, which is deprecated in one form and renames the parameters in the other.

Freezing the last layer during the first epoch(s) (``freeze_last_layer`` of the papers): set ``head.freeze_last = True``
and the last layer runs on a detached weight, so it gets no gradient (and AdamW skips it, weight decay included), as
the official ``cancel_gradients_last_layer`` does.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS
from torch import nn


@MODELS.register_module()
class DINOProjectionHead(BaseModule):
    """Projection head of DINO/iBOT: ``forward(x)`` maps ... x ``in_channels`` features to ... x ``out_channels``
    logits (any leading shape: [CLS] tokens B x C or patch tokens B x N x C).

    Args:
        in_channels: C, the backbone's embedding width (384 for ViT-S, 768 for ViT-B).
        out_channels: K, the number of prototypes (8,192 in iBOT, SERE and HSSL; 65,536 in DINO).
        hidden_channels: width of the MLP's hidden layers (2,048).
        bottleneck_channels: width before the last layer (256).
        num_layers: MLP layers before the bottleneck output (3).
        norm_last_layer: fix the last layer's weight-norm gain at 1 (the published setting).
    """

    def __init__(self, in_channels: int, out_channels: int = 8192, hidden_channels: int = 2048,
                 bottleneck_channels: int = 256, num_layers: int = 3, norm_last_layer: bool = True,
                 init_cfg: dict | None = None):
        super().__init__(init_cfg=init_cfg)
        layers: list[nn.Module] = []
        width = in_channels
        for _ in range(num_layers - 1):
            layers += [nn.Linear(width, hidden_channels), nn.GELU()]
            width = hidden_channels
        layers.append(nn.Linear(width, bottleneck_channels))
        self.mlp = nn.Sequential(*layers)
        self.last_layer = nn.Linear(bottleneck_channels, out_channels, bias=False)
        self.norm_last_layer = norm_last_layer
        if not norm_last_layer:
            self.last_gain = nn.Parameter(torch.ones(out_channels))
        self.freeze_last = False
        for module in self.mlp:
            if isinstance(module, nn.Linear):
                nn.init.trunc_normal_(module.weight, std=0.02)
                nn.init.zeros_(module.bias)
        nn.init.trunc_normal_(self.last_layer.weight, std=0.02)

    def prototypes(self) -> torch.Tensor:
        """The last layer's effective weight (K x bottleneck): unit rows, times the gain when it is learnable."""
        weight = self.last_layer.weight.detach() if self.freeze_last else self.last_layer.weight
        weight = F.normalize(weight, dim=1)
        if not self.norm_last_layer:
            gain = self.last_gain.detach() if self.freeze_last else self.last_gain
            weight = weight * gain[:, None]
        return weight

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (... x K) of features ``x`` (... x C)."""
        x = F.normalize(self.mlp(x), dim=-1)
        return F.linear(x, self.prototypes())
