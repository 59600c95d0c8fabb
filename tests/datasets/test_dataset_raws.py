"""datasets convert-raw: real RAW files (DNGs written with tifffile, named as each camera's files, which LibRaw
decodes by content; headerless 24-bit ROD files; the real Canon and Kodak camera files) into downsampled arrays
and Bayer packs; resumable, sharded, parallel, with the converters' summary and exit codes.

Not testable here: real Nikon NEF, Sony ARW and Canon CR2 files (none can be written, none is small enough to
ship): their decoding is LibRaw's; what the toolkit adds per camera (levels, bit depth, CFA) is tested on DNGs."""
import numpy as np
import orjson
import pytest
import rawpy
from click.testing import CliRunner
from raw_detection_files import RAW_SAMPLES

from aodraw.cli import main
from aodraw.datasets.convert import convert_dataset_raws, downsample_sensor
from aodraw.datasets.lod import read_lod
from aodraw.datasets.nod import read_nod
from aodraw.datasets.pascalraw import read_pascalraw
from aodraw.datasets.rod import read_rod, write_rod
from aodraw.raw import RawImage
from aodraw.synthetic_raw import write_dng
from plumbing.errors import BadInputError

CANON = RAW_SAMPLES / "canon_550d_colorchart.dng"
KODAK = RAW_SAMPLES / "kodak_dc50" / "00000001.ARW"


