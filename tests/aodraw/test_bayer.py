"""convert bayer: lossless packed planes in the displayed frame, honest plane colours, sidecar levels."""
import numpy as np
import orjson
import pytest
from click.testing import CliRunner

from aodraw.cli import main
from aodraw.convert.bayer import convert_bayer
from aodraw.raw import orient
from aodraw.synthetic_raw import write_dng, write_jpg


def _load(out, name):
    return np.load(out / f"{name}.npy"), orjson.loads((out / f"{name}.json").read_bytes())


def test_bayer_official_frame(images, tmp_path):
    root, mosaics = images
    summary = convert_bayer(root, tmp_path / "out", workers=2)
    assert len(summary.converted) == 4 and not summary.failed
    planes, side = _load(tmp_path / "out", "00000001")
    m1 = mosaics["00000001"]
    assert planes.dtype == np.uint16 and planes.shape == (4, 24, 36)
    for k, (dy, dx) in enumerate([(0, 0), (0, 1), (1, 1), (1, 0)]):
        np.testing.assert_array_equal(planes[k], m1[dy::2, dx::2])
    assert side == {"file": "00000001.npy", "shape": [4, 24, 36], "dtype": "uint16", "planes": "RGBG",
                    "cfa_pattern": "RGGB", "black_level": [512] * 4, "white_level": 16383, "orientation": 1,
                    "downsample": 1, "cfa_aware": False}
    np.testing.assert_array_equal(_load(tmp_path / "out", "00000002")[0][0], mosaics["00000002"][2:50:2, 2:74:2])
    turned, side = _load(tmp_path / "out", "00000003")
    assert turned.shape == (4, 36, 24) and side["planes"] == "GBGR" and side["orientation"] == 8
    np.testing.assert_array_equal(turned[0], orient(mosaics["00000003"], 8)[0::2, 0::2])


def test_bayer_cfa_aware_and_downsampled(images, tmp_path):
    root, mosaics = images
    result = CliRunner().invoke(main, ["convert", "bayer", "--root", str(root), "--target", str(tmp_path / "out"),
                                       "--downsample", "3", "--cfa-aware", "--workers", "1"])
    assert result.exit_code == 0, result.output
    planes, side = _load(tmp_path / "out", "00000001")
    assert planes.shape == (4, 8, 12) and side["downsample"] == 3
    # 24 x 36 planes to 8 x 12: an exact factor 3 takes the centre of each 3 x 3 block
    np.testing.assert_array_equal(planes[0], mosaics["00000001"][0::2, 0::2][1::3, 1::3])
    turned, side = _load(tmp_path / "out", "00000004")
    assert side["planes"] == "RGBG" and turned.shape == (4, 12, 8)
    np.testing.assert_array_equal(turned[2], orient(mosaics["00000004"][1::2, 1::2], 8)[1::3, 1::3])


@pytest.mark.parametrize("cfa_aware, tag, planes, black", [
    (False, None, "GRGB", [500, 510, 530, 520]),  # official packing: block positions (0,0), (0,1), (1,1), (1,0)
    (False, 8, "RGBG", [510, 530, 520, 500]),  # turned GRBG is RGGB: R was at (0,1), its row's G at (1,1)
    (True, None, "RGBG", [510, 500, 520, 530]),  # R, G of the red row, B, G of the blue row
    (True, 8, "RGBG", [510, 500, 520, 530]),
])
def test_sidecar_black_levels_are_in_plane_order(tmp_path, cfa_aware, tag, planes, black):
    # GRBG with a distinct black level per block position: G 500 at (0,0), R 510, B 520, G 530 at (1,1)
    root = tmp_path / "images"
    root.mkdir()
    mosaic = np.tile(np.array([[1500, 2510], [3520, 1530]], np.uint16), (24, 32))  # 1000 / 2000 / 3000 above black
    write_dng(root / "a.ARW", mosaic, "GRBG", black=(500, 510, 520, 530))
    write_jpg(root / "a.JPG", np.zeros((48, 64, 3), np.uint8), orientation=tag)
    convert_bayer(root, tmp_path / "out", workers=1, cfa_aware=cfa_aware)
    packed, side = _load(tmp_path / "out", "a")
    assert (side["planes"], side["black_level"]) == (planes, black)
    above = {"R": 2000, "G": 1000, "B": 3000}
    for plane, colour, level in zip(packed, planes, black):
        assert (plane == above[colour] + level).all()
