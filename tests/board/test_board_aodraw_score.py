"""aodraw score / aodraw leaderboard: submissions as real .json and .zip files, scored like `aodraw evaluate`."""
from __future__ import annotations

import csv
import json
import warnings

import pytest
from board_data import detection_zip, jittered, method_txt, write_zip
from click.testing import CliRunner

from aodraw.cli import main
from aodraw.leaderboard import board_columns, leaderboard, reference_rows
from aodraw.recipes import RECIPES
from aodraw.submission import METHOD_FIELDS, score_submission
from evaluators.detection import evaluate_detections
from plumbing.errors import BadInputError, InputWarning


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_a_zip_scores_exactly_like_evaluate_and_keeps_the_method(detection_set, tmp_path):
    gt, dt = detection_set
    (tmp_path / "dt.json").write_text(json.dumps(dt))
    archive = detection_zip(tmp_path / "sub.zip", dt, method_txt("Net A", kind="RAW"))
    out = tmp_path / "score.json"
    result = run("score", archive, "--gt", gt, "--json", out)
    assert result.exit_code == 0, result.output
    record = json.loads(out.read_text())
    expected = evaluate_detections(gt, tmp_path / "dt.json", preset="aodraw").to_dict()
    assert record["metrics"] == expected["metrics"] and record["conditions"] == expected["conditions"]
    assert record["categories"] == expected["categories"] and record["preset"] == "aodraw"
    assert record["method"]["Method name"] == "Net A" and record["method"]["Input"] == "raw"
    assert set(record["method"]) == set(METHOD_FIELDS) and record["submission"] == "sub.zip"
    assert len(record["sha256"]) == 64 and "method: Net A | input: raw" in result.stdout
    assert "low_light" in result.stdout and "Per condition" in result.stdout


def test_a_bare_json_is_named_by_its_file_quietly_and_the_slice_preset_changes_areas(detection_set, tmp_path):
    gt, dt = detection_set
    (tmp_path / "dt.json").write_text(json.dumps(dt))
    with warnings.catch_warnings():
        warnings.simplefilter("error", InputWarning)  # a plain results file cannot carry method.txt
        scored = score_submission(tmp_path / "dt.json", gt, "aodraw-slice")
    assert scored.result.params["area_ranges"][1][1] == 64 ** 2
    assert scored.method["Method name"] == "dt" and scored.result.preset == "aodraw-slice"
    detection_zip(tmp_path / "nameless.zip", dt, None)
    with pytest.warns(InputWarning, match="no method.txt; the method is listed under the file name"):
        assert score_submission(tmp_path / "nameless.zip", gt).method["Method name"] == "nameless"


@pytest.mark.parametrize("members, message", [
    ({"method.txt": b"Method name: x\n"}, "expected exactly one COCO results .json at the root, found none"),
    ({"a.json": b"[]", "b.json": b"[]"}, "expected exactly one COCO results .json at the root, found a.json, b.json"),
    ({"results.json": b"[]", "notes.txt": b"hi"}, "member 'notes.txt': not a COCO results .json or method.txt"),
    ({"sub/results.json": b"[]"}, "member 'sub/results.json': not a COCO results .json"),
    ({"results.json": b'{"annotations": []}'}, "results.json: detections must be a JSON list of COCO results"),
    ({"results.json": b'[{"image_id": 99999, "category_id": 0, "bbox": [1, 2, 3, 4], "score": 0.5}]'},
     "sub.zip:results.json"),
    ({"results.json": b"[]", "method.txt": b"Method name: x\nInput: thermal\n"}, "Input is 'thermal'"),
])
def test_bad_submissions_are_refused_in_one_line(detection_set, tmp_path, members, message):
    gt, _dt = detection_set
    archive = write_zip(tmp_path / "sub.zip", members)
    out = tmp_path / "score.json"
    result = run("score", archive, "--gt", gt, "--json", out)
    assert result.exit_code == 2, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and message in errors[0], result.stderr
    assert "Traceback" not in result.output and not out.exists()


