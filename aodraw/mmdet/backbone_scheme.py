"""Loading exported backbones into MMDetection's SwinTransformer.

``SwinTransformer.init_weights`` ignores the ``init_cfg`` type: it reads ``init_cfg.checkpoint`` with MMEngine's
``CheckpointLoader`` and keeps only keys that start with ``backbone.``, so a plain exported backbone would load
nothing, silently. Importing this module registers the checkpoint scheme ``aodraw-backbone://``: the loader reads
the file after the scheme and returns its tensors prefixed with ``backbone.``. The Swin raw-pretraining recipe uses
``init_cfg=dict(type='Pretrained', checkpoint='aodraw-backbone://' + PATH)`` with ``convert_weights=False`` (the
exported keys are already MMDetection's), and imports this module (``custom_imports`` or the ``aodraw.mmdet``
plug-in, which calls ``register_backbone_scheme``). Any other loader (ResNet, ConvNeXt) reads the same URI as a
``{'state_dict': {'backbone.' + key: tensor}}`` file, i.e. it then needs ``prefix='backbone.'``; plain paths need no
scheme for them.
"""
from __future__ import annotations

import torch

SCHEME = "aodraw-backbone://"


def load_backbone_with_prefix(filename: str, map_location=None) -> dict:
    """The exported file behind ``aodraw-backbone://PATH`` with every tensor key prefixed by ``backbone.``."""
    checkpoint = torch.load(filename[len(SCHEME):], map_location=map_location, weights_only=True)
    state = checkpoint.get("state_dict", checkpoint)
    return {"state_dict": {f"backbone.{k}": v for k, v in state.items()}, "meta": checkpoint.get("meta", {})}


def register_backbone_scheme() -> None:
    """Register ``aodraw-backbone://`` with MMEngine's CheckpointLoader (idempotent)."""
    from mmengine.runner import CheckpointLoader

    CheckpointLoader.register_scheme(SCHEME, load_backbone_with_prefix, force=True)


register_backbone_scheme()
