"""Slicing: window placement, IoF and crowd marking, the official annotation fields, the written patches."""
import cv2
import numpy as np
import orjson
import pytest
from click.testing import CliRunner
from raw_pairs import PAIRS

from aodraw.cli import main
from aodraw.convert.slice import convert_slice, cut_planes, cut_window, iof, slice_annotations, sliding_windows
from aodraw.raw import border_crop, displayed_mosaic, displayed_planes, orient, pack, plane_sites


def test_windows_of_a_6000x4000_image():
    w = sliding_windows(6000, 4000)
    assert len(w) == 24
    assert sorted(set(w[:, 0])) == [0, 980, 1960, 2940, 3920, 4720]  # last column moved back to end at 6000
    assert sorted(set(w[:, 1])) == [0, 980, 1960, 2720]
    assert list(w[1]) == [0, 980, 1280, 2260]  # x outer, y inner
    assert (w[:, 2:] - w[:, :2] == 1280).all()


def test_window_starts_rounded_down_to_even_and_small_images():
    assert sorted(set(sliding_windows(3001, 1280)[:, 0])) == [0, 980, 1720]  # 3001 - 1280 = 1721 -> 1720
    assert sliding_windows(250, 100, 100, 30).tolist() == [[0, 0, 100, 100], [70, 0, 170, 100],
                                                          [140, 0, 240, 100], [150, 0, 250, 100]]
    # 800 x 2000: windows stick out to the right, 62.5% inside > 0.6: kept
    assert sliding_windows(800, 2000).tolist() == [[0, 0, 1280, 1280], [0, 720, 1280, 2000]]
    # 760 px wide: 59% inside everywhere, all dropped upstream (an assertion); the best-covering windows are kept
    assert len(sliding_windows(760, 2000)) == 2
    assert len(sliding_windows(760, 2000, img_rate_thr=0.5)) == 2


def test_iof():
    boxes = np.array([[60, 40, 80, 60], [95, 0, 115, 10], [0, 0, 0, 5]], np.float64)
    windows = np.array([[0, 0, 100, 100], [70, 0, 170, 100]])
    np.testing.assert_allclose(iof(boxes, windows), [[1, 0.5], [0.25, 1], [0, 0]])


GT = {
    "images": [{"id": 7, "file_name": "00000001.JPG", "width": 250, "height": 100, "tag": ["fog"]}],
    "annotations": [
        {"id": 0, "image_id": 7, "category_id": 1, "bbox": [10.6, 10.2, 20.5, 20.5], "iscrowd": 0},  # A
        {"id": 1, "image_id": 7, "category_id": 2, "bbox": [60, 40, 20, 20], "iscrowd": 0},  # B
        {"id": 2, "image_id": 7, "category_id": 3, "bbox": [100, 50, 10, 10], "iscrowd": 0},  # C
        {"id": 3, "image_id": 7, "category_id": 4, "bbox": [95, 0, 20, 10], "iscrowd": 0},  # D
        {"id": 4, "image_id": 7, "category_id": 62, "bbox": [0, 60, 30, 30], "iscrowd": 1},  # E, ignore region
        {"id": 5, "image_id": 7, "category_id": 5, "bbox": [135, 20, 20, 20], "iscrowd": 0},  # G
    ],
    "categories": [{"id": i, "name": f"c{i}"} for i in (1, 2, 3, 4, 5)] + [{"id": 62, "name": "ignore"}],
}


