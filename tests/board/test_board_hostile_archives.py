"""The hostile-archive cases, shared by `imagenet-s score` and `aodraw score`: one reader refuses them the same way
(one `error:` line naming the archive, member and reason; exit 2; nothing extracted or written)."""
from __future__ import annotations

import json
import stat
import struct
import zipfile

import pytest
from board_data import method_txt
from click.testing import CliRunner
from luss.luss_data import make_pairs, write_pairs

from aodraw.cli import main as aodraw_main
from imagenet_s.cli import main as imagenet_main


@pytest.fixture(scope="module")
def luss_set(tmp_path_factory):
    return write_pairs(tmp_path_factory.mktemp("luss"), make_pairs(4, 6, 50))


def payload(benchmark: str, detection_set, luss_set) -> tuple[dict, str]:
    """(valid members, the name of the main data member) of a submission of ``benchmark``."""
    if benchmark == "aodraw":
        _gt, dt = detection_set
        return {"results.json": json.dumps(dt).encode(), "method.txt": method_txt("Net")}, "results.json"
    _gt_dir, pred_dir, names = luss_set
    members = {name: (pred_dir / name).read_bytes() for name in names}
    return {**members, "method.txt": b"Method name: Net\n"}, names[0]


def symlink(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


def set_encrypted(path, member: str) -> None:
    raw = bytearray(path.read_bytes())
    central = raw.find(b"PK\x01\x02")
    while raw[central + 46:central + 46 + len(member)] != member.encode():
        central = raw.find(b"PK\x01\x02", central + 4)
    raw[central + 8] |= 1
    raw[struct.unpack("<I", raw[central + 42:central + 46])[0] + 6] |= 1
    path.write_bytes(bytes(raw))


def build(path, members: dict, kind: str, main_member: str) -> tuple:
    """Write the ``kind`` of hostile archive at ``path``; (extra options, expected reason)."""
    extra, compression = (), zipfile.ZIP_DEFLATED
    if kind == "not-a-zip":
        path.write_bytes(b"PK but not really a zip archive")
        return extra, "not a readable zip archive"
    if kind == "zip-slip":
        members[f"../../{main_member.rsplit('/', 1)[-1]}"] = members.pop(main_member)
    elif kind == "absolute":
        members["/tmp/evil.json"] = b"[]"
    elif kind == "backslash":
        members["..\\evil.json"] = b"[]"
    elif kind == "symlink":
        members[main_member] = symlink(main_member)
    elif kind == "bomb":
        members[main_member] = bytes(30 << 20)
    elif kind == "total-size":
        extra = ("--max-total-bytes", 2000)
    elif kind == "corrupt":
        compression = zipfile.ZIP_STORED
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, data in members.items():
            if isinstance(data, zipfile.ZipInfo):
                zf.writestr(data, b"target")
            else:
                zf.writestr(name, data)
        if kind == "duplicate":
            with pytest.warns(UserWarning, match="Duplicate name"):
                zf.writestr(main_member, members[main_member])
    if kind == "encrypted":
        set_encrypted(path, main_member)
    if kind == "corrupt":
        raw = bytearray(path.read_bytes())
        at = raw.find(members[main_member][40:80])
        raw[at] ^= 0xFF
        path.write_bytes(bytes(raw))
    shown = main_member.rsplit("/", 1)[-1]
    return extra, {
        "zip-slip": f"member '../../{shown}': '..' in the path (zip slip)",
        "absolute": "member '/tmp/evil.json': absolute path",
        "backslash": "member '..\\\\evil.json': backslash in the path",
        "symlink": f"member '{main_member}': symbolic link",
        "encrypted": f"member '{main_member}': encrypted",
        "bomb": f"member '{main_member}': compression ratio",
        "total-size": "members exceed 2,000 bytes uncompressed (zip bomb?)",
        "duplicate": f"member '{main_member}': appears twice",
        "corrupt": f"member '{main_member}': corrupt data",
    }[kind]


KINDS = ["zip-slip", "absolute", "backslash", "symlink", "encrypted", "bomb", "total-size", "duplicate", "corrupt",
         "not-a-zip"]


@pytest.mark.parametrize("benchmark", ["aodraw", "imagenet-s"])
@pytest.mark.parametrize("kind", KINDS)
def test_both_benchmarks_refuse_hostile_archives_alike(benchmark, kind, detection_set, luss_set, tmp_path):
    members, main_member = payload(benchmark, detection_set, luss_set)
    work = tmp_path / "work"
    work.mkdir()
    archive = work / f"{kind}.zip"
    extra, reason = build(archive, members, kind, main_member)
    out = work / "score.json"
    if benchmark == "aodraw":
        args, main = ["score", archive, "--gt", detection_set[0]], aodraw_main
    else:
        args, main = ["score", archive, "--gt-dir", luss_set[0], "--mode", "50", "--workers", "1"], imagenet_main
    result = CliRunner().invoke(main, [str(a) for a in [*args, "--json", out, *extra]])
    assert result.exit_code == 2, result.output
    errors = [line for line in result.stderr.splitlines() if not line.startswith("warning:")]
    assert len(errors) == 1 and errors[0].startswith(f"error: {archive.name}"), result.stderr
    assert reason in errors[0]
    assert "Traceback" not in result.output
    assert sorted(p.name for p in work.iterdir()) == [archive.name]  # nothing extracted, nothing written


@pytest.mark.parametrize("benchmark", ["aodraw", "imagenet-s"])
def test_both_benchmarks_refuse_finder_metadata_in_one_line(benchmark, detection_set, luss_set, tmp_path):
    members, _main = payload(benchmark, detection_set, luss_set)
    members.update({"__MACOSX/._method.txt": b"\x00\x05\x16\x07", ".DS_Store": bytes(16)})
    archive = tmp_path / "sub.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    if benchmark == "aodraw":
        args, main = ["score", archive, "--gt", detection_set[0]], aodraw_main
    else:
        args, main = ["score", archive, "--gt-dir", luss_set[0], "--mode", "50", "--workers", "1"], imagenet_main
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        "error: sub.zip: members '__MACOSX/._method.txt', '.DS_Store' (2 in all, kinds __MACOSX/, .DS_Store): "
        "operating-system metadata, not part of a submission (macOS Finder's Compress adds __MACOSX/ and ._* "
        "members): zip without it, e.g. `zip -r -X SUB.zip . -x '.*' -x '__MACOSX/*'`"]
