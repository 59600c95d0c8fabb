"""The plug-in on a tiny tree: the dataset, the loaders, the protocol's output rule, LUSSMetric equal to `imagenet-s
evaluate` (both means), the PNG writer, and a fixed batch on which a tiny ViT's and a tiny ResNet's loss falls."""
import math

import numpy as np
import pytest
from seg_data import LIMIT, SUBSET, WNIDS, tiny_config
from train_extra import require_train_extra

require_train_extra(module_level=True)

import torch  # noqa: E402

from evaluators.luss import MaskFolder, evaluate_folders  # noqa: E402
from evaluators.luss.masks import IGNORE  # noqa: E402


def _dataset(root, split, pipeline=()):
    from mmengine.registry import init_default_scope

    from imagenet_s.mmseg import ImageNetSDataset

    init_default_scope("mmseg")
    return ImageNetSDataset(subset=SUBSET, split=split, data_root=str(root), pipeline=list(pipeline))


def test_dataset_lists_the_split_with_others_first_and_ignore_1000(tiny_tree):
    from imagenet_s.mmseg import LoadImageNetSAnnotations

    ds = _dataset(tiny_tree, "validation", [dict(type="LoadImageNetSAnnotations")])
    assert len(ds) == 6 and ds.ignore_index == IGNORE
    classes = ds.metainfo["classes"]
    assert classes[0] == "others" and len(classes) == SUBSET + 1  # a reduced tree: ids as names
    info = ds.get_data_info(0)
    assert info["img_path"].endswith(f"validation/{WNIDS[0]}/ILSVRC2012_val_00000010.JPEG")
    assert info["seg_map_path"].endswith(".png") and info["name"].startswith(WNIDS[0])
    gt = LoadImageNetSAnnotations()(dict(info))["gt_seg_map"]
    ref = MaskFolder(tiny_tree / "ImageNetS50" / "validation-segmentation").read(info["name"])
    assert gt.dtype == np.uint16 and np.array_equal(gt, ref) and set(np.unique(gt)) == {0, 1, IGNORE}
    assert _dataset(tiny_tree, "test").get_data_info(0)["seg_map_path"] is None


def test_dataset_refuses_missing_masks_and_unknown_splits(tiny_tree, tmp_path):
    import shutil

    from plumbing.errors import BadInputError

    copy = tmp_path / "tree"
    shutil.copytree(tiny_tree, copy)
    victim = next((copy / "ImageNetS50" / "train-semi-segmentation").rglob("*.png"))
    victim.unlink()
    with pytest.raises(BadInputError, match="1 of 9 masks missing"):
        _dataset(copy, "train-semi")
    with pytest.raises(BadInputError, match="split 'val'"):
        _dataset(copy, "val")
    with pytest.raises(BadInputError, match="image folder not found"):
        _dataset(copy, "train")  # PASS pseudo labels: the train folder, masks where data_prefix points


def test_memory_guard_loader_and_output_rule(tiny_tree):
    from imagenet_s.mmseg import LoadImageNetSImage
    from imagenet_s.mmseg.dataset import shrink_to_longer_side
    from imagenet_s.mmseg.model import protocol_prediction

    img = np.zeros((1200, 900, 3), np.uint8)
    assert shrink_to_longer_side(img).shape == (1000, 750, 3)
    path = tiny_tree / "ImageNetS50" / "validation" / WNIDS[0] / "ILSVRC2012_val_00000010.JPEG"
    loaded = LoadImageNetSImage(max_pixels=LIMIT, longer_side=40)({"img_path": str(path)})
    assert loaded["img"].shape == (32, 40, 3) and loaded["ori_shape"] == (64, 80)
    assert LoadImageNetSImage()({"img_path": str(path)})["img"].shape == (64, 80, 3)
    logits = torch.randn(4, 7, 9)
    small = protocol_prediction(logits, (20, 30), max_pixels=None)
    ref = torch.nn.functional.interpolate(logits[None], size=(20, 30), mode="bilinear")[0].argmax(0)
    assert torch.equal(small, ref)
    guarded = protocol_prediction(logits, (40, 60), max_pixels=1000, longer_side=30)
    via = torch.nn.functional.interpolate(logits[None], size=(20, 30), mode="bilinear")[0].argmax(0)
    assert torch.equal(guarded, via.repeat_interleave(2, 0).repeat_interleave(2, 1))


def _runner(cfg_path, work):
    from imagenet_s.mmseg.launch import build_runner, load_config

    return build_runner(load_config(str(cfg_path), str(work)))


