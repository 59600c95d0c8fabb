"""PR-MIM: progressive reconstruction for partial-reconstruction masked image modelling, on MMPretrain's MAE.

Source: the PR-MIM abstract (``seeds.md``) fixes the idea (the decoder reconstructs only part of the masked tokens;
the thrown ones are recovered "in an extremely lightweight way" by progressive reconstruction, chosen by furthest
sampling, and every masked token stays in the supervision); everything else is our design (docs/selfsup.md):

* ``PRMIMDecoder`` (MMPretrain neck): MAE's decoder (same weights and names as ``MAEPretrainDecoder``) that runs its
  transformer blocks on [CLS] + visible + *kept* masked tokens only. ``throw_ratio`` of the masked tokens are thrown;
  the kept ones are chosen by ``sampling='furthest'`` (farthest-point sampling on the patch grid) or ``'random'``.
  With ``progressive=None`` it is plain partial reconstruction (thrown tokens leave the loss); with a
  ``progressive`` dict a ``ProgressiveReconstructor`` recovers them and all masked tokens enter the loss.
* ``ProgressiveReconstructor``: the thrown tokens, nearest to the decoded set first, in ``num_stages`` groups; each
  token is a mask token plus its decoder position embedding that cross-attends to its ``num_neighbours`` nearest
  already-decoded tokens (visible, kept and earlier stages) in one shared light layer (one cross-attention and a
  small MLP); its outputs join the decoded set for the next stage.
* ``PRMIM`` (MMPretrain algorithm): MAE with that decoder; the head is MAE's (normalised-pixel MSE) with the loss
  mask the decoder returns.

Importing this module registers the three into MMPretrain's ``MODELS`` registry (``custom_imports``).
"""
from __future__ import annotations

import torch
from mmengine.model import BaseModule
from mmpretrain.models.necks.mae_neck import MAEPretrainDecoder
from mmpretrain.models.selfsup.mae import MAE
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch import nn

from imagenet_s.selfsup.sampling import complement, furthest_sampling, grid_distances, random_sampling, stage_order
from plumbing.errors import BadInputError

SAMPLINGS = ("furthest", "random")


