"""PR-MIM on a tiny MAE: MAE's decoder reproduced at throw ratio 0, gradients reaching every masked token's
prediction (only the kept ones in partial reconstruction), falling losses, and the shipped recipes building."""
import copy
from pathlib import Path

import pytest
import torch
from train_extra import require_train_extra

require_train_extra(module_level=True)

from mmengine.config import Config  # noqa: E402
from mmpretrain.models.necks.mae_neck import MAEPretrainDecoder  # noqa: E402
from mmpretrain.registry import MODELS  # noqa: E402

import imagenet_s.selfsup.prmim  # noqa: E402,F401  (registers PRMIM, PRMIMDecoder)
from plumbing.errors import BadInputError  # noqa: E402

CONFIGS = Path(__file__).resolve().parents[2] / "imagenet_s" / "configs" / "selfsup"
DECODER = dict(num_patches=16, patch_size=8, embed_dim=32, decoder_embed_dim=16, decoder_depth=2,
               decoder_num_heads=2)
PROGRESSIVE = dict(num_stages=2, num_neighbours=3, num_heads=2)


def tiny_model(neck: dict):
    """A tiny MAE / PR-MIM: ViT of 2 blocks, width 32, on 32x32 images (16 patches of 8, 12 masked)."""
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type="PRMIM" if neck.get("type") == "PRMIMDecoder" else "MAE",
        backbone=dict(type="MAEViT", arch=dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64),
                      img_size=32, patch_size=8, mask_ratio=0.75),
        neck=dict(DECODER, **neck),
        head=dict(type="MAEPretrainHead", norm_pix=True, patch_size=8,
                  loss=dict(type="PixelReconstructionLoss", criterion="L2"))))
    model.init_weights()
    return model


def test_throw_ratio_zero_is_maes_decoder():
    torch.manual_seed(0)
    reference = MAEPretrainDecoder(**DECODER)
    reference.init_weights()
    decoder = MODELS.get("PRMIMDecoder")
    ours = decoder(throw_ratio=0.0, **DECODER)
    ours.load_state_dict(reference.state_dict(), strict=True)
    ids_restore = torch.stack([torch.randperm(16) for _ in range(2)])
    latent = torch.randn(2, 5, 32)
    mask = (ids_restore >= 4).float()
    pred, loss_mask = ours(latent, ids_restore, mask)
    assert torch.equal(loss_mask, mask)
    assert torch.allclose(pred[mask.bool()], reference(latent, ids_restore)[mask.bool()], atol=1e-5)
    with pytest.raises(BadInputError):
        decoder(throw_ratio=1.0, **DECODER)
    with pytest.raises(BadInputError):
        decoder(sampling="grid", **DECODER)


@pytest.mark.parametrize("progressive", [PROGRESSIVE, None], ids=["prmim", "partial"])
def test_gradients_reach_every_masked_prediction(progressive):
    model = tiny_model(dict(type="PRMIMDecoder", throw_ratio=0.5, progressive=progressive))
    images = torch.randn(3, 3, 32, 32)
    latent, mask, ids_restore = model.backbone(images)
    pred, loss_mask = model.neck(latent, ids_restore, mask)
    pred.retain_grad()
    model.head.loss(pred, images, loss_mask).backward()
    reached = pred.grad.abs().sum(-1) > 0  # (B, L)
    _, kept, thrown = model.neck.split_masked(ids_restore, latent.shape[1] - 1)
    assert reached.sum(1).tolist() == loss_mask.sum(1).tolist()
    assert reached.gather(1, kept).all()
    if progressive:
        assert torch.equal(reached, mask.bool())  # every masked token, thrown ones included
        assert reached.gather(1, thrown).all()
        assert model.neck.progressive.layer.query.weight.grad.abs().sum() > 0
    else:
        assert not reached.gather(1, thrown).any()  # thrown tokens leave the loss


def smooth_images(count=4):
    """Learnable images: random 4x4 colour fields upsampled bilinearly to 32x32."""
    return torch.nn.functional.interpolate(torch.rand(count, 3, 4, 4), size=32, mode="bilinear")


def train_steps(model, steps=12, images=None):
    """Losses of ``steps`` AdamW steps on one fixed batch."""
    images = torch.rand(4, 3, 32, 32) if images is None else images
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(steps):
        loss = model.loss(images, [])["loss"]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


@pytest.mark.parametrize("neck", [dict(type="PRMIMDecoder", throw_ratio=0.5, progressive=PROGRESSIVE),
                                  dict(type="PRMIMDecoder", throw_ratio=0.5, sampling="random", progressive=None)],
                         ids=["prmim", "partial"])
def test_loss_falls(neck):
    torch.manual_seed(0)
    losses = train_steps(tiny_model(neck), images=smooth_images())
    assert sum(losses[-3:]) < 0.85 * sum(losses[:3]), losses


def test_recipes_differ_only_in_the_decoder():
    mae = Config.fromfile(str(CONFIGS / "mae_vit-base-p16_8xb512-amp-coslr-400e_in1k.py"))
    for name, throw, sampling, progressive in (("partial", 0.5, "random", False), ("prmim", 0.5, "furthest", True)):
        cfg = Config.fromfile(str(CONFIGS / f"{name}_vit-base-p16_8xb512-amp-coslr-400e_in1k.py"))
        assert cfg.model.type == "PRMIM" and cfg.model.neck.type == "PRMIMDecoder"
        assert (cfg.model.neck.throw_ratio, cfg.model.neck.sampling) == (throw, sampling)
        assert (cfg.model.neck.progressive is not None) == progressive
        for key in ("optim_wrapper", "param_scheduler", "train_cfg", "train_dataloader"):
            assert cfg[key] == mae[key], key
        neck = {k: v for k, v in cfg.model.neck.items() if k not in ("type", "throw_ratio", "sampling", "progressive")}
        assert neck == {k: v for k, v in mae.model.neck.items() if k != "type"}
        assert copy.deepcopy(cfg.model.backbone) == mae.model.backbone
