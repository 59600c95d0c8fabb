"""MTE: the combined loss by hand, adaptive pooling, the ViT with auxiliary tokens, and on MoCo v3: auxiliary tokens
change training (losses, gradients) but not the exported backbone (parameter names, outputs, inference FLOPs)."""
import math

import pytest
import torch
from train_extra import require_train_extra

require_train_extra(module_level=True)

from mmengine.logging import MessageHub  # noqa: E402
from mmpretrain.registry import MODELS  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from imagenet_s.selfsup.mte import MultiTokenEnhancer  # noqa: E402
from plumbing.errors import BadInputError  # noqa: E402

ARCH = dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64)
NECK = dict(type="NonLinearNeck", in_channels=32, hid_channels=64, out_channels=16, num_layers=3, with_bias=False,
            with_last_bn=True, with_last_bn_affine=False, with_last_bias=False, with_avg_pool=False)
MOCOV3 = dict(
    type="MoCoV3", base_momentum=0.01,
    backbone=dict(type="MoCoV3ViT", arch=ARCH, img_size=32, patch_size=8, stop_grad_conv1=True),
    neck=NECK,
    head=dict(type="MoCoV3Head", predictor=dict(NECK, in_channels=16, num_layers=2),
              loss=dict(type="CrossEntropyLoss", loss_weight=0.4), temperature=0.2))


def build(mte: bool):
    torch.manual_seed(0)
    cfg = dict(MOCOV3, type="MTEMoCoV3", mte=dict(num_aux_cls=3, num_pooled=2)) if mte else MOCOV3
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def test_losses_by_hand():
    mte = MultiTokenEnhancer(4, num_aux_cls=1, num_pooled=1, aux_weight=0.5, distill_weight=2.0)
    glob = [torch.tensor([[0.0, math.log(3.0)]]), torch.tensor([[0.0, 0.0]])]  # two views
    aux = [[torch.tensor([[0.0, 0.0]]), torch.tensor([[0.0, 0.0]])],
           [torch.tensor([[math.log(3.0), 0.0]]), torch.tensor([[0.0, 0.0]])]]
    losses = mte.losses(glob, aux, lambda per_view: per_view[0].sum() + per_view[1].sum())
    # base loss: mean(0, log 3) * 0.5. View 1: target = mean((1/2, 1/2), (3/4, 1/4)) = (5/8, 3/8), global (1/4, 3/4);
    # view 2: target (1/2, 1/2), global (1/2, 1/2): cross-entropy log 2
    assert losses["loss_aux"].item() == pytest.approx(0.5 * math.log(3.0) / 2)
    view1 = -(5 / 8 * math.log(1 / 4) + 3 / 8 * math.log(3 / 4))
    assert losses["loss_distill"].item() == pytest.approx(2.0 * (view1 + math.log(2.0)) / 2)
    halved = mte.losses([g * 2 for g in glob], [[v * 2 for v in t] for t in aux], lambda v: v[0].sum(), 2.0)
    assert halved["loss_distill"].item() == pytest.approx(losses["loss_distill"].item())  # temperature divides
    with pytest.raises(BadInputError):
        MultiTokenEnhancer(4, num_aux_cls=-1, num_pooled=0)
    off = MultiTokenEnhancer(4, num_aux_cls=0, num_pooled=0).losses(glob, [], lambda v: v[0].sum())
    assert off["loss_aux"].item() == 0 and off["loss_distill"].item() == 0


def test_adaptive_pooling():
    mte = MultiTokenEnhancer(3, num_aux_cls=0, num_pooled=2)
    patches = torch.arange(12.0).view(1, 4, 3)
    torch.nn.init.zeros_(mte.scorer.weight)
    torch.nn.init.zeros_(mte.scorer.bias)
    pooled = mte.pool(patches)  # zero scores: uniform weights, the plain mean
    assert torch.allclose(pooled, patches.mean(1, keepdim=True).expand(1, 2, 3))
    with torch.no_grad():
        mte.scorer.weight[1] = torch.tensor([100.0, 0.0, 0.0])  # token 1 picks the patch with the largest channel 0
    assert torch.allclose(mte.pool(patches)[0, 1], patches[0, 3])
    feature_map = patches.transpose(1, 2).reshape(1, 3, 2, 2)  # a CNN's (B, C, H, W): the same pixels
    assert torch.allclose(mte.pool(feature_map), mte.pool(patches))


