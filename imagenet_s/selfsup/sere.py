"""SERE: feature self-relation for self-supervised ViTs (Li et al., TPAMI 2023; official code MCG-NKU/SERE, on iBOT),
on the iBOT base.

Two relation losses on the last-layer patch tokens are added to iBOT's:

- spatial (pixel) self-relation: the C channels are split into the ViT's heads; per head the scaled dot products
  (scale head_dim^-1/2) of all token pairs give an N x N map whose rows are logits over tokens. Two views are aligned
  by resampling both axes of each map at a G x G grid of points of the crops' overlap (bilinear ``grid_sample``; G =
  13 for global-global pairs, 6 for local-global pairs). Teacher rows: softmax at temperature 0.5; student rows:
  log-softmax (no temperature); cross-entropy averaged over rows, heads and images whose crops overlap.
- channel self-relation: per image the C x C Gram matrix of the features divided by the grid side (so it is the mean
  of the channel products over positions); teacher rows softmax at temperature 0.1 vs student log-softmax.
Both: for each teacher global view q and student view v != q (locals compared with the teacher's globals), mean over
the pairs. The student's relation uses a projection (BatchNorm + ReLU on the tokens) followed by a predictor
(1x1 conv = linear, BatchNorm, ReLU); the teacher's uses its EMA copy of the projection only; local crops have their
own projection/predictor pair. Total: ``L_iBOT * (4 - alpha - beta) / 2 + alpha * L_spatial + beta * L_channel``
(published alpha = 0.2, beta = 0.5).

Our choices where the text leaves room (docs/selfsup.md): relation *logits* are resampled (before the softmax), a
pair is skipped for an image whose two crops do not overlap, the overlap comes from ``MultiCropView``'s
``view_boxes`` (flips included).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from mmpretrain.registry import MODELS
from torch import nn

from imagenet_s.selfsup.ibot import IBOT, ViewOutput
from imagenet_s.selfsup.losses import soft_cross_entropy
from plumbing.errors import BadInputError


class TokenBatchNorm(nn.BatchNorm1d):
    """BatchNorm over the channels of tokens (B x N x C), i.e. ``BatchNorm2d`` on the token grid."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalise ``x`` (B x N x C) per channel over batch and tokens."""
        return super().forward(x.reshape(-1, x.shape[-1])).reshape(x.shape)


class RelationHeads(nn.Module):
    """One projection (BN + ReLU) and one predictor (linear + BN + ReLU) on tokens of width ``channels``."""

    def __init__(self, channels: int):
        super().__init__()
        self.projection = nn.Sequential(TokenBatchNorm(channels), nn.ReLU())
        self.predictor = nn.Sequential(nn.Linear(channels, channels), TokenBatchNorm(channels), nn.ReLU())

    def forward(self, tokens: torch.Tensor, student: bool) -> torch.Tensor:
        """Projection (teacher) or projection then predictor (student) of ``tokens`` (B x N x C)."""
        x = self.projection(tokens)
        return self.predictor(x) if student else x


