"""convert bayer: lossless packed planes in the displayed frame, honest plane colours, sidecar levels."""
import numpy as np
import orjson
from click.testing import CliRunner

from aodraw.cli import main
from aodraw.convert.bayer import convert_bayer
from aodraw.raw import orient


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
