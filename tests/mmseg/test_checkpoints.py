"""Backbone checkpoints in each public layout load strictly into their shipped recipes (MAE, DINO/iBOT/SERE-style
teacher checkpoints, MMPretrain, torchvision/PASS ResNet-50, this toolkit's own exports); a key that does not load is
an error naming it."""
import pytest
from train_extra import require_train_extra

require_train_extra(module_level=True)

import torch  # noqa: E402

from plumbing.errors import BadInputError  # noqa: E402

TIMM = {"patch_embed.projection.": "patch_embed.proj.", "ln1.": "norm1.", "ln2.": "norm2.",
        "ffn.layers.0.0.": "mlp.fc1.", "ffn.layers.1.": "mlp.fc2."}


def _timm_names(state: dict) -> dict:
    """MMPretrain ViT names -> timm names (the inverse of the loader's conversion, written out for the test)."""
    out = {}
    for key, value in state.items():
        if key.startswith("layers."):
            _, i, rest = key.split(".", 2)
            for mm, timm in TIMM.items():
                rest = rest.replace(mm, timm) if rest.startswith(mm) else rest
            key = f"blocks.{i}.{rest}"
        elif key.startswith("ln1."):
            key = "norm." + key[4:]
        else:
            key = key.replace("patch_embed.projection.", "patch_embed.proj.")
        out[key] = value
    return out


def _build(recipe: str, checkpoint=None, layout: str = "auto"):
    from imagenet_s.mmseg.launch import build_segmentor, load_config

    cfg = load_config(recipe)
    cfg.model.backbone_checkpoint = str(checkpoint) if checkpoint else None
    cfg.model.checkpoint_layout = layout
    return build_segmentor(cfg, weights=checkpoint is not None)


def _same(model, reference: dict) -> bool:
    own = model.backbone.state_dict()
    return set(own) == set(reference) and all(torch.equal(own[k], reference[k]) for k in reference)


@pytest.fixture(scope="module")
def vit_s():
    torch.manual_seed(0)
    model = _build("vit-s16_sere-ssl_imagenet-s50")
    return {k: torch.randn_like(v) for k, v in model.backbone.state_dict().items()}


def test_vit_layouts_load_strictly(vit_s, tmp_path):
    recipe = "vit-s16_sere-ssl_imagenet-s50"
    timm = _timm_names(vit_s)
    files = {
        "toolkit": {k: v for k, v in vit_s.items()},  # imagenet-s selfsup export / aodraw pretrain export
        "mmpretrain": {"state_dict": {**{f"backbone.{k}": v for k, v in vit_s.items()},
                                      "head.layers.head.weight": torch.zeros(3, 384)}, "meta": {}},
        "mae": {"model": {**timm, "mask_token": torch.zeros(1, 1, 512), "decoder_embed.weight": torch.zeros(2, 2),
                          "decoder_pred.bias": torch.zeros(2)}},
        "dino": {"teacher": {**{f"backbone.{k}": v for k, v in timm.items()}, "head.mlp.0.weight": torch.zeros(2)},
                 "student": {"backbone.blocks.0.norm1.weight": torch.zeros(1)}, "epoch": 100},
        "mae-finetuned": {"model": {**{k.replace("norm.", "fc_norm.") if k.startswith("norm.") else k: v
                                       for k, v in timm.items()}, "head.weight": torch.zeros(1000, 384)}},
    }
    for name, content in files.items():
        path = tmp_path / f"{name}.pth"
        torch.save(content, path)
        assert _same(_build(recipe, path), vit_s), name
    assert _same(_build(recipe, tmp_path / "dino.pth", layout="timm"), vit_s)
    assert _same(_build(recipe, tmp_path / "toolkit.pth", layout="timm"), vit_s)  # the recipe's own layout


def test_resnet_and_convnext_layouts_load_strictly(tmp_path):
    import torchvision

    torchvision_state = torchvision.models.resnet50(weights=None).state_dict()
    torch.save(torchvision_state, tmp_path / "tv.pth")
    model = _build("r50-d16_pass-ssl_imagenet-s50", tmp_path / "tv.pth")
    assert _same(model, {k: v for k, v in torchvision_state.items() if not k.startswith("fc.")})
    pass_style = {"state_dict": {f"module.{k}": v for k, v in torchvision_state.items() if not k.startswith("fc.")}}
    pass_style["state_dict"]["module.prototypes.weight"] = torch.zeros(3, 128)
    pass_style["state_dict"]["module.projection_head.0.weight"] = torch.zeros(3, 3)
    torch.save(pass_style, tmp_path / "pass.pth")
    assert _same(_build("r50-d32_pass-ssl_imagenet-s50", tmp_path / "pass.pth", layout="torchvision"),
                 {k: v for k, v in torchvision_state.items() if not k.startswith("fc.")})
    convnext = _build("convnext-t_sup_imagenet-s50").backbone.state_dict()
    torch.save({"state_dict": {f"backbone.{k}": v + 1 for k, v in convnext.items()}}, tmp_path / "cx.pth")
    assert _same(_build("convnext-t_sup_imagenet-s50", tmp_path / "cx.pth"), {k: v + 1 for k, v in convnext.items()})


def test_a_key_that_does_not_load_is_an_error(vit_s, tmp_path):
    torch.save({**vit_s, "layers.0.extra.weight": torch.zeros(1)}, tmp_path / "extra.pth")
    with pytest.raises(BadInputError, match="1 unexpected keys \\(first: layers.0.extra.weight"):
        _build("vit-s16_sere-ssl_imagenet-s50", tmp_path / "extra.pth")
    torch.save({k: v for k, v in vit_s.items() if k != "ln1.weight"}, tmp_path / "missing.pth")
    with pytest.raises(BadInputError, match="1 missing keys \\(first: ln1.weight"):
        _build("vit-s16_sere-ssl_imagenet-s50", tmp_path / "missing.pth")
    torch.save({**vit_s, "ln1.weight": torch.zeros(10)}, tmp_path / "shape.pth")
    with pytest.raises(BadInputError, match="does not fit the backbone"):
        _build("vit-s16_sere-ssl_imagenet-s50", tmp_path / "shape.pth")
    with pytest.raises(BadInputError, match="not found"):
        _build("vit-s16_sere-ssl_imagenet-s50", tmp_path / "none.pth")


def test_raw_pretraining_exports_load_with_the_detection_out_indices(tmp_path):
    """``aodraw pretrain export`` files of a ConvNeXt-T (four per-stage norms) load strictly once the recipe keeps
    the detection backbone's outputs, and name the extra norms otherwise."""
    from imagenet_s.mmseg.launch import build_segmentor, load_config

    cfg = load_config("convnext-t_sup_imagenet-s50", cfg_options={"model.backbone.out_indices": [0, 1, 2, 3]})
    state = {k: v + 0.5 for k, v in build_segmentor(cfg).backbone.state_dict().items()}
    torch.save({"state_dict": state, "meta": {"arch": "mmpretrain.ConvNeXt", "backbone": {"arch": "tiny"},
                                              "step": 10}}, tmp_path / "raw.pth")
    cfg.model.backbone_checkpoint = str(tmp_path / "raw.pth")
    assert _same(build_segmentor(cfg, weights=True), state)
    with pytest.raises(BadInputError, match="unexpected keys \\(first: norm0"):
        _build("convnext-t_sup_imagenet-s50", tmp_path / "raw.pth")
