"""MTE: multi-token enhancing, a generic training-time part and its use on the iBOT/DINO base and MoCo v3.

Source: the MTE abstract (``seeds.md``) fixes the idea: auxiliary [CLS] tokens and adaptively pooled tokens are
extracted from one model during pre-training, each trained with the base self-supervised loss, and their knowledge is
distilled into the global token so that they are dropped at inference. The rest is our design (docs/selfsup.md):

* ``MultiTokenEnhancer`` holds every auxiliary parameter: M learnable auxiliary [CLS] tokens, inserted after the
  base [CLS] and attending in every block (the iBOT base's token-level ``vit_tokens``), and P adaptively pooled
  tokens, each a softmax-weighted average of the last-layer patch tokens with weights from its own linear scorer
  (for a CNN: of the feature map's pixels; a CNN gets pooled tokens only). It combines per-token losses
  (``MultiTokenEnhancer.losses``): the base loss of every auxiliary token (mean over them, weight ``aux_weight``)
  and the distillation of the (detached) mean of the auxiliary tokens' output distributions into the global token
  (cross-entropy, weight ``distill_weight``). A base method only has to say what the per-token logits and the
  per-token loss are.
* ``MTEIBOT`` / ``MTEDINO``: the iBOT/DINO base of ``imagenet_s.selfsup.ibot`` with it: each auxiliary token goes
  through the shared projection head and learns the teacher's global [CLS] targets of the other views with the
  base's [CLS] term; the teacher (EMA of backbone and head) is the base's, unchanged.
* ``MTEMoCoV3``: MoCo v3 with it. Each token goes through the projection neck (its own batch statistics) and the
  predictor and is contrasted with the momentum encoder's global token of the other view (MoCo v3's loss); the
  momentum encoder is MoCo v3's, unchanged.

The auxiliary parts live outside ``backbone`` (``mte.*``), so the student backbone (``backbone.*``) and the momentum
encoder (``momentum_encoder.module.0.*``) have exactly the base structure; an export drops them by construction.
Importing this module registers ``MultiTokenEnhancer``, ``MTEIBOT``, ``MTEDINO`` and ``MTEMoCoV3`` into MMPretrain's
``MODELS``.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from mmengine.dist import all_gather, get_rank
from mmengine.model import BaseModule
from mmpretrain.models.selfsup.mocov3 import MoCoV3
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch import nn

from imagenet_s.selfsup.ibot import DINO, IBOT, ViewOutput
from imagenet_s.selfsup.losses import cross_view_loss
from imagenet_s.selfsup.vit import vit_tokens
from plumbing.errors import BadInputError


@MODELS.register_module()
class MultiTokenEnhancer(BaseModule):
    """The auxiliary tokens of MTE and the loss that combines them (see the module docstring).

    Args:
        embed_dims: token width C of the backbone.
        num_aux_cls: M, auxiliary [CLS] tokens (0 for a CNN).
        num_pooled: P, adaptively pooled tokens.
        aux_weight: weight of the mean base loss over the auxiliary tokens.
        distill_weight: lambda, weight of the distillation into the global token.
    With no auxiliary token at all (both counts 0) the algorithms using it compute exactly their base method (the
    control run of a recipe: ``--cfg-options model.mte.num_aux_cls=0 model.mte.num_pooled=0``).
    Raises BadInputError for negative counts.
    """

    def __init__(self, embed_dims: int, num_aux_cls: int = 3, num_pooled: int = 2, aux_weight: float = 1.0,
                 distill_weight: float = 1.0, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if num_aux_cls < 0 or num_pooled < 0:
            raise BadInputError(f"MTE token counts must be >= 0: num_aux_cls {num_aux_cls}, num_pooled {num_pooled}")
        self.aux_cls = nn.Parameter(torch.zeros(1, num_aux_cls, embed_dims)) if num_aux_cls else None
        self.scorer = nn.Linear(embed_dims, num_pooled) if num_pooled else None
        self.aux_weight = aux_weight
        self.distill_weight = distill_weight
        if self.aux_cls is not None:
            nn.init.trunc_normal_(self.aux_cls, std=0.02)

    @property
    def num_tokens(self) -> int:
        """M + P, the auxiliary tokens per image."""
        return (0 if self.aux_cls is None else self.aux_cls.shape[1]) + (0 if self.scorer is None else
                                                                            self.scorer.out_features)

    def pool(self, patches: torch.Tensor) -> torch.Tensor:
        """Adaptively pooled tokens (B, P, C) of patch tokens (B, N, C) or a feature map (B, C, H, W): per pooled
        token a softmax over the N positions of its scorer's logits weights the average."""
        if self.scorer is None:
            return patches.new_zeros(patches.shape[0], 0, patches.shape[-1] if patches.dim() == 3 else
                                     patches.shape[1])
        if patches.dim() == 4:
            patches = patches.flatten(2).transpose(1, 2)
        weights = self.scorer(patches).softmax(dim=1)  # (B, N, P)
        return torch.einsum("bnp,bnc->bpc", weights, patches)

    def tokens(self, backbone: nn.Module, images: torch.Tensor, mask: torch.Tensor | None = None,
               mask_token: torch.Tensor | None = None):
        """The last-layer tokens (``imagenet_s.selfsup.vit.ViTTokens``) of a ViT backbone on ``images`` with the
        auxiliary [CLS] tokens inserted after [CLS], and the auxiliary tokens (B, M + P, C): the auxiliary [CLS]
        outputs, then the pooled tokens. ``mask``/``mask_token``: iBOT's masked patch embeddings.
        Raises BadInputError for a backbone without [CLS] token."""
        if getattr(backbone, "cls_token", None) is None:
            raise BadInputError(f"{type(backbone).__name__}: MTE's auxiliary [CLS] tokens need a ViT with [CLS]")
        tokens = vit_tokens(backbone, images, mask, mask_token, self.aux_cls)
        return tokens, torch.cat([tokens.extra, self.pool(tokens.patches)], dim=1)

    def losses(self, global_logits: Sequence[torch.Tensor], aux_logits: Sequence[Sequence[torch.Tensor]],
               base_loss: Callable[[list[torch.Tensor]], torch.Tensor], temperature: float = 1.0
               ) -> dict[str, torch.Tensor]:
        """``{'loss_aux', 'loss_distill'}`` from per-token, per-view logits and the base method's loss.

        Args:
            global_logits: per view, the global token's logits (B, K): the distribution the base loss scores is
                softmax(logits / temperature) over K.
            aux_logits: per auxiliary token, its logits per view (same shapes as ``global_logits``).
            base_loss: the base method's loss of one token's per-view logits (the same function that scores the
                global token, e.g. a cross-view loss against the teacher's global token).
            temperature: the student temperature of the base method (1 where the logits are already divided).
        Returns: loss_aux = aux_weight * mean over auxiliary tokens of base_loss; loss_distill = distill_weight *
            mean over views and rows of the cross-entropy between the mean of the auxiliary tokens' softmax
            distributions (no gradient) and the global token's log-softmax."""
        if not aux_logits:  # MTE switched off: the base method alone
            zero = global_logits[0].new_zeros(())
            return dict(loss_aux=zero, loss_distill=zero)
        loss_aux = torch.stack([base_loss(list(per_view)) for per_view in aux_logits]).mean()
        distill = []
        for view, logits in enumerate(global_logits):
            with torch.no_grad():
                target = torch.stack([(token[view].float() / temperature).softmax(-1) for token in aux_logits]).mean(0)
            distill.append(-(target * (logits.float() / temperature).log_softmax(-1)).sum(-1).mean())
        return dict(loss_aux=self.aux_weight * loss_aux, loss_distill=self.distill_weight * torch.stack(distill).mean())


