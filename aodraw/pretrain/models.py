"""Teacher and student: an MMDetection/MMPretrain backbone (the detection recipes' config, so the student's keys are
the detector backbone's) with a linear classification head, and loading of sRGB-pretrained classifier weights.

Backbones are built from the registries: ``dict(type='ResNet', ...)`` and ``dict(type='SwinTransformer', ...)`` from
MMDetection, ``dict(type='mmpretrain.ConvNeXt', ...)`` from MMPretrain. Logits: global average pooling of the last
output, then ``head.fc``; for ConvNeXt, as in MMPretrain's classifier, the last stage is pooled before its norm (the
detection-form backbone applies ``norm3`` per pixel; the classifier form normalises the pooled vector).
"""
from __future__ import annotations

import os
import pickle
import re

import torch
from torch import nn

from plumbing.errors import BadInputError


def build_backbone(cfg: dict) -> nn.Module:
    """A backbone from MMDetection's model registry, without its ``init_cfg`` (weights are loaded explicitly).
    ``mmpretrain.``-prefixed types (``mmpretrain.ConvNeXt``) come from MMPretrain's registry, which MMEngine imports
    on first use. MMDetection's scope is made current while building: MMEngine builds from the current default
    scope's registry, so after an MMSegmentation or MMPretrain run in the same process ``SwinTransformer`` would
    otherwise be theirs."""
    from mmdet.registry import MODELS
    from mmengine.registry import DefaultScope

    with DefaultScope.overwrite_default_scope("mmdet"):
        return MODELS.build({k: v for k, v in cfg.items() if k not in ("init_cfg", "pretrained")})


class LinearHead(nn.Module):
    """The classification head: one ``nn.Linear`` (``fc``) from pooled features to class logits."""

    def __init__(self, in_channels: int, num_classes: int):
        super().__init__()
        self.fc = nn.Linear(in_channels, num_classes)

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        """Logits (B, num_classes) of pooled features (B, in_channels)."""
        return self.fc(pooled)


class Classifier(nn.Module):
    """backbone + head; ``forward`` returns (backbone outputs, logits)."""

    def __init__(self, backbone_cfg: dict, num_classes: int):
        super().__init__()
        self.backbone = build_backbone(backbone_cfg)
        self._last_stage: torch.Tensor | None = None
        self.pool_then_norm = "ConvNeXt" in type(self.backbone).__name__
        if self.pool_then_norm:
            self.backbone.stages[-1].register_forward_hook(self._keep_last_stage)
        with torch.no_grad():
            self.backbone.eval()  # MMDetection's ResNet.train() returns None: no chaining
            channels = self.backbone(torch.zeros(1, 3, 64, 64))[-1].shape[1]
            self.backbone.train()
        self.head = LinearHead(channels, num_classes)

    def _keep_last_stage(self, _module, _inputs, output):
        self._last_stage = output

    def forward(self, x: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
        """(backbone outputs, each (B, C_i, H_i, W_i); logits (B, num_classes)) of a float (B, 3, H, W) batch.
        ConvNeXt pools its last stage before its final norm, as MMPretrain's classifier does."""
        features = list(self.backbone(x))
        if self.pool_then_norm:
            last = len(self.backbone.stages) - 1
            pooled = getattr(self.backbone, f"norm{last}")(self._last_stage.mean((2, 3), keepdim=True)).flatten(1)
            self._last_stage = None
        else:
            pooled = features[-1].mean((2, 3))
        return features, self.head(pooled)


def read_state_dict(path: str | os.PathLike, trusted: bool = False) -> dict[str, torch.Tensor]:
    """The tensors of a checkpoint file (``state_dict``/``model`` entry or the file itself, ``module.`` stripped).
    Files holding arbitrary Python objects load only with ``trusted=True``."""
    try:
        raw = torch.load(os.fspath(path), map_location="cpu", weights_only=not trusted)
    except FileNotFoundError:
        raise BadInputError(f"{path}: checkpoint not found") from None
    except pickle.UnpicklingError as exc:
        raise BadInputError(f"{path}: holds objects other than tensors ({str(exc).splitlines()[0][:120]}); set "
                            "trusted=True for a file you trust") from None
    except (RuntimeError, EOFError) as exc:
        raise BadInputError(f"{path}: not a torch checkpoint ({exc})") from None
    if isinstance(raw, dict):
        raw = raw.get("state_dict", raw.get("model", raw))
    if not isinstance(raw, dict) or not raw or not all(isinstance(v, torch.Tensor) for v in raw.values()):
        raise BadInputError(f"{path}: no state dict of tensors found")
    return {k.removeprefix("module."): v for k, v in raw.items()}


def classifier_keys(state: dict[str, torch.Tensor], model: Classifier) -> dict[str, torch.Tensor]:
    """Rename a classifier's weights to this model's ``backbone.``/``head.fc.`` keys. Understood layouts:
    MMPretrain/MMDetection (``backbone.``, ``head.fc.``), torchvision ResNet (``fc.`` head), original Swin
    (``patch_embed.proj``, ``layers.``, ``norm.``, ``head.``) and plain backbone keys."""
    if any(k.startswith("backbone.") for k in state):
        out = {k: v for k, v in state.items() if k.startswith(("backbone.", "head."))}
        if any(k.startswith("head.") and not k.startswith("head.fc.") for k in out):
            out = {re.sub(r"^head\.(?!fc\.)", "head.fc.", k): v for k, v in out.items()}
        own = model.state_dict()
        # MMPretrain's Swin keeps each patch merging at the start of the next stage; MMDetection's at the end of its
        # stage.
        return {_shift_downsample(k, own): v for k, v in out.items()}
    if "patch_embed.proj.weight" in state:
        from mmdet.models.backbones.swin import swin_converter

        heads = {f"head.fc.{k[5:]}": v for k, v in state.items() if k.startswith("head.")}
        converted = swin_converter(state)
        return {re.sub(r"^backbone\.norm\.", f"backbone.norm{len(model.backbone.stages) - 1}.", k): v
                for k, v in converted.items()} | heads
    return {f"head.{k}" if k.startswith("fc.") else f"backbone.{k}": v for k, v in state.items()}


def _shift_downsample(key: str, own: dict) -> str:
    match = re.match(r"backbone\.stages\.(\d+)\.downsample\.(.*)", key)
    if match and key not in own:
        shifted = f"backbone.stages.{int(match[1]) - 1}.downsample.{match[2]}"
        return shifted if shifted in own else key
    return key


def load_classifier(model: Classifier, path: str | os.PathLike, trusted: bool = False,
                    require_head: bool = True) -> list[str]:
    """Load sRGB-pretrained weights into ``model``; every backbone tensor (except per-stage output norms that
    classifiers do not have) and the head (unless ``require_head`` is False) must be found. Returns the keys left
    at their initial values."""
    state = classifier_keys(read_state_dict(path, trusted), model)
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    optional = re.compile(r"backbone\.norm\d+\.|.*num_batches_tracked$" + ("" if require_head else r"|head\."))
    required = [k for k in missing if not optional.match(k)]
    if required:
        raise BadInputError(f"{path}: {len(required)} tensors of the model are missing, e.g. {required[0]!r} "
                            "(not a checkpoint of this architecture?)")
    shapes = [k for k, v in state.items() if k in own and own[k].shape != v.shape]
    if shapes:
        raise BadInputError(f"{path}: tensor {shapes[0]} has shape {tuple(state[shapes[0]].shape)}, the model "
                            f"{tuple(own[shapes[0]].shape)} (another architecture or number of classes?)")
    model.load_state_dict({k: v for k, v in state.items() if k in own}, strict=False)
    return missing