def _gather_tokens(tokens: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """Rows ``index`` (B, ...) of ``tokens`` (B, L, C) -> (B, ..., C). Through ``index_select`` on the flattened
    batch: unlike ``gather``, its backward keeps only the index, not a copy of ``tokens``."""
    batch, length, dims = tokens.shape
    offsets = torch.arange(batch, device=index.device).view(-1, *([1] * (index.dim() - 1))) * length
    rows = tokens.reshape(batch * length, dims).index_select(0, (index + offsets).reshape(-1))
    return rows.view(*index.shape, dims)


def _scatter_tokens(tokens: torch.Tensor, index: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """``tokens`` (B, L, C) with rows ``index`` (B, n) replaced by ``values`` (B, n, C), out of place (autograd)."""
    return tokens.scatter(1, index.unsqueeze(-1).expand(-1, -1, tokens.shape[-1]), values)


class NeighbourAttention(BaseModule):
    """The light step of progressive reconstruction: queries (B, n, C) attend to their own k neighbours' keys and
    values (B, n, k, C) (multi-head, pre-norm), then a residual MLP of ``mlp_ratio * C`` hidden units and a final
    LayerNorm, so the outputs live where the decoder's normalised outputs live. Keys and values are projected
    once per token (``project``), not once per query that reads them."""

    def __init__(self, embed_dims: int, num_heads: int = 8, mlp_ratio: float = 1.0):
        super().__init__()
        if embed_dims % num_heads:
            raise BadInputError(f"embed_dims {embed_dims} is not divisible by num_heads {num_heads}")
        self.num_heads = num_heads
        self.norm_query = nn.LayerNorm(embed_dims, eps=1e-6)
        self.norm_memory = nn.LayerNorm(embed_dims, eps=1e-6)
        self.query = nn.Linear(embed_dims, embed_dims)
        self.key_value = nn.Linear(embed_dims, 2 * embed_dims)
        self.out = nn.Linear(embed_dims, embed_dims)
        hidden = max(1, int(mlp_ratio * embed_dims))
        self.norm_mlp = nn.LayerNorm(embed_dims, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(embed_dims, hidden), nn.GELU(), nn.Linear(hidden, embed_dims))
        self.norm_out = nn.LayerNorm(embed_dims, eps=1e-6)

    def project(self, memory: torch.Tensor) -> torch.Tensor:
        """Keys and values (..., 2C) of decoded tokens (..., C)."""
        return self.key_value(self.norm_memory(memory))

    def forward(self, queries: torch.Tensor, key_value: torch.Tensor) -> torch.Tensor:
        """Outputs (B, n, C) of queries (B, n, C) reading their neighbours' projected keys/values (B, n, k, 2C)."""
        batch, count, dims = queries.shape
        heads, head_dims = self.num_heads, dims // self.num_heads
        q = self.query(self.norm_query(queries)).view(batch, count, heads, head_dims)
        k, v = key_value.view(batch, count, -1, 2, heads, head_dims).unbind(3)
        weights = (torch.einsum("bnhd,bnkhd->bnhk", q, k) * head_dims ** -0.5).softmax(-1)
        x = queries + self.out(torch.einsum("bnhk,bnkhd->bnhd", weights, v).reshape(batch, count, dims))
        x = x + self.mlp(self.norm_mlp(x))
        return self.norm_out(x)


@MODELS.register_module()
class ProgressiveReconstructor(BaseModule):
    """Recovers thrown tokens from decoded neighbours, in stages (see the module docstring).

    Args:
        embed_dims: the decoder's width C.
        num_stages: groups of thrown tokens, nearest to the decoded set first (1: all at once).
        num_neighbours: k, the decoded tokens each thrown token reads (fewer when fewer are decoded).
        num_heads, mlp_ratio: of the light layer (``NeighbourAttention``), shared by all stages.
    """

    def __init__(self, embed_dims: int, num_stages: int = 2, num_neighbours: int = 8, num_heads: int = 8,
                 mlp_ratio: float = 1.0, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if num_stages < 1 or num_neighbours < 1:
            raise BadInputError(f"num_stages ({num_stages}) and num_neighbours ({num_neighbours}) must be >= 1")
        self.num_stages = num_stages
        self.num_neighbours = num_neighbours
        self.layer = NeighbourAttention(embed_dims, num_heads, mlp_ratio)

    def forward(self, tokens: torch.Tensor, decoded: torch.Tensor, thrown: torch.Tensor, queries: torch.Tensor,
                grid: tuple[int, int]) -> torch.Tensor:
        """Fill the thrown rows of ``tokens``.

        Args:
            tokens: (B, L, C) decoded outputs at the decoded positions (anything elsewhere).
            decoded: (B, L) bool, the decoded positions (visible and kept).
            thrown: (B, T) long positions to recover; ``queries`` (B, L, C): the query of every position
                (mask token + decoder position embedding).
            grid: the patch grid (H, W), H * W = L.
        Returns: (B, L, C) tokens with the thrown rows filled."""
        dist = grid_distances(grid, tokens.device)
        # ties among equally near neighbours go to the smaller index: deterministic neighbour sets
        dist = dist + torch.arange(dist.shape[0], device=dist.device) / (4.0 * dist.shape[0])
        memory = self.layer.project(tokens)
        for group in stage_order(thrown, decoded, grid, self.num_stages):
            k = min(self.num_neighbours, int(decoded.sum(1).min()))
            near = dist[group].masked_fill(~decoded.unsqueeze(1), float("inf")).topk(k, dim=2, largest=False)
            out = self.layer(_gather_tokens(queries, group), _gather_tokens(memory, near.indices))
            tokens = _scatter_tokens(tokens, group, out)
            memory = _scatter_tokens(memory, group, self.layer.project(out))
            decoded = decoded.scatter(1, group, True)
        return tokens


@MODELS.register_module()
class PRMIMDecoder(MAEPretrainDecoder):
    """MAE's decoder for partial reconstruction (``progressive=None``) or PR-MIM (``progressive`` a dict of
    ``ProgressiveReconstructor`` arguments other than ``embed_dims``). Parameters and names are those of
    ``MAEPretrainDecoder`` plus ``progressive.*``; with ``throw_ratio=0`` it computes what MAE's decoder computes.

    Args:
        throw_ratio: fraction of the masked tokens the transformer blocks skip (rounded to a whole count).
        sampling: how the kept masked tokens are chosen: ``'furthest'`` or ``'random'``.
        progressive: None, or the reconstructor's settings, e.g. ``dict(num_stages=2, num_neighbours=8)``.
        **kwargs: ``MAEPretrainDecoder``'s (num_patches, patch_size, embed_dim, decoder_embed_dim, ...).
    Raises BadInputError for a throw ratio outside [0, 1) or an unknown sampling.
    """

    def __init__(self, throw_ratio: float = 0.5, sampling: str = "furthest", progressive: dict | None = None,
                 **kwargs):
        super().__init__(**kwargs)
        if not 0.0 <= throw_ratio < 1.0:
            raise BadInputError(f"throw_ratio must be in [0, 1), got {throw_ratio}")
        if sampling not in SAMPLINGS:
            raise BadInputError(f"sampling must be one of {', '.join(SAMPLINGS)}, got {sampling!r}")
        side = int(round(self.num_patches ** 0.5))
        self.grid = (side, side)
        self.throw_ratio = throw_ratio
        self.sampling = sampling
        dims = self.mask_token.shape[-1]
        self.progressive = None if progressive is None else ProgressiveReconstructor(dims, **progressive)

    def split_masked(self, ids_restore: torch.Tensor, num_visible: int) -> tuple[torch.Tensor, ...]:
        """(visible (B, V), kept (B, K), thrown (B, T)) patch positions from MAE's ``ids_restore`` (B, L): the
        visible tokens in the encoder's order, kept and thrown ascending (kept in pick order for furthest)."""
        order = ids_restore.argsort(dim=1)
        visible, masked = order[:, :num_visible], order[:, num_visible:].sort(dim=1).values
        num_thrown = int(round(masked.shape[1] * self.throw_ratio))
        num_keep = masked.shape[1] - num_thrown
        if self.sampling == "furthest":
            kept = furthest_sampling(masked, num_keep, self.grid)
        else:
            kept = random_sampling(masked, num_keep)
        return visible, kept, complement(masked, kept, ids_restore.shape[1])

    def forward(self, x: torch.Tensor, ids_restore: torch.Tensor,
                mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Reconstruct.

        Args:
            x: encoder output (B, 1 + V, C_enc), [CLS] first, visible tokens in MAE's shuffled order.
            ids_restore: (B, L) MAE's restore order; ``mask``: (B, L) 1 for masked (MAE's), used for the loss mask.
        Returns: (pred (B, L, P) pixel predictions, zeros where nothing was predicted; loss_mask (B, L) float: the
            masked tokens that were predicted: all of them with ``progressive``, the kept ones without)."""
        x = self.decoder_embed(x)
        batch, length = ids_restore.shape
        visible, kept, thrown = self.split_masked(ids_restore, x.shape[1] - 1)
        pos = self.decoder_pos_embed.expand(batch, -1, -1)
        patch_pos = pos[:, 1:]
        queries = self.mask_token + patch_pos  # (B, L, C): what a masked token enters the decoder as
        seq = torch.cat([x[:, :1] + pos[:, :1], x[:, 1:] + _gather_tokens(patch_pos, visible),
                         _gather_tokens(queries, kept)], dim=1)
        for block in self.decoder_blocks:
            seq = block(seq)
        seq = self.decoder_norm(seq)
        decoded_index = torch.cat([visible, kept], dim=1)
        tokens = _scatter_tokens(seq.new_zeros(batch, length, seq.shape[-1]), decoded_index, seq[:, 1:])
        predicted = torch.zeros(batch, length, dtype=torch.bool, device=x.device).scatter(1, kept, True)
        if self.progressive is not None and thrown.shape[1]:
            decoded = torch.zeros_like(predicted).scatter(1, decoded_index, True)
            tokens = self.progressive(tokens, decoded, thrown, queries, self.grid)
            predicted = predicted.scatter(1, thrown, True)
        pred = self.decoder_pred(tokens)
        if mask is not None:
            predicted = predicted & mask.bool()
        return pred, predicted.to(pred.dtype)


@MODELS.register_module()
class PRMIM(MAE):
    """MAE with a ``PRMIMDecoder`` neck: partial reconstruction or PR-MIM (which, follows from the neck's settings).
    Same backbone (``MAEViT``), head (``MAEPretrainHead``) and checkpoint layout as MMPretrain's MAE, so the export
    (``backbone.*``) and every MAE recipe setting carry over."""

    def loss(self, inputs: torch.Tensor, data_samples: list[DataSample], **kwargs) -> dict[str, torch.Tensor]:
        """``{'loss': normalised-pixel MSE over the predicted masked tokens}`` of images (B, 3, H, W)."""
        latent, mask, ids_restore = self.backbone(inputs)
        pred, loss_mask = self.neck(latent, ids_restore, mask)
        return dict(loss=self.head.loss(pred, inputs, loss_mask))
