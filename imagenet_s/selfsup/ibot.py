"""The iBOT algorithm (and DINO, its special case without masked image modelling) as an MMPretrain
``BaseSelfSupervisor``: the base SERE, HSSL and MTE build on. MMPretrain 1.2 has neither.

Reproduces iBOT (Zhou et al., "iBOT: Image BERT Pre-Training with Online Tokenizer", ICLR 2022): an EMA teacher
(``mmpretrain.models.utils.CosineEMA``: momentum 0.996 -> 1 on a cosine over the run's iterations), a projection head
shared by [CLS] and patch tokens (``DINOProjectionHead``), teacher centring and temperature warm-up, the [CLS]
cross-view term and the masked-patch term (``imagenet_s.selfsup.losses``). Inputs come from ``MultiCropView``:
global views first (``num_global_views``), then local views; block masks of the global views in ``view_masks``.

Stable API for subclasses (SERE, HSSL here; MTE on branch selfsup2):

- modules the teacher mirrors: ``teacher_parts`` (names of attributes; default ``('backbone', 'head')``). A subclass
  that adds mirrored modules extends the tuple and calls ``self.build_teacher()`` at the end of its ``__init__``.
  The teacher is ``self.teacher`` (a ``CosineEMA``); its copy of part ``p`` is ``self.teacher.module[p]``, so in a
  checkpoint the teacher backbone is ``teacher.module.backbone.*`` and the student backbone ``backbone.*``.
- ``student_view(images, mask, index)`` / ``teacher_view(images, index)`` -> ``ViewOutput`` (tokens and logits of one
  view); override to add tokens (pass ``extra_tokens`` to ``vit_tokens``) or heads (put results in ``extras``).
- ``distillation_losses(student, teacher)`` -> dict of the base terms (``loss_cls``, ``loss_patch``, already weighted
  and multiplied by ``distill_scale``); ``extra_losses(student, teacher, data_samples)`` -> dict of added terms
  (default empty). Every key containing ``loss`` is summed by MMEngine; ``loss()`` returns their union.
- ``teacher_targets(outputs, key)`` -> centred, sharpened teacher probabilities at the current temperature;
  ``update_centers(teacher)`` runs after the losses.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
from mmengine.logging import MessageHub
from mmpretrain.models.selfsup import BaseSelfSupervisor
from mmpretrain.models.utils import CosineEMA
from mmpretrain.registry import MODELS
from torch import nn

from imagenet_s.selfsup import heads, transforms  # noqa: F401  (registers the head and the transforms configs use)
from imagenet_s.selfsup.losses import Centering, cross_view_loss, masked_patch_loss, teacher_temperature
from imagenet_s.selfsup.vit import ViTTokens, vit_tokens
from mmglue.checkpoints import allow_mmengine_checkpoints
from plumbing.errors import BadInputError

allow_mmengine_checkpoints()  # runner checkpoints (resume, export) load under torch's weights_only default


@dataclass
class ViewOutput:
    """One view through the student or the teacher: ``tokens`` (``ViTTokens``), ``cls_logits`` (B x K),
    ``patch_logits`` (B x N x K, None where not computed: local views, DINO), ``mask`` (B x N bool or None), the
    view's ``index`` in the input list, and ``extras`` (a dict subclasses fill: auxiliary tokens, head outputs)."""
    tokens: ViTTokens
    cls_logits: torch.Tensor
    patch_logits: torch.Tensor | None
    mask: torch.Tensor | None
    index: int
    extras: dict = field(default_factory=dict)


def current_epoch() -> int:
    """The runner's current epoch (0-based) from MMEngine's message hub; 0 outside a runner."""
    return int(MessageHub.get_current_instance().get_info("epoch") or 0)


