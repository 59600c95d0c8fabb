"""``--shard K/N``: a deterministic split of a sorted work list, for batch schedulers (SLURM arrays)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from evaluators.errors import BadInputError

T = TypeVar("T")


def parse_shard(text: str) -> tuple[int, int]:
    """Parse ``"K/N"`` (1 <= K <= N) into (K, N)."""
    try:
        k, n = (int(part) for part in text.split("/"))
    except ValueError:
        raise BadInputError(f"--shard: expected K/N such as 1/4, got {text!r}") from None
    if not 1 <= k <= n:
        raise BadInputError(f"--shard: K must lie in 1..N, got {text!r}")
    return k, n


def take_shard(items: Sequence[T], shard: tuple[int, int] | None) -> list[T]:
    """Items K-1, K-1+N, K-1+2N, ... of ``items`` (every item when ``shard`` is None); shards are disjoint
    and together cover the list, so their merged results equal one run over everything."""
    if shard is None:
        return list(items)
    k, n = shard
    return list(items[k - 1::n])
