"""Training and testing entry points behind ``tools/train.py`` and ``tools/test.py`` (MMDetection's habits)."""
from __future__ import annotations

import os.path as osp
from pathlib import Path

from mmengine.config import Config, DictAction
from mmengine.runner import Runner

from aodraw.recipes import CONFIG_DIR

__all__ = ["build_runner", "load_config", "resolve_config", "run_arguments"]


def run_arguments(parser) -> None:
    """The options ``tools/train.py`` and ``tools/test.py`` share (MMDetection's names)."""
    parser.add_argument("--cfg-options", nargs="+", action=DictAction, help="override config keys: key=value")
    parser.add_argument("--launcher", choices=["none", "pytorch", "slurm", "mpi"], default="none",
                        help="job launcher (pytorch: torchrun, as tools/dist_*.sh use)")
    parser.add_argument("--local_rank", "--local-rank", type=int, default=0)


def resolve_config(config: str) -> str:
    """A config path, or the name of a shipped recipe (``cascade-rcnn_convnext-t_fpn_1x_aodraw-raw``)."""
    if osp.isfile(config):
        return config
    shipped = CONFIG_DIR / (config if config.endswith(".py") else f"{config}.py")
    if shipped.is_file():
        return str(shipped)
    raise FileNotFoundError(f"{config}: no such config file or shipped recipe (see `aodraw recipes list`)")


def load_config(config: str, work_dir: str | None = None, cfg_options: dict | None = None,
                launcher: str = "none", amp: bool = False) -> Config:
    """Read a config (importing its ``custom_imports``), apply overrides, set the work dir."""
    path = resolve_config(config)
    cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    cfg.launcher = launcher
    cfg.work_dir = work_dir or cfg.get("work_dir") or osp.join("./work_dirs", Path(path).stem)
    if amp:
        cfg.optim_wrapper.type = "AmpOptimWrapper"
        cfg.optim_wrapper.setdefault("loss_scale", "dynamic")
    return cfg


def build_runner(cfg: Config) -> Runner:
    """The config's runner (``runner_type``, e.g. ``AODRawRunner`` for RF-Next) or MMEngine's default."""
    from mmdet.registry import RUNNERS

    import aodraw.mmdet  # noqa: F401  (registers the plug-in even when the config does not import it)

    return RUNNERS.build(cfg) if "runner_type" in cfg else Runner.from_cfg(cfg)


def without_pretrained_weights(model_cfg) -> None:
    """Drop every ``init_cfg`` that points at a checkpoint (backbone weights), in place."""
    if isinstance(model_cfg, dict):
        init = model_cfg.get("init_cfg")
        if isinstance(init, dict) and init.get("type") == "Pretrained":
            model_cfg["init_cfg"] = None
        for value in model_cfg.values():
            without_pretrained_weights(value)
    elif isinstance(model_cfg, list):
        for value in model_cfg:
            without_pretrained_weights(value)


def build_detector(config: str, device: str = "cpu"):
    """The config's model, built without loading any pretrained weights (RF-Next structure applied)."""
    from mmdet.registry import MODELS
    from mmengine.registry import init_default_scope

    from aodraw.mmdet.rfnext import apply_rfsearch, rfsearch_hook_cfg

    cfg = load_config(config)
    init_default_scope(cfg.get("default_scope", "mmdet"))
    without_pretrained_weights(cfg.model)
    model = MODELS.build(cfg.model)
    hook_cfg = rfsearch_hook_cfg(cfg)
    if hook_cfg is not None and hook_cfg.get("mode") == "search":
        apply_rfsearch(model, {**hook_cfg, "verbose": False})
    return model.to(device)
