"""Which masked patches the decoder reconstructs in partial-reconstruction MIM, and in which order PR-MIM recovers the
thrown ones.

All functions work on batches of patch indices into a row-major ``H x W`` patch grid (index ``r * W + c``).
Distances are squared Euclidean distances between grid cells (integers, exact in float32 for any ViT grid), so
the answers are deterministic; ties go to the smaller patch index. The design (ours; the PR-MIM abstract only names
"furthest sampling" and "progressive reconstruction") is written down in docs/selfsup.md.
"""
from __future__ import annotations

import torch

from plumbing.errors import BadInputError


def grid_distances(grid: tuple[int, int], device: torch.device | None = None) -> torch.Tensor:
    """Squared Euclidean distances (L, L) float32 between the cells of a row-major ``(H, W)`` grid, L = H * W."""
    rows, cols = grid
    r, c = torch.meshgrid(torch.arange(rows, device=device), torch.arange(cols, device=device), indexing="ij")
    coords = torch.stack([r.flatten(), c.flatten()], 1).float()
    return torch.cdist(coords, coords).square().round()


def furthest_sampling(positions: torch.Tensor, num_keep: int, grid: tuple[int, int]) -> torch.Tensor:
    """Farthest-point sampling of ``num_keep`` of ``positions`` (B, M) on the patch grid, per row.

    The first pick is the smallest index of the row; each next pick is the position whose distance to the nearest
    pick so far is largest, ties to the smaller index. Returns the picks (B, num_keep) long, in the order picked.
    Raises BadInputError when ``num_keep`` is not in 0..M."""
    batch, count = positions.shape
    if not 0 <= num_keep <= count:
        raise BadInputError(f"furthest_sampling: num_keep {num_keep} not in 0..{count}")
    ordered = positions.sort(dim=1).values
    if num_keep == 0:
        return ordered[:, :0]
    dist = grid_distances(grid, positions.device)
    # (B, M, M) distances among this row's positions: a few hundred cells for a ViT grid, cheap next to a decoder
    among = dist[ordered.unsqueeze(2), ordered.unsqueeze(1)]
    nearest = torch.full((batch, count), float("inf"), device=positions.device)
    pick = torch.zeros(batch, dtype=torch.long, device=positions.device)
    picks = []
    rows = torch.arange(batch, device=positions.device)
    for _ in range(num_keep):
        picks.append(pick)
        nearest = torch.minimum(nearest, among[rows, pick])
        pick = nearest.argmax(dim=1)  # first maximum: the smaller index among ties
    return ordered.gather(1, torch.stack(picks, 1))


def random_sampling(positions: torch.Tensor, num_keep: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """A uniformly random subset of ``num_keep`` of ``positions`` (B, M) per row (the partial-reconstruction
    baseline), sorted ascending; (B, num_keep) long. Raises BadInputError when ``num_keep`` is not in 0..M."""
    count = positions.shape[1]
    if not 0 <= num_keep <= count:
        raise BadInputError(f"random_sampling: num_keep {num_keep} not in 0..{count}")
    noise = torch.rand(positions.shape, device=positions.device, generator=generator)
    chosen = positions.gather(1, noise.argsort(dim=1)[:, :num_keep])
    return chosen.sort(dim=1).values


def complement(positions: torch.Tensor, subset: torch.Tensor, num_patches: int) -> torch.Tensor:
    """The positions (B, M) not in ``subset`` (B, K), ascending (B, M - K). Every entry of ``subset`` must occur in
    the same row of ``positions``."""
    member = torch.zeros(positions.shape[0], num_patches, dtype=torch.bool, device=positions.device)
    member.scatter_(1, positions, True)
    member.scatter_(1, subset, False)
    rest = positions.shape[1] - subset.shape[1]
    # stable sort of "not a member" puts the members first, ascending by index
    return (~member).to(torch.uint8).sort(dim=1, stable=True).indices[:, :rest]


def stage_order(thrown: torch.Tensor, decoded: torch.Tensor, grid: tuple[int, int], num_stages: int
                ) -> list[torch.Tensor]:
    """Split the thrown positions (B, T) into ``num_stages`` groups for progressive reconstruction: sorted by the
    distance to the nearest decoded patch (``decoded`` (B, L) bool: visible and kept patches), nearest first, ties
    to the smaller index, then cut into nearly equal consecutive groups (``torch.tensor_split``). Returns a list of
    (B, T_s) long tensors (empty groups left out). Raises BadInputError for ``num_stages`` < 1."""
    if num_stages < 1:
        raise BadInputError(f"num_stages must be at least 1, got {num_stages}")
    if thrown.shape[1] == 0:
        return []
    dist = grid_distances(grid, thrown.device)[thrown]  # (B, T, L)
    nearest = dist.masked_fill(~decoded.unsqueeze(1), float("inf")).amin(dim=2)
    ordered = thrown.sort(dim=1).values
    nearest = nearest.gather(1, thrown.sort(dim=1).indices)
    ordered = ordered.gather(1, nearest.sort(dim=1, stable=True).indices)
    return [group for group in ordered.tensor_split(num_stages, dim=1) if group.shape[1]]