def _sites(h, w, values):
    """An H x W mosaic whose 2x2 block positions (0,0), (0,1), (1,0), (1,1) hold ``values``."""
    return np.tile(np.array(values, np.uint32).reshape(2, 2), (h // 2, w // 2))


def _run(*args):
    return CliRunner().invoke(main, ["datasets", "convert-raw", *map(str, args)])


def test_pascalraw_dng_downsample_and_bayer(tmp_path):
    root = tmp_path / "dng"
    root.mkdir()
    # 12-bit, black 0 (white 4095 from the file): R 4095, G 1000 / 3000, B 0 -> 255, 62.27.. / 186.8.., 0
    write_dng(root / "2014_000001.dng", _sites(32, 48, [4095, 1000, 3000, 0]).astype(np.uint16), black=0,
              white=4095)
    result = _run("--dataset", "pascalraw", "--root", root, "--target", tmp_path / "ds", "--kind", "downsample",
                  "--frame", "24x16", "--workers", 1)
    assert result.exit_code == 0, result.output
    assert "converted 1, skipped 0 (already complete), failed 0" in result.output
    out = np.load(tmp_path / "ds" / "2014_000001.npy")
    assert out.dtype == np.float32 and out.shape == (3, 16, 24)
    # Debayer3x3 on a constant-per-site mosaic: R and B everywhere, G the mean of its 4 (or 2 + 2) neighbours
    np.testing.assert_allclose(out[0], 255, rtol=1e-6)
    np.testing.assert_allclose(out[2], 0, atol=1e-6)
    assert np.ptp(out[1]) < 160 and 0 < out[1].min() and out[1].max() < 255
    # the bayer pack keeps the raw values and reports the file's levels
    assert _run("--dataset", "pascalraw", "--root", root, "--target", tmp_path / "b", "--kind", "bayer").exit_code == 0
    planes = np.load(tmp_path / "b" / "2014_000001.npy")
    side = orjson.loads((tmp_path / "b" / "2014_000001.json").read_bytes())
    assert planes.dtype == np.uint16 and planes.shape == (4, 16, 24)
    assert [int(p[0, 0]) for p in planes] == [4095, 1000, 0, 3000]  # official order R, G(red row), B, G(blue row)
    assert {k: side[k] for k in ("planes", "black_level", "white_level", "dataset", "frame", "dtype")} == {
        "planes": "RGBG", "black_level": [0, 0, 0, 0], "white_level": 4095, "dataset": "pascalraw",
        "frame": [602, 400], "dtype": "uint16"}


def test_black_level_subtraction_and_scale():
    # a 14-bit sensor, black 512 everywhere but site (1,1) 520, white 16383: each colour maps to
    # (value - black) * 255 / (16383 - 520)
    raw = RawImage(_sites(24, 24, [8512, 8512, 8512, 8520]).astype(np.uint16), (512, 512, 512, 520), 16383, "RGGB")
    out = downsample_sensor(raw, (12, 12))
    np.testing.assert_allclose(out, 8000 * 255 / (16383 - 520), rtol=1e-6)


def test_nod_cameras_keep_their_own_levels(tmp_path):
    root = tmp_path / "nod"
    root.mkdir()
    write_dng(root / "DSC01993.ARW", _sites(32, 32, [5000, 600, 600, 4000]).astype(np.uint16), black=512)
    write_dng(root / "DSC_0001.NEF", _sites(32, 32, [600, 5000, 5000, 600]).astype(np.uint16), "GRBG",
              black=(600, 601, 602, 603), white=15520)
    summary = convert_dataset_raws("nod", root, tmp_path / "b", "bayer", workers=1)
    assert sorted(summary.converted) == ["DSC01993", "DSC_0001"] and not summary.failed
    sony = orjson.loads((tmp_path / "b" / "DSC01993.json").read_bytes())
    nikon = orjson.loads((tmp_path / "b" / "DSC_0001.json").read_bytes())
    assert (sony["cfa_pattern"], sony["black_level"], sony["white_level"]) == ("RGGB", [512] * 4, 16383)
    # GRBG: the official packing puts block positions (0,0), (0,1), (1,1), (1,0) = G, R, G, B in the planes
    assert (nikon["cfa_pattern"], nikon["planes"], nikon["black_level"], nikon["white_level"]) == (
        "GRBG", "GRGB", [600, 601, 603, 602], 15520)
    # downsample demosaics each with its own CFA: the Nikon's R (5000 at (0,1)) is red, not green
    convert_dataset_raws("nod", root, tmp_path / "d", "downsample", workers=1, frame=(16, 16))
    nikon_rgb = np.load(tmp_path / "d" / "DSC_0001.npy")
    np.testing.assert_allclose(nikon_rgb[0], (5000 - 601) * 255 / (15520 - 603), rtol=1e-5)
    np.testing.assert_allclose(nikon_rgb[1], 0, atol=0.05)


def test_lod_black_level_default_and_exposure_pairs(tmp_path):
    root = tmp_path / "lod"
    root.mkdir()
    for stem in ("0001", "0002", "0005"):  # 0001 normal + 0002 dark: a pair; 0005 alone
        write_dng(root / f"{stem}.CR2", _sites(32, 32, [2047 + 14336, 2047 + 7168, 2047 + 7168, 2047]).astype(
            np.uint16), black=0)
    summary = convert_dataset_raws("lod", root, tmp_path / "d", "downsample", workers=1, frame=(16, 16))
    assert len(summary.converted) == 3
    assert orjson.loads((tmp_path / "d" / "pairs.json").read_bytes()) == {"pairs": [["0001", "0002"]],
                                                                          "unpaired": ["0005"]}
    # the DNGs give black 0: LOD's 2047 applies (RawAdaptationModule: (x - 2047) / 14336)
    out = np.load(tmp_path / "d" / "0002.npy")
    np.testing.assert_allclose(out[:, 4:12, 4:12].reshape(3, -1).mean(1), [255, 127.5, 0], rtol=1e-5, atol=1e-4)
    convert_dataset_raws("lod", root, tmp_path / "b", "bayer", workers=1)
    side = orjson.loads((tmp_path / "b" / "0002.json").read_bytes())
    assert (side["exposure"], side["pair"], side["black_level"]) == ("dark", "0001", [2047] * 4)


def test_real_camera_files_per_camera_rules():
    if not CANON.is_file():
        pytest.skip("../shared/reference/raw_samples is not beside the checkout")
    with rawpy.imread(str(CANON)) as raw:
        black, white = list(raw.black_level_per_channel), raw.white_level
    canon = read_lod(CANON)  # a Canon: its own black level (2056), not LOD's 2047 default
    assert list(canon.black_level) == black == [2056] * 4 and canon.white_level == white == 15000
    with pytest.raises(BadInputError, match="above 12 bits: not a file of this dataset's camera"):
        read_pascalraw(CANON)
    kodak = read_nod(KODAK)  # real GRBG sensor, black 0 in the file
    assert kodak.cfa_pattern == "GRBG" and kodak.black_level == (0, 0, 0, 0) and kodak.white_level == 16383
    assert read_lod(KODAK).black_level == (2047,) * 4
    out = downsample_sensor(canon, (60, 40))
    assert out.shape == (3, 40, 60) and 0 <= out.min() and out.max() <= 255 and out.mean() > 1


def test_rod_headerless_24_bit(tmp_path):
    root = tmp_path / "rod"
    root.mkdir()
    top = 2 ** 24 - 1
    mosaic = _sites(32, 48, [top, 2 ** 23, 2 ** 23, 0])
    mosaic[5, 7] = 123456  # a B site (odd row and column) with another value, to check the byte order
    write_rod(root / "day-00001.raw", mosaic)
    read = read_rod(root / "day-00001.raw", width=48, height=32)
    assert read.mosaic.dtype == np.uint32 and read.white_level == top and read.cfa_pattern == "RGGB"
    np.testing.assert_array_equal(read.mosaic, mosaic)
    result = _run("--dataset", "rod", "--root", root, "--target", tmp_path / "b", "--kind", "bayer", "--width", 48,
                  "--height", 32)
    assert result.exit_code == 0, result.output
    planes = np.load(tmp_path / "b" / "day-00001.npy")
    assert planes.dtype == np.uint32 and planes.shape == (4, 16, 24) and planes[2, 2, 3] == 123456
    result = _run("--dataset", "rod", "--root", root, "--target", tmp_path / "d", "--kind", "downsample",
                  "--width", 48, "--height", 32, "--cfa", "bggr", "--frame", "24x16")
    assert result.exit_code == 0, result.output
    out = np.load(tmp_path / "d" / "day-00001.npy")
    # read as BGGR the full-scale site is blue
    assert out[2, 8, 12] == pytest.approx(255, rel=1e-6) and out[0, 8, 12] == pytest.approx(0, abs=1e-6)


def test_rod_wrong_size_fails_by_name(tmp_path):
    root = tmp_path / "rod"
    root.mkdir()
    write_rod(root / "night-00002.raw", _sites(32, 48, [1, 2, 3, 4]))
    (root / "empty.raw").write_bytes(b"")
    result = _run("--dataset", "rod", "--root", root, "--target", tmp_path / "b", "--kind", "bayer")
    assert result.exit_code == 1
    assert "failed night-00002: night-00002.raw: 4608 bytes, expected 16035840 (3 bytes x 2880 x 1856)" in \
        result.output
    assert "failed empty: empty.raw: empty file" in result.output and not list((tmp_path / "b").glob("*.npy"))


def test_resumable_sharded_parallel(tmp_path):
    root = tmp_path / "dng"
    root.mkdir()
    for k in range(4):
        write_dng(root / f"2014_00000{k}.dng", _sites(32, 32, [k, 100, 200, 4000]).astype(np.uint16), black=0,
                  white=4095)
    first = convert_dataset_raws("pascalraw", root, tmp_path / "o", "bayer", workers=1, shard=(1, 2))
    assert first.converted == ["2014_000000", "2014_000002"]
    both = convert_dataset_raws("pascalraw", root, tmp_path / "o", "bayer", workers=2)
    assert sorted(both.converted) == ["2014_000001", "2014_000003"] and len(both.skipped) == 2
    (tmp_path / "o" / "2014_000003.json").unlink()  # an incomplete output is written again
    again = convert_dataset_raws("pascalraw", root, tmp_path / "o", "bayer", workers=1)
    assert again.converted == ["2014_000003"] and len(again.skipped) == 3


def test_bad_options_are_usage_errors(tmp_path):
    root = tmp_path / "dng"
    root.mkdir()
    result = _run("--dataset", "nod", "--root", root, "--target", tmp_path / "o", "--kind", "bayer", "--width", 64)
    assert result.exit_code == 2 and "--width: only for ROD's headerless .raw files" in result.output
    result = _run("--dataset", "nod", "--root", root, "--target", tmp_path / "o", "--kind", "bayer")
    assert result.exit_code == 2 and "no NOD RAW files (.arw, .nef)" in result.output
    result = _run("--dataset", "rod", "--root", root, "--target", tmp_path / "o", "--kind", "bayer", "--frame", "9")
    assert result.exit_code == 2 and "--frame: expected WIDTHxHEIGHT" in result.output
    # a PASCALRAW converter fed 14-bit DNGs fails each by name
    write_dng(root / "x.dng", np.full((32, 32), 9000, np.uint16))
    result = _run("--dataset", "pascalraw", "--root", root, "--target", tmp_path / "o", "--kind", "bayer")
    assert result.exit_code == 1 and "failed x: x.dng: values up to 9000, above 12 bits" in result.output
