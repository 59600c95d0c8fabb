"""The download routine against a real loopback server and real upstream files: resume, retry, refusal, atomicity."""
from __future__ import annotations

import dataclasses

import pytest
from shared_reference import REFERENCE

from data_manifests import manifest
from data_manifests.fetch import fetch, fetch_all
from plumbing.errors import BadInputError, ChecksumMismatchError, ToolkitError

NAMES = "names/ImageNetS_im50_validation.txt"  # 57,903 bytes


@pytest.fixture(scope="module")
def imagenet_s():
    return manifest.load("imagenet_s")


@pytest.fixture
def artifact(imagenet_s):
    return next(a for a in imagenet_s.artifacts if a.path == NAMES)


def _get(artifact, tmp_path, mirror, **kw):
    kw = {"cache_dir": tmp_path / "cache", "backoff": 0.0, "timeout": 10, "progress": False, **kw}
    return fetch(artifact, tmp_path / "root" / artifact.path, mirror=mirror, **kw)


def _data_requests(server, fault):
    return [r for r in server.requests if r[0] == fault]


def test_manifest_has_the_pinned_lists_and_archives(imagenet_s):
    lists = imagenet_s.select("lists")
    assert len(lists) == 15 and len(imagenet_s.select("lists", "50")) == 5
    assert all("/b2312ba/data/" in a.urls[0] and len(a.sha256) == 64 for a in lists)
    archives = imagenet_s.select("annotations", "919")
    assert [a.digest[0] for a in archives] == ["md5"] and archives[0].md5 in archives[0].name
    for a in lists:  # the manifest's sizes are the reference files' sizes
        assert (REFERENCE / "imagenet_s" / a.path).stat().st_size == a.size


def test_download_verify_then_present_then_cached(http_server, artifact, tmp_path):
    mirror = f"{http_server.base}/ok/imagenet_s"
    assert _get(artifact, tmp_path, mirror) == "downloaded"
    dest = tmp_path / "root" / NAMES
    assert dest.read_bytes() == (REFERENCE / "imagenet_s" / NAMES).read_bytes()
    assert _get(artifact, tmp_path, mirror) == "present"
    other = fetch(artifact, tmp_path / "other" / NAMES, mirror=mirror, cache_dir=tmp_path / "cache", progress=False)
    assert other == "cached" and len(http_server.requests) == 1
    assert not list((tmp_path / "root").rglob("*.tmp")) and not list((tmp_path / "root").rglob(".*part"))


def test_dropped_connection_resumes_with_range(http_server, artifact, tmp_path):
    assert _get(artifact, tmp_path, f"{http_server.base}/drop/imagenet_s") == "downloaded"
    first, second = _data_requests(http_server, "drop")
    assert first[2] is None and second[2] == f"bytes={artifact.size // 2}-"
    assert (tmp_path / "root" / NAMES).read_bytes() == (REFERENCE / "imagenet_s" / NAMES).read_bytes()


def test_interrupted_download_leaves_no_final_file_and_the_rerun_resumes(http_server, artifact, tmp_path):
    with pytest.raises(ToolkitError, match="gave up after 0 retries"):
        _get(artifact, tmp_path, f"{http_server.base}/drop/imagenet_s", retries=0)
    assert not (tmp_path / "root" / NAMES).exists()
    [part] = (tmp_path / "cache").rglob(".*.part")
    assert part.stat().st_size == artifact.size // 2
    assert _get(artifact, tmp_path, f"{http_server.base}/ok/imagenet_s") == "downloaded"
    assert _data_requests(http_server, "ok")[0][2] == f"bytes={artifact.size // 2}-"
    assert (tmp_path / "root" / NAMES).read_bytes() == (REFERENCE / "imagenet_s" / NAMES).read_bytes()


def test_server_without_range_support_restarts_the_file(http_server, artifact, tmp_path):
    assert _get(artifact, tmp_path, f"{http_server.base}/norange/imagenet_s") == "downloaded"
    assert len(_data_requests(http_server, "norange")) == 2
    assert (tmp_path / "root" / NAMES).read_bytes() == (REFERENCE / "imagenet_s" / NAMES).read_bytes()


def test_http_500_is_retried(http_server, artifact, tmp_path):
    assert _get(artifact, tmp_path, f"{http_server.base}/flaky/imagenet_s") == "downloaded"
    assert len(_data_requests(http_server, "flaky")) == 2


def test_http_500_without_retries_fails_cleanly(http_server, artifact, tmp_path):
    with pytest.raises(ToolkitError, match="HTTP 500"):
        _get(artifact, tmp_path, f"{http_server.base}/flaky/imagenet_s", retries=0)
    assert not (tmp_path / "root").exists()


