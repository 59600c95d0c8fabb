"""annotations downsample, stats and merge-slices against hand-computed results."""
import warnings

import orjson
import pytest
from click.testing import CliRunner

from aodraw.annotations import annotation_stats, downsample_annotations
from aodraw.cli import main
from aodraw.convert.merge import merge_slices
from evaluators.detection import evaluate_detections
from plumbing.errors import BadInputError, InputWarning

CATS = [{"id": 0, "name": "person"}, {"id": 1, "name": "car"}, {"id": 62, "name": "ignore"}]


def test_annotations_downsample_rule():
    gt = {"images": [{"id": 0, "file_name": "a.JPG", "width": 600, "height": 400, "tag": ["fog"]}],
          "annotations": [
              {"id": 0, "image_id": 0, "category_id": 1, "bbox": [30, 60, 150, 120], "area": 18000, "iscrowd": 0},
              {"id": 1, "image_id": 0, "category_id": 0, "bbox": [0, 0, 60, 120], "area": 7200, "iscrowd": 0},
              {"id": 2, "image_id": 0, "category_id": 62, "bbox": [3, 3, 30, 30], "area": 900, "iscrowd": 1}],
          "categories": CATS}
    out = downsample_annotations(gt)
    assert out["images"][0] == {"id": 0, "file_name": "a.JPG", "width": 200, "height": 133, "tag": ["fog"]}
    big, small, crowd = out["annotations"]
    assert big["bbox"] == [10, 20, 50, 40] and big["area"] == 2000 and big["iscrowd"] == 0
    assert small["bbox"] == [0, 0, 20, 40] and small["iscrowd"] == 1 and small["ignore"] == 1  # 20 < 32
    assert crowd["bbox"] == [1, 1, 10, 10] and crowd["iscrowd"] == 1
    assert [a["id"] for a in downsample_annotations(gt, small="drop")["annotations"]] == [0, 2]
    assert all(not a["iscrowd"] for a in downsample_annotations(gt, min_size=0)["annotations"][:2])


def test_stats_tables_and_cli(tmp_path):
    def box(i, image, cat, side, crowd=0):
        return {"id": i, "image_id": image, "category_id": cat, "bbox": [0, 0, side, side], "area": side * side,
                "iscrowd": crowd}
    gt = {"images": [{"id": 0, "file_name": "a", "width": 9, "height": 9, "tag": ["fog"]},
                     {"id": 1, "file_name": "b", "width": 9, "height": 9, "tag": ["low_light", "rain"]},
                     {"id": 2, "file_name": "c", "width": 9, "height": 9}],
          "annotations": [box(0, 0, 0, 20), box(1, 0, 1, 40), box(2, 1, 1, 100), box(3, 1, 62, 150, 1)],
          "categories": CATS}
    tables = annotation_stats(gt)
    assert tables["condition"] == [["fog", 1, 2, 0], ["low_light_rain", 1, 1, 1], ["untagged", 1, 0, 0],
                                   ["all", 3, 3, 1]]
    assert tables["category"] == [["car", 2, 2, 0], ["ignore", 1, 0, 1], ["person", 1, 1, 0]]
    assert tables["size"] == [["small", 1, 1, 0], ["medium", 1, 1, 0], ["large", 1, 1, 1]]
    (tmp_path / "gt.json").write_bytes(orjson.dumps(gt))
    result = CliRunner().invoke(main, ["stats", "--ann", str(tmp_path / "gt.json"), "--csv", str(tmp_path / "s.csv")])
    assert result.exit_code == 0 and "low_light_rain" in result.output
    assert "category,car,2,2,0" in (tmp_path / "s.csv").read_text()
    bad = CliRunner().invoke(main, ["stats", "--ann", str(tmp_path / "missing.json")])
    assert bad.exit_code == 2 and bad.output.startswith("error: ")


SLICES = {"images": [{"id": 0, "ori_id": 5, "x_start": 0, "y_start": 0, "file_name": "s0", "width": 100,
                      "height": 100},
                     {"id": 1, "ori_id": 5, "x_start": 70, "y_start": 0, "file_name": "s1", "width": 100,
                      "height": 100}],
          "annotations": [], "categories": CATS}
