"""``aodraw infer`` on CPU with a real (randomly initialised, saved and reloaded) Faster R-CNN R18 checkpoint: the
results equal MMDetection's own test loop, do not depend on batch size, workers or how the images are named, score
with ``aodraw evaluate``; sliced inference maps window boxes back to the full image; bad input exits 2."""
import json

import numpy as np
import pytest
from click.testing import CliRunner
from mmdet_data import CLASSES, tiny_config
from train_extra import require_train_extra

from aodraw.cli import main

RECIPE = "faster-rcnn_r18_fpn_1x_aodraw-raw"

@pytest.fixture(scope="module")
def model(tiny_data, tmp_path_factory):
    """Tiny RAW and sRGB configs (the same model) and a checkpoint of it, randomly initialised (class scores spread
    out)."""
    require_train_extra()
    import torch
    from mmdet.registry import MODELS
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    folder = tmp_path_factory.mktemp("infer_model")
    config = tiny_config(folder, RECIPE, tiny_data)
    init_default_scope("mmdet")
    torch.manual_seed(0)
    detector = MODELS.build(Config.fromfile(config).model)
    detector.init_weights()
    torch.nn.init.normal_(detector.roi_head.bbox_head.fc_cls.weight, std=0.5)
    checkpoint = folder / "tiny.pth"
    torch.save({"state_dict": detector.state_dict(), "meta": {"dataset_meta": {"classes": tuple(CLASSES)}}},
               checkpoint)
    return config, str(checkpoint), tiny_config(folder, RECIPE.replace("-raw", "-srgb"), tiny_data)


def infer(*args):
    return CliRunner().invoke(main, ["infer", *map(str, args), "--device", "cpu"])


def load_sorted(path) -> list[dict]:
    return sorted(json.loads(open(path).read()), key=lambda d: (d["image_id"], d["category_id"], -d["score"]))


def assert_same(ours: list[dict], theirs: list[dict], atol: float = 1e-3) -> None:
    assert len(ours) == len(theirs) > 0
    assert [(d["image_id"], d["category_id"]) for d in ours] == [(d["image_id"], d["category_id"]) for d in theirs]
    np.testing.assert_allclose([d["bbox"] for d in ours], [d["bbox"] for d in theirs], atol=atol)
    np.testing.assert_allclose([d["score"] for d in ours], [d["score"] for d in theirs], atol=1e-5)


def iou(a, b) -> float:
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    inter = max(w, 0) * max(h, 0)
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def test_results_equal_mmdetection_test_loop_and_score(model, tiny_data, tmp_path):
    config, checkpoint, srgb_config = model
    out = tmp_path / "ann.json"
    run = infer(config, checkpoint, "--ann", tiny_data["ann"], "--out", out, "--batch-size", 2, "--workers", 0,
                "--report", tmp_path / "report.json")
    assert run.exit_code == 0, run.output
    assert "images/s" in run.stdout and "latency per image" in run.stdout
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["images"] == 8 and report["batches"] == 4 and report["peak_memory_mb"] > 0
    ours = load_sorted(out)

    # MMDetection's own loop (tools/test.py --format-only) on the same checkpoint and images
    from mmengine.config import Config

    from aodraw.mmdet.launch import build_runner

    cfg = Config.fromfile(config)
    cfg.work_dir, cfg.load_from = str(tmp_path / "work"), checkpoint
    cfg.test_evaluator.update(format_only=True, outfile_prefix=str(tmp_path / "mmdet"))
    build_runner(cfg).test()
    assert_same(ours, load_sorted(tmp_path / "mmdet.bbox.json"), atol=1e-4)
    assert {d["category_id"] for d in ours} <= {0, 1, 2}

    scored = CliRunner().invoke(main, ["evaluate", "--gt", str(tiny_data["ann"]), "--dt", str(out)])
    assert scored.exit_code == 0, scored.output

    # a folder alone, one image per batch, a worker process: same detections; ids = sorted file positions
    folder_out = tmp_path / "folder.json"
    run = infer(config, checkpoint, "--images", tiny_data["root"] / "images_downsampled_raw", "--out", folder_out,
                "--batch-size", 1, "--workers", 1)
    assert run.exit_code == 0, run.output
    assert_same(load_sorted(folder_out), ours)
    sidecar = json.loads((tmp_path / "folder.images.json").read_text())
    assert sidecar["images"][3] == {"id": 3, "file_name": "00000003.npy", "height": 64, "width": 96}
    assert [c["name"] for c in sidecar["categories"]] == CLASSES

    # bf16 autocast (backbone and neck) on the CPU: the top boxes of every image stay where they were
    bf16_out = tmp_path / "bf16.json"
    run = infer(config, checkpoint, "--ann", tiny_data["ann"], "--out", bf16_out, "--batch-size", 2, "--workers", 0,
                "--amp", "bf16")
    assert run.exit_code == 0, run.output
    assert "amp bf16" in run.stdout
    bf16 = load_sorted(bf16_out)
    for image_id in range(8):
        top = sorted((d for d in ours if d["image_id"] == image_id), key=lambda d: -d["score"])[:5]
        for d in top:
            assert max(iou(d["bbox"], e["bbox"]) for e in bf16
                       if e["image_id"] == image_id and e["category_id"] == d["category_id"]) > 0.9, d