def test_slice_annotations_by_hand():
    sliced, jobs = slice_annotations(GT, size=100, gap=30)
    assert list(sliced) == ["images", "type", "categories", "annotations"]
    # windows x = 0, 70, 140 written; x = 150 holds only G at IoF 0.25 (a crowd box): not written
    assert [(i["x_start"], i["file_name"], i["slice_id"]) for i in sliced["images"]] == [
        (0, "00000001__100__0___0.npy", "7__100__0___0"), (70, "00000001__100__70___0.npy", "7__100__70___0"),
        (140, "00000001__100__140___0.npy", "7__100__140___0")]
    assert sliced["images"][0] == {"id": 0, "ori_id": 7, "x_start": 0, "y_start": 0, "slice_id": "7__100__0___0",
                                   "file_name": "00000001__100__0___0.npy", "height": 100, "width": 100,
                                   "tag": ["fog"]}
    got = [(a["image_id"], a["category_id"], a["bbox"], a["area"], a["iscrowd"]) for a in sliced["annotations"]]
    assert got == [
        # window 0: A, B, E inside (E keeps its crowd flag), then D (IoF 0.25) as crowd, clipped at 99
        (0, 1, [10, 10, 20, 20], 420, 0), (0, 2, [60, 40, 20, 20], 400, 0), (0, 62, [0, 60, 30, 30], 900, 1),
        (0, 4, [95, 0, 4, 10], 40, 1),
        # window 70: B (IoF 0.5, shifted to -10 and clipped to 0), C, D, G
        (1, 2, [0, 40, 10, 20], 200, 0), (1, 3, [30, 50, 10, 10], 100, 0), (1, 4, [25, 0, 20, 10], 200, 0),
        (1, 5, [65, 20, 20, 20], 400, 0),
        # window 140: G (IoF 0.75) shifted to -5
        (2, 5, [0, 20, 15, 20], 300, 0)]
    assert [a["id"] for a in sliced["annotations"]] == list(range(9))
    assert sliced["annotations"][4]["segmentation"] == [[-10, 40, -10, 60, 10, 60, 10, 40]]
    assert jobs == {"00000001": [(0, 0, "00000001__100__0___0.npy"), (70, 0, "00000001__100__70___0.npy"),
                                 (140, 0, "00000001__100__140___0.npy")]}


def _gt_for(root):
    """One centred box per image of the fixture folder, sizes as displayed."""
    images, anns = [], []
    for i, name in enumerate(PAIRS):
        h, w = cv2.imread(str(root / f"{name}.JPG")).shape[:2]
        images.append({"id": i, "file_name": f"{name}.JPG", "width": w, "height": h, "tag": ["normal_light"]})
        anns.append({"id": i, "image_id": i, "category_id": 0, "bbox": [w / 2 - 4, h / 2 - 4, 8, 8], "iscrowd": 0})
    return {"images": images, "annotations": anns, "categories": [{"id": 0, "name": "person"}]}


@pytest.mark.parametrize("cfa_aware", [False, True])
def test_raw_slices(images, tmp_path, cfa_aware):
    root, mosaics = images
    (tmp_path / "gt.json").write_bytes(orjson.dumps(_gt_for(root)))
    summary = convert_slice(root, tmp_path / "gt.json", tmp_path / "out", tmp_path / "s.json", "raw", size=32, gap=8,
                            workers=2, cfa_aware=cfa_aware)
    assert sorted(summary.converted) == sorted(PAIRS) and not summary.failed
    sliced = orjson.loads((tmp_path / "s.json").read_bytes())
    files = {i["file_name"] for i in sliced["images"]}
    assert {p.name for p in (tmp_path / "out").iterdir()} == files
    m1 = mosaics["00000001"]  # 48 x 72, nothing to crop or turn: the window at x=24, y=16 is a plain cut
    patch = np.load(tmp_path / "out" / "00000001__32__24___16.npy")
    assert patch.dtype == np.float32 and patch.shape == (4, 16, 16)
    np.testing.assert_array_equal(patch[0], m1[16:48:2, 24:56:2])  # (0,0)
    np.testing.assert_array_equal(patch[1], m1[16:48:2, 25:57:2])  # (0,1)
    np.testing.assert_array_equal(patch[2], m1[17:48:2, 25:57:2])  # (1,1)
    np.testing.assert_array_equal(patch[3], m1[17:48:2, 24:56:2])  # (1,0)
    m2 = mosaics["00000002"]  # 52 x 76 for a 48 x 72 JPG: one 2x2 block cropped on every side
    np.testing.assert_array_equal(np.load(tmp_path / "out" / "00000002__32__24___0.npy")[0], m2[2:34:2, 26:58:2])
    turned = np.load(tmp_path / "out" / "00000003__32__0___24.npy")  # displayed 72 x 48
    m3 = mosaics["00000003"]
    if cfa_aware:  # red stays red: pack on the sensor, then turn each plane
        np.testing.assert_array_equal(turned[0], orient(m3[0::2, 0::2], 8)[12:28, :16])
        np.testing.assert_array_equal(turned[2], orient(m3[1::2, 1::2], 8)[12:28, :16])
    else:  # upstream packs the turned mosaic: its (0,0) sites are green
        np.testing.assert_array_equal(turned, pack(np.ascontiguousarray(orient(m3, 8)))[:, 12:28, :16])
        np.testing.assert_array_equal(turned[0], orient(m3, 8)[24:56:2, 0:32:2])


