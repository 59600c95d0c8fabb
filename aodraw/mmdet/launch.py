"""Training and testing entry points behind ``tools/train.py`` and ``tools/test.py`` (MMDetection's habits)."""
from __future__ import annotations

import copy
from collections.abc import Iterator

from mmengine.config import Config
from mmengine.runner import Runner

from aodraw.recipes import RECIPES, Recipe, resolve_config
from mmglue.launch import check_builds, read_config, run_arguments, without_pretrained_weights

__all__ = ["build_runner", "build_detector", "check_recipes", "load_config", "run_arguments",
           "without_pretrained_weights"]


def load_config(config: str, work_dir: str | None = None, cfg_options: dict | None = None,
                launcher: str = "none", amp: bool = False) -> Config:
    """Read a config or shipped recipe (``resolve_config``) with ``mmglue.launch.read_config``."""
    return read_config(resolve_config(config), work_dir, cfg_options, launcher, amp)


def build_runner(cfg: Config) -> Runner:
    """The config's runner (``runner_type``, e.g. ``AODRawRunner`` for RF-Next) or MMEngine's default."""
    from mmdet.registry import RUNNERS

    import aodraw.mmdet  # noqa: F401  (registers the plug-in even when the config does not import it)

    return RUNNERS.build(cfg) if "runner_type" in cfg else Runner.from_cfg(cfg)


def build_detector(config, device: str = "cpu"):
    """The model of ``config`` (a path, a recipe name or a loaded ``Config``), built without loading any pretrained
    weights, with its RF-Next structure applied as ``AODRawRunner`` applies it: search mode always, fixed mode when
    its structure file exists (``recipes check`` builds a fixed recipe before any search has written one).
    The one builder of ``recipes check`` and ``aodraw infer``."""
    from mmdet.registry import MODELS
    from mmengine.registry import init_default_scope

    from aodraw.mmdet.rfnext import apply_rf_structure

    cfg = config if isinstance(config, Config) else load_config(config)
    init_default_scope(cfg.get("default_scope", "mmdet"))
    model_cfg = copy.deepcopy(cfg.model)
    without_pretrained_weights(model_cfg)
    model = MODELS.build(model_cfg)
    apply_rf_structure(model, cfg)
    return model.to(device)


def check_recipes(recipes: tuple[Recipe, ...] = RECIPES) -> Iterator[dict]:
    """Build each recipe's model without weights; yield ``{name, ok, params, seconds, error}`` per recipe (a failure
    is reported on its recipe's entry, never raised)."""
    return check_builds(recipes, build_detector, "aodraw-recipes-check")
