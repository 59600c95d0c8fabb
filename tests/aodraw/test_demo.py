"""aodraw demo: the RAW stages run before the evaluation and leave the official folder layout behind."""
import orjson
from click.testing import CliRunner

from aodraw.cli import main


def test_demo_runs_raw_stages(tmp_path):
    result = CliRunner().invoke(main, ["demo", "--out", str(tmp_path), "--images", "30"])
    assert result.exit_code == 0, result.output
    assert "convert slice --kind raw" in result.output and "merge-slices:" in result.output
    raw = tmp_path / "raw"
    assert len(list((raw / "images_downsampled_raw").glob("*.npy"))) == 4
    assert len(list((raw / "images_downsampled_srgb").glob("*.JPG"))) == 4
    merged = orjson.loads((raw / "merged_dt.json").read_bytes())
    assert merged and {d["image_id"] for d in merged} <= {0, 1, 2, 3}
    assert (tmp_path / "results.json").exists() and "per condition" in result.output
    # the leaderboard of perturbed submissions: three scored, the hostile one refused, a site to open
    assert "leaderboard: 4 submissions" in result.output and "(3 scored, 1 refused)" in result.output
    assert "1. Demo baseline: AP" in result.output and "hostile.zip: refused: hostile.zip: member '../escape.json'" \
        in result.output
    site = tmp_path / "leaderboard"
    assert f"leaderboard site: open {(site / 'index.html').resolve()}" in result.output
    assert len(list((site / "aodraw-aodraw").glob("*.html"))) == 4 and (tmp_path / "board.csv").exists()


def test_run_demo_is_a_library_call(tmp_path):
    from aodraw.demo import run_demo

    lines, result = run_demo(tmp_path, images=30, seed=0)
    assert lines[0].startswith("synthetic RAW set: 4 DNG .ARW + JPG pairs")
    assert lines[-1].startswith("synthetic AODRaw-style test set: 30 images")
    assert result.conditions["all"]["num_images"] == 30 and result.preset == "aodraw"
    assert (tmp_path / "gt.json").exists() and not (tmp_path / "results.json").exists()  # the caller writes results
