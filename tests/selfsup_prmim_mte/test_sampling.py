"""Furthest sampling, the kept/thrown partition and the stage order of PR-MIM, against hand-worked answers."""
import pytest
import torch
from train_extra import require_train_extra

require_train_extra(module_level=True)

from imagenet_s.selfsup.prmim import PRMIMDecoder  # noqa: E402
from imagenet_s.selfsup.sampling import complement, furthest_sampling, random_sampling, stage_order  # noqa: E402
from plumbing.errors import BadInputError  # noqa: E402


def test_furthest_sampling_full_3x3_grid():
    # 0 first; 8 is farthest (8); then 2 and 6 tie at 4 -> 2, then 6; then the centre (2) beats the edges (1)
    assert furthest_sampling(torch.arange(9)[None], 5, (3, 3)).tolist() == [[0, 8, 2, 6, 4]]


def test_furthest_sampling_subset_rows_are_independent_and_order_free():
    # 4x4 grid, masked: the two middle columns. From 1 (0,1): 14 (3,2) is farthest (10 > 9 for 13); then 6 (1,2)
    # and 9 (2,1) tie at 2 from {1, 14} -> 6.
    middle = torch.tensor([14, 2, 9, 5, 1, 13, 6, 10])
    corners = torch.tensor([15, 0, 3, 12, 5, 6, 9, 10])  # from 0: 15 (18); then 3 and 12 tie at 9 -> 3
    picks = furthest_sampling(torch.stack([middle, corners]), 3, (4, 4))
    assert picks.tolist() == [[1, 14, 6], [0, 15, 3]]
    assert furthest_sampling(torch.stack([middle, corners]), 0, (4, 4)).shape == (2, 0)
    with pytest.raises(BadInputError):
        furthest_sampling(middle[None], 9, (4, 4))


def test_random_sampling_and_complement_partition():
    positions = torch.tensor([[3, 7, 1, 9, 4, 0], [2, 5, 8, 11, 6, 10]])
    kept = random_sampling(positions, 2, torch.Generator().manual_seed(0))
    thrown = complement(positions, kept, 12)
    for row in range(2):
        together = sorted(kept[row].tolist() + thrown[row].tolist())
        assert together == sorted(positions[row].tolist())
        assert thrown[row].tolist() == sorted(thrown[row].tolist())
    with pytest.raises(BadInputError):
        random_sampling(positions, 7)


@pytest.mark.parametrize("sampling", ["furthest", "random"])
@pytest.mark.parametrize("throw_ratio", [0.0, 0.25, 0.5, 0.75])
def test_every_masked_token_is_kept_or_thrown_exactly_once(sampling, throw_ratio):
    decoder = PRMIMDecoder(throw_ratio=throw_ratio, sampling=sampling, num_patches=196, embed_dim=8,
                           decoder_embed_dim=8, decoder_depth=1, decoder_num_heads=2)
    torch.manual_seed(1)
    ids_restore = torch.stack([torch.randperm(196) for _ in range(3)])
    visible, kept, thrown = decoder.split_masked(ids_restore, 49)
    assert thrown.shape[1] == round(147 * throw_ratio) and kept.shape[1] == 147 - thrown.shape[1]
    for row in range(3):
        counts = torch.bincount(torch.cat([visible[row], kept[row], thrown[row]]), minlength=196)
        assert counts.eq(1).all()  # every patch exactly once: visible, kept or thrown
        masked = set(torch.nonzero(ids_restore[row] >= 49).flatten().tolist())
        assert set(kept[row].tolist()) | set(thrown[row].tolist()) == masked


def test_stage_order_nearest_first_ties_by_index():
    decoded = torch.zeros(1, 5, dtype=torch.bool)
    decoded[0, 0] = True
    assert [g.tolist() for g in stage_order(torch.tensor([[4, 2, 1, 3]]), decoded, (1, 5), 2)] == [[[1, 2]], [[3, 4]]]
    decoded[0, 4] = True  # distances 1, 4, 1 for 1, 2, 3
    assert [g.tolist() for g in stage_order(torch.tensor([[2, 3, 1]]), decoded, (1, 5), 2)] == [[[1, 3]], [[2]]]
    assert [g.tolist() for g in stage_order(torch.tensor([[2, 3, 1]]), decoded, (1, 5), 5)] == [[[1]], [[3]], [[2]]]
    with pytest.raises(BadInputError):
        stage_order(torch.tensor([[1]]), decoded, (1, 5), 0)
