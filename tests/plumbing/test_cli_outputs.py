"""No command overwrites its own input: an output file option (``--json``, ``--out``, ``--csv``...) naming a file
that another option or argument reads, or another output's file, is one ``error:`` line, exit 2, with every file left
as it was (``plumbing.cli.ToolkitContext``). Real commands of all three console scripts, through their click
groups."""
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from aodraw.cli import main as aodraw_main
from imagenet_s.cli import main as imagenet_s_main
from uss.cli import main as uss_main

GT = {"images": [{"id": 1, "width": 100, "height": 100}], "categories": [{"id": 1, "name": "car"}],
      "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 20], "area": 400,
                       "iscrowd": 0}]}
DT = [{"image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 20], "score": 0.9}]


@pytest.fixture
def files(tmp_path):
    gt, dt = tmp_path / "gt.json", tmp_path / "dt.json"
    gt.write_text(json.dumps(GT))
    dt.write_text(json.dumps(DT))
    return gt, dt


def _refused(main, args, *untouched: Path):
    before = {p: p.read_bytes() for p in untouched}
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert all(p.read_bytes() == data for p, data in before.items())
    return lines[0]


def test_evaluate_json_onto_the_ground_truth_is_refused(files):
    gt, dt = files
    line = _refused(aodraw_main, ["evaluate", "--gt", gt, "--dt", dt, "--preset", "coco", "--json", gt], gt, dt)
    assert f"--json {gt} is the file of --gt" in line


def test_evaluate_json_onto_the_detections_through_another_spelling_is_refused(files, monkeypatch):
    gt, dt = files
    monkeypatch.chdir(dt.parent)
    line = _refused(aodraw_main, ["evaluate", "--gt", gt, "--dt", "dt.json", "--json", "./sub/../dt.json"], gt, dt)
    assert "is the file of --dt" in line


def test_two_outputs_in_one_file_are_refused(files, tmp_path):
    gt, dt = files
    line = _refused(aodraw_main, ["evaluate", "--gt", gt, "--dt", dt, "--json", tmp_path / "r", "--csv",
                                  tmp_path / "r"], gt, dt)
    assert "two outputs cannot share one file" in line
    assert not (tmp_path / "r").exists()


def test_converter_out_onto_its_input_is_refused(files):
    gt, _ = files
    line = _refused(aodraw_main, ["datasets", "convert-annotations", "--dataset", "lod", gt, "--out", gt], gt)
    assert "refusing to overwrite an input" in line


def test_selfsup_export_onto_its_checkpoint_is_refused(tmp_path):
    checkpoint = tmp_path / "epoch_1.pth"
    checkpoint.write_bytes(b"not read: refused before the command runs")
    line = _refused(imagenet_s_main, ["selfsup", "export", checkpoint, "--out", checkpoint], checkpoint)
    assert "refusing to overwrite an input" in line


def test_uss_merge_json_onto_a_state_is_refused(tmp_path):
    state = tmp_path / "shard0.npz"
    state.write_bytes(b"state")
    line = _refused(uss_main, ["merge", state, "--json", state], state)
    assert "refusing to overwrite an input" in line


def test_an_existing_output_that_is_no_input_is_rewritten(files, tmp_path):
    gt, dt = files
    out = tmp_path / "results.json"
    out.write_text("old")
    result = CliRunner().invoke(aodraw_main, ["evaluate", "--gt", str(gt), "--dt", str(dt), "--preset", "coco",
                                              "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["preset"] == "coco"