SLICE_DT = [
    {"image_id": 0, "category_id": 1, "bbox": [75, 10, 20, 20], "score": 0.9},
    {"image_id": 1, "category_id": 1, "bbox": [5, 10, 20, 20], "score": 0.8},  # the same car seen by window 70
    {"image_id": 1, "category_id": 0, "bbox": [5, 10, 20, 20], "score": 0.7},  # another class: kept
    {"image_id": 1, "category_id": 1, "bbox": [8, 10, 20, 20], "score": 0.6},  # IoU 340/460 = 0.74 with the first
    {"image_id": 1, "category_id": 1, "bbox": [40, 50, 10, 10], "score": 0.5},
]


def test_merge_slices_accepts_official_zero_size_slice_boxes():
    # the official splitter clips and casts to int, so a box grazing the window edge can get h = 0 (and, from the
    # unrounded sides, a negative area); merge-slices reads and checks the slice file's boxes, and keeps quiet about
    # them: it maps detections by the slices' images and scores nothing against these boxes
    zero = {"id": 0, "image_id": 0, "category_id": 1, "bbox": [1, 99, 5, 0], "area": -3, "iscrowd": 1}
    with warnings.catch_warnings():
        warnings.simplefilter("error", InputWarning)
        assert len(merge_slices({**SLICES, "annotations": [zero]}, SLICE_DT)) == 3
    with pytest.raises(BadInputError, match=r"annotation 0: 'bbox' must be \[x, y, w, h\]"):
        merge_slices({**SLICES, "annotations": [{**zero, "bbox": [1, 99, 5, -1]}]}, SLICE_DT)


def test_merge_slices_dedups_overlaps():
    merged = [(d["category_id"], d["bbox"], d["score"]) for d in merge_slices(SLICES, SLICE_DT)]
    assert merged == [(0, [75, 10, 20, 20], 0.7), (1, [75, 10, 20, 20], 0.9), (1, [110, 50, 10, 10], 0.5)]
    loose = merge_slices(SLICES, SLICE_DT, nms_iou=0.8)
    assert [d["bbox"] for d in loose if d["category_id"] == 1] == [[75, 10, 20, 20], [78, 10, 20, 20],
                                                                  [110, 50, 10, 10]]
    assert {d["image_id"] for d in loose} == {5}


def test_merge_slices_cli_then_evaluate(tmp_path):
    (tmp_path / "slices.json").write_bytes(orjson.dumps(SLICES))
    (tmp_path / "dt.json").write_bytes(orjson.dumps(SLICE_DT))
    result = CliRunner().invoke(main, ["merge-slices", "--slice-ann", str(tmp_path / "slices.json"), "--dt",
                                       str(tmp_path / "dt.json"), "--out", str(tmp_path / "full.json")])
    assert result.exit_code == 0, result.output
    full = {"images": [{"id": 5, "file_name": "a", "width": 300, "height": 100, "tag": ["fog"]}],
            "annotations": [{"id": 1, "image_id": 5, "category_id": 1, "bbox": [75, 10, 20, 20], "area": 400,
                             "iscrowd": 0},
                            {"id": 2, "image_id": 5, "category_id": 1, "bbox": [110, 50, 10, 10], "area": 100,
                             "iscrowd": 0},
                            {"id": 3, "image_id": 5, "category_id": 0, "bbox": [75, 10, 20, 20], "area": 400,
                             "iscrowd": 0}],
            "categories": CATS[:2]}
    res = evaluate_detections(full, tmp_path / "full.json", preset="coco")
    assert res.to_dict()["metrics"]["AP"] == 1.0  # every object found once, no duplicate left
    bad_dt = [{"image_id": 9, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.5}]
    (tmp_path / "bad.json").write_bytes(orjson.dumps(bad_dt))
    bad = CliRunner().invoke(main, ["merge-slices", "--slice-ann", str(tmp_path / "slices.json"), "--dt",
                                    str(tmp_path / "bad.json"), "--out", str(tmp_path / "x.json")])
    assert bad.exit_code == 2 and bad.output.startswith("error: ")
