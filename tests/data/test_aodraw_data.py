"""``aodraw lock`` and ``aodraw verify`` on a small AODRaw-style copy."""
from __future__ import annotations

import dataclasses
import json
import os
import zipfile

import numpy as np
import pytest
from click.testing import CliRunner

from aodraw.cli import main
from aodraw.dataset_check import verify
from aodraw.download import download_annotations
from data_manifests import manifest
from plumbing.errors import ChecksumMismatchError


def _gt(images, boxes, tags=("low_light",)):
    return {"images": [{"id": i, "file_name": f"{n}.ARW", "width": 60, "height": 40, "tag": list(tags)}
                       for i, n in enumerate(images)],
            "annotations": [{"id": k, "image_id": i, "bbox": b, "area": b[2] * b[3], "iscrowd": 0, "ignore": 0,
                             "category_id": 0} for k, (i, b) in enumerate(boxes)],
            "categories": [{"id": 0, "name": "person"}, {"id": 62, "name": "ignore"}]}


@pytest.fixture
def copy(tmp_path):
    root = tmp_path / "AODRaw"
    (root / "images").mkdir(parents=True)
    (root / "annotations").mkdir()
    for name in ("00000000", "00000001"):
        (root / "images" / f"{name}.ARW").write_bytes(b"raw" + name.encode())
        (root / "images" / f"{name}.JPG").write_bytes(b"\xff\xd8jpg" + name.encode() + b"\xff\xd9")
    gt = _gt(["00000000", "00000001"], [(0, [1, 2, 10, 10]), (1, [40, 20, 20, 20])])
    (root / "annotations" / "train_annotations.json").write_text(json.dumps(gt))
    return root


def _run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_manifest_folders_have_published_sizes_and_counts():
    folders = {f.name: f for f in manifest.load("aodraw").folders}
    assert folders["images"].files == 15570 and folders["images_slice_raw"].links == {}
    assert "google_drive" in folders["annotations"].links and len(folders["annotations"].names) == 6
    assert all(a.digest is None for a in manifest.load("aodraw").artifacts)  # no checksums upstream


def test_verify_reports_completeness_and_passes_a_consistent_copy(copy):
    result = _run("verify", copy)
    assert result.exit_code == 0, result.output
    assert "incomplete (4/15570)" in result.output and "absent" in result.output
    assert "annotations/: not present: test_annotations.json" in result.output


def test_verify_refuses_a_folder_without_any_aodraw_folder(tmp_path):
    (tmp_path / "photos").mkdir()
    result = _run("verify", tmp_path)
    assert result.exit_code == 2
    assert result.output.startswith(f"error: {tmp_path}: none of AODRaw's folders (annotations, images")
    assert "no problems found" not in result.output and len(result.output.splitlines()) == 1


def test_verify_finds_missing_images_boxes_outside_and_unknown_tags(copy):
    (copy / "images" / "00000001.JPG").unlink()
    gt = _gt(["00000000", "00000001"], [(0, [1, 2, 10, 10]), (1, [55, 20, 20, 20])], tags=("snow",))
    (copy / "annotations" / "train_annotations.json").write_text(json.dumps(gt))
    result = _run("verify", copy)
    assert result.exit_code == 1
    assert "1 annotated images missing in images/: 00000001.JPG" in result.output
    assert "1 boxes outside their image (annotation ids 1)" in result.output
    assert "unknown condition tags snow" in result.output


def test_verify_finds_truncated_files(copy):
    (copy / "images" / "00000000.JPG").write_bytes(b"\xff\xd8 half a JPG")
    (copy / "images" / "00000001.ARW").write_bytes(b"")
    result = _run("verify", copy)
    assert result.exit_code == 1
    assert "images/: 2 truncated or empty files: 00000000.JPG, 00000001.ARW" in result.output


def _unannotated_copy(root):
    """images/ (ARW + JPG) and images_downsampled_raw/ (.npy), whole, and no annotations/ at all."""
    (root / "images").mkdir(parents=True)
    (root / "images_downsampled_raw").mkdir()
    for name in ("00000000", "00000001", "00000002"):
        (root / "images" / f"{name}.ARW").write_bytes(b"raw" * 50)
        (root / "images" / f"{name}.JPG").write_bytes(b"\xff\xd8" + b"jpg" * 50 + b"\xff\xd9")
        np.save(root / "images_downsampled_raw" / f"{name}.npy", np.full((3, 4, 5), 7, np.float32))
    return root


def test_verify_passes_a_whole_copy_without_annotations(tmp_path):
    result = _run("verify", _unannotated_copy(tmp_path / "A"))
    assert result.exit_code == 0, result.output
    assert "truncated or empty" not in result.output and result.output.endswith("no problems found\n")


def test_verify_finds_truncated_files_without_annotations(tmp_path):
    root = _unannotated_copy(tmp_path / "A")
    for path in (root / "images" / "00000001.JPG", root / "images_downsampled_raw" / "00000002.npy"):
        os.truncate(path, 100)  # what `truncate -s 100` does: the JPG loses its end marker, the .npy its data
    (root / "images" / "00000002.ARW").write_bytes(b"")
    result = _run("verify", root)
    assert result.exit_code == 1
    problems = [line for line in result.output.splitlines() if "truncated or empty" in line]
    assert problems == ["images/: 2 truncated or empty files: 00000001.JPG, 00000002.ARW",
                        "images_downsampled_raw/: 1 truncated or empty files: 00000002.npy"]
    assert "no problems found" not in result.output


