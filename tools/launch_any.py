"""Which package's launcher serves a config: ``tools/train.py`` and ``tools/test.py`` take detection (AODRaw) and
segmentation (ImageNet-S) recipes alike, by recipe name or config file."""
from __future__ import annotations

import importlib
from pathlib import Path


def launcher_for(config: str):
    """``imagenet_s.mmseg.launch`` for a shipped ImageNet-S recipe or a config whose ``default_scope`` is
    ``mmseg``; ``aodraw.mmdet.launch`` otherwise (its errors name a missing config)."""
    from imagenet_s.recipes import shipped_config

    scope = None
    if shipped_config(config) is not None:
        scope = "mmseg"
    elif Path(config).is_file():
        from mmengine.config import Config

        scope = Config.fromfile(config).get("default_scope")
    return importlib.import_module("imagenet_s.mmseg.launch" if scope == "mmseg" else "aodraw.mmdet.launch")
