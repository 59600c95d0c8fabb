"""Reading submission archives safely, and the score cache of leaderboards: one implementation for every benchmark.

A submission zip is never extracted. Its central directory is checked first, member by member, before anything is
decompressed: no absolute or ``..`` paths, no backslashes, no symbolic links, no encryption, no repeated names, only
the member kinds the benchmark accepts, only the usual compressions, a per-member compression ratio and a total
uncompressed size under ``ArchiveLimits``. Operating-system metadata (``__MACOSX/``, ``._*``, ``.DS_Store``, ... see
``plumbing.system_files``) refuses the archive in one line naming its first member of each kind, before any problem
but an unsafe name (with the nesting hint too when the files also sit inside one folder): a submission is a
made artifact, re-zipped in a second (folders on disk skip such files with a warning instead). Members are then
read straight from the archive, the first bytes of a member checked before the rest is decompressed where the
caller asks. A zip of a folder (``zip -r SUB.zip team/``) is refused with ``nesting_hint``: the command that zips
the folder's contents from inside it.

Leaderboards score each archive once: ``ScoreCache`` keeps one JSON entry per archive sha256 (and a folder for the
files made with it, plots), valid while the context (ground truth, mode/preset, limits) stays the same.
"""
from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import stat
import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from plumbing.errors import BadInputError, warn
from plumbing.files import write_json
from plumbing.hashing import file_digest
from plumbing.system_files import is_system_file, metadata_kind, warn_skipped

METHOD_FILE = "method.txt"
TEXT_LIMIT = 1 << 20  # small text members (match.json, method.txt): at most 1 MiB
COMPRESSIONS = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA})


@dataclass(frozen=True)
class ArchiveLimits:
    """What an archive may hold before it is refused unread: members' total uncompressed bytes and the largest
    uncompressed/compressed ratio of one member."""

    max_total_bytes: int = 8 << 30
    max_ratio: float = 100.0


@dataclass(frozen=True)
class CheckedArchive:
    """An archive whose central directory passed ``check_archive``: the accepted members by kind (sorted names) and
    the small text members read (bytes, by name)."""

    path: Path
    members: dict[str, list[str]]
    texts: dict[str, bytes]


METADATA_COMMAND = "zip -r -X SUB.zip . -x '.*' -x '__MACOSX/*'"
METADATA_HOW = f"zip without it, e.g. `{METADATA_COMMAND}`"


def nested_folder(names: Iterable[str]) -> str | None:
    """The one top folder every member of ``names`` (relative POSIX paths of files) sits in, or None when some
    file is at the root, they sit in different folders, or there are none."""
    tops = {name.split("/", 1)[0] if "/" in name else None for name in names}
    return tops.pop() if len(tops) == 1 and None not in tops else None


def nesting_hint(folder: str, archive: bool = True) -> str:
    """The hint for files that sit inside ``folder``/ instead of at the root; for an ``archive`` it gives the
    command that zips the folder's contents (run inside it, operating-system metadata left out)."""
    hint = f"the files sit inside {folder}/; they must be at the root"
    if archive:
        hint += f": zip from inside the folder, `cd {shlex.quote(folder)} && {METADATA_COMMAND}`"
    return hint


def _metadata_refusal(path: Path, metadata: dict[str, list[str]], nested: str = "") -> BadInputError:
    """The refusal of an archive holding operating-system metadata: one line naming the first member of each kind
    found (``__MACOSX/``, ``._*``, ``.DS_Store`` ...) and how many there are, then ``nested`` (the nesting hint of an
    archive whose files also sit inside a folder), so both problems are named at once."""
    first = [names[0] for names in metadata.values()]
    count = sum(len(names) for names in metadata.values())
    also = f"; also, {nested}" if nested else ""
    if count == 1:
        return refuse(path, first[0], f"operating-system metadata, not part of a submission: {METADATA_HOW}{also}")
    shown = ", ".join(repr(name) for name in first)
    return BadInputError(f"{path.name}: members {shown} ({count} in all, kinds {', '.join(metadata)}): "
                         f"operating-system metadata, not part of a submission (macOS Finder's Compress adds "
                         f"__MACOSX/ and ._* members): {METADATA_HOW}{also}")


