"""The MMDetection plug-in pieces on the tiny dataset: dataset, RAW loader, metric, checkpoints."""
import json

import numpy as np
import pytest
from mmdet_data import CLASSES
from train_extra import require_train_extra

from aodraw.detector_input import render_raw


@pytest.fixture(autouse=True)
def _mmdet():
    require_train_extra()
    from mmengine.registry import init_default_scope

    import aodraw.mmdet  # noqa: F401

    init_default_scope("mmdet")


def _dataset(data, ann_key="ann", prefix="images_downsampled_raw/", pipeline=()):
    from mmdet.registry import DATASETS

    return DATASETS.build(dict(type="AODRawDataset", data_root=str(data["root"]), ann_file=str(data[ann_key]),
                               data_prefix=dict(img=prefix), pipeline=list(pipeline), test_mode=True))


def test_dataset_reads_classes_ignore_regions_and_tags(tiny_data):
    dataset = _dataset(tiny_data)
    assert dataset.metainfo["classes"] == tuple(CLASSES)  # "ignore" is not a class
    assert len(dataset.metainfo["palette"]) == len(CLASSES)
    ann = json.loads(tiny_data["ann"].read_text())
    info = dataset.get_data_info(1)
    assert info["tag"] == ann["images"][1]["tag"] == ["low_light"]
    ignored = [i for i in info["instances"] if i["ignore_flag"]]
    assert ignored == [{"bbox": [0, 0, 8, 8], "bbox_label": -1, "ignore_flag": 1}]
    regular = [a for a in ann["annotations"] if a["image_id"] == 1 and a["category_id"] != 62]
    assert sorted(i["bbox_label"] for i in info["instances"] if not i["ignore_flag"]) == sorted(
        a["category_id"] for a in regular)
    assert info["img_path"].endswith("images_downsampled_raw/00000001.JPG")


def test_dataset_takes_crowd_boxes_as_ignored_and_works_on_slices(tiny_data, tmp_path):
    ann = json.loads(tiny_data["ann"].read_text())
    ann["annotations"][0]["iscrowd"] = 1
    ann["categories"] = list(reversed(ann["categories"]))  # classes follow ids, not file order
    path = tmp_path / "crowd.json"
    path.write_text(json.dumps(ann))
    dataset = _dataset({"root": tiny_data["root"], "ann": path})
    assert dataset.metainfo["classes"] == tuple(CLASSES)
    first = dataset.get_data_info(0)["instances"][0]
    assert first["ignore_flag"] == 1 and first["bbox_label"] == ann["annotations"][0]["category_id"]
    slices = _dataset(tiny_data, "slice_ann", "images_slice_raw/")
    assert len(slices) == 8 and slices.get_data_info(0)["img_path"].endswith("00000000__64__0___0.JPG")


def test_raw_loader_renders_downsampled_and_slice_arrays(tiny_data):
    from mmdet.registry import TRANSFORMS

    loader = TRANSFORMS.build(dict(type="LoadAODRawImageFromFile"))
    path = tiny_data["root"] / "images_downsampled_raw" / "00000002.JPG"
    out = loader({"img_path": str(path)})
    array = np.load(path.with_suffix(".npy"))
    assert out["img"].dtype == np.float32 and out["img"].shape == (64, 96, 3) and out["ori_shape"] == (64, 96)
    np.testing.assert_array_equal(out["img"], render_raw(array))
    np.testing.assert_allclose(out["img"][..., 0], 255 * (array[2] / 255) ** (1 / 2.2), rtol=1e-5)  # B first

    slice_path = tiny_data["root"] / "images_slice_raw" / "00000002__64__0___0.JPG"
    quirk = loader({"img_path": str(slice_path)})["img"]
    fixed = TRANSFORMS.build(dict(type="LoadAODRawImageFromFile", normalise_slices=True))(
        {"img_path": str(slice_path)})["img"]
    assert quirk.shape == fixed.shape == (64, 64, 3)
    assert quirk.max() > 300 and fixed.max() <= 255.001  # upstream's unnormalised slices vs the fix


