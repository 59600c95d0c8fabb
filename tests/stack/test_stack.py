"""The train stack used for real: MMPretrain's ConvNeXt behind the ConvNeXt recipes (parameter names, MMPretrain
checkpoints, MMDetection's layer-wise lr decay) and an MMSegmentation model on the CPU."""
import pytest
from train_extra import require_train_extra

require_train_extra(module_level=True)

import torch  # noqa: E402
from mmengine.config import Config, ConfigDict  # noqa: E402

from aodraw.recipes import find_recipe  # noqa: E402

RECIPE = "cascade-rcnn_convnext-t_fpn_1x_aodraw-raw"
SMALL = dict(depths=[1, 1, 2, 1], channels=[8, 16, 24, 32])


def recipe_backbone(name: str = RECIPE, **changes) -> dict:
    """The recipe's backbone dict, read as ``tools/train.py`` reads it (which imports its ``custom_imports``)."""
    cfg = Config.fromfile(str(find_recipe(name).config))
    return dict(cfg.model.backbone.to_dict(), **changes)


def build(cfg: dict, scope: str = "mmdet"):
    from mmengine.registry import MODELS

    return MODELS.build(dict(cfg, _scope_=scope))


def test_the_recipe_convnext_is_mmpretrains_with_its_parameter_names_and_strides():
    from mmpretrain.models import ConvNeXt

    cfg = Config.fromfile(str(find_recipe(RECIPE).config))
    assert "mmpretrain.models" in cfg.custom_imports.imports and cfg.model.backbone.type == "mmpretrain.ConvNeXt"
    net = build(recipe_backbone(init_cfg=None))
    assert type(net) is ConvNeXt
    shapes = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    assert shapes["downsample_layers.0.0.weight"] == (96, 3, 4, 4)
    assert shapes["downsample_layers.1.0.weight"] == (96,) and shapes["downsample_layers.1.1.weight"] == (192, 96, 2, 2)
    assert shapes["stages.2.8.depthwise_conv.weight"] == (384, 1, 7, 7)
    assert shapes["stages.2.8.pointwise_conv1.weight"] == (1536, 384)
    assert shapes["stages.3.2.gamma"] == (768,) and shapes["norm3.weight"] == (768,)
    assert "stages.2.9.norm.weight" not in shapes and len(shapes) == 16 + 18 * 9 + 8  # tiny: 3+3+9+3 blocks
    net.eval()
    with torch.no_grad():
        feats = net(torch.zeros(1, 3, 64, 96))
    assert [tuple(f.shape) for f in feats] == [(1, 96, 16, 24), (1, 192, 8, 12), (1, 384, 4, 6), (1, 768, 2, 3)]
    frozen = build(recipe_backbone(init_cfg=None, arch=SMALL, frozen_stages=1))
    assert not any(p.requires_grad for p in frozen.stages[0].parameters())
    assert all(p.requires_grad for p in frozen.stages[1].parameters())


def test_an_mmpretrain_classifier_checkpoint_loads_into_the_recipe_backbone(tmp_path):
    torch.manual_seed(0)
    classifier = build(dict(type="ImageClassifier", backbone=dict(type="ConvNeXt", arch=SMALL),
                            head=dict(type="LinearClsHead", num_classes=5, in_channels=32)), scope="mmpretrain")
    state = classifier.state_dict()
    assert any(k.startswith("head.fc.") for k in state)
    path = tmp_path / "convnext_in1k.pth"
    torch.save({"meta": {"mmpretrain_version": "1.2.0", "epoch": 300}, "state_dict": state}, path)  # as MMPretrain
    cfg = recipe_backbone(arch=SMALL)
    assert cfg["init_cfg"]["prefix"] == "backbone."
    backbone = build(dict(cfg, init_cfg=dict(cfg["init_cfg"], checkpoint=str(path))))
    backbone.init_weights()
    loaded = backbone.state_dict()
    expected = {k.removeprefix("backbone."): v for k, v in state.items() if k.startswith("backbone.")}
    assert set(expected) == set(loaded) - {f"norm{i}.{p}" for i in range(3) for p in ("weight", "bias")}
    assert all(torch.equal(loaded[k], v) for k, v in expected.items())


def test_layer_wise_lr_decay_recognises_the_recipe_backbone():
    from mmdet.registry import OPTIM_WRAPPER_CONSTRUCTORS

    from aodraw.mmdet.launch import build_detector

    model = build_detector(find_recipe("faster-rcnn_convnext-t_fpn_1x_aodraw-srgb").config)
    optim = Config.fromfile(str(find_recipe("faster-rcnn_convnext-t_fpn_1x_aodraw-srgb").config)).optim_wrapper
    constructor = OPTIM_WRAPPER_CONSTRUCTORS.build(dict(
        type=optim.constructor, paramwise_cfg=optim.paramwise_cfg,
        optim_wrapper_cfg=dict(type="OptimWrapper", optimizer=optim.optimizer)))  # the CPU has no AMP wrapper
    groups = constructor(model).optimizer.param_groups
    lr = {name: group["lr"] for group in groups for name in group["param_names"]}
    base, decay = optim.optimizer.lr, optim.paramwise_cfg.decay_rate
    assert lr["backbone.downsample_layers.0.0.weight"] == pytest.approx(base * decay ** 7)  # stem: layer 0 of 6 + 2
    assert lr["backbone.stages.2.8.pointwise_conv1.weight"] == pytest.approx(base * decay ** 2)  # stage 3 block 9
    assert lr["neck.lateral_convs.0.conv.weight"] == pytest.approx(base)


def test_an_mmsegmentation_fcn_trains_and_predicts_on_the_cpu():
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample

    torch.manual_seed(0)
    model = build(dict(
        type="EncoderDecoder",
        data_preprocessor=dict(type="SegDataPreProcessor", mean=[123.675, 116.28, 103.53],
                               std=[58.395, 57.12, 57.375], bgr_to_rgb=True, size_divisor=32),
        backbone=dict(type="ResNetV1c", depth=18, stem_channels=8, base_channels=8, out_indices=(2, 3),
                      norm_cfg=dict(type="BN", requires_grad=True)),
        decode_head=dict(type="FCNHead", in_channels=64, in_index=1, channels=16, num_convs=1, num_classes=3,
                         dropout_ratio=0.0, loss_decode=dict(type="CrossEntropyLoss", avg_non_ignore=True)),
        test_cfg=ConfigDict(mode="whole")), scope="mmseg")  # mmseg reads test_cfg.mode: a config's ConfigDict
    images = [torch.randint(0, 256, (3, 60, 70), dtype=torch.uint8) for _ in range(2)]
    samples = []
    for image in images:
        sample = SegDataSample(metainfo=dict(ori_shape=(60, 70), img_shape=(60, 70)))
        sample.gt_sem_seg = PixelData(data=(image[:1] > 127).long() + (image[1:2] > 200).long())
        samples.append(sample)
    batch = model.data_preprocessor(dict(inputs=images, data_samples=samples), training=True)
    assert batch["inputs"].shape == (2, 3, 64, 96)
    losses = model(**batch, mode="loss")
    losses["decode.loss_ce"].backward()
    assert torch.isfinite(losses["decode.loss_ce"]) and model.decode_head.conv_seg.weight.grad.abs().sum() > 0
    model.eval()
    with torch.no_grad():
        predicted = model.test_step(dict(inputs=images, data_samples=samples))
    assert [tuple(p.pred_sem_seg.data.shape) for p in predicted] == [(1, 60, 70)] * 2
    assert int(predicted[0].pred_sem_seg.data.max()) < 3
