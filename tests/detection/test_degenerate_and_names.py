"""Zero-size detections and negative ground-truth areas are scored as pycocotools scores them; categories that share
a name keep one result each."""
import copy
import csv
import json
import warnings

import numpy as np
import pytest
from detection_data import box, det, tiny_gt, write
from official_reference import official_precision
from test_parity import pycocotools_stats

from aodraw.annotations import annotation_stats
from aodraw.synthetic import SyntheticSpec, make_dataset
from evaluators.detection import DetectionEvaluator, evaluate_detections
from plumbing.errors import InputWarning

AREAS = {"aodraw": (128, 320), "aodraw-slice": (64, 160)}


def _input_warnings(func):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = func()
    return value, [str(w.message) for w in caught if issubclass(w.category, InputWarning)]


@pytest.fixture(scope="module")
def flat_set():
    """An AODRaw-style set whose detections include boxes clipped to zero width or height (some on a true box)."""
    gt, dt = make_dataset(SyntheticSpec(num_images=40, boxes_per_image=5, dets_per_image=12, num_classes=4, seed=8))
    dt = copy.deepcopy(dt)
    for n, d in enumerate(dt[::5]):
        d["bbox"][2 + n % 2] = 0
        d["score"] = 0.99  # ranked first: a false positive that changes the numbers
    return gt, dt


@pytest.mark.parametrize("backend", ["hotcoco", "pycocotools"])
def test_zero_size_detections_score_as_pycocotools_with_one_warning(flat_set, backend):
    gt, dt = flat_set
    plain = [{k: v for k, v in a.items() if k != "tag"} for a in gt["images"]]
    coco_gt = {**gt, "images": plain}
    result, messages = _input_warnings(lambda: evaluate_detections(coco_gt, dt, preset="coco", backend=backend))
    assert result.stats == pycocotools_stats(coco_gt, dt).tolist()
    assert messages == [f"<detections>: {len(dt[::5])} detections have zero width or height; they overlap nothing "
                        "and count as false positives"]
    for preset, (small, medium) in AREAS.items():
        result = evaluate_detections(gt, dt, preset=preset, backend=backend)
        for b, bucket in enumerate(result.buckets):
            precision, _ = official_precision(gt, dt, bucket, area_ranges=(
                (0, 1e5 ** 2), (0, small ** 2), (small ** 2, medium ** 2), (medium ** 2, 1e5 ** 2)))
            np.testing.assert_array_equal(result.precision[:, :, b], precision[:, :, :, 0, [0, 2]])


def test_zero_size_detections_through_the_cli_and_the_streaming_evaluator(tmp_path, cli):
    gt = tiny_gt([box(10, 10, 20, 20), box(60, 60, 20, 20)])
    dt = [det(10, 10, 20, 20, 0.9), det(99, 40, 0, 20, 0.95), det(40, 99, 30, 0, 0.5), det(60, 60, 20, 20, 0.8)]
    out = cli("evaluate", "--gt", write(tmp_path / "gt.json", gt), "--dt", write(tmp_path / "dt.json", dt),
              "--preset", "coco", "--json", tmp_path / "r.json")
    assert out.exit_code == 0, out.output
    assert [line for line in out.stderr.splitlines() if line.startswith("warning: ")] == [
        f"warning: {tmp_path / 'dt.json'}: 2 detections have zero width or height; they overlap nothing and count as "
        "false positives"]
    assert json.loads((tmp_path / "r.json").read_text())["stats"] == pycocotools_stats(gt, dt).tolist()
    evaluator = DetectionEvaluator(gt, preset="coco")
    evaluator.update(dt[:2])
    evaluator.update(dt[2:])
    result, messages = _input_warnings(evaluator.compute)
    assert len(messages) == 1 and "2 detections have zero width or height" in messages[0]
    assert result.stats == pycocotools_stats(gt, dt).tolist()


def test_model_output_clipped_at_the_border_is_scored():
    """What AODRawMetric and aodraw infer write (coco_results: x1 y1 x2-x1 y2-y1 from float32 boxes): a box
    clipped to x1 == x2 at the image border is a zero-width detection, never a refusal."""
    gt = tiny_gt([box(10, 10, 50, 50)])
    boxes = np.array([[10, 10, 60, 60], [99.5, 20, 99.5, 40], [5, 99, 30, 99]], np.float32)
    dt = [{"image_id": 1, "category_id": 1, "bbox": [x1, y1, x2 - x1, y2 - y1], "score": s}
          for (x1, y1, x2, y2), s in zip(boxes.tolist(), [0.9, 0.95, 0.3])]
    result, messages = _input_warnings(lambda: evaluate_detections(gt, dt, preset="aodraw"))
    assert result.metrics["AP"] == pytest.approx(pycocotools_stats(gt, dt)[0])
    assert sum("2 detections have zero width or height" in m for m in messages) == 1


