"""`aodraw evaluate` / `aodraw demo` end to end: the JSON contract, CSV, plots, the installed script."""
import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from detection_data import write

from evaluators.detection import evaluate_detections

METRIC_KEYS = ["AP", "AP50", "AP75", "APs", "APm", "APl"]


@pytest.mark.parametrize("preset, ar", [("coco", ["AR1", "AR10", "AR100"]), ("aodraw", ["AR100", "AR300", "AR1000"]),
                                        ("aodraw-slice", ["AR100", "AR300", "AR1000"])])
def test_evaluate_json_contract(tmp_path, cli, aodraw_set, preset, ar):
    gt, dt = write(tmp_path / "gt.json", aodraw_set[0]), write(tmp_path / "dt.json", aodraw_set[1])
    out = cli("evaluate", "--gt", gt, "--dt", dt, "--preset", preset, "--json", tmp_path / "r.json")
    assert out.exit_code == 0, out.output
    r = json.loads((tmp_path / "r.json").read_text())
    assert {"preset", "backend", "protocol", "stats", "metrics", "conditions", "categories"} <= set(r)
    assert (r["preset"], r["backend"], r["protocol"]) == (preset, "hotcoco", "official")
    assert list(r["metrics"]) == METRIC_KEYS + ar + ["ARs", "ARm", "ARl"]
    assert r["stats"] == list(r["metrics"].values())
    assert {"all", "fog", "rain", "low_light", "normal_light", "indoor", "low_light_rain", "low_light_fog",
            "rain_fog"} == set(r["conditions"])
    assert all(set(c) == {"AP", "AP50", "AP75", "num_images"} for c in r["conditions"].values())
    assert r["conditions"]["all"]["num_images"] == 120
    # The AODRaw presets treat the "ignore" category as ignore regions; COCO scores it like any class.
    assert ("ignore" in r["categories"]) == (preset == "coco")
    assert set(r["categories"]["person"]) == {"AP", "AP50", "id"} and r["categories"]["person"]["id"] == 0
    # Full precision, identical to the library's numbers.
    expected = evaluate_detections(aodraw_set[0], aodraw_set[1], preset=preset)
    assert r["metrics"] == expected.metrics and r["conditions"] == expected.conditions
    # The table names every condition.
    assert "low_light_fog" in out.stdout and "Per category" in out.stdout


def test_evaluate_csv_plots_errors_and_protocol(tmp_path, cli, aodraw_set):
    gt, dt = write(tmp_path / "gt.json", aodraw_set[0]), write(tmp_path / "dt.json", aodraw_set[1])
    out = cli("evaluate", "--gt", gt, "--dt", dt, "--protocol", "corrected", "--backend", "pycocotools",
              "--json", tmp_path / "r.json", "--csv", tmp_path / "r.csv", "--plots", tmp_path / "plots", "--errors")
    assert out.exit_code == 0, out.output
    r = json.loads((tmp_path / "r.json").read_text())
    assert (r["protocol"], r["backend"]) == ("corrected", "pycocotools")
    assert set(r["errors"]["delta_ap"]) >= {"Cls", "Loc", "Dupe", "Bkg", "Miss"} and "TIDE errors" in out.stdout
    rows = list(csv.DictReader((tmp_path / "r.csv").open()))
    fog = {row["metric"]: float(row["value"]) for row in rows if row["scope"] == "condition" and row["name"] == "fog"}
    assert fog["AP"] == r["conditions"]["fog"]["AP"] and fog["num_images"] == r["conditions"]["fog"]["num_images"]
    for name in ("pr_curves.png", "conditions_ap.png"):
        assert (tmp_path / "plots" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_demo_writes_everything(tmp_path, cli):
    out = cli("demo", "--out", tmp_path / "demo", "--images", 60)
    assert out.exit_code == 0, out.output
    assert "low_light_rain" in out.stdout and "AP50" in out.stdout
    r = json.loads((tmp_path / "demo" / "results.json").read_text())
    gt = json.loads((tmp_path / "demo" / "gt.json").read_text())
    assert len(gt["images"]) == 60 and r["conditions"]["all"]["num_images"] == 60
    # the seeded demo's own numbers (seed 0, 60 images): a change of the generator or the metric shows here
    assert r["metrics"]["AP"] == pytest.approx(0.21774432016006656, abs=1e-12)
    assert r["metrics"]["AP50"] == pytest.approx(0.478756689903231, abs=1e-12)
    assert r["stats"][0] == r["metrics"]["AP"]
    assert r["conditions"]["fog"]["AP"] == pytest.approx(0.14277875223419778, abs=1e-12)
    assert r["conditions"]["fog"]["num_images"] == 13
    assert sorted(p.name for p in (tmp_path / "demo").iterdir()) == [
        "board.csv", "dt.json", "gt.json", "leaderboard", "plots", "raw", "results.csv", "results.json",
        "submissions"]


def test_installed_console_script(tmp_path, aodraw_set):
    script = Path(sys.executable).parent / "aodraw"
    gt, dt = write(tmp_path / "gt.json", aodraw_set[0]), write(tmp_path / "dt.json", aodraw_set[1])
    done = subprocess.run([script, "evaluate", "--gt", gt, "--dt", dt, "--json", tmp_path / "r.json"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "r.json").read_text())["preset"] == "aodraw"
    bad = subprocess.run([script, "evaluate", "--gt", dt, "--dt", dt], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.startswith("error: ") and "Traceback" not in bad.stderr
    assert "--protocol" in subprocess.run([script, "evaluate", "--help"], capture_output=True, text=True).stdout
