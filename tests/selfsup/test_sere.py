"""SERE: relation maps, overlap alignment on known crops (flips included), the relation cross-entropy with its
temperatures, and the loss weighting, by hand on tiny tensors."""
from __future__ import annotations

import math

import pytest
import torch
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from selfsup_tiny import TINY_HEAD, TINY_VIT

from imagenet_s.selfsup import ibot, sere  # noqa: F401  (registration)
from imagenet_s.selfsup.losses import cross_view_loss
from imagenet_s.selfsup.sere import align_relation, channel_relation, overlap_grids, relation_loss, spatial_relation


def test_spatial_relation_per_head_scaled_dot_products():
    f = torch.tensor([[[1.0, 0.0, 2.0, 0.0], [0.0, 1.0, 0.0, 3.0]]])  # B=1, N=2, C=4, 2 heads of 2 channels
    rel = spatial_relation(f, 2)
    assert rel.shape == (1, 2, 2, 2)
    s = 2 ** -0.5
    assert torch.allclose(rel[0, 0], torch.tensor([[1.0, 0.0], [0.0, 1.0]]) * s)
    assert torch.allclose(rel[0, 1], torch.tensor([[4.0, 0.0], [0.0, 9.0]]) * s)


def test_channel_relation_is_the_gram_over_positions_divided_by_the_side_squared():
    f = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [0.0, 1.0], [2.0, 0.0]]])  # N=4 (2 x 2 grid), C=2
    gram = channel_relation(f, 2)
    expected = torch.tensor([[1 + 9 + 0 + 4, 2 + 12 + 0 + 0], [2 + 12, 4 + 16 + 1 + 0]]) / 4
    assert torch.allclose(gram[0], expected)


def test_overlap_grids_on_known_crops_with_a_flip():
    a = torch.tensor([[0.0, 0.0, 1.0, 1.0]])
    b = torch.tensor([[0.5, 0.5, 1.0, 1.0]])
    ga, gb, valid = overlap_grids(a, b, 2)  # overlap (0.5, 0.5)-(1, 1): centres at 0.625, 0.875
    assert valid.tolist() == [True]
    assert torch.allclose(ga[0, :, :, 0], torch.tensor([[0.25, 0.75], [0.25, 0.75]]))
    assert torch.allclose(ga[0, :, :, 1], torch.tensor([[0.25, 0.25], [0.75, 0.75]]))
    assert torch.allclose(gb[0, :, :, 0], torch.tensor([[-0.5, 0.5], [-0.5, 0.5]]))
    flipped = torch.tensor([[1.0, 0.5, 0.5, 1.0]])  # b mirrored: its column 0 is the image's x = 1
    _, gf, _ = overlap_grids(a, flipped, 2)
    assert torch.allclose(gf[0, :, :, 0], torch.tensor([[0.5, -0.5], [0.5, -0.5]]))
    _, _, none = overlap_grids(a[:, [0, 1, 0, 1]] * 0 + torch.tensor([[0.0, 0.0, 0.2, 0.2]]),
                               torch.tensor([[0.5, 0.5, 1.0, 1.0]]), 2)
    assert none.tolist() == [False]


def test_align_relation_at_the_view_cell_centres_is_the_identity_and_interpolates_otherwise():
    rel = torch.arange(16.0).reshape(1, 1, 4, 4)  # a 2 x 2 grid: N = 4
    box = torch.tensor([[0.2, 0.1, 0.6, 0.9]])
    _, grid, _ = overlap_grids(torch.tensor([[0.0, 0.0, 1.0, 1.0]]), box, 2)  # the overlap is the whole view
    assert torch.allclose(align_relation(rel, (2, 2), grid), rel)
    half = torch.tensor([[[[0.0, 0.0]]]])  # the view's centre: mean of the 4 tokens on both axes
    assert torch.allclose(align_relation(rel, (2, 2), half), rel.mean().reshape(1, 1, 1, 1))


def test_relation_loss_temperatures_and_validity():
    teacher = torch.tensor([[[0.0, 0.5 * math.log(3)]]])  # softmax(t / 0.5) = (0.25, 0.75)
    student = torch.tensor([[[math.log(3), 0.0]]])  # log_softmax: (log .75, log .25)
    expected = -(0.25 * math.log(0.75) + 0.75 * math.log(0.25))
    assert relation_loss(teacher, student, 0.5).item() == pytest.approx(expected, rel=1e-6)
    two_t, two_s = torch.cat([teacher, teacher]), torch.cat([student, student.flip(-1)])
    assert relation_loss(two_t, two_s, 0.5, torch.tensor([True, False])).item() == pytest.approx(expected, rel=1e-6)
    assert relation_loss(two_t, two_s, 0.5, torch.tensor([False, False])).item() == 0


def _samples(batch, boxes):
    out = []
    for _ in range(batch):
        sample = DataSample()
        sample.set_field([None] * len(boxes), "view_masks")
        sample.set_field(boxes, "view_boxes")
        out.append(sample)
    return out


def test_sere_weighting_and_terms():
    model = MODELS.build(dict(type="SERE", backbone=TINY_VIT, head=TINY_HEAD, spatial_grid=(3, 2)))
    model.init_weights()
    views = [torch.randn(2, 3, 32, 32) for _ in range(2)] + [torch.randn(2, 3, 16, 16)]
    boxes = [[0.0, 0.0, 0.8, 0.8], [0.9, 0.1, 0.2, 1.0], [0.3, 0.3, 0.6, 0.6]]
    losses = model.loss(views, _samples(2, boxes))
    assert set(losses) == {"loss_cls", "loss_spatial", "loss_channel"}
    assert model.distill_scale == pytest.approx((4 - 0.2 - 0.5) / 2)
    assert all(torch.isfinite(v) for v in losses.values())
    student, teacher = _outputs(model, views)
    weighted = model.extra_losses(student, teacher, _samples(2, boxes))
    model.alpha = model.beta = 1.0
    plain = model.extra_losses(student, teacher, _samples(2, boxes))
    assert weighted["loss_spatial"].item() == pytest.approx(0.2 * plain["loss_spatial"].item(), rel=1e-5)
    assert weighted["loss_channel"].item() == pytest.approx(0.5 * plain["loss_channel"].item(), rel=1e-5)
    base, _ = cross_view_loss([o.cls_logits for o in student], model.teacher_targets(teacher), 0.1)
    assert model.distillation_losses(student, teacher)["loss_cls"].item() == pytest.approx(1.65 * base.item(),
                                                                                           rel=1e-5)


def _outputs(model, views):
    with torch.no_grad():
        teacher = [model.teacher_view(views[q], q) for q in range(2)]
    student = [model.student_view(v, None, i) for i, v in enumerate(views)]
    return student, teacher
