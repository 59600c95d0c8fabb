"""``imagenet-s download lists|annotations`` through the command line, from local and loopback mirrors."""
from __future__ import annotations

import zipfile

from click.testing import CliRunner
from shared_reference import REFERENCE

from imagenet_s.cli import main

LISTS = REFERENCE / "imagenet_s"


def _run(*args, env=None):
    return CliRunner().invoke(main, ["download", *map(str, args)], env=env)


def test_lists_from_a_folder_mirror_in_upstream_layout(tmp_path):
    common = ("--root", tmp_path / "lists", "--mirror", LISTS, "--cache-dir", tmp_path / "c")
    result = _run("lists", "--mode", "50", *common)
    assert result.exit_code == 0, result.output
    got = sorted(p.relative_to(tmp_path / "lists").as_posix() for p in (tmp_path / "lists").rglob("*") if p.is_file())
    assert got == ["categories/ImageNetS_categories_im50.txt", "mapping/ImageNetS_im50_mapping_test.txt",
                   "mapping/ImageNetS_im50_mapping_validation.txt", "names/ImageNetS_im50_validation.txt",
                   "names/ImageNetSemi_im50_train.txt"]
    assert "5 downloaded" in result.output
    again = _run("lists", "--mode", "all", *common)
    assert again.exit_code == 0 and "15 lists files verified (10 downloaded, 0 from the cache, 5 already there)" in \
        again.output


def test_lists_from_the_environment_mirror_over_http(http_server, tmp_path):
    env = {"IMAGENET_S_MIRROR": f"{http_server.base}/ok/imagenet_s"}
    result = _run("lists", "--mode", "300", "--root", tmp_path / "l", "--cache-dir", tmp_path / "c", env=env)
    assert result.exit_code == 0, result.output
    assert len(http_server.requests) == 5
    assert (tmp_path / "l" / "categories" / "ImageNetS_categories_im300.txt").read_bytes() == \
        (LISTS / "categories" / "ImageNetS_categories_im300.txt").read_bytes()


def test_annotation_archive_with_the_wrong_md5_is_refused(tmp_path):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    name = "ImageNetS50-a0fe9d82231f9bc4787ee76e304dfa51.zip"
    with zipfile.ZipFile(mirror / name, "w") as z:
        z.writestr("ImageNetS50/validation-segmentation/n01443537/x.png", b"not the real archive")
    result = _run("annotations", "--mode", "50", "--root", tmp_path / "out", "--mirror", mirror,
                  "--cache-dir", tmp_path / "c")
    assert result.exit_code == 1
    assert "md5" in result.output and "expected a0fe9d82231f9bc4787ee76e304dfa51" in result.output
    assert not (tmp_path / "out" / name).exists() and (tmp_path / "out" / f"{name}.md5-mismatch").exists()


def test_bad_mode_is_a_usage_error(tmp_path):
    result = _run("lists", "--mode", "51", "--root", tmp_path)
    assert result.exit_code == 2 and "error:" in result.output
