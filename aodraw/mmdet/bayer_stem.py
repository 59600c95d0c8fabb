"""The packed-Bayer stem: the real-time backbones (RTMDet's CSPNeXt, YOLOX's CSPDarknet) with a first convolution
that takes the 4 packed Bayer planes instead of 3 colours (what users asked upstream for: un-demosaiced input).
Registered as ``CSPNeXtBayer`` and ``CSPDarknetBayer``, with ``BayerDataPreprocessor`` (MMEngine's preprocessor
normalises 1 or 3 channels only); everything but the first convolution is the stock
backbone, so an ImageNet checkpoint still loads into the rest (the first convolution starts from scratch)."""
from __future__ import annotations

import torch
from mmdet.models.backbones import CSPDarknet, CSPNeXt
from mmdet.models.data_preprocessors import DetDataPreprocessor
from mmdet.registry import MODELS
from torch import nn

from plumbing.errors import IncompatibleError


def widen_first_conv(module: nn.Module, in_channels: int, colours: int = 3) -> nn.Conv2d:
    """Replace the first ``nn.Conv2d`` inside ``module`` by one taking ``in_channels`` instead of ``colours`` per
    input position (a space-to-depth stem such as YOLOX's Focus takes 4 positions: 12 -> 16 inputs); returns it.
    Raises IncompatibleError when ``module`` has no convolution or its inputs are not a multiple of ``colours``."""
    for parent in module.modules():
        for name, child in parent.named_children():
            if isinstance(child, nn.Conv2d):
                if child.in_channels % colours:
                    raise IncompatibleError(f"the first convolution takes {child.in_channels} inputs, not a "
                                            f"multiple of {colours} colours")
                new = nn.Conv2d(child.in_channels // colours * in_channels, child.out_channels, child.kernel_size,
                                child.stride, child.padding, child.dilation, child.groups, child.bias is not None,
                                child.padding_mode)
                setattr(parent, name, new)
                return new
    raise IncompatibleError("the backbone's stem has no convolution")


@MODELS.register_module()
class CSPNeXtBayer(CSPNeXt):
    """RTMDet's CSPNeXt whose stem takes ``in_channels`` inputs (default 4: packed Bayer planes)."""

    def __init__(self, *args, in_channels: int = 4, **kwargs):
        super().__init__(*args, **kwargs)
        widen_first_conv(self.stem, in_channels)


@MODELS.register_module()
class CSPDarknetBayer(CSPDarknet):
    """YOLOX's CSPDarknet whose Focus stem takes ``in_channels`` inputs (default 4: packed Bayer planes)."""

    def __init__(self, *args, in_channels: int = 4, **kwargs):
        super().__init__(*args, **kwargs)
        widen_first_conv(self.stem, in_channels)


@MODELS.register_module()
class BayerDataPreprocessor(DetDataPreprocessor):
    """MMDetection's ``DetDataPreprocessor`` normalising any number of channels (one ``mean``/``std`` value each,
    e.g. the 4 packed Bayer planes; MMEngine's refuses anything but 1 or 3). No channel conversion."""

    def __init__(self, mean: list[float], std: list[float], **kwargs):
        if len(mean) != len(std):
            raise IncompatibleError(f"mean has {len(mean)} values, std {len(std)}")
        super().__init__(mean=None, std=None, **kwargs)
        self._enable_normalize = True
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(-1, 1, 1), False)
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(-1, 1, 1), False)
