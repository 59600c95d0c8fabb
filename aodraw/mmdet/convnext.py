"""``AODRawConvNeXt``: the ConvNeXt backbone with MMPretrain's parameter names, registered in MMDetection.

MMPretrain's own ``mmpretrain.ConvNeXt`` cannot be imported without torchvision (``mmpretrain.models`` imports
``torchvision.ops``), which these machines cannot install. This module gives the same network under the same
state-dict keys (``downsample_layers.*``, ``stages.*``, ``norm{i}``), so MMPretrain ImageNet checkpoints load with
``init_cfg=dict(type='Pretrained', checkpoint=..., prefix='backbone.')`` and MMDetection's layer-wise lr decay
recognises it; where MMPretrain imports, ``type='mmpretrain.ConvNeXt'`` is a drop-in replacement.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from mmdet.registry import MODELS
from mmengine.model import BaseModule
from torch import nn

from plumbing.errors import BadInputError

ARCHS = {"tiny": ([3, 3, 9, 3], [96, 192, 384, 768]), "small": ([3, 3, 27, 3], [96, 192, 384, 768]),
         "base": ([3, 3, 27, 3], [128, 256, 512, 1024]), "large": ([3, 3, 27, 3], [192, 384, 768, 1536])}


class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels of an N x C x H x W tensor (or N x H x W x C with ``channels_last``)."""

    def __init__(self, channels: int, eps: float = 1e-6):
        super().__init__(channels, eps=eps)

    def forward(self, x: torch.Tensor, channels_last: bool = False) -> torch.Tensor:
        if channels_last:
            return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        x = F.layer_norm(x.permute(0, 2, 3, 1), self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2).contiguous()


class ConvNeXtBlock(nn.Module):
    """Depthwise 7x7 conv, LayerNorm, pointwise MLP (x4) with GELU, layer scale, stochastic depth."""

    def __init__(self, channels: int, drop_path: float = 0.0, layer_scale_init_value: float = 1e-6):
        super().__init__()
        self.depthwise_conv = nn.Conv2d(channels, channels, 7, padding=3, groups=channels)
        self.norm = LayerNorm2d(channels)
        self.pointwise_conv1 = nn.Linear(channels, 4 * channels)
        self.act = nn.GELU()
        self.pointwise_conv2 = nn.Linear(4 * channels, channels)
        self.gamma = (nn.Parameter(layer_scale_init_value * torch.ones(channels))
                      if layer_scale_init_value > 0 else None)
        self.drop_path = drop_path

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x
        x = self.depthwise_conv(x).permute(0, 2, 3, 1)
        x = self.pointwise_conv2(self.act(self.pointwise_conv1(self.norm(x, channels_last=True))))
        x = x.permute(0, 3, 1, 2)
        if self.gamma is not None:
            x = x * self.gamma.view(1, -1, 1, 1)
        if self.training and self.drop_path > 0:
            keep = x.new_empty((x.shape[0], 1, 1, 1)).bernoulli_(1 - self.drop_path)
            x = x * keep / (1 - self.drop_path)
        return shortcut + x


@MODELS.register_module()
class AODRawConvNeXt(BaseModule):
    """ConvNeXt (Liu et al., 2022) returning the normalised feature map of each stage in ``out_indices``.

    Args mirror ``mmpretrain.ConvNeXt``: ``arch`` (tiny/small/base/large or a dict with depths and channels),
    ``in_channels``, ``out_indices``, ``drop_path_rate``, ``layer_scale_init_value``, ``frozen_stages``,
    ``gap_before_final_norm`` (only ``False``, the detection setting, is supported).
    """

    def __init__(self, arch="tiny", in_channels: int = 3, out_indices=(0, 1, 2, 3), drop_path_rate: float = 0.0,
                 layer_scale_init_value: float = 1e-6, frozen_stages: int = 0, gap_before_final_norm: bool = False,
                 init_cfg=None):
        init_cfg = init_cfg or [dict(type="TruncNormal", layer=["Conv2d", "Linear"], std=0.02, bias=0.0),
                                dict(type="Constant", layer=["LayerNorm"], val=1.0, bias=0.0)]
        super().__init__(init_cfg=init_cfg)
        if gap_before_final_norm:
            raise BadInputError("AODRawConvNeXt returns feature maps: gap_before_final_norm must be False")
        depths, channels = (ARCHS[arch] if isinstance(arch, str) else (arch["depths"], arch["channels"]))
        self.out_indices = tuple(i % len(depths) for i in out_indices)
        self.frozen_stages = frozen_stages
        rates = torch.linspace(0, drop_path_rate, sum(depths)).tolist()
        self.downsample_layers = nn.ModuleList()
        self.stages = nn.ModuleList()
        for i, (depth, width) in enumerate(zip(depths, channels)):
            if i == 0:
                down = nn.Sequential(nn.Conv2d(in_channels, width, 4, stride=4), LayerNorm2d(width))
            else:
                down = nn.Sequential(LayerNorm2d(channels[i - 1]), nn.Conv2d(channels[i - 1], width, 2, stride=2))
            self.downsample_layers.append(down)
            first = sum(depths[:i])
            self.stages.append(nn.Sequential(*(ConvNeXtBlock(width, rates[first + j], layer_scale_init_value)
                                               for j in range(depth))))
            if i in self.out_indices:
                self.add_module(f"norm{i}", LayerNorm2d(width))
        self._freeze_stages()

    def forward(self, x: torch.Tensor) -> tuple:
        outs = []
        for i, (down, stage) in enumerate(zip(self.downsample_layers, self.stages)):
            x = stage(down(x))
            if i in self.out_indices:
                outs.append(getattr(self, f"norm{i}")(x))
        return tuple(outs)

    def _freeze_stages(self) -> None:
        for i in range(self.frozen_stages):
            for module in (self.downsample_layers[i], self.stages[i]):
                module.eval()
                for param in module.parameters():
                    param.requires_grad = False

    def train(self, mode: bool = True):
        super().train(mode)
        self._freeze_stages()
        return self