@pytest.mark.parametrize("kind", ["raw", "srgb"])
def test_sliced_inference_maps_window_boxes_back(model, tmp_path, kind):
    """A 96 x 160 image cut 96:32 has two windows, x = 0 and 64; the second window stored as its own slice gives the
    same boxes shifted by 64 px (no merge: NMS IoU 1). RAW: a Bayer pack (4 x 48 x 80); sRGB: a PNG (lossless)."""
    import cv2

    config, checkpoint, srgb_config = model
    rng = np.random.default_rng(1)
    full, window = tmp_path / "full", tmp_path / "window"
    full.mkdir()
    window.mkdir()
    if kind == "raw":
        planes = rng.integers(0, 2 ** 14 - 1, (4, 48, 80)).astype(np.uint16)
        planes[:, 10:30, 40:70] = 12000  # something box-like inside the second window
        np.save(full / "img.npy", planes)
        np.save(window / "img__96__64___0.npy", planes[:, :, 32:80].astype(np.float32))  # as `convert slice` does
    else:
        config = srgb_config
        bgr = rng.integers(0, 255, (96, 160, 3)).astype(np.uint8)
        bgr[20:60, 80:140] = (40, 200, 250)
        cv2.imwrite(str(full / "img.png"), bgr)
        cv2.imwrite(str(window / "img__96__64___0.png"), bgr[:, 64:160])

    run = infer(config, checkpoint, "--images", full, "--out", tmp_path / "sliced.json", "--slices", "96:32",
                "--nms-iou", 1, "--workers", 0)
    assert run.exit_code == 0, run.output
    run = infer(config, checkpoint, "--images", window, "--out", tmp_path / "window.json", "--workers", 0)
    assert run.exit_code == 0, run.output
    sliced = json.loads((tmp_path / "sliced.json").read_text())
    second = json.loads((tmp_path / "window.json").read_text())
    assert json.loads((tmp_path / "sliced.images.json").read_text())["images"][0]["width"] == 160
    assert second and len(sliced) > len(second)
    boxes = np.array([d["bbox"] for d in sliced])
    for d in second:  # each box of the second window, shifted by 64 px, is among the full image's boxes
        shifted = np.array([d["bbox"][0] + 64, *d["bbox"][1:]])
        same = [np.allclose(box, shifted, atol=1e-3) and s["category_id"] == d["category_id"]
                and abs(s["score"] - d["score"]) < 1e-5 for box, s in zip(boxes, sliced)]
        assert any(same), d
    assert max(d["bbox"][0] + d["bbox"][2] for d in second) + 64 > 96  # beyond the first window


def test_rfnext_structure_applied_before_loading(tiny_data, tmp_path):
    """A checkpoint of an RF-Next search model (convolutions wrapped into multi-branch ops) loads strictly only if
    the harness applies the config's structure first."""
    import torch
    from mmdet.registry import MODELS
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from aodraw.mmdet.rfnext import apply_rfsearch, rfsearch_hook_cfg

    config = tiny_config(tmp_path, "cascade-rcnn_r50-rfnext-search_fpn_1x_aodraw-srgb", tiny_data)
    cfg = Config.fromfile(config)
    init_default_scope("mmdet")
    detector = MODELS.build(cfg.model)
    apply_rfsearch(detector, rfsearch_hook_cfg(cfg))
    state = detector.state_dict()
    assert any("branch_weights" in k for k in state)
    torch.save({"state_dict": state, "meta": {"dataset_meta": {"classes": tuple(CLASSES)}}}, tmp_path / "rf.pth")
    run = infer(config, tmp_path / "rf.pth", "--ann", tiny_data["ann"], "--out", tmp_path / "rf.json",
                "--workers", 0, "--batch-size", 4)
    assert run.exit_code == 0, run.output
    assert json.loads((tmp_path / "rf.json").read_text())


@pytest.mark.parametrize("case", ["neither", "missing-ann", "malformed-ann", "missing-image", "unreadable-image",
                                  "bad-slices", "odd-slices", "fp16-on-cpu", "missing-checkpoint"])
def test_bad_input_exits_2(model, tiny_data, tmp_path, case):
    config, checkpoint, srgb_config = model
    out = tmp_path / "out.json"
    args = [config, checkpoint, "--out", out, "--workers", 0]
    images = tiny_data["root"] / "images_downsampled_raw"
    expect = {"neither": "--images", "missing-ann": "nope.json", "malformed-ann": "bad.json",
              "missing-image": "99999999.npy", "unreadable-image": "broken.npy", "bad-slices": "--slices",
              "odd-slices": "--slices", "fp16-on-cpu": "--amp fp16", "missing-checkpoint": "none.pth"}[case]
    if case == "missing-ann":
        args += ["--ann", tmp_path / "nope.json"]
    elif case == "malformed-ann":
        (tmp_path / "bad.json").write_text('{"images": [{"id": 1}], "categories": []}')
        args += ["--ann", tmp_path / "bad.json", "--images", images]
    elif case == "missing-image":
        ann = json.loads(tiny_data["ann"].read_text())
        ann["images"][2]["file_name"] = "99999999.JPG"
        (tmp_path / "ann.json").write_text(json.dumps(ann))
        args += ["--ann", tmp_path / "ann.json"]
    elif case == "unreadable-image":
        (tmp_path / "broken.npy").write_bytes(b"not an array")
        args += ["--images", tmp_path]
    elif case in ("bad-slices", "odd-slices"):
        args += ["--images", images, "--slices", "96x32" if case == "bad-slices" else "95:32"]
    elif case == "fp16-on-cpu":
        args += ["--images", images, "--amp", "fp16"]
    elif case == "missing-checkpoint":
        args = [config, tmp_path / "none.pth", "--out", out, "--images", images]
    run = infer(*args)
    assert run.exit_code == 2, run.output
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and expect in lines[0], run.stderr
    assert not out.exists()
