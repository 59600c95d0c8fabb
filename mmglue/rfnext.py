"""RF-Next (receptive-field search) on top of mmcv's ``RFSearchHook``, made to work in one process.

mmcv's hook records searched dilations under the names ``runner.model.named_modules()`` gives (``module.``-prefixed
only under DDP) but looks them up with a ``module.`` prefix always, so a structure searched without DDP cannot be
reloaded; and neither MMDetection 3.x nor MMSegmentation 1.x calls its ``init_model``. ``RFNextRunner`` (registered in
MMEngine's root ``RUNNERS``, so any scope finds it) wraps or sets the model when it is built, before the optimizer is
built (so the branch weights are trained), with structure names normalised.
"""
from __future__ import annotations

import copy
import os.path as osp

from mmengine.registry import HOOKS, RUNNERS
from mmengine.runner import Runner

from plumbing.errors import BadInputError

HOOK_TYPE = "RFSearchHook"
WRAPPING_MODES = ("search", "fixed_multi_branch")


def rfsearch_hook_cfg(cfg) -> dict | None:
    """The ``RFSearchHook`` entry of a config's ``custom_hooks``, if any (BadInputError if there are several)."""
    hooks = [h for h in cfg.get("custom_hooks") or [] if h.get("type") in (HOOK_TYPE, f"mmcv.{HOOK_TYPE}")]
    if len(hooks) > 1:
        raise BadInputError("a config may hold one RFSearchHook")
    return hooks[0] if hooks else None


def normalise_structure(structure: dict) -> dict:
    """Structure names as mmcv's hook looks them up (``module.``-prefixed), whichever way they were saved."""
    return {name if name.startswith("module.") else f"module.{name}": rates for name, rates in structure.items()}


def apply_rfsearch(model, hook_cfg: dict) -> None:
    """Wrap (search, fixed multi-branch) or set (fixed single-branch) the model's convolutions in place.

    Wrapping renames the wrapped convolutions' parameters, so the model's own weights (pretrained backbone) are
    initialised first."""
    import mmcv.cnn  # noqa: F401  (registers RFSearchHook)

    hook = HOOKS.build(copy.deepcopy(dict(hook_cfg)))
    hook.config["structure"] = normalise_structure(hook.config["structure"])
    if hook.mode in WRAPPING_MODES and hasattr(model, "init_weights"):
        model.init_weights()
    hook.init_model(model)



def apply_rf_structure(model, cfg) -> None:
    """Apply the config's RF-Next structure to a freshly built model as the runner would: search mode always, fixed
    mode when its structure file exists (``recipes check`` builds a fixed recipe before any search has written one);
    nothing without an ``RFSearchHook``."""
    hook_cfg = rfsearch_hook_cfg(cfg)
    structure = (hook_cfg or {}).get("rfstructure_file") or ""
    if hook_cfg is not None and (hook_cfg.get("mode") == "search" or osp.isfile(structure)):
        apply_rfsearch(model, {**hook_cfg, "verbose": False})

@RUNNERS.register_module()
class RFNextRunner(Runner):
    """An MMEngine ``Runner`` that applies the config's ``RFSearchHook`` to the model as it is built."""

    def build_model(self, model):
        """Build the model (MMEngine ``Runner.build_model``), then apply the config's ``RFSearchHook`` to it
        (BadInputError if the config holds more than one)."""
        model = super().build_model(model)
        hook_cfg = rfsearch_hook_cfg(self.cfg)
        if hook_cfg is not None:
            apply_rfsearch(model, hook_cfg)
        return model
