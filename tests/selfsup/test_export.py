"""Export: the teacher/student backbone of a training checkpoint loads strictly into MMPretrain's VisionTransformer
and into an AODRaw detection recipe's detector built on that ViT; a DINO/iBOT ViT-S/16 release layout (timm keys)
converts and loads strictly; bad input is one error line with exit code 2."""
from __future__ import annotations

from pathlib import Path

import torch
from click.testing import CliRunner
from mmengine.config import Config
from mmpretrain.registry import MODELS
from selfsup_tiny import TINY_HEAD, TINY_VIT

from imagenet_s.cli import main
from imagenet_s.selfsup import hssl  # noqa: F401  (registration)
from imagenet_s.selfsup.export import TEACHER_PREFIXES, backbone_state, convert_release_state


def _release_vit_s16(depth: int = 12) -> dict:
    """Random tensors under the exact key names and shapes of the public DINO ViT-S/16 release."""
    c, hidden = 384, 1536
    state = {"cls_token": torch.zeros(1, 1, c), "pos_embed": torch.zeros(1, 197, c),
             "patch_embed.proj.weight": torch.randn(c, 3, 16, 16), "patch_embed.proj.bias": torch.randn(c),
             "norm.weight": torch.randn(c), "norm.bias": torch.randn(c)}
    for i in range(depth):
        b = f"blocks.{i}."
        state.update({b + "norm1.weight": torch.randn(c), b + "norm1.bias": torch.randn(c),
                      b + "attn.qkv.weight": torch.randn(3 * c, c), b + "attn.qkv.bias": torch.randn(3 * c),
                      b + "attn.proj.weight": torch.randn(c, c), b + "attn.proj.bias": torch.randn(c),
                      b + "norm2.weight": torch.randn(c), b + "norm2.bias": torch.randn(c),
                      b + "mlp.fc1.weight": torch.randn(hidden, c), b + "mlp.fc1.bias": torch.randn(hidden),
                      b + "mlp.fc2.weight": torch.randn(c, hidden), b + "mlp.fc2.bias": torch.randn(c)})
    return state