@MODELS.register_module()
class IBOT(BaseSelfSupervisor):
    """iBOT self-distillation (see the module docstring for the subclass API).

    Args:
        backbone: an ``mmpretrain`` ``VisionTransformer`` config (with [CLS] and final norm).
        head: a ``DINOProjectionHead`` config (shared by [CLS] and patches).
        num_global_views: the first views of the input list the teacher sees (2).
        student_temperature: 0.1.
        teacher_temperature, warmup_teacher_temperature, warmup_teacher_temperature_epochs: the teacher's
            temperature schedule (``losses.teacher_temperature``; iBOT ViT-S: 0.07, 0.04, 30).
        center_momentum: 0.9 for both centres.
        teacher_momentum: the EMA's start momentum in the papers' sense (0.996; it reaches 1 at the last iteration).
        loss_weights: ``{'cls': lambda1, 'patch': lambda2}`` (1, 1).
        freeze_last_layer_epochs: epochs during which the head's last layer gets no gradient (iBOT: 1).
    """

    teacher_parts: tuple[str, ...] = ("backbone", "head")

    def __init__(self, backbone: dict, head: dict, num_global_views: int = 2, student_temperature: float = 0.1,
                 teacher_temperature: float = 0.07, warmup_teacher_temperature: float = 0.04,
                 warmup_teacher_temperature_epochs: int = 30, center_momentum: float = 0.9,
                 teacher_momentum: float = 0.996, loss_weights: dict | None = None,
                 freeze_last_layer_epochs: int = 1, data_preprocessor: dict | None = None,
                 init_cfg: dict | None = None):
        super().__init__(backbone=backbone, head=head, data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.num_global_views = num_global_views
        self.student_temperature = student_temperature
        self.temperature_schedule = dict(temperature=teacher_temperature, warmup_temperature=warmup_teacher_temperature,
                                         warmup_epochs=warmup_teacher_temperature_epochs)
        self.teacher_momentum = teacher_momentum
        self.loss_weights = {"cls": 1.0, "patch": 1.0, **(loss_weights or {})}
        self.freeze_last_layer_epochs = freeze_last_layer_epochs
        self.distill_scale = 1.0
        channels = self.head.last_layer.out_features
        self.center_cls = Centering(channels, center_momentum)
        self.center_patch = Centering(channels, center_momentum)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, self.backbone.embed_dims))
        self.build_teacher()

    # ---- teacher ---------------------------------------------------------------------------------------------
    def student_parts(self) -> nn.ModuleDict:
        """The student's modules the teacher mirrors, as a ModuleDict over ``teacher_parts`` (no copies); parts a
        subclass has not built yet (during ``IBOT.__init__``) are left out."""
        return nn.ModuleDict({name: getattr(self, name) for name in self.teacher_parts if hasattr(self, name)})

    def build_teacher(self) -> None:
        """(Re)build ``self.teacher``: a ``CosineEMA`` copy of ``student_parts()`` that gets no gradient. MMEngine
        momentum m = 1 - ``teacher_momentum`` decays to 0 (teacher frozen) on a cosine over ``max_iters``; the first
        update copies the student. The teacher's drop-path layers are switched off."""
        self.teacher = CosineEMA(self.student_parts(), momentum=1.0 - self.teacher_momentum, end_momentum=0.0)
        self.teacher.requires_grad_(False)
        for module in self.teacher.modules():  # the teacher runs without stochastic depth, as in DINO/iBOT
            if hasattr(module, "drop_prob"):
                module.drop_prob = 0.0

    @torch.no_grad()
    def update_teacher(self) -> None:
        """One EMA step of the teacher towards the student (before the step's forward, as MMPretrain's MoCo v3).

        Raises:
            BadInputError: no ``max_iters`` in MMEngine's message hub (the runner sets it; outside a runner call
                ``MessageHub.get_current_instance().update_info('max_iters', N)`` first)."""
        if MessageHub.get_current_instance().get_info("max_iters") is None:
            raise BadInputError("the teacher's momentum schedule needs 'max_iters' in MMEngine's message hub "
                                "(set by the runner; outside one: update_info('max_iters', N))")
        self.teacher.update_parameters(self.student_parts())

    # ---- views -------------------------------------------------------------------------------------------------
    def teacher_view(self, images: torch.Tensor, index: int) -> ViewOutput:
        """The teacher on one unmasked global view: tokens, [CLS] and patch logits."""
        parts = self.teacher.module
        tokens = vit_tokens(parts["backbone"], images)
        patch_logits = parts["head"](tokens.patches) if self.loss_weights["patch"] else None
        return ViewOutput(tokens, parts["head"](tokens.cls), patch_logits, None, index)

    def student_view(self, images: torch.Tensor, mask: torch.Tensor | None, index: int) -> ViewOutput:
        """The student on one view (masked patch embeddings where ``mask``); patch logits for global views only."""
        tokens = vit_tokens(self.backbone, images, mask, self.mask_token if mask is not None else None)
        is_global = index < self.num_global_views
        patch_logits = self.head(tokens.patches) if is_global and self.loss_weights["patch"] else None
        return ViewOutput(tokens, self.head(tokens.cls), patch_logits, mask, index)

    def view_masks(self, data_samples, views: list[torch.Tensor]) -> list[torch.Tensor | None]:
        """Block masks of the global views (B x N bool) from the samples' ``view_masks``; None entries where a view
        has none. Raises BadInputError when a mask's size is not the view's patch grid."""
        masks: list[torch.Tensor | None] = []
        patch = self.backbone.patch_embed.projection.stride
        for q in range(self.num_global_views):
            per_image = [(ds.view_masks[q] if "view_masks" in ds else None) for ds in (data_samples or [])]
            if not per_image or any(m is None for m in per_image):
                masks.append(None)
                continue
            grid = (views[q].shape[-2] // patch[0], views[q].shape[-1] // patch[1])
            mask = torch.as_tensor(torch.stack([torch.as_tensor(m) for m in per_image]), device=views[q].device)
            if tuple(mask.shape[1:]) != grid:
                raise BadInputError(f"view {q}: block mask of {tuple(mask.shape[1:])} patches for a {grid} patch "
                                    "grid (IBOTBlockMask input_size must be the view size / patch size)")
            masks.append(mask.reshape(mask.shape[0], -1).bool())
        return masks

    # ---- losses ------------------------------------------------------------------------------------------------
    def temperature(self) -> float:
        """The teacher temperature of the current epoch."""
        return teacher_temperature(current_epoch(), **self.temperature_schedule)

    def teacher_targets(self, outputs: list[ViewOutput], key: str = "cls") -> list[torch.Tensor]:
        """Centred, sharpened teacher probabilities of each view's ``cls_logits`` (key 'cls') or ``patch_logits``
        (key 'patch')."""
        centering = self.center_cls if key == "cls" else self.center_patch
        temperature = self.temperature()
        return [centering.targets(getattr(o, f"{key}_logits"), temperature) for o in outputs]

    def distillation_losses(self, student: list[ViewOutput], teacher: list[ViewOutput]) -> dict:
        """iBOT's two terms, weighted (``loss_weights``) and scaled (``distill_scale``): ``loss_cls`` and, when the
        global views carry masks, ``loss_patch``."""
        cls_loss, _ = cross_view_loss([s.cls_logits for s in student], self.teacher_targets(teacher, "cls"),
                                      self.student_temperature)
        losses = {"loss_cls": cls_loss * self.loss_weights["cls"] * self.distill_scale}
        masked = [s for s in student[:self.num_global_views] if s.mask is not None and s.patch_logits is not None]
        if masked and len(masked) == len(teacher):
            patch_loss, _ = masked_patch_loss([s.patch_logits for s in masked], self.teacher_targets(teacher, "patch"),
                                              [s.mask for s in masked], self.student_temperature)
            losses["loss_patch"] = patch_loss * self.loss_weights["patch"] * self.distill_scale
        return losses

    def extra_losses(self, student: list[ViewOutput], teacher: list[ViewOutput], data_samples) -> dict:
        """Terms a subclass adds (none in iBOT)."""
        return {}

    @torch.no_grad()
    def update_centers(self, teacher: list[ViewOutput]) -> None:
        """EMA update of both centres from this step's teacher logits."""
        self.center_cls.update([t.cls_logits for t in teacher])
        if all(t.patch_logits is not None for t in teacher):
            self.center_patch.update([t.patch_logits for t in teacher])

    def loss(self, inputs: list[torch.Tensor], data_samples: list, **kwargs) -> dict:
        """One step's losses. ``inputs``: the views (each B x 3 x H x W; globals first), ``data_samples``: with
        ``view_masks`` (and ``view_boxes`` for SERE). Updates the teacher (before) and the centres (after)."""
        views = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        if len(views) < self.num_global_views:
            raise BadInputError(f"{len(views)} views for {self.num_global_views} global views (use MultiCropView)")
        masks = self.view_masks(data_samples, views)
        self.update_teacher()
        self.head.freeze_last = current_epoch() < self.freeze_last_layer_epochs
        with torch.no_grad():
            teacher = [self.teacher_view(views[q], q) for q in range(self.num_global_views)]
        student = [self.student_view(view, masks[v] if v < self.num_global_views else None, v)
                   for v, view in enumerate(views)]
        losses = self.distillation_losses(student, teacher)
        losses.update(self.extra_losses(student, teacher, data_samples))
        self.update_centers(teacher)
        return losses


@MODELS.register_module()
class DINO(IBOT):
    """DINO (Caron et al., ICCV 2021): iBOT without the patch term (``loss_weights['patch'] = 0``: no patch logits,
    masks ignored). Same arguments as ``IBOT``."""

    def __init__(self, *args, loss_weights: dict | None = None, **kwargs):
        super().__init__(*args, loss_weights={**(loss_weights or {}), "patch": 0.0}, **kwargs)

    def view_masks(self, data_samples, views):
        """No masks: DINO's student sees every view whole."""
        return [None] * self.num_global_views
