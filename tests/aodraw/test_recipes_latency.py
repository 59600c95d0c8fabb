"""`aodraw recipes list` and the real-time track: the six recipes with null published AP, and the `latency` field
filled from the measured report file when present (no torch needed)."""
import json

import pytest
from click.testing import CliRunner

import aodraw.recipes as recipes_module
from aodraw.cli import main
from aodraw.recipes import LATENCY_REPORT, REALTIME, load_latencies
from plumbing.errors import BadInputError


def _list_json():
    result = CliRunner().invoke(main, ["recipes", "list", "--format", "json"])
    assert result.exit_code == 0, result.output
    return {e["name"]: e for e in json.loads(result.output)}


def test_realtime_recipes_are_listed_with_a_latency_field(tmp_path, monkeypatch):
    monkeypatch.setattr(recipes_module, "LATENCY_REPORT", tmp_path / "absent.json")
    entries = _list_json()
    names = [r.name for r in REALTIME]
    assert names == [f"{d}-tiny_640_aodraw-{i}" for d in ("rtmdet", "yolox") for i in ("srgb", "raw", "bayer")]
    for name in names:
        assert entries[name]["published_AP"] is None and entries[name]["latency"] is None
        assert entries[name]["variant"] == "real-time 640" and entries[name]["config"].endswith(f"{name}.py")
    assert all("latency" in e for e in entries.values())


def test_latency_comes_from_the_report_file(tmp_path, monkeypatch):
    report = tmp_path / "latency.json"
    measured = {"device": "cpu", "p50_ms": 12.5, "p95_ms": 14.0, "fps": 78.1, "threads": 1,
                "input_shape": [4, 640, 640]}
    report.write_text(json.dumps({"rtmdet-tiny_640_aodraw-bayer": measured}))
    monkeypatch.setattr(recipes_module, "LATENCY_REPORT", report)
    entries = _list_json()
    assert entries["rtmdet-tiny_640_aodraw-bayer"]["latency"] == measured
    assert entries["yolox-tiny_640_aodraw-bayer"]["latency"] is None
    table = CliRunner().invoke(main, ["recipes", "list"]).output
    line = next(row for row in table.splitlines() if row.startswith("rtmdet-tiny_640_aodraw-bayer"))
    assert "12.5 (cpu)" in line
    report.write_text("[1, 2]")
    with pytest.raises(BadInputError, match="a latency report must be a JSON object"):
        load_latencies(report)


def test_the_shipped_report_is_sane_where_present():
    shipped = load_latencies(LATENCY_REPORT)
    for name, entry in shipped.items():
        assert name.split("@")[0] in {r.name for r in REALTIME}
        assert 0 < entry["p50_ms"] <= entry["p95_ms"] and entry["fps"] > 0
        assert entry["input_shape"][1:] == [640, 640] and entry["input_shape"][0] in (3, 4)