def test_a_truncated_annotated_image_is_reported_once(copy):
    (copy / "images" / "00000000.JPG").write_bytes(b"\xff\xd8 half a JPG")
    (copy / "images" / "00000001.JPG").unlink()
    result = _run("verify", copy)
    assert result.exit_code == 1
    assert result.output.count("00000000.JPG") == 1
    assert "images/: 1 truncated or empty files: 00000000.JPG" in result.output
    assert "1 annotated images missing in images/: 00000001.JPG" in result.output


def test_many_truncated_files_are_one_line_with_the_first_names(tmp_path):
    folder = tmp_path / "A" / "images_downsampled_srgb"
    folder.mkdir(parents=True)
    for k in range(8):
        (folder / f"{k:08d}.JPG").write_bytes(b"\xff\xd8 cut")
    problems = verify(tmp_path / "A", progress=False)[2]
    assert problems == ["images_downsampled_srgb/: 8 truncated or empty files: 00000000.JPG, 00000001.JPG, "
                        "00000002.JPG, 00000003.JPG, 00000004.JPG and 3 more"]


def test_lock_then_verify_against_it(copy, tmp_path):
    result = _run("lock", copy, "--out", tmp_path / "lock.json")
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "lock.json").read_text())
    assert sorted(doc["files"]) == ["annotations/train_annotations.json", "images/00000000.ARW",
                                    "images/00000000.JPG", "images/00000001.ARW", "images/00000001.JPG"]
    assert _run("verify", copy, "--lock", tmp_path / "lock.json").exit_code == 0
    (copy / "images" / "00000000.ARW").write_bytes(b"rawXXXXXXXX")  # same size, other bytes
    (copy / "images" / "00000001.ARW").unlink()
    result = _run("verify", copy, "--lock", tmp_path / "lock.json")
    assert result.exit_code == 1
    assert "lock: 1 files differ from the lock: images/00000000.ARW" in result.output
    assert "lock: 1 files missing: images/00000001.ARW" in result.output


def test_malformed_lock_is_bad_input(copy, tmp_path):
    (tmp_path / "lock.json").write_text('{"files": [1]}')
    result = _run("verify", copy, "--lock", tmp_path / "lock.json")
    assert result.exit_code == 2 and "error: lock file" in result.output


def _archive(path, files):
    with zipfile.ZipFile(path, "w") as z:
        for name, doc in files.items():
            z.writestr(f"AODRaw/annotations/{name}", json.dumps(doc))
        z.writestr("AODRaw/readme.txt", "not an annotation file")


def test_annotations_through_the_google_drive_confirmation_flow(http_server, tmp_path):
    gt = _gt(["00000000"], [(0, [1, 2, 10, 10])])
    _archive(http_server.extra / "anno.zip", {"train_annotations.json": gt, "test_annotations.json": gt})
    archive = manifest.load("aodraw").select("annotations-archive")[0]
    drive = dataclasses.replace(archive, urls=(f"{http_server.base}/gdrive/uc?id=extra/anno.zip&export=download",))
    line = download_annotations(tmp_path / "root", archive=drive, cache_dir=tmp_path / "c", progress=False)
    assert line.endswith("2 annotation files written, 0 already there")
    assert json.loads((tmp_path / "root" / "annotations" / "test_annotations.json").read_text()) == gt
    assert [r[1] for r in http_server.requests] == ["uc", "download"]
    again = download_annotations(tmp_path / "root", archive=drive, cache_dir=tmp_path / "c", progress=False)
    assert again.endswith("0 annotation files written, 2 already there") and len(http_server.requests) == 2


def test_a_drive_file_without_annotations_is_refused(http_server, tmp_path):
    _archive(http_server.extra / "anno.zip", {})
    archive = manifest.load("aodraw").select("annotations-archive")[0]
    drive = dataclasses.replace(archive, urls=(f"{http_server.base}/gdrive/uc?id=extra/anno.zip",))
    with pytest.raises(ChecksumMismatchError, match="none of the annotation files"):
        download_annotations(tmp_path / "root", archive=drive, cache_dir=tmp_path / "c", progress=False)
    assert not (tmp_path / "root" / archive.path).exists()
    assert (tmp_path / "root" / f"{archive.path}.invalid-mismatch").exists()


def test_annotations_from_a_mirror_are_checked(tmp_path, monkeypatch):
    mirror = tmp_path / "mirror" / "annotations"
    mirror.mkdir(parents=True)
    names = manifest.load("aodraw").folders[0].names
    for name in names:
        (mirror / name).write_text(json.dumps(_gt(["00000000"], [(0, [1, 2, 10, 10])])))
    monkeypatch.setenv("AODRAW_MIRROR", str(tmp_path / "mirror"))
    result = _run("download", "annotations", "--root", tmp_path / "root", "--cache-dir", tmp_path / "c")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "root" / "annotations").iterdir()) == sorted(names)
    (mirror / names[0]).write_text('{"images": "not a list"}')
    result = _run("download", "annotations", "--root", tmp_path / "other", "--cache-dir", tmp_path / "c2")
    assert result.exit_code == 1 and "must be a list" in result.output
    assert not (tmp_path / "other" / "annotations" / names[0]).exists()


def test_image_folders_are_printed_as_instructions(tmp_path):
    result = _run("download", "downsampled-srgb", "--root", tmp_path)
    assert result.exit_code == 0
    assert "https://pan.baidu.com/s/1_56k-Tr1JGDI99xFugPGtQ?pwd=aerr" in result.output and "terabox" in result.output
    assert "aodraw convert downsample --kind srgb" in result.output and not any(tmp_path.iterdir())