@pytest.mark.parametrize("bbox", [[1, 1, -0.5, 3], [1, 1, 2, float("nan")], [1, 1, float("inf"), 2]])
def test_negative_or_non_finite_sizes_stay_errors(cli, tmp_path, bbox):
    dt_path = tmp_path / "dt.json"
    dt_path.write_text(json.dumps([det(10, 10, 20, 20, 0.9), {**det(1, 1, 1, 1, 0.5), "bbox": bbox}]))
    out = cli("evaluate", "--gt", write(tmp_path / "gt.json", tiny_gt([box(10, 10, 20, 20)])), "--dt", dt_path)
    assert out.exit_code == 2 and out.stderr.startswith(f"error: {dt_path}: detection 1: 'bbox'")


@pytest.mark.parametrize("backend", ["hotcoco", "pycocotools"])
def test_negative_ground_truth_area_is_ignored_as_pycocotools_ignores_it(backend):
    # the official slicer writes such an area for a box clipped past the window edge
    gt = tiny_gt([box(10, 10, 20, 20), box(50, 50, 0, 120, area=-97), box(5, 5, 30, 30, image_id=2)], images=2)
    dt = [det(10, 10, 20, 20, 0.9), det(50, 50, 1, 120, 0.95), det(5, 5, 30, 30, 0.5, image_id=2)]
    result, messages = _input_warnings(lambda: evaluate_detections(gt, dt, preset="coco", backend=backend))
    assert result.stats == pycocotools_stats(gt, dt).tolist()
    assert any("1 annotations have a negative 'area'" in m for m in messages)


SHARED = tiny_gt([box(10, 10, 20, 20, cat=1), box(40, 40, 20, 20, cat=2), box(70, 70, 20, 20, cat=3)],
                 categories=[{"id": 1, "name": "mouse"}, {"id": 3, "name": "keyboard"}, {"id": 2, "name": "mouse"}])
SHARED_DT = [det(10, 10, 20, 20, 0.9, cat=1), det(45, 40, 20, 20, 0.8, cat=2), det(0, 0, 5, 5, 0.95, cat=2),
             det(70, 70, 20, 20, 0.7, cat=3)]


@pytest.mark.parametrize("backend", ["hotcoco", "pycocotools"])
def test_categories_sharing_a_name_keep_one_result_each(backend):
    result, messages = _input_warnings(lambda: evaluate_detections(SHARED, SHARED_DT, preset="coco", backend=backend))
    assert messages == ["<ground truth>: 2 categories share a name; their per-category results are keyed name plus "
                        "id: 'mouse (id 1)', 'mouse (id 2)'"]
    assert list(result.categories) == ["mouse (id 1)", "mouse (id 2)", "keyboard"]  # in id order, as pycocotools
    assert [c["id"] for c in result.categories.values()] == [1, 2, 3]
    # pycocotools' own per-category AP (precision [T, R, K, A, M], categories in id order)
    precision = official_precision(SHARED, SHARED_DT, "all", ignore_name=None, area_ranges=(
        (0, 1e5 ** 2), (0, 32 ** 2), (32 ** 2, 96 ** 2), (96 ** 2, 1e5 ** 2)), max_dets=(1, 10, 100))[0]
    for k, c in enumerate(result.categories.values()):
        ap = precision[:, :, k, 0, -1]
        assert c["AP"] == ap[ap > -1].mean()
    assert result.stats == pycocotools_stats(SHARED, SHARED_DT).tolist()


def test_shared_names_in_the_json_csv_table_and_stats(tmp_path, cli):
    gt, dt = write(tmp_path / "gt.json", SHARED), write(tmp_path / "dt.json", SHARED_DT)
    out = cli("evaluate", "--gt", gt, "--dt", dt, "--preset", "coco", "--json", tmp_path / "r.json",
              "--csv", tmp_path / "r.csv")
    assert out.exit_code == 0, out.output
    assert sum(line.startswith("warning: ") and "share a name" in line for line in out.stderr.splitlines()) == 1
    categories = json.loads((tmp_path / "r.json").read_text())["categories"]
    assert {k: c["id"] for k, c in categories.items()} == {"mouse (id 1)": 1, "mouse (id 2)": 2, "keyboard": 3}
    rows = list(csv.reader((tmp_path / "r.csv").open()))
    assert [r[1] for r in rows if r[0] == "category" and r[2] == "AP"] == ["mouse (id 1)", "mouse (id 2)", "keyboard"]
    assert [r[3] for r in rows if r[0] == "category" and r[2] == "id"] == ["1", "2", "3"]
    table = out.stdout.split("Per category")[1].splitlines()
    assert table[1].split() == ["category", "id", "AP", "AP50"]
    assert [line.split()[-3] for line in table[3:6]] == ["1", "2", "3"] and "mouse (id 2)" in table[4]
    assert [row[0] for row in annotation_stats(SHARED)["category"]] == ["keyboard", "mouse (id 1)", "mouse (id 2)"]