def test_missing_file_is_an_error_naming_it(http_server, artifact, tmp_path):
    missing = dataclasses.replace(artifact, path="names/nothing_here.txt")
    with pytest.raises(ToolkitError, match="nothing_here.txt.*HTTP 404"):
        _get(missing, tmp_path, f"{http_server.base}/ok/imagenet_s")


def test_wrong_bytes_are_refused_and_kept_aside(http_server, artifact, tmp_path):
    with pytest.raises(ChecksumMismatchError, match=f"expected {artifact.sha256}"):
        _get(artifact, tmp_path, f"{http_server.base}/wrong/imagenet_s")
    dest = tmp_path / "root" / NAMES
    assert not dest.exists()
    aside = dest.with_name(dest.name + ".sha256-mismatch")
    assert aside.stat().st_size == artifact.size
    assert not list((tmp_path / "cache").rglob("*.txt"))  # nothing cached either


def test_existing_file_with_other_content_is_not_overwritten(http_server, artifact, tmp_path):
    dest = tmp_path / "root" / NAMES
    dest.parent.mkdir(parents=True)
    dest.write_text("my own notes")
    with pytest.raises(ChecksumMismatchError, match="not overwritten"):
        _get(artifact, tmp_path, f"{http_server.base}/ok/imagenet_s")
    assert dest.read_text() == "my own notes" and not http_server.requests


def test_google_drive_confirmation_page_is_followed(http_server, artifact, tmp_path):
    drive = dataclasses.replace(artifact, urls=(f"{http_server.base}/gdrive/uc?id=imagenet_s/{NAMES}&export=download",))
    assert _get(drive, tmp_path, None) == "downloaded"
    page, download = http_server.requests
    assert page[1] == "uc" and download[1] == "download" and download[3]["confirm"] == "t"
    assert (tmp_path / "root" / NAMES).read_bytes() == (REFERENCE / "imagenet_s" / NAMES).read_bytes()


def test_html_page_instead_of_the_file_is_an_error(http_server, artifact, tmp_path):
    with pytest.raises(ToolkitError, match="HTML page instead of the file"):
        _get(artifact, tmp_path, f"{http_server.base}/html/imagenet_s")
    assert not (tmp_path / "root").exists()


def test_upstream_urls_are_tried_in_order(http_server, artifact, tmp_path):
    two = dataclasses.replace(artifact, urls=(f"{http_server.base}/ok/nowhere/{NAMES}",
                                              f"{http_server.base}/ok/imagenet_s/{NAMES}"))
    assert _get(two, tmp_path, None) == "downloaded"
    assert [r[1] for r in http_server.requests] == [f"nowhere/{NAMES}", f"imagenet_s/{NAMES}"]


@pytest.mark.parametrize("kind", ["folder", "file-url"])
def test_local_mirrors(artifact, tmp_path, kind):
    root = REFERENCE / "imagenet_s"
    assert _get(artifact, tmp_path, str(root) if kind == "folder" else root.as_uri()) == "downloaded"
    assert (tmp_path / "root" / NAMES).read_bytes() == (root / NAMES).read_bytes()


def test_missing_mirror_folder_is_bad_input(artifact, tmp_path):
    with pytest.raises(BadInputError, match="no-such-mirror: no such folder"):
        _get(artifact, tmp_path, str(tmp_path / "no-such-mirror"))


def test_mirror_from_the_environment(http_server, imagenet_s, tmp_path, monkeypatch):
    monkeypatch.setenv("IMAGENET_S_MIRROR", f"{http_server.base}/ok/imagenet_s")
    counts = fetch_all(imagenet_s, imagenet_s.select("lists", "50"), tmp_path / "root", cache_dir=tmp_path / "c",
                       progress=False)
    assert counts == {"downloaded": 5}
    assert {r[1].split("/", 1)[0] for r in http_server.requests} == {"imagenet_s"}


def test_stalled_connection_times_out_and_resumes(http_server, artifact, tmp_path):
    assert _get(artifact, tmp_path, f"{http_server.base}/stall/imagenet_s", timeout=0.3) == "downloaded"
    first, second = _data_requests(http_server, "stall")
    assert second[2] == f"bytes={artifact.size // 2}-"


def test_a_206_with_another_byte_range_restarts_the_file(http_server, artifact, tmp_path):
    assert _get(artifact, tmp_path, f"{http_server.base}/badrange/imagenet_s") == "downloaded"
    assert [r[2] for r in _data_requests(http_server, "badrange")] == [None, f"bytes={artifact.size // 2}-", None]
    assert (tmp_path / "root" / NAMES).read_bytes() == (REFERENCE / "imagenet_s" / NAMES).read_bytes()
