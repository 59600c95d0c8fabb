"""ImageNet-S as a plug-in for stock MMSegmentation 1.x: ``custom_imports=dict(imports=['imagenet_s.mmseg'])``
registers ``ImageNetSDataset``, the loading transforms (``LoadImageNetSImage``, ``LoadImageNetSAnnotations``,
``ResizeShorterSide``, ``RandomResizedCropWithMask``), ``LUSSMetric``, ``SaveLUSSPredictionsHook``, ``LUSSHead`` and
``ImageNetSSegmentor`` and ``RFLayerDecayOptimWrapperConstructor`` (RF-ConvNeXt's rate group) into
MMSegmentation's registries (RF-Next: ``RFNextRunner`` of ``mmglue.rfnext``). The
backbones are MMPretrain's (``custom_imports`` of ``mmpretrain.models``)."""
from imagenet_s.mmseg.dataset import (
    ImageNetSDataset,
    LoadImageNetSAnnotations,
    LoadImageNetSImage,
    RandomResizedCropWithMask,
    ResizeShorterSide,
)
from imagenet_s.mmseg.metric import LUSSMetric
from imagenet_s.mmseg.model import ImageNetSSegmentor, LUSSHead
from imagenet_s.mmseg.optim import RFLayerDecayOptimWrapperConstructor
from imagenet_s.mmseg.writer import SaveLUSSPredictionsHook
from mmglue.checkpoints import allow_mmengine_checkpoints
from mmglue.rfnext import RFNextRunner

allow_mmengine_checkpoints()

__all__ = ["ImageNetSDataset", "ImageNetSSegmentor", "LUSSHead", "LUSSMetric", "LoadImageNetSAnnotations",
           "LoadImageNetSImage", "RFLayerDecayOptimWrapperConstructor", "RFNextRunner", "RandomResizedCropWithMask",
           "ResizeShorterSide", "SaveLUSSPredictionsHook"]