def test_raw_loader_names_a_bad_file(tmp_path):
    from mmdet.registry import TRANSFORMS

    from plumbing.errors import BadInputError

    np.save(tmp_path / "bad.npy", np.zeros((2, 4, 4), np.float32))
    with pytest.raises(BadInputError, match="bad.npy"):
        TRANSFORMS.build(dict(type="LoadAODRawImageFromFile"))({"img_path": str(tmp_path / "bad.JPG")})


def _samples(ann, shift=0.0, drop_image=None):
    import torch

    samples = []
    for image in ann["images"]:
        boxes = [a for a in ann["annotations"] if a["image_id"] == image["id"] and a["category_id"] != 62]
        if image["id"] == drop_image:
            boxes = []
        xyxy = torch.tensor([[x + shift, y, x + w + shift, y + h] for x, y, w, h in (a["bbox"] for a in boxes)],
                            dtype=torch.float32).reshape(-1, 4)
        samples.append({"img_id": image["id"], "pred_instances": {
            "bboxes": xyxy, "scores": torch.full((len(boxes),), 0.9),
            "labels": torch.tensor([a["category_id"] for a in boxes], dtype=torch.int64)}})
    return samples


def test_metric_scores_through_the_evaluator(tiny_data, tmp_path):
    from mmdet.registry import METRICS

    from evaluators.detection import evaluate_detections

    ann = json.loads(tiny_data["ann"].read_text())
    metric = METRICS.build(dict(type="AODRawMetric", ann_file=str(tiny_data["ann"]),
                                outfile_prefix=str(tmp_path / "run")))
    metric.dataset_meta = {"classes": tuple(CLASSES)}
    metric.process({}, _samples(ann, drop_image=2))
    out = metric.evaluate(size=len(ann["images"]))
    written = json.loads((tmp_path / "run.bbox.json").read_text())
    reference = evaluate_detections(tiny_data["ann"], written, preset="aodraw")
    assert out["aodraw/AP"] == pytest.approx(reference.metrics["AP"]) and 0.5 < out["aodraw/AP"] < 1.0
    assert out["aodraw/AP_fog"] == pytest.approx(reference.conditions["fog"]["AP"])  # image 2 is the fog image
    assert out["aodraw/AP_low_light"] == 1.0 and out["aodraw/AP_fog"] < 1.0
    saved = json.loads((tmp_path / "run.eval.json").read_text())
    assert saved["preset"] == "aodraw" and saved["metrics"]["AP"] == pytest.approx(out["aodraw/AP"])


def test_metric_format_only_writes_a_submission(tiny_data, tmp_path):
    from mmdet.registry import METRICS

    ann = json.loads(tiny_data["ann"].read_text())
    metric = METRICS.build(dict(type="AODRawMetric", ann_file=str(tiny_data["ann"]), format_only=True,
                                outfile_prefix=str(tmp_path / "sub")))
    metric.dataset_meta = {"classes": tuple(CLASSES)}
    metric.process({}, _samples(ann, shift=1.5))
    assert metric.evaluate(size=len(ann["images"])) == {}
    results = json.loads((tmp_path / "sub.bbox.json").read_text())
    first = [a for a in ann["annotations"] if a["category_id"] != 62][0]
    assert results[0]["bbox"] == pytest.approx([first["bbox"][0] + 1.5, *first["bbox"][1:]])
    assert {r["category_id"] for r in results} <= {0, 1, 2}
    with pytest.raises(ValueError, match="outfile_prefix"):
        METRICS.build(dict(type="AODRawMetric", ann_file=str(tiny_data["ann"]), format_only=True))


def test_runner_state_round_trips_under_weights_only(tmp_path):
    import pickletools
    import zipfile

    import torch
    from mmengine.logging import HistoryBuffer

    buffer = HistoryBuffer(max_length=5)
    for value in (1.0, 2.0, 4.0):
        buffer.update(value)
    torch.save({"message_hub": {"log_scalars": {"train/loss": buffer}}, "lr": np.float64(0.02),
                "history": np.arange(4)}, tmp_path / "ckpt.pth")
    with zipfile.ZipFile(tmp_path / "ckpt.pth") as archive:
        pickled = archive.read(next(n for n in archive.namelist() if n.endswith("data.pkl")))
    assert not any("getattr" in str(arg) for _, arg, _ in pickletools.genops(pickled))
    loaded = torch.load(tmp_path / "ckpt.pth")  # torch's default: weights_only=True
    restored = loaded["message_hub"]["log_scalars"]["train/loss"]
    assert restored.mean() == pytest.approx(7 / 3) and restored.max_length == 5 and restored.max() == 4.0
    assert loaded["lr"] == 0.02 and loaded["history"].tolist() == [0, 1, 2, 3]


