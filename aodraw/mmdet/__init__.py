"""AODRaw as a plug-in for stock MMDetection 3.x: ``custom_imports=dict(imports=['aodraw.mmdet'])`` registers
``AODRawDataset``, ``LoadAODRawImageFromFile``, ``AODRawMetric`` and ``AODRawRunner`` (RF-Next) into MMDetection's
registries. The ConvNeXt recipes use MMPretrain's ``mmpretrain.ConvNeXt`` (``custom_imports`` of
``mmpretrain.models``)."""
from aodraw.mmdet import backbone_scheme as _backbone_scheme  # noqa: F401  (registers aodraw-backbone://PATH)
from aodraw.mmdet.checkpoints import allow_mmengine_checkpoints
from aodraw.mmdet.dataset import AODRawDataset
from aodraw.mmdet.metric import AODRawMetric
from aodraw.mmdet.rfnext import AODRawRunner
from aodraw.mmdet.transforms import LoadAODRawImageFromFile

allow_mmengine_checkpoints()

__all__ = ["AODRawDataset", "AODRawMetric", "AODRawRunner", "LoadAODRawImageFromFile", "allow_mmengine_checkpoints"]