def refuse(path: Path, member: str, why: str) -> BadInputError:
    """The error refusing archive ``path`` because of ``member``: ``<archive name>: member '<name>': <why>``."""
    return BadInputError(f"{path.name}: member {member!r}: {why}")


def check_member_name(path: Path, name: str) -> None:
    """Refuse a member name that could write outside a folder if extracted: absolute, ``..``, backslashes, empty
    components or NUL. Raises BadInputError (``refuse``)."""
    parts = name.rstrip("/").split("/")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise refuse(path, name, "absolute path")
    if "\\" in name:
        raise refuse(path, name, "backslash in the path (unsafe on Windows)")
    if ".." in parts:
        raise refuse(path, name, "'..' in the path (zip slip)")
    if "" in parts or "\x00" in name:
        raise refuse(path, name, "empty path component")


def open_zip(path: Path) -> zipfile.ZipFile:
    """Open ``path`` as a zip. Raises BadInputError: no such file, or not a readable zip archive."""
    try:
        return zipfile.ZipFile(path)
    except FileNotFoundError:
        raise BadInputError(f"{path}: no such file") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        raise BadInputError(f"{path.name}: not a readable zip archive ({exc})") from None


def check_archive(path: str | os.PathLike, limits: ArchiveLimits, kind_of: Callable[[str], str | None],
                  accepted: str, texts: Iterable[str] = (), text_limit: int = TEXT_LIMIT) -> CheckedArchive:
    """Check every member of the zip at ``path`` from its central directory, then read its small text members.

    Args:
        kind_of: a member name -> its kind (any label, e.g. ``"mask"``), or None when the benchmark does not accept
            that member.
        accepted: what is accepted, in words, for the refusal message (``not <accepted>``).
        texts: names of the small text members to read when present (each at most ``text_limit`` bytes).
    Raises:
        BadInputError: not a zip; a member with an absolute, ``..`` or backslash path, operating-system metadata
            (``plumbing.system_files``: ``__MACOSX/``, ``._*``, ``.DS_Store``, ``Thumbs.db`` ...), repeated, a
            symlink, encrypted, of no accepted kind, with an unsupported compression or a compression ratio above
            ``limits.max_ratio``; members totalling more than ``limits.max_total_bytes``; a text member too large
            or corrupt.
    """
    path = Path(path)
    with open_zip(path) as zf:
        infos, metadata = [], {}
        for info in zf.infolist():  # unsafe names first, then metadata: refused before any other problem is reported
            check_member_name(path, info.filename)
            kind = metadata_kind(info.filename)
            if kind is None:
                infos.append(info)
            else:
                metadata.setdefault(kind, []).append(info.filename)
        nested = _nested_hint([info.filename for info in infos if not info.is_dir()], kind_of)
        if metadata:
            raise _metadata_refusal(path, metadata, nested)
        members: dict[str, list[str]] = {}
        seen, total = set(), 0
        for info in infos:
            name = info.filename
            if name in seen:
                raise refuse(path, name, "appears twice")
            seen.add(name)
            if stat.S_ISLNK(info.external_attr >> 16):
                raise refuse(path, name, "symbolic link")
            if info.flag_bits & 0x1:
                raise refuse(path, name, "encrypted")
            if info.is_dir():
                continue
            kind = kind_of(name)
            if kind is None:
                raise refuse(path, name, f"not {accepted}" + (f" ({nested})" if nested else ""))
            members.setdefault(kind, []).append(name)
            if info.compress_type not in COMPRESSIONS:
                raise refuse(path, name, f"unsupported compression method {info.compress_type}")
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > limits.max_ratio:
                raise refuse(path, name, f"compression ratio {ratio:,.0f} exceeds {limits.max_ratio:g} "
                                         f"({info.file_size:,} bytes uncompressed; zip bomb?)")
            total += info.file_size
            if total > limits.max_total_bytes:
                raise BadInputError(f"{path.name}: members exceed {limits.max_total_bytes:,} bytes uncompressed "
                                    "(zip bomb?)")
        read = {}
        for name in texts:
            if name in seen:
                if zf.getinfo(name).file_size > text_limit:
                    raise refuse(path, name, f"larger than {text_limit:,} bytes")
                read[name] = read_member(zf, path, name)
    return CheckedArchive(path, {kind: sorted(names) for kind, names in members.items()}, read)


