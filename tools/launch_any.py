"""Which package's launcher serves a config: ``tools/train.py`` and ``tools/test.py`` take detection (AODRaw) and
segmentation (ImageNet-S) recipes alike, by recipe name or config file."""
from __future__ import annotations

import importlib
from pathlib import Path


def launcher_for(config: str):
    """``imagenet_s.mmseg.launch`` for a shipped ImageNet-S recipe or a config whose ``default_scope`` is
    ``mmseg``; ``aodraw.mmdet.launch`` for a shipped AODRaw recipe or any other config file. Raises
    MissingInputError when ``config`` is neither a file nor a shipped recipe of either package."""
    from aodraw.recipes import CONFIG_DIR as AODRAW_CONFIGS
    from imagenet_s.recipes import shipped_config
    from plumbing.errors import MissingInputError

    scope = None
    name = config if config.endswith(".py") else f"{config}.py"
    if not Path(config).is_file() and shipped_config(config) is None and not (AODRAW_CONFIGS / name).is_file():
        raise MissingInputError(f"{config}: no such config file or shipped recipe (see `aodraw recipes list` and "
                                "`imagenet-s recipes list`)")
    if shipped_config(config) is not None:
        scope = "mmseg"
    elif Path(config).is_file():
        from mmengine.config import Config

        scope = Config.fromfile(config).get("default_scope")
    return importlib.import_module("imagenet_s.mmseg.launch" if scope == "mmseg" else "aodraw.mmdet.launch")
