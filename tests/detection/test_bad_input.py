"""Malformed input: one line `error: <file>: <what>` with the offending index/id, exit 2, nothing written."""
import json
import os
import re
import signal
import sys

import numpy as np
import pytest
from detection_data import box, det, tiny_gt, write

from evaluators.detection import evaluate_detections
from plumbing.errors import BadInputError, InputWarning
from plumbing.jobs import default_workers

GOOD_GT = tiny_gt([box(10, 10, 20, 20), box(50, 50, 20, 20, cat=2)], tags=[["fog"]])
GOOD_DT = [det(10, 10, 20, 20, 0.9), det(50, 50, 20, 20, 0.8, cat=2)]


def with_ann(**changes):
    gt = json.loads(json.dumps(GOOD_GT))
    gt["annotations"][1].update(changes)
    return gt


def with_det(**changes):
    dt = json.loads(json.dumps(GOOD_DT))
    dt[1].update(changes)
    return dt


GT_CASES = [
    ({"images": []}, "field 'categories' must be a list"),  # annotations may be absent, categories may not
    (with_ann(id=1), "duplicate annotation id 1"),
    (with_ann(bbox=[1, 2, 3]), "annotation 1: 'bbox'"),
    (with_ann(bbox=[1, 2, -3, 4]), "annotation 1: 'bbox'"),
    (with_ann(image_id=7), "annotation 1: unknown image_id 7"),
    (with_ann(category_id=9), "annotation 1: unknown category_id 9"),
    (with_ann(id="x"), "annotation 1: 'id' must be an integer"),
    (with_ann(area="big"), "annotation 1: 'area'"),  # a negative area is ignored with a warning, as pycocotools
    ({**GOOD_GT, "images": [{"id": 1, "tag": "fog"}]}, "image 0 (id 1): 'tag' must be a list"),
    ({**GOOD_GT, "images": [{"id": 1}, {"id": 1}]}, "duplicate image id 1"),
    ({**GOOD_GT, "images": [{"width": 3}]}, "image 0 has no 'id'"),
    ([1, 2], "ground truth must be a JSON object"),
]

DT_CASES = [
    (with_det(bbox=[float("nan"), 1, 2, 3]), "detection 1: 'bbox'"),
    (with_det(bbox=[1, 1, float("inf"), 3]), "detection 1: 'bbox'"),
    (with_det(bbox=[1, 1, -0.5, 3]), "detection 1: 'bbox'"),  # zero-size boxes are scored; negative ones not
    (with_det(score=float("nan")), "detection 1: 'score' must be a finite number"),
    (with_det(score="high"), "detection 1: 'score' must be a finite number"),
    (with_det(image_id=99), "detection 1: unknown image_id 99"),
    (with_det(category_id=5), "detection 1: unknown category_id 5"),
    (with_det(image_id=1.5), "detection 1: 'image_id' must be an integer"),
    # JSON true/false are not numbers, though Python's bool is an int and NumPy reads them as 1/0
    (with_det(image_id=True), "detection 1: 'image_id' must be an integer or a string, got True"),
    (with_det(score=True), "detection 1: 'score' must be a finite number, got True"),
    (with_det(bbox=[1, False, 2, 3]), "detection 1: 'bbox'"),
    ([GOOD_DT[0], {"image_id": 1, "bbox": [1, 1, 2, 2], "score": 0.5}], "detection 1 has no 'category_id'"),
    ({"annotations": []}, "got an object (is this a ground-truth file?)"),
    ([GOOD_DT[0], "x"], "detection 1 must be a JSON object"),
]


@pytest.mark.parametrize("gt, message", GT_CASES)
def test_bad_ground_truth(tmp_path, cli, gt, message):
    path = write(tmp_path / "gt.json", gt)
    with pytest.raises(BadInputError, match=re.escape(message)):
        evaluate_detections(path, GOOD_DT)
    out = cli("evaluate", "--gt", path, "--dt", write(tmp_path / "dt.json", GOOD_DT), "--json", tmp_path / "r.json")
    assert out.exit_code == 2
    assert out.stderr.strip().splitlines()[-1].startswith(f"error: {path}: ")
    assert message in out.stderr and "Traceback" not in out.output
    assert not (tmp_path / "r.json").exists()


@pytest.mark.parametrize("dt, message", DT_CASES)
def test_bad_detections(tmp_path, cli, dt, message):
    path = tmp_path / "dt.json"
    path.write_text(json.dumps(dt))  # Python's json writes NaN/Infinity tokens: they must be named, not a parse error
    out = cli("evaluate", "--gt", write(tmp_path / "gt.json", GOOD_GT), "--dt", path, "--csv", tmp_path / "r.csv")
    assert out.exit_code == 2, out.output
    assert out.stderr.strip() == out.stderr.strip().splitlines()[-1]  # one line
    assert out.stderr.startswith(f"error: {path}: ") and message in out.stderr
    assert not (tmp_path / "r.csv").exists()


