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
