"""Batched unprocessing in torch (CPU or GPU): the same maths as ``aodraw.pretrain.unprocess``, one parameter draw
per image. Images are B x 3 x H x W RGB in [0, 1]; mosaics B x H x W (RGGB)."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from aodraw.pretrain.unprocess import EPS, GAMMA, HIGHLIGHT_START, UnprocessParams


def stack_params(params: Sequence[UnprocessParams], device=None) -> dict[str, torch.Tensor]:
    """The draws of a batch as tensors: ``ccm`` B x 3 x 3, ``gains`` B x 3, ``shot``/``read``/``black``/``white`` B."""
    def tensor(values):
        return torch.as_tensor(np.asarray(values, np.float32), device=device)

    return {"ccm": tensor([p.rgb_to_camera for p in params]), "gains": tensor([p.gains() for p in params]),
            "shot": tensor([p.shot for p in params]), "read": tensor([p.read for p in params]),
            "black": tensor([p.black_level for p in params]), "white": tensor([p.white_level for p in params])}


def unprocess_rgb_torch(srgb: torch.Tensor, p: dict[str, torch.Tensor]) -> torch.Tensor:
    """B x 3 x H x W sRGB -> clean linear camera RGB in [0, 1]."""
    y = srgb.clamp(0.0, 1.0)
    linear = (0.5 - torch.sin(torch.asin(1.0 - 2.0 * y) / 3.0)).clamp_min(EPS) ** GAMMA
    camera = torch.einsum("bij,bjhw->bihw", p["ccm"], linear)
    inverse = (1.0 / p["gains"])[:, :, None, None]
    fade = ((camera.mean(dim=1, keepdim=True) - HIGHLIGHT_START).clamp_min(0.0) / (1.0 - HIGHLIGHT_START)) ** 2
    return (camera * torch.maximum(fade + (1.0 - fade) * inverse, inverse)).clamp(0.0, 1.0)


def mosaic_torch(image: torch.Tensor) -> torch.Tensor:
    """RGGB samples of B x 3 x H x W as B x H x W."""
    out = image[:, 1].clone()
    out[:, 0::2, 0::2] = image[:, 0, 0::2, 0::2]
    out[:, 1::2, 1::2] = image[:, 2, 1::2, 1::2]
    return out


def unprocess_torch(srgb: torch.Tensor, p: dict[str, torch.Tensor], generator: torch.Generator | None = None,
                    normal: torch.Tensor | None = None) -> torch.Tensor:
    """Noisy raw values (B x H x W, int32, black level included, clipped to [0, white]) of a batch."""
    clean = mosaic_torch(unprocess_rgb_torch(srgb, p))
    if normal is None:
        normal = torch.randn(clean.shape, generator=generator, device=clean.device, dtype=clean.dtype)
    shot, read, black, white = (p[k][:, None, None] for k in ("shot", "read", "black", "white"))
    noisy = clean + torch.sqrt((shot * clean + read).clamp_min(0.0)) * normal
    raw = torch.round(noisy * (white - black) + black)
    return torch.minimum(raw.clamp_min(0.0), white).to(torch.int32)