def test_other_files_and_presets_are_refused(detection_set, tmp_path):
    gt, _dt = detection_set
    (tmp_path / "sub.tar").write_bytes(b"x")
    with pytest.raises(BadInputError, match="a submission is a COCO results .json or a .zip"):
        score_submission(tmp_path / "sub.tar", gt)
    with pytest.raises(BadInputError, match="unknown preset 'coco' for a submission"):
        score_submission(tmp_path / "sub.tar", gt, "coco")


def test_leaderboard_ranks_caches_and_has_a_column_per_condition(detection_set, tmp_path):
    gt, dt = detection_set
    board = tmp_path / "subs"
    board.mkdir()
    detection_zip(board / "good.zip", dt, method_txt("Good"))
    detection_zip(board / "shaky.zip", jittered(dt, 6.0), method_txt("Shaky", kind="srgb"))
    (board / "bare.json").write_text(json.dumps(jittered(dt, 2.0, seed=1)))
    write_zip(board / "evil.zip", {"../results.json": b"[]"})
    write_zip(board / "._good.zip", {"x": b"AppleDouble"})
    out = tmp_path / "board.csv"
    result = run("leaderboard", board, "--gt", gt, "--out", out)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open()))
    assert [(r["rank"], r["method"], r["submission"]) for r in rows] == [
        ("1", "Good", "good.zip"), ("2", "bare", "bare.json"), ("3", "Shaky", "shaky.zip"), ("", "", "evil.zip")]
    assert rows[3]["status"] == "refused: evil.zip: member '../results.json': '..' in the path (zip slip)"
    truth = evaluate_detections(gt, dt, preset="aodraw")
    conditions = [c for c in rows[0] if c.startswith("AP_")]
    assert conditions == [f"AP_{name}" for name in truth.conditions]
    assert float(rows[0]["AP"]) == pytest.approx(truth.metrics["AP"], rel=1e-12)
    assert float(rows[0]["AP_fog"]) == pytest.approx(truth.conditions["fog"]["AP"], rel=1e-12)
    assert rows[2]["input"] == "srgb" and rows[0]["backbone"] == "ResNet-50"
    assert len(list((board / ".scores").glob("*.json"))) == 4
    messages = []
    again = leaderboard(board, gt, notify=messages.append)
    assert messages == [] and [r["submission"] for r in again] == ["good.zip", "bare.json", "shaky.zip", "evil.zip"]
    assert board_columns(again) == list(rows[0])
    assert again[0]["record"]["metrics"] == truth.metrics and again[0]["plots"] == []
    drawn = leaderboard(board, gt, notify=messages.append, plots=True)  # plots wanted now: scored again, once
    assert messages == ["scoring bare.json", "scoring good.zip", "scoring shaky.zip"]  # not the refused one
    assert [p.name for p in drawn[0]["plots"]] == ["pr_curves.png", "conditions_ap.png"]
    assert drawn[0]["plots"][0].read_bytes()[:4] == b"\x89PNG"
    messages.clear()
    leaderboard(board, gt, notify=messages.append, plots=True)
    assert messages == []


def test_the_ground_truth_beside_the_submissions_is_not_a_submission(detection_set, tmp_path):
    gt, dt = detection_set
    (tmp_path / "gt.json").write_bytes(gt.read_bytes())
    detection_zip(tmp_path / "net.zip", dt, method_txt("Net"))
    rows = leaderboard(tmp_path, tmp_path / "gt.json", notify=lambda m: None)
    assert [r["submission"] for r in rows] == ["net.zip"] and rows[0]["status"] == "ok"


def test_reference_rows_come_from_the_recipes_published_ap():
    published = [r for r in RECIPES if r.published_AP is not None]
    downsample, sliced = reference_rows("aodraw"), reference_rows("aodraw-slice")
    assert len(downsample) + len(sliced) == len(published)
    best = max(downsample, key=lambda r: r["AP"])
    assert best["AP"] == pytest.approx(0.348) and best["pretraining"] == "RAW" and best["_reference"]
    assert {r["input"] for r in sliced} == {"raw"} and len(sliced) == 4