def test_release_checkpoint_converts_and_loads_strictly(tmp_path):
    release = _release_vit_s16()
    path = tmp_path / "dino_deitsmall16_pretrain.pth"
    torch.save(release, path)
    out = tmp_path / "vit-s16.pth"
    result = CliRunner().invoke(main, ["selfsup", "convert-release", str(path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    vit = MODELS.build(dict(type="VisionTransformer", arch="deit-small", img_size=224, patch_size=16))
    vit.load_state_dict(torch.load(out, weights_only=True)["state_dict"], strict=True)
    assert torch.equal(vit.layers[3].ffn.layers[0][0].weight, release["blocks.3.mlp.fc1.weight"])
    assert torch.equal(vit.layers[11].attn.qkv.bias, release["blocks.11.attn.qkv.bias"])
    assert torch.equal(vit.ln1.weight, release["norm.weight"])
    # iBOT's teacher checkpoint wraps the same keys (module./backbone. prefixes, its mask embedding and heads)
    wrapped = {"teacher": {f"module.backbone.{k}": v for k, v in release.items()}}
    wrapped["teacher"].update({"module.backbone.masked_embed": torch.zeros(384),
                               "module.head.last_layer.weight_g": torch.ones(1, 8)})
    assert set(convert_release_state(wrapped)) == set(vit.state_dict())


def _trained_checkpoint(tmp_path: Path) -> Path:
    model = MODELS.build(dict(type="HSSL", backbone=TINY_VIT, head=TINY_HEAD, aux_head=dict(depth=1)))
    model.update_teacher()
    with torch.no_grad():
        for p in model.backbone.parameters():
            p.add_(1.0)  # the student moves away from the teacher
    path = tmp_path / "epoch_1.pth"
    torch.save({"meta": {"epoch": 1, "iter": 10}, "state_dict": model.state_dict()}, path)
    return path


def test_export_teacher_and_student(tmp_path):
    ckpt = _trained_checkpoint(tmp_path)
    state = torch.load(ckpt, weights_only=True)["state_dict"]
    vit = MODELS.build(dict(TINY_VIT))
    for which, prefix in (("teacher", TEACHER_PREFIXES["ibot"]), ("student", "backbone.")):
        out = tmp_path / f"{which}.pth"
        result = CliRunner().invoke(main, ["selfsup", "export", str(ckpt), "--out", str(out), "--which", which])
        assert result.exit_code == 0, result.output
        exported = torch.load(out, weights_only=True)
        assert exported["meta"] == {"which": which, "prefix": prefix, "num_tensors": len(vit.state_dict()),
                                    "source": str(ckpt), "epoch": 1, "iter": 10}
        vit.load_state_dict(exported["state_dict"], strict=True)  # no aux head, no mask token, no prefix
        assert torch.equal(vit.ln1.bias, state[prefix + "ln1.bias"])
    mocov3 = {"momentum_encoder.module.0.cls_token": torch.zeros(1), "backbone.cls_token": torch.ones(1)}
    assert backbone_state(mocov3, "teacher")[1] == "momentum_encoder.module.0."


def test_export_bad_input_is_one_error_line(tmp_path):
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a checkpoint")
    for args in (["selfsup", "export", str(junk), "--out", str(tmp_path / "o.pth")],
                 ["selfsup", "export", str(tmp_path / "missing.pth"), "--out", str(tmp_path / "o.pth")]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2 and result.output.startswith("error: "), result.output
    torch.save({"state_dict": {"head.w": torch.zeros(1)}}, tmp_path / "nobackbone.pth")
    result = CliRunner().invoke(main, ["selfsup", "export", str(tmp_path / "nobackbone.pth"), "--out",
                                       str(tmp_path / "o.pth"), "--which", "teacher"])
    assert result.exit_code == 2 and "no teacher backbone" in result.output
    assert not (tmp_path / "o.pth").exists()


def test_export_loads_strictly_into_an_aodraw_detection_recipe_on_the_vit(tmp_path):
    """An AODRaw recipe (Faster R-CNN, sRGB) with its backbone swapped for MMPretrain's ViT, as a user builds a ViT
    detector from it: the exported file is the detector backbone's state dict, and the detector runs."""
    from mmdet.registry import MODELS as DET_MODELS
    from mmengine.registry import init_default_scope

    import aodraw.mmdet  # noqa: F401  (registration)

    ckpt = _trained_checkpoint(tmp_path)
    out = tmp_path / "backbone.pth"
    assert CliRunner().invoke(main, ["selfsup", "export", str(ckpt), "--out", str(out)]).exit_code == 0
    recipe = Path(aodraw.__file__).parent / "configs" / "faster-rcnn_r50_fpn_1x_aodraw-srgb.py"
    cfg = Config.fromfile(str(recipe))
    init_default_scope("mmdet")
    cfg.model.backbone = dict(TINY_VIT, type="mmpretrain.VisionTransformer", out_type="featmap",
                              init_cfg=dict(type="Pretrained", checkpoint=str(out)))
    cfg.model.neck.in_channels = [32]
    detector = DET_MODELS.build(cfg.model)
    exported = torch.load(out, weights_only=True)["state_dict"]
    detector.backbone.load_state_dict(exported, strict=True)
    detector.backbone.layers[0].attn.qkv.weight.data.zero_()
    detector.backbone.init_weights()  # the recipe's way: init_cfg=dict(type='Pretrained', checkpoint=BACKBONE.pth)
    assert all(torch.equal(v, exported[k]) for k, v in detector.backbone.state_dict().items())
    feats = detector.extract_feat(torch.randn(1, 3, 64, 64))
    assert len(feats) == cfg.model.neck.num_outs and feats[0].shape[1] == cfg.model.neck.out_channels


def test_export_defaults_to_the_teacher_where_there_is_one(tmp_path):
    ckpt = _trained_checkpoint(tmp_path)
    out = tmp_path / "default.pth"
    assert CliRunner().invoke(main, ["selfsup", "export", str(ckpt), "--out", str(out)]).exit_code == 0
    assert torch.load(out, weights_only=True)["meta"]["which"] == "teacher"
    mae = {"backbone.cls_token": torch.zeros(1), "neck.decoder_pos_embed": torch.zeros(1)}
    assert backbone_state(mae, None) == ({"cls_token": mae["backbone.cls_token"]}, "backbone.")
