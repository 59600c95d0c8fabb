"""Only 2x2 Bayer sensors are converted: X-Trans, 4-colour, other repeats, demosaiced and monochrome DNGs are
refused by read_raw, hence per file by every converter and by calibrate, with what was found."""
import numpy as np
import orjson
import pytest
from click.testing import CliRunner
from raw_pairs import jpg_pixels
from sensor_dngs import NOT_BAYER

from aodraw.cli import main
from aodraw.pretrain.calibrate import measure_file
from aodraw.raw import read_raw
from aodraw.synthetic_raw import write_dng, write_jpg
from plumbing.errors import BadInputError

MOSAIC = np.random.default_rng(0).integers(600, 16000, (48, 64)).astype(np.uint16)
GOOD = "00000009"
BOX = {"bbox": [10, 10, 20, 20], "area": 400, "iscrowd": 0}


@pytest.mark.parametrize("found", NOT_BAYER)
def test_read_raw_names_what_the_sensor_has(tmp_path, found):
    path = NOT_BAYER[found](tmp_path / "a.DNG", MOSAIC)
    with pytest.raises(BadInputError) as error:
        read_raw(path)
    assert str(error.value) == f"a.DNG: {found}, not a 2x2 Bayer mosaic"


def test_calibrate_refuses_them_too(tmp_path):
    for found, write in NOT_BAYER.items():
        with pytest.raises(BadInputError) as error:
            measure_file(write(tmp_path / "a.DNG", MOSAIC))
        assert str(error.value) == f"a.DNG: {found}, not a 2x2 Bayer mosaic"


@pytest.fixture
def mixed(tmp_path):
    """images/ with one pair per non-Bayer sensor (00000001 ...) and a Bayer pair GOOD; {name: what was found}."""
    root = tmp_path / "images"
    root.mkdir()
    names = {}
    for i, (found, write) in enumerate(NOT_BAYER.items(), 1):
        names[f"{i:08d}"] = found
        write(root / f"{i:08d}.ARW", MOSAIC)
    for name in [*names, GOOD]:
        write_jpg(root / f"{name}.JPG", jpg_pixels(MOSAIC.shape, 0))
    write_dng(root / f"{GOOD}.ARW", MOSAIC)
    gt = {"images": [{"id": i, "file_name": f"{name}.JPG", "width": 64, "height": 48}
                     for i, name in enumerate([*names, GOOD])],
          "annotations": [{"id": i, "image_id": i, "category_id": 1, **BOX} for i in range(len(names) + 1)],
          "categories": [{"id": 1, "name": "car"}]}
    (tmp_path / "gt.json").write_bytes(orjson.dumps(gt))
    return root, names


@pytest.mark.parametrize("command", [
    ["downsample", "--kind", "raw"], ["downsample", "--kind", "raw", "--cfa-aware"], ["bayer"],
    ["bayer", "--cfa-aware", "--downsample", "3"], ["slice", "--kind", "raw", "--size", "64", "--gap", "0"],
    ["slice", "--kind", "raw", "--size", "64", "--gap", "0", "--cfa-aware"]])
def test_every_converter_refuses_each_file_by_name(mixed, tmp_path, command):
    root, names = mixed
    out = tmp_path / "out"
    slice_files = ["--ann", str(tmp_path / "gt.json"), "--save-ann", str(tmp_path / "s.json")]
    extra = slice_files if command[0] == "slice" else []
    result = CliRunner().invoke(main, ["convert", *command, "--root", str(root), "--target", str(out),
                                       "--workers", "1", *extra])
    assert result.exit_code == 1
    for name, found in names.items():
        assert f"failed {name}: {name}.ARW: {found}, not a 2x2 Bayer mosaic\n" in result.output
    assert f"converted 1, skipped 0 (already complete), failed {len(names)}" in result.output
    assert {p.name.split("_")[0].split(".")[0] for p in out.iterdir()} == {GOOD}
