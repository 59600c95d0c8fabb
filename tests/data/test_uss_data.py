"""``uss download|prepare`` and ``uss evaluate --names curated``: the curated COCO-Stuff list served through the
manifest from a loopback mirror of ``../shared/reference/uss``, the annotation archive by structure check."""
from __future__ import annotations

import json
import zipfile

import cv2
import numpy as np
from click.testing import CliRunner
from shared_reference import REFERENCE

from uss.cli import main

CURATED = REFERENCE / "uss" / "curated" / "val2017" / "Coco164kFull_Stuff_Coarse_7.txt"


def _run(*args, env=None):
    return CliRunner().invoke(main, [str(a) for a in args], env=env)


def _png(value: int) -> bytes:
    return cv2.imencode(".png", np.array([[value, value], [255, 0]], np.uint8))[1].tobytes()


def test_curated_list_through_the_manifest_from_a_loopback_mirror(http_server, tmp_path):
    env = {"USS_MIRROR": f"{http_server.base}/ok/uss"}
    result = _run("download", "--dataset", "cocostuff27", "--what", "lists", "--root", tmp_path / "d",
                  "--cache-dir", tmp_path / "c", env=env)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "d" / "curated" / "val2017" / CURATED.name).read_bytes() == CURATED.read_bytes()
    assert [r[1] for r in http_server.requests] == ["uss/curated/val2017/Coco164kFull_Stuff_Coarse_7.txt"]
    broken = _run("download", "--dataset", "cocostuff27", "--what", "lists", "--root", tmp_path / "e",
                  "--cache-dir", tmp_path / "c2", env={"USS_MIRROR": f"{http_server.base}/wrong/uss"})
    assert broken.exit_code == 1 and "sha256" in broken.output


def test_login_datasets_print_instructions_and_check_a_local_copy(tmp_path):
    result = _run("download", "--dataset", "cityscapes27", "--root", tmp_path)
    assert result.exit_code == 0 and "cityscapes-dataset.com" in result.output
    missing = _run("prepare", "--dataset", "potsdam3", "--root", tmp_path)
    assert missing.exit_code == 2 and "labelled_test.txt: no such file" in missing.output
    (tmp_path / "gt").mkdir()
    (tmp_path / "labelled_test.txt").write_text("3_10_0\n")
    np.save(tmp_path / "gt" / "3_10_0.npy", np.zeros((2, 2), np.uint8))
    assert _run("prepare", "--dataset", "potsdam3", "--root", tmp_path).exit_code == 2
    (tmp_path / "gt" / "3_10_0.mat").write_bytes(b"")
    assert _run("prepare", "--dataset", "potsdam3", "--root", tmp_path).exit_code == 0


def test_prepare_and_score_the_curated_set(http_server, tmp_path):
    ids = CURATED.read_text().split()
    root, mirror = tmp_path / "coco", tmp_path / "mirror"
    mirror.mkdir()
    patterns = [_png(v) for v in (0, 100, 156)]  # person, carpet, sky-other
    with zipfile.ZipFile(mirror / "stuffthingmaps_trainval2017.zip", "w") as z:
        for i, image_id in enumerate(ids):
            z.writestr(f"val2017/{image_id}.png", patterns[i % 3])
        z.writestr("train2017/000000000009.png", patterns[0])
    env = {"USS_MIRROR": f"{http_server.base}/ok/uss"}
    got = _run("download", "--dataset", "cocostuff27", "--what", "annotations", "--root", root, "--mirror", mirror,
               "--cache-dir", tmp_path / "c")
    assert got.exit_code == 0, got.output
    prepared = _run("prepare", "--dataset", "cocostuff27", "--root", root, "--cache-dir", tmp_path / "c", env=env)
    assert prepared.exit_code == 0, prepared.output
    assert f"{len(ids)} annotations extracted; all {len(ids)} curated images present" in prepared.output
    gt = root / "annotations" / "val2017"
    extra = gt / "000000000001.png"  # not curated: left out by --names curated
    extra.write_bytes(patterns[0])
    pred = tmp_path / "pred"
    pred.mkdir()
    for i, image_id in enumerate(ids):
        np.save(pred / f"{image_id}.npy", np.full((2, 2), (i % 3) * 2, np.uint8))
    np.save(pred / "000000000001.npy", np.full((2, 2), 5, np.uint8))
    out = tmp_path / "r.json"
    result = _run("evaluate", "--dataset", "cocostuff27", "--gt-dir", gt, "--pred-dir", pred, "--names", "curated",
                  "--data-root", root, "--json", out, "--workers", 1, env=env)
    assert result.exit_code == 0, result.output
    scored = json.loads(out.read_text())
    assert scored["num_images"] == len(ids) == 2175
    # person (9), floor (13), sky (23) each predicted by one cluster; the (255, 0) corner: void and person
    assert scored["assignment"]["0"] == 9 and scored["assignment"]["2"] == 13 and scored["assignment"]["4"] == 23
    person_images = len(range(0, len(ids), 3))  # 3 person pixels each, all found; the others miss their corner
    assert scored["IoUs"][9] == 3 * person_images / (3 * person_images + len(ids) - person_images) * 100 == 60


def test_a_broken_annotation_archive_is_refused(tmp_path):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "stuffthingmaps_trainval2017.zip").write_bytes(b"not a zip")
    result = _run("download", "--dataset", "cocostuff171", "--what", "annotations", "--root", tmp_path / "r",
                  "--mirror", mirror, "--cache-dir", tmp_path / "c")
    assert result.exit_code == 1 and "not a zip archive" in result.output