def test_publish_makes_a_stock_mmengine_checkpoint_safe_to_load(tmp_path):
    import copyreg
    import subprocess
    import sys
    from pathlib import Path

    import torch
    from mmengine.logging import HistoryBuffer

    reducer = copyreg.dispatch_table.pop(HistoryBuffer)  # save as a stock MMEngine would
    try:
        buffer = HistoryBuffer()
        buffer.update(0.5)
        torch.save({"state_dict": {"w": torch.arange(4.0)}, "meta": {"dataset_meta": {"classes": ("a",)},
                    "cfg": "..."}, "message_hub": {"log_scalars": {"loss": buffer}}}, tmp_path / "stock.pth")
    finally:
        copyreg.pickle(HistoryBuffer, reducer)
    with pytest.raises(Exception, match="getattr"):
        torch.load(tmp_path / "stock.pth")
    tool = Path(__file__).resolve().parents[2] / "tools" / "publish_model.py"
    proc = subprocess.run([sys.executable, str(tool), str(tmp_path / "stock.pth"), str(tmp_path / "safe.pth")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    safe = torch.load(tmp_path / "safe.pth")
    assert torch.equal(safe["state_dict"]["w"], torch.arange(4.0))
    assert safe["meta"] == {"dataset_meta": {"classes": ("a",)}} and "message_hub" not in safe


def test_coco_results_refuse_a_class_the_dataset_does_not_have():
    from aodraw.mmdet.metric import coco_results
    from plumbing.errors import BadInputError

    boxes, scores = np.array([[1.0, 2.0, 5.0, 8.0]]), np.array([0.5])
    assert coco_results(7, boxes, scores, np.array([2]), [0, 1, 62]) == [
        {"image_id": 7, "category_id": 62, "bbox": [1.0, 2.0, 4.0, 6.0], "score": 0.5}]
    with pytest.raises(BadInputError, match="class index 3 but only 3 classes"):
        coco_results(7, boxes, scores, np.array([3]), [0, 1, 62])


def test_metric_scores_a_box_clipped_to_zero_width(tmp_path):
    """Model output with x1 == x2 at the border (open-mmlab/mmdetection#5525) is scored, never refused."""
    from aodraw.mmdet.metric import AODRawMetric

    ann = tmp_path / "gt.json"
    # string image ids (as PASCALRAW/LOD/ROD files use); a file mixing strings and integers is refused by design
    ann.write_text(json.dumps({"images": [{"id": "a"}, {"id": "b"}], "categories": [{"id": 7, "name": "car"}],
                               "annotations": [{"id": 1, "image_id": "a", "category_id": 7, "bbox": [10, 10, 50, 50],
                                                "area": 2500, "iscrowd": 0}]}))
    metric = AODRawMetric(ann_file=str(ann), preset="coco")
    metric.dataset_meta = {"classes": ("car",)}
    results = [("a", np.array([[10, 10, 60, 60], [639, 100, 639, 120]], np.float32), np.array([0.9, 0.95], np.float32),
                np.array([0, 0])), ("b", np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, int))]
    with pytest.warns(UserWarning, match="1 detections have zero width or height"):
        metrics = metric.compute_metrics(results)
    assert metrics["AP"] == pytest.approx(0.5)  # the zero-width box ranks first: a false positive


def test_metric_maps_classes_sharing_a_name_to_their_categories_in_file_order(tmp_path):
    from aodraw.mmdet.metric import AODRawMetric

    ann = tmp_path / "gt.json"
    ann.write_text(json.dumps({"images": [{"id": 1}], "annotations": [],
                               "categories": [{"id": 4, "name": "mouse"}, {"id": 2, "name": "keyboard"},
                                              {"id": 9, "name": "mouse"}]}))
    metric = AODRawMetric(ann_file=str(ann))
    assert metric.category_ids() == [4, 2, 9]
    metric.dataset_meta = {"classes": ("mouse", "mouse", "mouse")}
    with pytest.raises(ValueError, match="more classes named 'mouse'"):
        metric.category_ids()