def test_invalid_json_and_missing_file(tmp_path, cli):
    (tmp_path / "dt.json").write_text('[{"image_id": 1,')
    gt = write(tmp_path / "gt.json", GOOD_GT)
    out = cli("evaluate", "--gt", gt, "--dt", tmp_path / "dt.json")
    assert out.exit_code == 2 and out.stderr.startswith(f"error: {tmp_path / 'dt.json'}: invalid JSON")
    out = cli("evaluate", "--gt", tmp_path / "missing.json", "--dt", tmp_path / "dt.json")
    assert out.exit_code == 2 and "ground truth file not found" in out.stderr
    out = cli("evaluate", "--gt", gt, "--dt", tmp_path / "dt.json", "--preset", "voc")
    assert out.exit_code == 2 and out.stderr.startswith("error: Invalid value for '--preset'")


def test_empty_detections_warn_and_score_zero(tmp_path, cli):
    with pytest.warns(InputWarning, match="empty"):
        result = evaluate_detections(GOOD_GT, [])
    assert result.metrics["AP"] == 0.0 and result.metrics["AR100"] == 0.0
    assert result.conditions["fog"]["AP"] == 0.0
    out = cli("evaluate", "--gt", write(tmp_path / "gt.json", GOOD_GT), "--dt", write(tmp_path / "dt.json", []))
    assert out.exit_code == 0 and "warning: " in out.stderr and "empty" in out.stderr


def test_images_without_tag_count_only_in_all():
    gt = tiny_gt([box(10, 10, 20, 20, image_id=1), box(10, 10, 20, 20, image_id=2)], images=2)
    gt["images"][0]["tag"] = ["rain"]
    with pytest.warns(InputWarning, match="1 of 2 images have no 'tag'"):
        result = evaluate_detections(gt, [det(10, 10, 20, 20, 0.9, image_id=2)])
    assert result.conditions["all"]["num_images"] == 2 and result.conditions["rain"]["num_images"] == 1
    assert result.conditions["rain"]["AP"] == 0.0 and result.conditions["all"]["AP"] == pytest.approx(0.50495, 1e-4)


def test_typed_fast_path_and_generic_path_agree(tmp_path, aodraw_set):
    gt, dt = aodraw_set
    dt = [{**d, "id": n, "segmentation": [], "score": 1 if n % 50 == 0 else d["score"]} for n, d in enumerate(dt)]
    gt = {**gt, "annotations": [{k: v for k, v in a.items() if not (k == "area" and n % 9 == 0)}
                                for n, a in enumerate(gt["annotations"])]}  # some without area
    with pytest.warns(InputWarning, match="have no 'area'"):
        from_files = evaluate_detections(write(tmp_path / "gt.json", gt), write(tmp_path / "dt.json", dt))
    with pytest.warns(InputWarning, match="have no 'area'"):
        from_objects = evaluate_detections(gt, dt)  # generic validation
    assert from_files.to_dict() == from_objects.to_dict()


def test_lists_decoded_in_pieces_equal_the_whole_list(tmp_path, aodraw_set, monkeypatch):
    # Detections and annotations are decoded in pieces cut between two objects; a cut inside a string (an extra field
    # holding "}, {") does not decode, and such a file takes the generic path, with the same result.
    from evaluators.detection import typed

    gt, dt = aodraw_set
    tricky = [{**d, "note": "x}, {y" * (n % 3)} for n, d in enumerate(dt)]
    whole = typed.DetectionDecoding(json.dumps(dt).encode()).columns()
    monkeypatch.setattr(typed, "CHUNK_BYTES", 300)
    data = json.dumps(dt).encode()
    assert len(list(typed._pieces(data, 0, len(data)))) > 100
    for separators in ((", ", ": "), (",", ":")):
        pieces = typed.DetectionDecoding(json.dumps(dt, separators=separators).encode()).columns()
        assert all((a == b).all() for a, b in zip(whole, pieces))
    assert typed.DetectionDecoding(json.dumps(tricky).encode()).columns() is None
    expected = evaluate_detections(gt, dt).to_dict()
    assert evaluate_detections(gt, write(tmp_path / "tricky.json", tricky)).to_dict() == expected
    gt_path = write(tmp_path / "gt.json", gt)
    assert typed.ground_truth_columns(gt_path.read_bytes()) is not None
    assert evaluate_detections(gt_path, write(tmp_path / "dt.json", dt)).to_dict() == expected


