"""Self-distillation losses of DINO/iBOT as plain functions (the loss entry points subclasses reuse), and the
teacher centring with its temperature schedule.

Reproduces ``iBOTLoss`` of iBOT (Zhou et al., ICLR 2022, ``main_ibot.py``) and ``DINOLoss`` of DINO:

- [CLS]: for every teacher (global) view q and student view v != q, ``sum_k -P_t[q] log softmax(s[v] / tau_s)``,
  averaged over the batch, then over the (q, v) pairs.
- patches: for the same view q, the cross-entropy per patch, summed over the masked patches of each image and divided
  by their count (at least 1, so an unmasked image contributes 0 and still counts in the batch mean), averaged over
  the batch and over the global views.
- teacher targets: ``softmax((t - c) / tau_t)`` with the EMA centre c (momentum 0.9, updated from the batch mean of
  the teacher logits after they are used), tau_t linearly warmed up per epoch (``teacher_temperature``).
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def teacher_temperature(epoch: int, temperature: float = 0.07, warmup_temperature: float = 0.04,
                        warmup_epochs: int = 30) -> float:
    """iBOT/DINO's teacher temperature at ``epoch`` (0-based): ``np.linspace(warmup_temperature, temperature,
    warmup_epochs)[epoch]`` during the warm-up, ``temperature`` after it."""
    if epoch < warmup_epochs:
        return float(np.linspace(warmup_temperature, temperature, warmup_epochs)[epoch])
    return float(temperature)


class Centering(nn.Module):
    """The teacher's EMA centre for logits of width K (a buffer, so checkpoints and resume keep it).

    ``targets(logits, temperature)`` -> ``softmax((logits - centre) / temperature)``;
    ``update(logits)``: ``centre = m * centre + (1 - m) * mean(logits)`` over every axis but the last (all processes
    when distributed), as iBOT's ``update_center`` (patch logits: mean over the batch of the per-image token mean, the
    same number here because every image has the same token count)."""

    def __init__(self, channels: int, momentum: float = 0.9):
        super().__init__()
        self.momentum = momentum
        self.register_buffer("center", torch.zeros(1, channels))

    def targets(self, logits: torch.Tensor, temperature: float) -> torch.Tensor:
        """Teacher probabilities (same shape as ``logits``)."""
        return F.softmax((logits - self.center) / temperature, dim=-1)

    @torch.no_grad()
    def update(self, logits: torch.Tensor | list[torch.Tensor]) -> None:
        """EMA update from a batch of logits (... x K), or a list of them (e.g. one per view)."""
        flat = torch.cat([x.reshape(-1, x.shape[-1]) for x in (logits if isinstance(logits, list) else [logits])])
        total, count = flat.float().sum(0, keepdim=True), torch.tensor(float(flat.shape[0]), device=flat.device)
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            torch.distributed.all_reduce(total)
            torch.distributed.all_reduce(count)
        self.center.mul_(self.momentum).add_(total / count, alpha=1 - self.momentum)


def soft_cross_entropy(targets: torch.Tensor, student_logits: torch.Tensor, student_temperature: float = 1.0
                       ) -> torch.Tensor:
    """``sum_k -targets_k * log_softmax(student_logits / T)_k`` over the last axis (shape: the leading axes)."""
    return torch.sum(-targets * F.log_softmax(student_logits / student_temperature, dim=-1), dim=-1)


def cross_view_loss(student_logits: list[torch.Tensor], teacher_targets: list[torch.Tensor],
                    student_temperature: float = 0.1) -> tuple[torch.Tensor, int]:
    """DINO/iBOT [CLS] term: mean over pairs (q, v), q < len(teacher_targets), v != q, of the batch-mean soft
    cross-entropy between ``teacher_targets[q]`` (B x K probabilities) and ``student_logits[v]`` (B x K).
    View q of the teacher and view q of the student are the same crop (globals first). Returns (loss, number of
    pairs); (0, 0) when there is no pair."""
    total, pairs = student_logits[0].new_zeros(()), 0
    for q, target in enumerate(teacher_targets):
        for v, logits in enumerate(student_logits):
            if v == q:
                continue
            total = total + soft_cross_entropy(target, logits, student_temperature).mean()
            pairs += 1
    return (total / pairs if pairs else total), pairs


def masked_patch_loss(student_logits: list[torch.Tensor], teacher_targets: list[torch.Tensor],
                      masks: list[torch.Tensor], student_temperature: float = 0.1) -> tuple[torch.Tensor, int]:
    """iBOT's patch term: per global view q, the soft cross-entropy between ``teacher_targets[q]`` (B x N x K, the
    teacher saw the view unmasked) and ``student_logits[q]`` (B x N x K, the student saw it masked), summed over the
    masked patches of each image (``masks[q]``, B x N or B x h x w bool) and divided by max(count, 1); mean over the
    batch, then over the views. Returns (loss, number of views)."""
    total = student_logits[0].new_zeros(())
    for logits, target, mask in zip(student_logits, teacher_targets, masks):
        mask = mask.reshape(mask.shape[0], -1).to(logits.dtype)
        per_patch = soft_cross_entropy(target, logits, student_temperature)
        total = total + (torch.sum(per_patch * mask, dim=-1) / mask.sum(-1).clamp(min=1.0)).mean()
    return total / max(len(masks), 1), len(masks)