def test_tokens_need_a_cls_token():
    mte = MultiTokenEnhancer(32, num_aux_cls=2, num_pooled=1)
    backbone = MODELS.build(dict(type="VisionTransformer", arch=ARCH, img_size=32, patch_size=8,
                                 with_cls_token=False, out_type="featmap"))
    with pytest.raises(BadInputError):
        mte.tokens(backbone, torch.randn(1, 3, 32, 32))
    with_cls = MODELS.build(dict(type="VisionTransformer", arch=ARCH, img_size=32, patch_size=8))
    tokens, aux = mte.tokens(with_cls, torch.randn(2, 3, 32, 32))
    assert aux.shape == (2, 3, 32) and tokens.extra.shape == (2, 2, 32) and tokens.patches.shape == (2, 16, 32)


def test_auxiliary_tokens_change_training():
    base, mte = build(mte=False), build(mte=True)
    assert mte.load_state_dict(base.state_dict(), strict=False).missing_keys == [
        "mte.aux_cls", "mte.scorer.weight", "mte.scorer.bias"]
    views = [torch.randn(4, 3, 32, 32), torch.randn(4, 3, 32, 32)]
    base_loss = base.loss(views, [])["loss"]
    losses = mte.loss(views, [])
    assert set(losses) == {"loss", "loss_aux", "loss_distill"}
    assert not torch.isclose(losses["loss"], base_loss)  # the auxiliary [CLS] tokens attend with the global one
    sum(losses.values()).backward()
    assert mte.mte.aux_cls.grad.abs().sum() > 0 and mte.mte.scorer.weight.grad.abs().sum() > 0


def test_without_auxiliary_tokens_it_is_moco_v3():
    base = build(mte=False)
    torch.manual_seed(0)
    off = MODELS.build(dict(MOCOV3, type="MTEMoCoV3", mte=dict(num_aux_cls=0, num_pooled=0)))
    off.load_state_dict(base.state_dict(), strict=True)  # no auxiliary parameter at all
    views = [torch.randn(4, 3, 32, 32), torch.randn(4, 3, 32, 32)]
    assert torch.allclose(off.loss(views, [])["loss"], base.loss(views, [])["loss"], atol=1e-6)


def test_export_has_the_base_structure_and_inference_cost():
    base, mte = build(mte=False), build(mte=True)
    state = mte.state_dict()
    for prefix in ("backbone.", "momentum_encoder.module.0."):
        ours = {k for k in state if k.startswith(prefix)}
        assert ours == {k for k in base.state_dict() if k.startswith(prefix)}
    exported = {k.removeprefix("backbone."): v for k, v in state.items() if k.startswith("backbone.")}
    plain = MODELS.build(dict(type="VisionTransformer", arch=ARCH, img_size=32, patch_size=8))
    plain.load_state_dict(exported, strict=True)
    for model in (plain, mte.backbone, base.backbone):
        model.eval()  # (MMPretrain's ViTs return None from train(): no chaining)
    images = torch.randn(2, 3, 32, 32)
    assert torch.equal(plain(images)[0], mte.backbone(images)[0])

    def flops(model):
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            model(images)
        return counter.get_total_flops()

    assert flops(plain) == flops(base.backbone) > 0


def test_loss_falls():
    model = build(mte=True)
    MessageHub.get_current_instance().update_info("max_iters", 20)  # CosineEMA's momentum schedule reads it
    torch.manual_seed(1)
    images = torch.nn.functional.interpolate(torch.rand(8, 3, 4, 4), size=32, mode="bilinear")
    views = [images, images.flip(3)]
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    totals = []
    for _ in range(12):
        total = sum(model.loss(views, []).values())
        optimizer.zero_grad()
        total.backward()
        optimizer.step()
        totals.append(total.item())
    assert sum(totals[-3:]) < 0.9 * sum(totals[:3]), totals


def test_cnn_gets_pooled_tokens_only():
    neck = dict(NECK, in_channels=64, with_avg_pool=True)
    cfg = dict(MOCOV3, type="MTEMoCoV3", mte=dict(num_pooled=2),
               backbone=dict(type="ResNet", depth=18, stem_channels=8, base_channels=8, out_indices=(3,)),
               neck=neck)
    model = MODELS.build(cfg)
    MessageHub.get_current_instance().update_info("max_iters", 20)
    losses = model.loss([torch.randn(4, 3, 64, 64), torch.randn(4, 3, 64, 64)], [])  # 2 x 2 last feature map
    assert set(losses) == {"loss", "loss_aux", "loss_distill"}
    sum(losses.values()).backward()
    assert model.mte.aux_cls is None and model.mte.scorer.weight.grad.abs().sum() > 0
    base = MODELS.build({k: v for k, v in cfg.items() if k != "mte"} | {"type": "MoCoV3"})
    assert [k for k in model.state_dict() if not k.startswith("mte.")] == list(base.state_dict())
    with pytest.raises(BadInputError):
        MODELS.build(dict(cfg, mte=dict(num_aux_cls=1)))
