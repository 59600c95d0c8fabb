"""The distillation objective: cross-entropy on the labels + KL divergence to the teacher's softened logits +
feature distillation on chosen backbone stages (normalised MSE or cosine, per spatial position)."""
from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from plumbing.errors import UnknownNameError


def feature_distance(student: torch.Tensor, teacher: torch.Tensor, kind: str = "mse") -> torch.Tensor:
    """Distance of two N x C x H x W maps, each position's channel vector normalised first: ``mse`` standardises
    it (zero mean, unit variance, as a LayerNorm without affine) then averages squared errors; ``cosine`` averages
    1 - cosine similarity."""
    if kind == "mse":
        return F.mse_loss(F.layer_norm(student.movedim(1, -1), student.shape[1:2]),
                          F.layer_norm(teacher.movedim(1, -1), teacher.shape[1:2]))
    if kind == "cosine":
        return (1 - F.cosine_similarity(student, teacher, dim=1)).mean()
    raise UnknownNameError(f"feature distance {kind!r} is not 'mse' or 'cosine'")


def distillation_loss(student: tuple[Sequence[torch.Tensor], torch.Tensor],
                      teacher: tuple[Sequence[torch.Tensor], torch.Tensor], labels: torch.Tensor,
                      ce: float = 1.0, kl: float = 1.0, temperature: float = 2.0, feature: float = 1.0,
                      feature_type: str = "mse", feature_stages: Sequence[int] = (-1,)) -> dict[str, torch.Tensor]:
    """{'loss': weighted sum, 'ce', 'kl', 'feature'} in float32. ``student``/``teacher``: (backbone outputs,
    logits). KL is scaled by temperature^2 so its gradients keep their size across temperatures."""
    (s_feats, s_logits), (t_feats, t_logits) = student, teacher
    s_logits, t_logits = s_logits.float(), t_logits.float()
    parts = {"ce": F.cross_entropy(s_logits, labels)}
    parts["kl"] = F.kl_div(F.log_softmax(s_logits / temperature, 1), F.log_softmax(t_logits / temperature, 1),
                           log_target=True, reduction="batchmean") * temperature ** 2
    distances = [feature_distance(s_feats[i].float(), t_feats[i].float(), feature_type) for i in feature_stages]
    parts["feature"] = torch.stack(distances).mean() if distances else s_logits.new_zeros(())
    parts["loss"] = ce * parts["ce"] + kl * parts["kl"] + feature * parts["feature"]
    return parts