def _nested_hint(files: list[str], kind_of: Callable[[str], str | None]) -> str:
    """The nesting hint when every file sits inside one folder and some file is refused where it is but would be
    accepted at the root (a zip of the folder, ``zip -r SUB.zip team/`` or Finder's Compress); else empty."""
    folder = nested_folder(files)
    if folder is None or not any(kind_of(n) is None and kind_of(n.split("/", 1)[1]) is not None for n in files):
        return ""
    return nesting_hint(folder)


def read_member(zf: zipfile.ZipFile, path: Path, name: str, check_head: Callable[[bytes], object] | None = None,
                head_bytes: int = 64) -> bytes:
    """The bytes of member ``name`` of the open archive ``zf`` (from ``path``); ``check_head`` sees the first
    ``head_bytes`` bytes before the rest is decompressed (and raises to stop there).

    Raises:
        BadInputError: corrupt member data (bad CRC, truncated stream), or whatever ``check_head`` raises.
    """
    try:
        with zf.open(name) as f:
            head = f.read(head_bytes)
            if check_head is not None:
                check_head(head)
            return head + f.read()
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
        raise refuse(path, name, f"corrupt data ({exc})") from None


METHOD_NAME = "Method name"  # the method.txt field that names a submission on every leaderboard


def name_method(method: dict, submission: str | os.PathLike) -> dict:
    """``method`` (method.txt fields) with its ``Method name`` set to the submission file's stem when method.txt
    gives none (``flat.zip`` -> ``flat``): the one rule every leaderboard (CSV, site, score JSON) lists an
    unnamed submission by. Returns the same dict, changed in place."""
    method[METHOD_NAME] = (method.get(METHOD_NAME) or "").strip() or Path(submission).stem
    return method


def parse_fields(text: bytes | None, fields: Iterable[str], source: str, file_name: str = METHOD_FILE) -> dict:
    """The ``Field: value`` entries of a ``method.txt``-style file (field names match case-insensitively;
    continuation lines join the previous field), every one of ``fields`` present (empty when missing).

    Missing fields (or a missing file, ``text`` None) are warned about; they never refuse a submission.
    """
    fields = tuple(fields)
    values = {f: "" for f in fields}
    if text is None:
        warn(f"{source}: no {file_name}; the method is listed under the file name")
        return values
    lookup = {f.lower(): f for f in fields}
    current, found = None, set()
    for line in text.decode("utf-8", errors="replace").splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip().lower() in lookup:
            current = lookup[key.strip().lower()]
            found.add(current)
            values[current] = value.strip()
        elif current is not None and line.strip():
            values[current] = f"{values[current]} {line.strip()}".strip()
    missing = [f for f in fields if f not in found]
    if missing:
        warn(f"{source}: {file_name} lacks {', '.join(missing)}")
    return values


def list_submissions(directory: str | os.PathLike, patterns: Iterable[str], what: str) -> list[Path]:
    """The files of ``directory`` matching any glob of ``patterns``, sorted by name; AppleDouble and other
    operating-system files are skipped with one warning. Raises BadInputError (``<dir>: no <what>``) when none."""
    directory = Path(directory)
    found = sorted({p for pattern in patterns for p in directory.glob(pattern) if p.is_file()}, key=lambda p: p.name)
    skipped = [p.name for p in found if is_system_file(p.name)]
    warn_skipped(str(directory), skipped)
    kept = [p for p in found if p.name not in skipped]
    if not kept:
        raise BadInputError(f"{directory}: no {what}")
    return kept


def context_key(context: object) -> str:
    """The sha256 (hex) of ``context`` as canonical JSON: what a cached score depends on besides the archive."""
    return hashlib.sha256(json.dumps(context, sort_keys=True, default=str).encode()).hexdigest()


