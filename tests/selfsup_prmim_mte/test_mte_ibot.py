"""MTE on the iBOT/DINO base: the auxiliary terms join iBOT's, gradients reach the auxiliary tokens, the teacher and
the exported backbone keep iBOT's structure and outputs, and the losses fall on a tiny ViT."""
import pytest
import torch
from train_extra import require_train_extra

require_train_extra(module_level=True)

from mmengine.logging import MessageHub  # noqa: E402
from mmpretrain.registry import MODELS  # noqa: E402
from mmpretrain.structures import DataSample  # noqa: E402

import imagenet_s.selfsup.heads  # noqa: E402,F401  (registers DINOProjectionHead)
import imagenet_s.selfsup.mte  # noqa: E402,F401  (registers MTEIBOT, MTEDINO)
from imagenet_s.selfsup.transforms import IBOTBlockMask  # noqa: E402

VIT = dict(type="VisionTransformer", arch=dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64),
           img_size=32, patch_size=8)
HEAD = dict(type="DINOProjectionHead", in_channels=32, out_channels=64, hidden_channels=64, bottleneck_channels=16)


@pytest.fixture(autouse=True)
def _schedule():
    MessageHub.get_current_instance().update_info("max_iters", 100)  # the teacher's momentum schedule
    MessageHub.get_current_instance().update_info("epoch", 0)


def build(kind: str):
    torch.manual_seed(0)
    extra = dict(mte=dict(num_aux_cls=2, num_pooled=2)) if kind.startswith("MTE") else {}
    model = MODELS.build(dict(type=kind, backbone=VIT, head=HEAD, freeze_last_layer_epochs=0, **extra))
    model.init_weights()
    return model


def batch(size=4):
    """Two global 32 px views with iBOT block masks and two local 16 px views of smooth images."""
    torch.manual_seed(1)
    images = torch.nn.functional.interpolate(torch.rand(size, 3, 4, 4), size=32, mode="bilinear")
    views = [images, images.flip(3), images[..., :16, :16], images[..., 16:, 16:]]
    generator = IBOTBlockMask(4, pred_ratio=(0.3,), pred_ratio_var=(0.0,))
    samples = []
    for _ in range(size):
        sample = DataSample()
        sample.set_field([generator.sample(), generator.sample(), None, None], "view_masks")
        samples.append(sample)
    return views, samples


def test_auxiliary_terms_and_gradients():
    model = build("MTEIBOT")
    losses = model.loss(*batch())
    assert set(losses) == {"loss_cls", "loss_patch", "loss_aux", "loss_distill"}
    sum(losses.values()).backward()
    assert model.mte.aux_cls.grad.abs().sum() > 0 and model.mte.scorer.weight.grad.abs().sum() > 0
    dino = build("MTEDINO").loss(*batch())
    assert set(dino) == {"loss_cls", "loss_aux", "loss_distill"}


def test_without_auxiliary_tokens_it_is_ibot():
    base = build("IBOT")
    torch.manual_seed(0)
    off = MODELS.build(dict(type="MTEIBOT", backbone=VIT, head=HEAD, freeze_last_layer_epochs=0,
                            mte=dict(num_aux_cls=0, num_pooled=0)))
    off.load_state_dict(base.state_dict(), strict=True)
    views, samples = batch()
    expected, got = base.loss(views, samples), off.loss(views, samples)
    for key in ("loss_cls", "loss_patch"):
        assert torch.allclose(got[key], expected[key], atol=1e-6), key
    assert got["loss_aux"].item() == 0 and got["loss_distill"].item() == 0


def test_teacher_and_export_keep_ibots_structure():
    base, mte = build("IBOT"), build("MTEIBOT")
    for prefix in ("backbone.", "teacher.module.backbone.", "teacher.module.head."):
        assert ({k for k in mte.state_dict() if k.startswith(prefix)}
                == {k for k in base.state_dict() if k.startswith(prefix)})
    assert not any(k.startswith("teacher.") and ".mte." in k for k in mte.state_dict())
    exported = {k.removeprefix("backbone."): v for k, v in mte.state_dict().items() if k.startswith("backbone.")}
    plain = MODELS.build(VIT)
    plain.load_state_dict(exported, strict=True)
    plain.eval()
    mte.backbone.eval()
    images = torch.randn(2, 3, 32, 32)
    assert torch.equal(plain(images)[0], mte.backbone(images)[0])


def test_losses_fall():
    model = build("MTEIBOT")
    views, samples = batch()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    history = []
    for _ in range(10):
        losses = model.loss(views, samples)
        optimizer.zero_grad()
        sum(losses.values()).backward()
        optimizer.step()
        history.append({k: v.item() for k, v in losses.items()})
    for key in ("loss_aux", "loss_distill"):
        first, last = [h[key] for h in history[:3]], [h[key] for h in history[-3:]]
        assert sum(last) < sum(first), (key, history)
