"""AODRaw as a plug-in for stock MMDetection 3.x: ``custom_imports=dict(imports=['aodraw.mmdet'])`` registers
``AODRawDataset``, ``LoadAODRawImageFromFile``, ``LoadBayerPackFromFile``, ``AODRawMetric``, ``AODRawRunner`` (RF-Next)
and the packed-Bayer stems ``CSPNeXtBayer``/``CSPDarknetBayer`` (with ``BayerDataPreprocessor``) into MMDetection's
registries. The ConvNeXt recipes use MMPretrain's ``mmpretrain.ConvNeXt`` (``custom_imports`` of
``mmpretrain.models``)."""
from aodraw.mmdet import backbone_scheme as _backbone_scheme  # noqa: F401  (registers aodraw-backbone://PATH)
from aodraw.mmdet.bayer_stem import BayerDataPreprocessor, CSPDarknetBayer, CSPNeXtBayer
from aodraw.mmdet.checkpoints import allow_mmengine_checkpoints
from aodraw.mmdet.dataset import AODRawDataset
from aodraw.mmdet.metric import AODRawMetric
from aodraw.mmdet.rfnext import AODRawRunner
from aodraw.mmdet.transforms import LoadAODRawImageFromFile, LoadBayerPackFromFile

allow_mmengine_checkpoints()

__all__ = ["AODRawDataset", "AODRawMetric", "AODRawRunner", "BayerDataPreprocessor", "CSPDarknetBayer", "CSPNeXtBayer",
           "LoadAODRawImageFromFile", "LoadBayerPackFromFile", "allow_mmengine_checkpoints"]