def test_srgb_slices_and_padding(images, tmp_path):
    root, _ = images
    (tmp_path / "gt.json").write_bytes(orjson.dumps(_gt_for(root)))
    result = CliRunner().invoke(main, ["convert", "slice", "--root", str(root), "--ann", str(tmp_path / "gt.json"),
                                       "--target", str(tmp_path / "out"), "--save-ann", str(tmp_path / "s.json"),
                                       "--kind", "srgb", "--size", "64", "--gap", "16", "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "converted 4, skipped 0" in result.output
    # 72 x 48: windows x = 0 and 8, 64 px tall over a 48 px image (75% inside): rows 48.. padded
    shown = cv2.imread(str(root / "00000001.JPG"))
    padded = np.empty((64, 64, 3), np.uint8)
    padded[...] = (104, 116, 124)
    padded[:48] = shown[:, 8:72]
    assert (tmp_path / "out" / "00000001__64__8___0.JPG").read_bytes() == cv2.imencode(".jpg", padded)[1].tobytes()
    again = CliRunner().invoke(main, ["convert", "slice", "--root", str(root), "--ann", str(tmp_path / "gt.json"),
                                      "--target", str(tmp_path / "out"), "--save-ann", str(tmp_path / "s.json"),
                                      "--kind", "srgb", "--size", "64", "--gap", "16", "--workers", "1"])
    assert "converted 0, skipped 4" in again.output


def test_bad_annotation_file(tmp_path):
    (tmp_path / "gt.json").write_text('{"images": [{"id": 1}]}')
    result = CliRunner().invoke(main, ["convert", "slice", "--root", str(tmp_path), "--ann", str(tmp_path / "gt.json"),
                                       "--target", str(tmp_path / "o"), "--save-ann", str(tmp_path / "s.json"),
                                       "--kind", "raw"])
    assert result.exit_code == 2 and result.output.startswith("error: ") and "gt.json" in result.output


def test_slice_rerun_redoes_missing_and_partial_patches(images, tmp_path):
    root, _ = images
    (tmp_path / "gt.json").write_bytes(orjson.dumps(_gt_for(root)))
    args = (root, tmp_path / "gt.json", tmp_path / "out", tmp_path / "s.json", "raw", 32, 8)
    convert_slice(*args, workers=1)
    first = {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()}
    (tmp_path / "out" / "00000001__32__24___16.npy").unlink()
    partial = tmp_path / "out" / "00000002__32__24___0.npy"
    partial.write_bytes(first[partial.name][:100])
    again = convert_slice(*args, workers=1)
    assert sorted(again.converted) == ["00000001", "00000002"] and len(again.skipped) == 2
    assert {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()} == first


@pytest.mark.parametrize("pattern", ["RGGB", "BGGR", "GRBG", "GBRG"])
@pytest.mark.parametrize("orientation", [1, 8])
@pytest.mark.parametrize("cfa_aware", [False, True])
def test_cut_planes_equal_windows_of_the_packed_planes(pattern, orientation, cfa_aware):
    mosaic = np.random.default_rng(0).integers(0, 2 ** 14, (36, 52)).astype(np.uint16)
    hw = (32, 48) if orientation == 1 else (48, 32)
    planes = border_crop(displayed_planes(mosaic, pattern, orientation, cfa_aware), (hw[0] // 2, hw[1] // 2))
    turned = displayed_mosaic(mosaic, orientation, hw)
    sites = plane_sites(pattern, orientation, cfa_aware)
    for y, x, size in [(0, 0, 8), (4, 6, 8), (hw[0] - 6, hw[1] - 4, 8), (0, 0, 64)]:  # inside, past the edges
        expected = cut_window(planes, y // 2, x // 2, size // 2, 0).transpose(2, 0, 1).astype(np.float32)
        got = cut_planes(turned, sites, y, x, size)
        assert got.dtype == np.float32 and np.array_equal(got, expected)