def mocov3_logits(head: nn.Module, base_out: torch.Tensor, momentum_out: torch.Tensor
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """(logits (N, N * world), labels (N,)) of MMPretrain's ``MoCoV3Head`` for query features (N, D) against the
    momentum features (N, D): predictor, L2 normalisation, keys gathered across ranks, dot products / temperature;
    ``head.loss_module(logits, labels)`` is ``head.loss(base_out, momentum_out)``."""
    pred = nn.functional.normalize(head.predictor([base_out])[0], dim=1)
    target = torch.cat(all_gather(nn.functional.normalize(momentum_out, dim=1)), dim=0)
    logits = torch.einsum("nc,mc->nm", pred, target) / head.temperature
    labels = torch.arange(logits.shape[0], dtype=torch.long, device=logits.device) + logits.shape[0] * get_rank()
    return logits, labels


@MODELS.register_module()
class MTEMoCoV3(MoCoV3):
    """MoCo v3 (MMPretrain's) with multi-token enhancing. Arguments are ``MoCoV3``'s plus ``mte``: the
    ``MultiTokenEnhancer`` settings other than ``embed_dims`` (the backbone's width). The backbone is a ViT with a
    [CLS] token (``MoCoV3ViT``) or a CNN (MoCo v3's ResNet recipe: the neck average-pools the last feature map); a CNN
    gets pooled tokens only (``num_aux_cls=0``), pooled over the last feature map's pixels.
    Raises BadInputError for auxiliary [CLS] tokens on a backbone without [CLS] token."""

    def __init__(self, backbone: dict, neck: dict, head: dict, mte: dict | None = None, **kwargs):
        super().__init__(backbone=backbone, neck=neck, head=head, **kwargs)
        self.is_vit = getattr(self.backbone, "cls_token", None) is not None
        settings = dict(mte or {})
        if not self.is_vit and settings.setdefault("num_aux_cls", 0):
            raise BadInputError(f"{type(self.backbone).__name__} has no [CLS] token: MTE on a CNN takes pooled "
                                "tokens only (num_aux_cls=0)")
        self.mte = MultiTokenEnhancer(getattr(self.backbone, "embed_dims", None) or self.neck.fc0.in_features,
                                      **settings)

    def token_queries(self, view: torch.Tensor) -> list[torch.Tensor]:
        """Projected queries (each (B, D)) of one view: the global token first, then each auxiliary token, each
        through the neck on its own (so BatchNorm statistics stay per token type)."""
        if self.is_vit:
            tokens, aux = self.mte.tokens(self.backbone, view)
            return [self.neck([tokens.cls])[0]] + [self.neck([aux[:, i]])[0] for i in range(aux.shape[1])]
        features = self.backbone(view)
        aux = self.mte.pool(features[-1])  # (B, P, C): 1 x 1 maps for the neck's average pooling
        return [self.neck(features)[0]] + [self.neck([aux[:, i, :, None, None]])[0] for i in range(aux.shape[1])]

    def loss(self, inputs: list[torch.Tensor], data_samples: list[DataSample], **kwargs) -> dict[str, torch.Tensor]:
        """``{'loss', 'loss_aux', 'loss_distill'}`` of two views (each (B, 3, H, W)): ``loss`` is MoCo v3's
        symmetric loss of the global token, the others as in ``MultiTokenEnhancer.losses``, summed over the two
        directions."""
        queries = [self.token_queries(view) for view in inputs[:2]]
        with torch.no_grad():
            self.momentum_encoder.update_parameters(nn.Sequential(self.backbone, self.neck))
            keys = [self.momentum_encoder(view)[0] for view in inputs[:2]]
        # per direction (view 1 -> key 2, view 2 -> key 1), per token: MoCo v3's logits; the labels are the same
        logits = [[mocov3_logits(self.head, token, k) for token in q] for q, k in ((queries[0], keys[1]),
                                                                                    (queries[1], keys[0]))]
        labels = logits[0][0][1]

        def base_loss(per_direction: list[torch.Tensor]) -> torch.Tensor:
            return sum(self.head.loss_module(lg, labels) for lg in per_direction)

        losses = dict(loss=base_loss([direction[0][0] for direction in logits]))
        aux = [[direction[t][0] for direction in logits] for t in range(1, len(logits[0]))]
        losses.update(self.mte.losses([direction[0][0] for direction in logits], aux, base_loss))
        return losses


@MODELS.register_module()
class MTEIBOT(IBOT):
    """iBOT (the base in ``imagenet_s.selfsup.ibot``) with multi-token enhancing. Arguments are ``IBOT``'s plus
    ``mte`` (``MultiTokenEnhancer`` settings other than ``embed_dims``).

    Each auxiliary token of each student view goes through the shared projection head and learns the teacher's
    global [CLS] targets across views with iBOT's [CLS] term (same weight); the distillation runs per view at the
    student temperature. The teacher is iBOT's (backbone and head only), so teacher and student backbones export as
    for iBOT."""

    def __init__(self, *args, mte: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.mte = MultiTokenEnhancer(self.backbone.embed_dims, **(mte or {}))

    def student_view(self, images: torch.Tensor, mask: torch.Tensor | None, index: int) -> ViewOutput:
        """iBOT's student view, with the auxiliary tokens in the forward and their logits (B, M + P, K) in
        ``extras['aux_logits']``."""
        tokens, aux = self.mte.tokens(self.backbone, images, mask, self.mask_token if mask is not None else None)
        is_global = index < self.num_global_views
        patch_logits = self.head(tokens.patches) if is_global and self.loss_weights["patch"] else None
        return ViewOutput(tokens, self.head(tokens.cls), patch_logits, mask, index,
                          extras={"aux_logits": self.head(aux)})

    def extra_losses(self, student: list[ViewOutput], teacher: list[ViewOutput], data_samples) -> dict:
        """``loss_aux`` and ``loss_distill`` (``MultiTokenEnhancer.losses``) with iBOT's weighted [CLS] term as the
        base loss of each auxiliary token."""
        targets = self.teacher_targets(teacher, "cls")
        weight = self.loss_weights["cls"] * self.distill_scale

        def base_loss(per_view: list[torch.Tensor]) -> torch.Tensor:
            return cross_view_loss(per_view, targets, self.student_temperature)[0] * weight

        count = student[0].extras["aux_logits"].shape[1]
        aux = [[s.extras["aux_logits"][:, t] for s in student] for t in range(count)]
        return self.mte.losses([s.cls_logits for s in student], aux, base_loss, self.student_temperature)


@MODELS.register_module()
class MTEDINO(MTEIBOT):
    """DINO with multi-token enhancing: ``MTEIBOT`` without the patch term and without masks (as ``DINO`` is
    ``IBOT``'s). Same arguments as ``MTEIBOT``."""

    view_masks = DINO.view_masks

    def __init__(self, *args, loss_weights: dict | None = None, **kwargs):
        super().__init__(*args, loss_weights={**(loss_weights or {}), "patch": 0.0}, **kwargs)