class ScoreCache:
    """Scores by archive sha256 under ``folder``: ``<sha256>.json`` holds ``{"context": key, ...entry}``, and
    ``<sha256>/`` the files made with it (plots). An entry of another context, or unreadable, counts as absent."""

    def __init__(self, folder: str | os.PathLike, context: object):
        self.folder, self.context = Path(folder), context_key(context)

    def get(self, digest: str) -> dict | None:
        """The cached entry of the archive with sha256 ``digest`` (without ``context``), or None."""
        cached = self.folder / f"{digest}.json"
        if not cached.is_file():
            return None
        try:
            stored = json.loads(cached.read_text())
            return {k: v for k, v in stored.items() if k != "context"} if stored["context"] == self.context else None
        except (ValueError, TypeError, KeyError, OSError):
            return None  # an unreadable cache entry is recomputed

    def put(self, digest: str, entry: dict) -> Path:
        """Store ``entry`` (a JSON-ready dict) for ``digest`` atomically; returns the entry's file."""
        return write_json(self.folder / f"{digest}.json", {"context": self.context, **entry})

    def files(self, digest: str, fresh: bool = False) -> Path:
        """The folder of the files made with the entry of ``digest`` (emptied first when ``fresh``; not created)."""
        folder = self.folder / digest
        if fresh and folder.exists():
            shutil.rmtree(folder)
        return folder

    def ranked_rows(self, submissions: Iterable[Path], score: Callable[[Path, str, Path | None], dict], metric: str,
                    name_key: str, plot_names: tuple[str, ...], draw: bool = False,
                    notify: Callable[[str], None] = print) -> list[dict]:
        """Every submission scored once (``score(path, sha256, plot_folder_or_None)`` -> ``{"row": {...,
        "status"}, "record": ...}``, cached here), as rows best ``metric`` first with their ``rank`` (competition
        ranking: tied rows share a rank, the next rank skips, 1, 1, 3), refused ones last.

        A cached entry holds only what the bytes decide (the scores), since byte-identical files may sit under
        several names: each row is the entry's ``row`` plus ``name_key`` (this file's name), ``sha256``, ``record``
        (a copy, its ``name_key`` set to this file's name when it has one) and ``plots`` (the entry's files
        ``plot_names``, when all were drawn); an unnamed method (the scorer must leave it empty) is named after this
        file (``name_method``), in the row's ``method`` and the record's ``method`` fields. With ``draw`` the
        score is given a fresh folder to draw them in, and a cached score drawn without them is scored again."""
        rows = []
        for path in submissions:
            digest = file_digest(path, "sha256")
            entry = self.get(digest)
            if entry is not None and draw and entry["row"]["status"] == "ok" and not self._has(digest, plot_names):
                entry = None  # scored before without plots
            if entry is None:
                notify(f"scoring {path.name}")
                entry = {**score(path, digest, self.files(digest, fresh=True) if draw else None),
                         "scored_as": path.name}
                self.put(digest, entry)
                entry = json.loads(json.dumps(entry))  # the rows of later copies must not share its dicts
            record = entry.get("record")
            if isinstance(record, dict) and name_key in record:
                record[name_key] = path.name
            drawn = [self.files(digest) / p for p in plot_names] if self._has(digest, plot_names) else []
            if entry["row"]["status"] != "ok" and entry.get("scored_as", path.name) != path.name:
                # a refusal names the file it was made for: name this one instead
                entry["row"]["status"] = entry["row"]["status"].replace(entry["scored_as"], path.name)
            row = {**entry["row"], name_key: path.name, "sha256": digest, "record": record, "plots": drawn}
            if row["status"] == "ok":  # the cache, shared by byte-identical files, leaves an unnamed method empty
                row["method"] = row.get("method") or path.stem
                if isinstance(record, dict) and isinstance(record.get("method"), dict):
                    name_method(record["method"], path)
            rows.append(row)
        scored = sorted((r for r in rows if r["status"] == "ok"), key=lambda r: -r[metric])
        for position, row in enumerate(scored):
            tied = position and row[metric] == scored[position - 1][metric]
            row["rank"] = scored[position - 1]["rank"] if tied else position + 1
        return scored + [r for r in rows if r["status"] != "ok"]

    def _has(self, digest: str, names: tuple[str, ...]) -> bool:
        return all((self.files(digest) / name).is_file() for name in names)