def test_zero_size_ground_truth_boxes_are_kept_with_a_warning():
    # Official slice annotation files hold boxes clipped to zero width: they must load, and count as misses.
    gt = with_ann(bbox=[50, 50, 0, 20], area=0)
    with pytest.warns(InputWarning, match="1 annotations have zero width or height"):
        result = evaluate_detections(gt, GOOD_DT[:1], preset="aodraw-slice")
    assert result.categories["a"]["AP"] == pytest.approx(1.0, abs=1e-12)
    assert result.categories["b"]["AP"] == 0.0  # its only box cannot be matched
    assert result.metrics["AR1000"] == pytest.approx(0.5)


def test_a_forked_helper_decodes_the_tail_of_a_large_file_to_the_same_columns(tmp_path, aodraw_set, monkeypatch):
    # The last part of a large detections file is decoded by a forked helper into shared memory while this process
    # decodes the rest (and reads the ground truth); every split gives the columns and the result of one process.
    from evaluators.detection import typed, validate
    from plumbing import forked

    if not sys.platform.startswith("linux") or default_workers() < 2:
        pytest.skip("no second CPU or no fork here")
    monkeypatch.setattr(typed, "helper_available", lambda: True)  # whatever threads earlier tests left running
    gt, dt = aodraw_set
    data = json.dumps(dt).encode()
    whole = typed._in_pieces(data, typed._DETECTIONS, typed._detection_columns)
    monkeypatch.setattr(typed, "HELPER_MIN_BYTES", 1)
    monkeypatch.setattr(typed, "CHUNK_BYTES", 4000)
    for share in (0.05, 0.5, 0.9):
        with typed.DetectionDecoding(data, share) as decoding:
            assert decoding._helper is not None
            helper_rows = len(data) - decoding._split
            columns = decoding.columns()
        assert abs(helper_rows / len(data) - share) < 0.01
        assert all(a.dtype == b.dtype and np.array_equal(a, b) for a, b in zip(whole, columns))
    # a cut inside a string makes a piece of the helper's part undecodable: no columns, the generic path decides
    tricky = json.dumps(dt[:-40] + [{**d, "note": "x}, {y"} for d in dt[-40:]]).encode()
    with typed.DetectionDecoding(tricky, 0.5) as decoding:
        assert decoding.columns() is None
    # a helper that dies, or a fork that fails: this process decodes the rest itself, to the same columns
    monkeypatch.setattr(typed, "_fill", lambda columns, data, start: os.kill(os.getpid(), signal.SIGKILL))
    with typed.DetectionDecoding(data, 0.5) as decoding:
        assert decoding._helper is not None
        assert all(np.array_equal(a, b) for a, b in zip(whole, decoding.columns()))
    monkeypatch.setattr(os, "fork", lambda: (_ for _ in ()).throw(OSError(11, "Resource temporarily unavailable")))
    with typed.DetectionDecoding(data, 0.5) as decoding:
        assert decoding._helper is None
        assert all(np.array_equal(a, b) for a, b in zip(whole, decoding.columns()))
    monkeypatch.undo()
    monkeypatch.setattr(typed, "helper_available", lambda: True)
    monkeypatch.setattr(typed, "HELPER_MIN_BYTES", 1)
    monkeypatch.setattr(typed, "CHUNK_BYTES", 4000)
    expected = evaluate_detections(gt, dt).to_dict()
    gt_path, dt_path = write(tmp_path / "gt.json", gt), write(tmp_path / "dt.json", dt)
    # the helper takes about half of a large file, more while this process reads a ground truth file, none of a
    # file too small to pay for its start
    assert validate.helper_share({}, 1 << 20) == 0
    monkeypatch.setattr(validate, "HELPER_START_SECONDS", 0.0)
    alone, with_gt = validate.helper_share({}, 40 << 20), validate.helper_share(gt_path, 1 << 20)
    assert 0.4 < alone < 0.5 < with_gt < validate.MAX_HELPER_SHARE
    started = []
    monkeypatch.setattr(typed, "Filling", lambda *args: started.append(1) or forked.Filling(*args))
    assert evaluate_detections(gt_path, dt_path).to_dict() == expected
    assert started == [1]
    bad = [dict(d) for d in dt]
    bad[-3]["bbox"] = [1, 2, -3, 4]  # in the helper's part: found, and named by the generic path
    with pytest.raises(BadInputError, match=f"detection {len(dt) - 3}: .*bbox"):
        evaluate_detections(gt_path, write(tmp_path / "bad.json", bad))


def test_a_bad_ground_truth_is_named_before_a_missing_detections_file(tmp_path):
    gt_path = tmp_path / "gt.json"
    gt_path.write_text("{]")
    with pytest.raises(BadInputError, match="gt.json"):
        evaluate_detections(gt_path, tmp_path / "missing.json")
