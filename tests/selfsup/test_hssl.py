"""HSSL: the candidate auxiliary heads, where the teacher's targets come from, and the balanced loss by hand."""
from __future__ import annotations

import pytest
import torch
from mmpretrain.registry import MODELS
from selfsup_tiny import TINY_HEAD, TINY_VIT

from imagenet_s.selfsup import hssl  # noqa: F401  (registration)
from imagenet_s.selfsup.hssl import HEAD_KINDS, HSSLAuxHead
from imagenet_s.selfsup.losses import cross_view_loss, masked_patch_loss
from imagenet_s.selfsup.vit import vit_tokens
from plumbing.errors import BadInputError


@pytest.mark.parametrize("kind", HEAD_KINDS)
def test_aux_heads_map_the_patch_grid_to_a_cls_and_tokens(kind):
    head = HSSLAuxHead(32, kind=kind, depth=2, grid=(4, 4))
    cls, tokens = head(torch.randn(2, 16, 32), (4, 4))
    assert cls.shape == (2, 32) and tokens.shape == (2, 16, 32)
    assert torch.allclose(cls.mean(-1), torch.zeros(2), atol=1e-5)  # the pool's own LayerNorm


def test_convnext_head_first_block_has_no_shortcut():
    head = HSSLAuxHead(8, depth=2)
    assert [b.residual for b in head.blocks] == [False, True] and head.blocks[0].gamma is None
    x = torch.randn(1, 8, 3, 3)
    block = head.blocks[0]
    normed = block.norm(block.depthwise_conv(x).permute(0, 2, 3, 1), data_format="channel_last")
    branch = block.pointwise_conv2(block.act(block.pointwise_conv1(normed)))
    assert torch.allclose(block(x), branch.permute(0, 3, 1, 2), atol=1e-5)
    with pytest.raises(BadInputError):
        HSSLAuxHead(8, kind="mixer")


def test_hssl_targets_and_balanced_loss():
    model = MODELS.build(dict(type="HSSL", backbone=TINY_VIT, head=TINY_HEAD, aux_head=dict(depth=1)))
    model.init_weights()
    model.update_teacher()
    views = [torch.randn(2, 3, 32, 32) for _ in range(2)]
    masks = [torch.tensor([[True] * 4 + [False] * 12, [False] * 16]), torch.tensor([[False] * 15 + [True]] * 2)]
    with torch.no_grad():
        teacher = [model.teacher_view(v, q) for q, v in enumerate(views)]
        tokens = vit_tokens(model.teacher.module["backbone"], views[0])
        aux_cls, _ = model.teacher.module["aux_head"](tokens.patches, tokens.grid)
        assert torch.allclose(teacher[0].cls_logits, model.teacher.module["head"](aux_cls), atol=1e-6)
        assert torch.allclose(teacher[0].patch_logits, model.teacher.module["head"](tokens.patches), atol=1e-6)
        student = [model.student_view(v, masks[i], i) for i, v in enumerate(views)]
        losses = model.distillation_losses(student, teacher)
        targets = model.teacher_targets(teacher, "cls")
        base, n_base = cross_view_loss([s.cls_logits for s in student], targets)
        aux, n_aux = cross_view_loss([s.extras["aux_cls_logits"] for s in student], targets)
        patch, n_patch = masked_patch_loss([s.patch_logits for s in student], model.teacher_targets(teacher, "patch"),
                                           masks)
    assert (n_base, n_aux, n_patch) == (2, 2, 2)
    assert losses["loss_cls"].item() == pytest.approx(0.5 * base.item(), rel=1e-5)
    assert losses["loss_aux_cls"].item() == pytest.approx(0.5 * aux.item(), rel=1e-5)
    assert losses["loss_patch"].item() == pytest.approx(0.5 * patch.item(), rel=1e-5)
    assert not any(k.startswith("backbone.") and "aux" in k for k in model.state_dict())
    assert any(k.startswith("aux_head.") for k in model.state_dict())
    assert any(k.startswith("teacher.module.aux_head.") for k in model.state_dict())