def spatial_relation(features: torch.Tensor, num_heads: int) -> torch.Tensor:
    """Per-head token-token relation logits: features B x N x C -> B x H x N x N, entry (i, j) =
    <f_i, f_j> / sqrt(C / H) over head h's channel slice. Raises BadInputError when H does not divide C."""
    batch, tokens, channels = features.shape
    if channels % num_heads:
        raise BadInputError(f"SERE: {channels} channels do not split into {num_heads} heads")
    heads = features.reshape(batch, tokens, num_heads, channels // num_heads).transpose(1, 2)
    return heads @ heads.transpose(-1, -2) * (channels // num_heads) ** -0.5


def channel_relation(features: torch.Tensor, side: int) -> torch.Tensor:
    """Channel relation logits: features B x N x C -> B x C x C Gram matrix of ``features / side`` over the tokens
    (side = the grid side, 14 for 224 px global views, 6 for 96 px local views)."""
    scaled = features / side
    return scaled.transpose(1, 2) @ scaled


def overlap_grids(box_a: torch.Tensor, box_b: torch.Tensor, size: int
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Sampling grids of the overlap of two crops: ``box_a``, ``box_b`` (B x 4, ``MultiCropView``'s view boxes:
    x_left, y_top, x_right, y_bottom as fractions of the source image, x_left > x_right for a flipped view).

    The overlap is split into ``size`` x ``size`` cells; their centres are expressed in each view's ``grid_sample``
    coordinates (align_corners=False: -1/1 are the view's outer edges). Returns (grid_a, grid_b, valid): grids
    B x size x size x 2 (x, y), ``valid`` (B bool) False where the crops do not overlap."""
    def extent(box):
        return torch.minimum(box[:, 0], box[:, 2]), box[:, 1], torch.maximum(box[:, 0], box[:, 2]), box[:, 3]

    ax0, ay0, ax1, ay1 = extent(box_a)
    bx0, by0, bx1, by1 = extent(box_b)
    x0, y0 = torch.maximum(ax0, bx0), torch.maximum(ay0, by0)
    x1, y1 = torch.minimum(ax1, bx1), torch.minimum(ay1, by1)
    valid = (x1 > x0) & (y1 > y0)
    steps = (torch.arange(size, dtype=box_a.dtype, device=box_a.device) + 0.5) / size
    xs = x0[:, None] + steps[None] * (x1 - x0)[:, None]  # B x size, image fractions
    ys = y0[:, None] + steps[None] * (y1 - y0)[:, None]

    def to_view(box):
        u = (xs - box[:, 0:1]) / (box[:, 2:3] - box[:, 0:1])  # signed width: flips come out right
        v = (ys - box[:, 1:2]) / (box[:, 3:4] - box[:, 1:2])
        gx, gy = 2 * u - 1, 2 * v - 1
        return torch.stack(torch.broadcast_tensors(gx[:, None, :], gy[:, :, None]), dim=-1)

    return to_view(box_a), to_view(box_b), valid


def align_relation(relation: torch.Tensor, grid: tuple[int, int], sample_grid: torch.Tensor) -> torch.Tensor:
    """Resample both token axes of relation maps (B x H x N x N over an h x w grid, N = h w) at ``sample_grid``
    (B x G x G x 2 from ``overlap_grids``), bilinearly: -> B x H x G^2 x G^2."""
    batch, heads, tokens, _ = relation.shape
    h, w = grid
    size = sample_grid.shape[1]
    cols = F.grid_sample(relation.reshape(batch, heads * tokens, h, w), sample_grid, mode="bilinear",
                         align_corners=False)  # B x (H N) x G x G: columns resampled
    cols = cols.reshape(batch, heads, tokens, size * size).transpose(2, 3).reshape(batch, heads * size * size, h, w)
    rows = F.grid_sample(cols, sample_grid, mode="bilinear", align_corners=False)
    return rows.reshape(batch, heads, size * size, size * size).transpose(2, 3)


def relation_loss(teacher_logits: torch.Tensor, student_logits: torch.Tensor, temperature: float,
                  valid: torch.Tensor | None = None) -> torch.Tensor:
    """Row-wise cross-entropy between ``softmax(teacher / temperature)`` and ``log_softmax(student)`` (same shape,
    B x ... x R), averaged over rows (and heads) per image, then over the ``valid`` images (B bool; all if None;
    0 when none is valid)."""
    targets = F.softmax(teacher_logits / temperature, dim=-1)
    per_image = soft_cross_entropy(targets, student_logits).reshape(teacher_logits.shape[0], -1).mean(1)
    if valid is None:
        return per_image.mean()
    weights = valid.to(per_image.dtype)
    return (per_image * weights).sum() / weights.sum().clamp(min=1.0)


@MODELS.register_module()
class SERE(IBOT):
    """iBOT plus SERE's spatial and channel self-relation losses (see the module docstring).

    Args (besides ``IBOT``'s):
        alpha, beta: weights of the spatial and channel terms (0.2, 0.5); iBOT's terms get (4 - alpha - beta) / 2.
        spatial_temperature, channel_temperature: teacher temperatures (0.5, 0.1).
        spatial_grid: G for global-global and local-global pairs ((13, 6)).
    Needs ``view_boxes`` in the data samples (``MultiCropView`` with ``RandomResizedCropWithBox``).
    """

    teacher_parts = ("backbone", "head", "relation_heads")

    def __init__(self, *args, alpha: float = 0.2, beta: float = 0.5, spatial_temperature: float = 0.5,
                 channel_temperature: float = 0.1, spatial_grid: tuple[int, int] = (13, 6), **kwargs):
        super().__init__(*args, **kwargs)
        channels = self.backbone.embed_dims
        self.relation_heads = nn.ModuleDict({f"{kind}_{crop}": RelationHeads(channels)
                                             for kind in ("spatial", "channel") for crop in ("global", "local")})
        self.alpha, self.beta = alpha, beta
        self.spatial_temperature, self.channel_temperature = spatial_temperature, channel_temperature
        self.spatial_grid = tuple(spatial_grid)
        self.distill_scale = (4 - alpha - beta) / 2
        self.build_teacher()

    def relation_features(self, output: ViewOutput, kind: str, student: bool) -> torch.Tensor:
        """The tokens SERE relates: student -> its heads' predictor output, teacher -> its projection output."""
        crop = "global" if output.index < self.num_global_views else "local"
        heads = (self.relation_heads if student else self.teacher.module["relation_heads"])[f"{kind}_{crop}"]
        return heads(output.tokens.patches, student)

    def extra_losses(self, student: list[ViewOutput], teacher: list[ViewOutput], data_samples) -> dict:
        """``loss_spatial`` (times alpha) and ``loss_channel`` (times beta)."""
        boxes = self.view_boxes(data_samples, len(student), student[0].tokens.cls.device)
        num_heads = self.backbone.layers[0].attn.num_heads
        spatial, channel, pairs = student[0].cls_logits.new_zeros(()), student[0].cls_logits.new_zeros(()), 0
        s_spatial = [spatial_relation(self.relation_features(s, "spatial", True), num_heads) for s in student]
        s_channel = [channel_relation(self.relation_features(s, "channel", True), s.tokens.grid[0]) for s in student]
        for t in teacher:
            with torch.no_grad():
                t_spatial = spatial_relation(self.relation_features(t, "spatial", False), num_heads)
                t_channel = channel_relation(self.relation_features(t, "channel", False), t.tokens.grid[0])
            for v, s in enumerate(student):
                if s.index == t.index:
                    continue
                size = self.spatial_grid[0 if s.index < self.num_global_views else 1]
                grid_t, grid_s, valid = overlap_grids(boxes[t.index], boxes[s.index], size)
                spatial = spatial + relation_loss(align_relation(t_spatial, t.tokens.grid, grid_t),
                                                  align_relation(s_spatial[v], s.tokens.grid, grid_s),
                                                  self.spatial_temperature, valid)
                channel = channel + relation_loss(t_channel, s_channel[v], self.channel_temperature)
                pairs += 1
        pairs = max(pairs, 1)
        return {"loss_spatial": self.alpha * spatial / pairs, "loss_channel": self.beta * channel / pairs}

    @staticmethod
    def view_boxes(data_samples, num_views: int, device) -> list[torch.Tensor]:
        """Per view a B x 4 tensor of crop boxes from the samples' ``view_boxes``. Raises BadInputError when they
        are missing."""
        try:
            return [torch.as_tensor([list(map(float, ds.view_boxes[v])) for ds in data_samples], device=device)
                    for v in range(num_views)]
        except (AttributeError, TypeError, IndexError, KeyError):
            raise BadInputError("SERE needs the crop boxes of every view ('view_boxes': MultiCropView with "
                                "RandomResizedCropWithBox, packed with PackInputs(algorithm_keys=['view_boxes', "
                                "'view_masks']))") from None