def test_metric_equals_imagenet_s_evaluate_on_the_written_pngs(tiny_tree, tmp_path):
    """An untrained tiny ViT tested through MMEngine with the PNG writer: LUSSMetric's numbers equal the evaluator's
    on those PNGs, for both means; the PNGs have the ground truth's size (the large image too)."""
    import json

    cfg = tiny_config(tmp_path, tiny_tree, extra=f"custom_hooks = [dict(type='SaveLUSSPredictionsHook', "
                                                  f"out_dir='{tmp_path / 'pred'}')]")
    runner = _runner(cfg, tmp_path / "work")
    metrics = runner.test()
    gt_dir = tiny_tree / "ImageNetS50" / "validation-segmentation"
    result = evaluate_folders(gt_dir, tmp_path / "pred", SUBSET, workers=1, progress=False)
    for key, value in result.metrics.items():
        ours = metrics[f"luss/{key}"]
        assert (math.isnan(value) and math.isnan(ours)) or ours == pytest.approx(value, abs=1e-9), key
    assert metrics["luss/mIoU_official"] == metrics["luss/mIoU"]
    present = [v for i, v in enumerate(result.ious) if i == 0 or i in (1, 2, 3) or v > 0]
    assert metrics["luss/mIoU_nan_skip"] >= metrics["luss/mIoU"]
    written = json.loads(next((tmp_path / "work").rglob("luss_eval.json")).read_text())
    assert written["IoUs"] == pytest.approx(list(result.ious)) and len(present) >= 4
    big = MaskFolder(tmp_path / "pred").read(f"{WNIDS[0]}/ILSVRC2012_val_00000010.png")
    assert big.shape == (64, 80) and 64 * 80 > LIMIT


@pytest.mark.parametrize("backbone, channels", [
    (None, 32),
    (dict(type="mmpretrain.ResNet", depth=18, out_indices=(3,), norm_cfg=dict(type="BN"), base_channels=8,
          stem_channels=8), 64),
])
def test_loss_is_finite_and_falls_on_a_fixed_batch(tiny_tree, tmp_path, backbone, channels):
    recipe = "vit-s16_sere-ssl_imagenet-s50" if backbone is None else "r50-d32_pass-ssl_imagenet-s50"
    cfg = tiny_config(tmp_path, tiny_tree, recipe=recipe, in_channels=channels,
                      backbone=None if backbone is None else {"_delete_": True, **backbone})
    runner = _runner(cfg, tmp_path / "work")
    torch.manual_seed(0)
    batch = next(iter(runner.train_dataloader))
    model = runner.model
    optim = runner.build_optim_wrapper(runner.cfg.optim_wrapper)
    model.train()
    losses = []
    for _ in range(6):
        log = model.train_step(batch, optim)
        losses.append(float(log["decode.loss_ce"]))
    assert all(np.isfinite(losses)) and losses[-1] < losses[0]


def test_metric_leaves_out_the_distributed_samplers_repeats(monkeypatch):
    """Rank 1 of 2 over 5 images sees positions 1, 3 and 5; position 5 is the sampler's repeat of image 0."""
    import imagenet_s.mmseg.metric as metric_module
    from evaluators.luss import LUSSEvaluator
    from imagenet_s.mmseg import LUSSMetric

    rng = np.random.default_rng(1)
    pairs = [(rng.integers(0, 4, (6, 7)), rng.integers(0, 4, (6, 7))) for _ in range(3)]
    monkeypatch.setattr(metric_module, "get_rank", lambda: 1)
    monkeypatch.setattr(metric_module, "get_world_size", lambda: 2)
    metric = LUSSMetric(mean="nan-skip")
    metric.dataset_meta = {"classes": ("others", *(str(i) for i in range(1, SUBSET + 1)))}
    for gt, pred in pairs:
        metric.process({}, [{"gt_sem_seg": {"data": torch.from_numpy(gt)[None]},
                             "pred_sem_seg": {"data": torch.from_numpy(pred)[None]}}])
    got = metric.evaluate(5)
    expected = LUSSEvaluator(SUBSET)
    for gt, pred in pairs[:2]:
        expected.update(gt, pred)
    result = expected.compute()
    assert got["luss/FMeasure"] == pytest.approx(result.metrics["FMeasure"])
    assert got["luss/mIoU_official"] == pytest.approx(result.metrics["mIoU"])
    assert got["luss/mIoU"] == pytest.approx(np.mean(result.ious[:4]))  # nan-skip: the 4 classes present
