"""plumbing.archives: the one safe submission reader and the score cache, on real zip files."""
from __future__ import annotations

import zipfile

import pytest

from plumbing.archives import ArchiveLimits, ScoreCache, check_archive, list_submissions, parse_fields
from plumbing.errors import BadInputError, InputWarning


def kind_of(name: str):
    return "data" if name.endswith(".bin") else ("text" if name == "notes.txt" else None)


def make_zip(path, members: dict):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_members_are_sorted_by_kind_and_texts_read_without_extracting(tmp_path):
    archive = make_zip(tmp_path / "a.zip", {"b/2.bin": b"x" * 10, "a/1.bin": b"y", "notes.txt": b"hello",
                                            "sub/": b""})
    checked = check_archive(archive, ArchiveLimits(), kind_of, "a .bin or notes.txt", texts=("notes.txt",))
    assert checked.members == {"data": ["a/1.bin", "b/2.bin"], "text": ["notes.txt"]}
    assert checked.texts == {"notes.txt": b"hello"} and sorted(p.name for p in tmp_path.iterdir()) == ["a.zip"]


def test_metadata_members_refuse_the_archive_naming_the_first_of_each_kind(tmp_path):
    archive = make_zip(tmp_path / "m.zip", {"a/1.bin": b"y", "__MACOSX/a/._1.bin": b"\x00",
                                            "__MACOSX/a/._2.bin": b"\x00", "a/.DS_Store": b"Bud1"})
    with pytest.raises(BadInputError, match=r"^m.zip: members '__MACOSX/a/._1.bin', 'a/.DS_Store' \(3 in all, "
                                            r"kinds __MACOSX/, .DS_Store\): operating-system metadata"):
        check_archive(archive, ArchiveLimits(), kind_of, "a .bin or notes.txt")
    single = make_zip(tmp_path / "s.zip", {"a/1.bin": b"y", "a/Thumbs.db": b"\x00"})
    with pytest.raises(BadInputError, match=r"^s.zip: member 'a/Thumbs.db': operating-system metadata, not part "):
        check_archive(single, ArchiveLimits(), kind_of, "a .bin or notes.txt")


def test_refusals_name_the_member_and_the_accepted_kinds(tmp_path):
    archive = make_zip(tmp_path / "a.zip", {"x.exe": b"MZ"})
    with pytest.raises(BadInputError, match=r"^a.zip: member 'x.exe': not a .bin or notes.txt$"):
        check_archive(archive, ArchiveLimits(), kind_of, "a .bin or notes.txt")
    big = make_zip(tmp_path / "big.zip", {"notes.txt": bytes(range(256)) * 12})
    with pytest.raises(BadInputError, match="member 'notes.txt': larger than 2,000 bytes"):
        check_archive(big, ArchiveLimits(), kind_of, "x", texts=("notes.txt",), text_limit=2000)
    with pytest.raises(BadInputError, match="compression ratio"):
        check_archive(big, ArchiveLimits(max_ratio=2), kind_of, "x")


def test_method_fields_continue_lines_and_warn_about_missing_ones():
    text = b"method NAME: Net\ninput: raw\nDescription: two\n  lines\nNote: a colon\n"
    with pytest.warns(InputWarning, match="s.zip: method.txt lacks Backbone"):
        fields = parse_fields(text, ("Method name", "Input", "Backbone", "Description"), "s.zip")
    assert fields == {"Method name": "Net", "Input": "raw", "Backbone": "", "Description": "two lines Note: a colon"}
    with pytest.warns(InputWarning, match="s.zip: no method.txt; the method is listed under the file name"):
        assert parse_fields(None, ("A",), "s.zip") == {"A": ""}


def test_score_cache_is_keyed_by_digest_and_context(tmp_path):
    cache = ScoreCache(tmp_path / "c", {"gt": "abc", "limits": [1, 2]})
    assert cache.get("f" * 64) is None
    cache.put("f" * 64, {"row": {"AP": 0.5}})
    assert cache.get("f" * 64) == {"row": {"AP": 0.5}}
    assert ScoreCache(tmp_path / "c", {"limits": [1, 2], "gt": "abc"}).get("f" * 64) == {"row": {"AP": 0.5}}
    assert ScoreCache(tmp_path / "c", {"gt": "other", "limits": [1, 2]}).get("f" * 64) is None
    (tmp_path / "c" / f"{'f' * 64}.json").write_text("{not json")
    assert cache.get("f" * 64) is None
    files = cache.files("f" * 64)
    files.mkdir()
    (files / "plot.png").write_bytes(b"png")
    assert not cache.files("f" * 64, fresh=True).exists()


def test_list_submissions_skips_appledouble_and_refuses_an_empty_folder(tmp_path):
    for name in ("b.zip", "a.json", "._a.json", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    with pytest.warns(InputWarning, match=r"skipped 1 operating-system metadata file \(\._a.json\)"):
        assert [p.name for p in list_submissions(tmp_path, ["*.zip", "*.json"], "submissions")] == ["a.json", "b.zip"]
    with pytest.raises(BadInputError, match="no .zip archives"):
        list_submissions(tmp_path / "b.zip", ["*.zip"], ".zip archives")
