"""The config and runner plumbing ``tools/train.py`` and ``tools/test.py`` share for detection and segmentation
recipes (MMDetection's / MMSegmentation's ``tools/*.py`` habits); each dataset package resolves its recipe names."""
from __future__ import annotations

import os
import os.path as osp
import time
from collections.abc import Iterator
from pathlib import Path

from mmengine.config import Config, DictAction

__all__ = ["read_config", "run_arguments", "without_pretrained_weights"]


def run_arguments(parser) -> None:
    """The options ``tools/train.py`` and ``tools/test.py`` share (MMDetection's names)."""
    parser.add_argument("--cfg-options", nargs="+", action=DictAction, help="override config keys: key=value")
    parser.add_argument("--launcher", choices=["none", "pytorch", "slurm", "mpi"], default="none",
                        help="job launcher (pytorch: torchrun, as tools/dist_*.sh use)")
    parser.add_argument("--local_rank", "--local-rank", type=int, default=0)


def read_config(path: str | os.PathLike, work_dir: str | None = None, cfg_options: dict | None = None,
                launcher: str = "none", amp: bool = False) -> Config:
    """Read the config file ``path`` (importing its ``custom_imports``), apply overrides, set the launcher and the
    work dir (default ``./work_dirs/<config stem>``); ``amp`` switches the optimiser wrapper to MMEngine's
    ``AmpOptimWrapper`` (dynamic loss scale unless the config sets one)."""
    cfg = Config.fromfile(str(path))
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    cfg.launcher = launcher
    cfg.work_dir = work_dir or cfg.get("work_dir") or osp.join("./work_dirs", Path(path).stem)
    if amp:
        cfg.optim_wrapper.type = "AmpOptimWrapper"
        cfg.optim_wrapper.setdefault("loss_scale", "dynamic")
    return cfg


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


def check_builds(recipes, build, logger_name: str) -> Iterator[dict]:
    """Build each recipe's model without weights with ``build(config_path)``; yield ``{name, ok, params, seconds,
    error}`` per recipe (a failure is reported on its recipe's entry, never raised). ``logger_name`` becomes
    MMEngine's current logger at ERROR level, so building prints no init chatter."""
    from mmengine.logging import MMLogger

    MMLogger.get_instance(logger_name, log_level="ERROR")
    for recipe in recipes:
        start = time.perf_counter()
        try:
            model = build(str(recipe.config))
            entry = {"name": recipe.name, "ok": True, "params": sum(p.numel() for p in model.parameters()),
                     "error": None}
        except Exception as exc:  # noqa: BLE001 -- every failure is reported on its recipe's line
            entry = {"name": recipe.name, "ok": False, "params": None,
                     "error": f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"}
        entry["seconds"] = round(time.perf_counter() - start, 2)
        yield entry
