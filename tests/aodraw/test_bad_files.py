"""Bad RAW and JPG files are one plain line each that names the file and the cause, with nothing from LibRaw on
stderr; RAWs named .DNG, .NEF, ... pair with their JPG as .ARW does."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from raw_pairs import make_pairs
from sensor_dngs import patch_tag

from aodraw.cli import main
from aodraw.raw import read_raw
from aodraw.synthetic_raw import write_dng
from plumbing.errors import BadInputError

AODRAW = Path(sys.executable).parent / "aodraw"
KODAK = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "raw_samples" / "kodak_dc50"
COMPRESSION, DEFLATE = 259, 8
ENDS_EARLY = "truncated: the file ends before its RAW data does (LibRaw: unexpected end of file)"


def cut(source: Path, target: Path, fraction: float) -> Path:
    data = source.read_bytes()
    target.write_bytes(data[: int(len(data) * fraction)])
    return target


def web_page(path: Path) -> Path:
    """What a failed download often leaves under the RAW's name."""
    path.write_bytes(b"<html>not found</html>" * 50)
    return path


def dng(tmp_path) -> Path:
    return write_dng(tmp_path / "whole.DNG", np.full((48, 64), 1000, np.uint16))


@pytest.mark.parametrize("make, cause", [
    (lambda tmp: cut(dng(tmp), tmp / "a.DNG", 0.6), ENDS_EARLY),
    (lambda tmp: cut(KODAK / "00000001.ARW", tmp / "a.ARW", 0.6), ENDS_EARLY),  # a real camera file
    (lambda tmp: cut(KODAK / "00000001.ARW", tmp / "a.ARW", 0.002), "truncated or unreadable: LibRaw could not "
                                                                    "read it to the end"),  # inside the header
    (lambda tmp: cut(dng(tmp), tmp / "a.DNG", 0), "empty file (0 bytes): truncated or never written"),
    (lambda tmp: web_page(tmp / "a.ARW"), "not a RAW file LibRaw can read (unknown or unsupported format)"),
    (lambda tmp: patch_tag(dng(tmp), COMPRESSION, DEFLATE), "LibRaw cannot decode it: corrupted data or unexpected "
                                                            "EOF"),  # raw bytes where deflated data should be
], ids=["dng-cut", "kodak-cut", "kodak-header-cut", "empty", "web-page", "not-deflated"])
def test_read_raw_says_why_and_stderr_stays_quiet(tmp_path, capfd, make, cause):
    path = make(tmp_path)
    with pytest.raises(BadInputError) as error:
        read_raw(path)
    assert str(error.value) == f"{path.name}: {cause}"  # the file's own name, not a path
    assert capfd.readouterr().err == ""  # LibRaw's own "PATH: Unexpected end of file" is captured


@pytest.fixture
def root(tmp_path):
    root = tmp_path / "images"
    make_pairs(root, {"00000001": ((48, 72), (48, 72), None, True)})
    return root


def _convert(root, target):
    return CliRunner().invoke(main, ["convert", "downsample", "--kind", "raw", "--root", str(root),
                                     "--target", str(target), "--workers", "1"])


@pytest.mark.parametrize("ext", [".ARW", ".DNG", ".NEF", ".dng"])
def test_missing_jpg_names_it_beside_its_raw(root, tmp_path, ext):
    write_dng(root / f"00000002{ext}", np.full((48, 72), 1000, np.uint16))
    result = _convert(root, tmp_path / "out")
    assert result.exit_code == 1
    assert f"failed 00000002: no 00000002.JPG beside 00000002{ext}\n" in result.output
    assert "converted 1, skipped 0 (already complete), failed 1" in result.output


def test_raws_of_other_extensions_pair_like_arw(root, tmp_path):
    (root / "00000001.ARW").rename(root / "00000001.nef")
    assert _convert(root, tmp_path / "nef").exit_code == 0
    (root / "00000001.nef").rename(root / "00000001.ARW")
    assert _convert(root, tmp_path / "arw").exit_code == 0
    assert (tmp_path / "nef" / "00000001.npy").read_bytes() == (tmp_path / "arw" / "00000001.npy").read_bytes()


@pytest.mark.parametrize("content, cause", [
    (b"", "empty file (0 bytes): truncated or never written"),
    (b"GIF89a" + b"\0" * 200, "not a JPG file"),
    (b"\xff\xd8\xff\xe1\x00\x10Exif", "truncated or corrupt JPG (its header cannot be read)"),
])
def test_unreadable_jpg_beside_a_raw(root, tmp_path, content, cause):
    (root / "00000001.JPG").write_bytes(content)
    result = _convert(root, tmp_path / "out")
    assert result.exit_code == 1 and f"failed 00000001: 00000001.JPG: {cause}\n" in result.output


def test_real_run_prints_one_line_per_problem(root, tmp_path):
    cut(root / "00000001.ARW", root / "00000002.ARW", 0.6)
    (root / "00000002.JPG").write_bytes((root / "00000001.JPG").read_bytes())
    write_dng(root / "00000003.ARW", np.full((48, 72), 1000, np.uint16))
    run = subprocess.run([str(AODRAW), "convert", "downsample", "--kind", "raw", "--root", str(root), "--target",
                          str(tmp_path / "out"), "--workers", "2"], capture_output=True, text=True)
    assert run.returncode == 1
    assert sorted(line for line in run.stdout.splitlines() if line.startswith("failed")) == [
        f"failed 00000002: 00000002.ARW: {ENDS_EARLY}", "failed 00000003: no 00000003.JPG beside 00000003.ARW"]
    progress = "downsample raw:"
    stderr = [line for line in run.stderr.replace("\r", "\n").splitlines() if line and not line.startswith(progress)]
    assert len(stderr) == 1 and stderr[0].startswith("error: 2 image(s) failed: ")  # nothing from LibRaw
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["00000001.npy"]
