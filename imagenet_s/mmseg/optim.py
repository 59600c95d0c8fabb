"""Layer-wise lr decay with RF-Next's second parameter group, for the RF-ConvNeXt recipes.

The protocol (``../shared/specs/imagenet_s.md``, "Semi-supervised protocol"): RF-ConvNeXt fine-tunes with the
ConvNeXt-T schedule plus a second parameter group for the searched rates -- the branch weights of RF-Next's
multi-branch convolutions (mmcv ``Conv2dRFSearchOp.branch_weights``) -- at 10x the learning rate, with a layer-wise
decay of its own (0.9 or 1.0 instead of the backbone's).

MMPretrain's ``LearningRateDecayOptimWrapperConstructor`` sets every group's lr from the layer depth and ignores a
custom key's ``lr_mult``, so this subclass re-scales the rate groups after it: ``paramwise_cfg`` takes, besides
MMPretrain's keys, ``rf_keys`` (substrings of parameter names; default ``('branch_weights',)``), ``rf_lr_mult``
(default 10) and ``rf_layer_decay_rate`` (default 0.9). A rate parameter at depth ``d`` of ``D`` gets
``lr = base_lr * rf_lr_mult * rf_layer_decay_rate ** (D - d - 1)``.
"""
from __future__ import annotations

from mmpretrain.engine.optimizers import LearningRateDecayOptimWrapperConstructor
from mmseg.registry import OPTIM_WRAPPER_CONSTRUCTORS

RF_KEYS = ("branch_weights",)


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class RFLayerDecayOptimWrapperConstructor(LearningRateDecayOptimWrapperConstructor):
    """MMPretrain's layer-wise lr decay, with RF-Next's searched rates in their own group (10x lr, own decay)."""

    def add_params(self, params: list[dict], module, prefix: str = "", get_layer_depth=None, **kwargs) -> None:
        """MMPretrain's groups, then (once, at the top-level call) the rate groups' lr re-scaled."""
        super().add_params(params, module, prefix, get_layer_depth, **kwargs)
        if prefix:
            return  # a recursive call on a child module: the top-level call re-scales every group once
        depth = get_layer_depth or module.get_layer_depth
        keys = tuple(self.paramwise_cfg.get("rf_keys", RF_KEYS))
        lr_mult = float(self.paramwise_cfg.get("rf_lr_mult", 10.0))
        decay = float(self.paramwise_cfg.get("rf_layer_decay_rate", 0.9))
        for group in params:
            if any(key in group["param_name"] for key in keys):
                layer_id, max_id = depth(group["param_name"])
                group["lr_scale"] = lr_mult * decay ** (max_id - layer_id - 1)
                group["lr"] = self.base_lr * group["lr_scale"]
