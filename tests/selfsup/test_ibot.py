"""iBOT base: hand-computed loss values, centring and temperature schedule, the head, block masks, the token forward,
and the EMA teacher (no gradient, follows the student by the cosine momentum)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from selfsup_tiny import TINY_HEAD, TINY_VIT

from imagenet_s.selfsup import heads, ibot  # noqa: F401  (registration)
from imagenet_s.selfsup.losses import (
    Centering,
    cross_view_loss,
    masked_patch_loss,
    soft_cross_entropy,
    teacher_temperature,
)
from imagenet_s.selfsup.transforms import IBOTBlockMask
from imagenet_s.selfsup.vit import vit_tokens


def test_teacher_temperature_warms_up_linearly_per_epoch():
    assert teacher_temperature(0) == pytest.approx(0.04)
    assert teacher_temperature(15) == pytest.approx(0.04 + 0.03 * 15 / 29)
    assert teacher_temperature(29) == pytest.approx(0.07)
    assert teacher_temperature(80) == pytest.approx(0.07)


def test_centering_ema_and_targets():
    centre = Centering(2, momentum=0.9)
    logits = torch.tensor([[1.0, 3.0], [3.0, 5.0]])
    assert torch.allclose(centre.targets(logits, 1.0), torch.softmax(logits, -1))
    centre.update([logits[:1], logits[1:]])
    assert torch.allclose(centre.center, torch.tensor([[0.2, 0.4]]))
    probs = centre.targets(torch.tensor([[0.2, 0.4 + math.log(3) * 0.5]]), 0.5)
    assert torch.allclose(probs, torch.tensor([[0.25, 0.75]]))


def test_cross_view_loss_by_hand():
    targets = [torch.tensor([[1.0, 0.0]]), torch.tensor([[0.5, 0.5]])]
    students = [torch.tensor([[0.0, 0.0]]), torch.tensor([[math.log(3), 0.0]]), torch.tensor([[0.0, 0.0]])]
    loss, pairs = cross_view_loss(students, targets, student_temperature=1.0)
    assert pairs == 4  # (0,1) (0,2) (1,0) (1,2): same-view pairs skipped
    assert loss.item() == pytest.approx((-math.log(0.75) + 3 * math.log(2)) / 4, rel=1e-6)
    halved, _ = cross_view_loss([s * 0.5 for s in students], targets, student_temperature=0.5)
    assert halved.item() == pytest.approx(loss.item(), rel=1e-6)  # logits are divided by the temperature


def test_masked_patch_loss_by_hand():
    target = torch.tensor([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]]])
    student = torch.tensor([[[math.log(3), 0.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]]])
    mask = torch.tensor([[True, False], [False, False]])  # image 2 unmasked: contributes 0, still in the mean
    loss, views = masked_patch_loss([student], [target], [mask], student_temperature=1.0)
    assert views == 1 and loss.item() == pytest.approx(-math.log(0.75) / 2, rel=1e-6)
    both = torch.tensor([[True, True], [False, False]])
    loss2, _ = masked_patch_loss([student], [target], [both], 1.0)
    assert loss2.item() == pytest.approx((-math.log(0.75) + math.log(2)) / 2 / 2, rel=1e-6)
    assert soft_cross_entropy(target[0], student[0]).shape == (2,)


def test_head_has_unit_prototypes_and_freezes_its_last_layer():
    head = MODELS.build(dict(TINY_HEAD))
    assert torch.allclose(head.prototypes().norm(dim=1), torch.ones(64))
    x = torch.randn(3, 5, 32)
    out = head(x)
    assert out.shape == (3, 5, 64) and out.abs().max() <= 1 + 1e-5  # cosines of unit vectors
    head.freeze_last = True
    head(x).sum().backward()
    assert head.last_layer.weight.grad is None and head.mlp[0].weight.grad is not None


def test_block_mask_ratios_and_shapes():
    import random
    random.seed(0)
    np.random.seed(0)
    gen = IBOTBlockMask(14)
    masks = [gen.sample() for _ in range(300)]
    assert all(m.shape == (14, 14) and m.dtype == bool for m in masks)
    counts = np.array([m.sum() for m in masks])
    assert 0.4 < (counts == 0).mean() < 0.6  # pred_ratio 0 for about half the images
    masked = counts[counts > 0] / 196
    assert masked.max() <= round(0.5 * 196) / 196 and masked.min() >= 0.05
    assert abs(masked.mean() - 0.3) < 0.04
    assert IBOTBlockMask(14, pred_ratio=(0.3,), pred_ratio_var=(0.0,)).sample().sum() == round(0.3 * 196)


def test_vit_tokens_match_the_backbone_and_take_masks_and_extra_tokens():
    backbone = MODELS.build(dict(TINY_VIT, out_type="raw"))
    backbone.init_weights()
    images = torch.randn(2, 3, 32, 32)
    tokens = vit_tokens(backbone, images)
    raw = backbone(images)[0]
    assert torch.allclose(tokens.cls, raw[:, 0], atol=1e-6) and torch.allclose(tokens.patches, raw[:, 1:], atol=1e-6)
    assert tokens.grid == (4, 4) and tokens.extra.shape == (2, 0, 32)
    mask = torch.zeros(2, 4, 4, dtype=torch.bool)
    mask[0, 0, 0] = True
    masked = vit_tokens(backbone, images, mask, torch.zeros(1, 1, 32))
    assert torch.allclose(masked.cls[1], tokens.cls[1], atol=1e-6) and not torch.allclose(masked.cls[0], tokens.cls[0])
    extra = vit_tokens(backbone, torch.randn(2, 3, 16, 16), extra_tokens=torch.zeros(1, 3, 32))
    assert extra.extra.shape == (2, 3, 32) and extra.patches.shape == (2, 4, 32)


def _tiny_ibot(**kw):
    model = MODELS.build(dict(type="IBOT", backbone=TINY_VIT, head=TINY_HEAD, freeze_last_layer_epochs=0, **kw))
    model.init_weights()
    return model


def _batch(batch=3, masks=True):
    gen = IBOTBlockMask(4, pred_ratio=(0.3,), pred_ratio_var=(0.0,))
    views = [torch.randn(batch, 3, 32, 32) for _ in range(2)] + [torch.randn(batch, 3, 16, 16) for _ in range(2)]
    samples = []
    for _ in range(batch):
        sample = DataSample()
        sample.set_field([gen.sample(), gen.sample(), None, None] if masks else [None] * 4, "view_masks")
        samples.append(sample)
    return views, samples


def test_teacher_gets_no_gradient_and_follows_the_cosine_ema():
    model = _tiny_ibot()
    views, samples = _batch()
    losses = model.loss(views, samples)
    assert set(losses) == {"loss_cls", "loss_patch"} and all(torch.isfinite(v) for v in losses.values())
    sum(losses.values()).backward()
    teacher = dict(model.teacher.module.named_parameters())
    assert all(p.grad is None and not p.requires_grad for p in teacher.values())
    student = dict(model.student_parts().named_parameters())
    assert all(torch.equal(teacher[k], student[k]) for k in student)  # first update copies
    with torch.no_grad():
        for p in model.parameters():
            if p.requires_grad:
                p.add_(0.1)
    before = {k: v.clone() for k, v in teacher.items()}
    model.update_teacher()  # step 1 of max_iters = 100
    m = 0.004 * (math.cos(math.pi / 100) + 1) / 2
    for k, v in teacher.items():
        assert torch.allclose(v, before[k] * (1 - m) + student[k] * m, atol=1e-6), k


def test_dino_has_no_patch_term_and_centres_move():
    model = MODELS.build(dict(type="DINO", backbone=TINY_VIT, head=TINY_HEAD))
    views, samples = _batch()
    losses = model.loss(views, samples)
    assert set(losses) == {"loss_cls"}
    assert model.center_cls.center.abs().sum() > 0 and model.center_patch.center.abs().sum() == 0
