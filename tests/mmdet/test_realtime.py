"""The real-time track on CPU: tiny RTMDet/YOLOX variants of the shipped recipes train a few iterations on the tiny
AODRaw data (sRGB, downsampled RAW and packed Bayer through the 4-channel stem), and ``aodraw infer --latency
--export onnx`` reports sane batch-1 latency and onnxruntime detections equal to PyTorch's."""
import json
import math

import numpy as np
import pytest
from click.testing import CliRunner
from mmdet_data import CLASSES, tiny_realtime_config, write_bayer_packs
from train_extra import require_train_extra

from aodraw.cli import main


@pytest.fixture(scope="module")
def bayer_data(tiny_data):
    require_train_extra()
    write_bayer_packs(tiny_data)
    return tiny_data


def _train(config, work):
    from mmengine.config import Config

    from aodraw.mmdet.launch import build_runner

    cfg = Config.fromfile(config)
    cfg.work_dir = str(work)
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None  # a few iterations: nothing to validate yet
    runner = build_runner(cfg)
    runner.train()
    return runner


@pytest.mark.parametrize("recipe", ["rtmdet-tiny_640_aodraw-srgb", "yolox-tiny_640_aodraw-raw",
                                    "rtmdet-tiny_640_aodraw-bayer", "yolox-tiny_640_aodraw-bayer"])
def test_tiny_variants_train_a_few_iterations(bayer_data, tmp_path, recipe):
    config = tiny_realtime_config(tmp_path, recipe, bayer_data, **{"optim_wrapper.optimizer.lr": 1e-3})
    runner = _train(config, tmp_path / "work")
    losses = runner.message_hub.get_scalar("train/loss").data[0]
    assert len(losses) == 4 and all(math.isfinite(v) for v in losses)  # 8 images, batch 2
    assert (tmp_path / "work" / "epoch_1.pth").is_file()
    if recipe.endswith("bayer"):
        model = runner.model
        if recipe.startswith("rtmdet"):  # normalised per plane (YOLOX feeds the raw 0..255 scale)
            assert model.data_preprocessor.mean.flatten().tolist() == pytest.approx([123.675, 116.28, 103.53, 116.28])
        first = next(m for m in model.backbone.stem.modules() if hasattr(m, "in_channels") and hasattr(m, "weight"))
        assert first.in_channels == (16 if recipe.startswith("yolox") else 4)  # Focus packs 2x2 positions first
        loader = runner.train_dataloader.dataset.pipeline.transforms[0]
        sample = loader({"img_path": str(bayer_data["root"] / "images_bayer_downsampled" / "00000000.npy")})
        assert sample["img"].shape == (64, 96, 4) and sample["img"].dtype == np.float32


@pytest.fixture(scope="module")
def checkpoint(bayer_data, tmp_path_factory):
    """A tiny RTMDet trained for one epoch (seeded), its class scores then spread out (after 4 iterations they are
    nearly tied, and tied detections cannot be told apart), saved as a checkpoint; and its config."""
    import torch

    folder = tmp_path_factory.mktemp("realtime")
    config = tiny_realtime_config(folder, "rtmdet-tiny_640_aodraw-srgb", bayer_data,
                                  **{"model.test_cfg.score_thr": 0.0, "randomness": {"seed": 0}})
    model = _train(config, folder / "work").model
    torch.manual_seed(0)
    for module in model.bbox_head.modules():
        if isinstance(module, torch.nn.Conv2d) and module.out_channels == len(CLASSES):
            torch.nn.init.normal_(module.weight, std=0.5)
    path = folder / "spread.pth"
    torch.save({"state_dict": model.state_dict(), "meta": {"dataset_meta": {"classes": tuple(CLASSES)}}}, path)
    return config, str(path)


def test_latency_report_and_onnx_detections_match(bayer_data, checkpoint, tmp_path):
    pytest.importorskip("onnxruntime")
    config, ckpt = checkpoint
    out, report = tmp_path / "dt.json", tmp_path / "report.json"
    result = CliRunner().invoke(main, ["infer", config, ckpt, "--ann", str(bayer_data["ann"]), "--out", str(out),
                                       "--device", "cpu", "--workers", "0", "--latency", "--warmup", "2", "--runs",
                                       "5", "--export", "onnx", "--report", str(report)])
    assert result.exit_code == 0, result.output
    assert "model latency, batch 1 (ms)" in result.output and "detections match" in result.output
    summary = json.loads(report.read_text())
    latency = summary["latency"]
    assert (latency["batch_size"], latency["warmup"], latency["runs"], latency["device"]) == (1, 2, 5, "cpu")
    assert 0 < latency["p50_ms"] <= latency["p95_ms"] < 60_000
    assert latency["fps"] == pytest.approx(1000 / latency["mean_ms"]) and latency["input_shape"] == [3, 96, 96]
    onnx = summary["onnx"]
    assert onnx["match"] and onnx["detections"] >= onnx["compared"] == onnx["matched"] > 0
    assert onnx["max_output_diff"] < 1e-3 and onnx["max_box_diff"] <= 0.05 and (tmp_path / "dt.onnx").is_file()
    assert 0 < onnx["p50_ms"] <= onnx["p95_ms"]


def test_latency_refuses_batches_and_slices(bayer_data, checkpoint, tmp_path):
    config, ckpt = checkpoint
    result = CliRunner().invoke(main, ["infer", config, ckpt, "--ann", str(bayer_data["ann"]), "--out",
                                       str(tmp_path / "dt.json"), "--device", "cpu", "--workers", "0",
                                       "--latency", "--batch-size", "2"])
    assert result.exit_code == 2 and "batch size 1 on whole images only" in result.output
