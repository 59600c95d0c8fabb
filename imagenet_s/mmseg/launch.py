"""Training, testing and building entry points for the ImageNet-S recipes (behind ``tools/train.py``,
``tools/test.py``, ``imagenet-s recipes check``, ``imagenet-s infer`` and ``imagenet-s pass finetune``)."""
from __future__ import annotations

import copy
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from mmengine.config import Config
from mmengine.runner import Runner

from imagenet_s.recipes import RECIPES, Recipe, resolve_config
from mmglue.launch import check_builds, read_config, without_pretrained_weights
from mmglue.rfnext import apply_rf_structure
from plumbing.errors import BadInputError
from plumbing.files import atomic_write

__all__ = ["build_runner", "build_segmentor", "check_recipes", "effective_batch", "load_config",
           "pseudo_label_config", "train_resumable"]


def effective_batch(cfg: Config, world_size: int | None = None) -> int | None:
    """Set ``optim_wrapper.accumulative_counts`` so that per-GPU batch x GPUs x accumulation equals the config's
    ``effective_batch_size`` (the protocol's 256), in place; returns the accumulation (None: no effective batch).
    ``world_size`` defaults to ``$WORLD_SIZE`` (torchrun), else ``$SLURM_NTASKS`` (slurm), else 1. Raises
    BadInputError when the batch does not divide."""
    target = cfg.get("effective_batch_size")
    if not target or "optim_wrapper" not in cfg:
        return None
    world = int(world_size or os.environ.get("WORLD_SIZE") or os.environ.get("SLURM_NTASKS") or 1)
    per_step = cfg.train_dataloader.batch_size * world
    if target % per_step:
        raise BadInputError(f"effective_batch_size {target} is not a multiple of batch_size "
                            f"{cfg.train_dataloader.batch_size} x {world} processes")
    cfg.optim_wrapper.accumulative_counts = max(1, target // per_step)
    return cfg.optim_wrapper.accumulative_counts


def load_config(config: str, work_dir: str | None = None, cfg_options: dict | None = None,
                launcher: str = "none", amp: bool = False) -> Config:
    """Read a config or shipped ImageNet-S recipe (``imagenet_s.recipes.resolve_config``) with
    ``mmglue.launch.read_config``, then set the gradient accumulation of its effective batch."""
    cfg = read_config(resolve_config(config), work_dir, cfg_options, launcher, amp)
    effective_batch(cfg)
    return cfg


def pseudo_label_config(config: str | os.PathLike, data_root: str | os.PathLike, pseudo_dir: str | os.PathLike,
                        work_dir: str | os.PathLike, backbone_checkpoint: str | os.PathLike | None = None,
                        cfg_options: dict | None = None) -> Config:
    """A config (file or shipped recipe) set to train on the images of ``DATA_ROOT/train`` with the masks of
    ``pseudo_dir`` (``wnid/NAME.png`` at the images' relative paths, e.g. PASS pseudo labels):
    ``ImageNetSDataset`` split ``train`` with ``data_prefix.seg_map_path``, the test split's ``data_root`` too, the
    backbone initialised from ``backbone_checkpoint`` (through the plug-in's strict checkpoint loading), then
    ``cfg_options``; under torchrun (``WORLD_SIZE`` > 1) the ``pytorch`` launcher. Raises BadInputError for a
    missing pseudo-label folder or backbone checkpoint."""
    pseudo_dir = Path(pseudo_dir).resolve()
    if not pseudo_dir.is_dir():
        raise BadInputError(f"{pseudo_dir}: no pseudo-label folder (run `imagenet-s pass pseudo-label --split train`)")
    options = {"train_dataloader.dataset.data_root": str(data_root), "train_dataloader.dataset.split": "train",
               "train_dataloader.dataset.data_prefix": {"img_path": "train", "seg_map_path": str(pseudo_dir)},
               "test_dataloader.dataset.data_root": str(data_root)}
    if backbone_checkpoint is not None:
        if not Path(backbone_checkpoint).is_file():
            raise BadInputError(f"{backbone_checkpoint}: backbone checkpoint not found")
        options["model.backbone_checkpoint"] = str(backbone_checkpoint)
    options.update(cfg_options or {})
    launcher = "pytorch" if int(os.environ.get("WORLD_SIZE", "1")) > 1 else "none"
    return load_config(config, str(work_dir), options, launcher)


def train_resumable(cfg: Config, final: str | os.PathLike) -> Path:
    """Train ``cfg`` with MMEngine, resuming from the newest checkpoint of its work dir when there is one, and copy
    the last checkpoint to ``final`` (atomically, rank 0); returns ``final``. Raises BadInputError when training
    left no checkpoint (``default_hooks.checkpoint`` off)."""
    cfg.resume, cfg.load_from = True, None
    runner = build_runner(cfg)
    runner.train()
    if runner.rank == 0:
        marker = Path(cfg.work_dir) / "last_checkpoint"
        if not marker.is_file():
            raise BadInputError(f"{cfg.work_dir}: training saved no checkpoint (see default_hooks.checkpoint)")
        last = marker.read_text().strip()
        with open(last, "rb") as src:
            atomic_write(final, lambda dst: shutil.copyfileobj(src, dst))
    return Path(final)


def build_runner(cfg: Config) -> Runner:
    """The config's runner (``runner_type``, e.g. ``RFNextRunner``) or MMEngine's default, with the plug-in
    registered."""
    from mmseg.registry import RUNNERS

    import imagenet_s.mmseg  # noqa: F401  (registers the plug-in even when the config does not import it)

    return RUNNERS.build(cfg) if "runner_type" in cfg else Runner.from_cfg(cfg)


def build_segmentor(config, device: str = "cpu", weights: bool = False):
    """The model of ``config`` (a path, a recipe name or a loaded ``Config``) with its RF-Next structure applied as
    ``RFNextRunner`` applies it (fixed modes only when the structure file exists). Without ``weights`` no
    pretrained weights are loaded (``backbone_checkpoint`` and ``Pretrained`` init dropped, and nothing
    initialised from files); the one builder of ``recipes check``, ``imagenet-s infer`` and the tests."""
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS

    import imagenet_s.mmseg  # noqa: F401

    cfg = config if isinstance(config, Config) else load_config(config)
    init_default_scope(cfg.get("default_scope", "mmseg"))
    model_cfg = copy.deepcopy(cfg.model)
    if not weights:
        without_pretrained_weights(model_cfg)
        model_cfg["backbone_checkpoint"] = None
    model = MODELS.build(model_cfg)
    if weights:
        model.init_weights()
    apply_rf_structure(model, cfg)
    return model.to(device)


def check_recipes(recipes: tuple[Recipe, ...] = RECIPES) -> Iterator[dict]:
    """Build each recipe's model without weights; yield ``{name, ok, params, seconds, error}`` per recipe (a failure
    is reported on its recipe's entry, never raised)."""
    return check_builds(recipes, build_segmentor, "imagenet-s-recipes-check")
