"""The one download routine: manifest artifact -> verified file under a root.

Sources are the artifact's upstream URLs, or one mirror (``--mirror`` or the dataset's environment variable): an
HTTP(S) base URL, a ``file://`` URL or a plain folder, with the same relative layout as upstream. Downloads land in
a content-addressed cache (``CACHE/<algorithm>-<digest>/<path>``; ``CACHE/unverified/<path>`` for files published
without a digest, which a structure check verifies instead) through a ``.part`` file that later attempts resume
(HTTP Range; a server that ignores Range restarts it), are verified, and only then take their final name. A file
with the wrong digest is moved aside as ``<name>.<algorithm>-mismatch`` (``<name>.invalid-mismatch`` when the
structure check refused it) beside the destination and never used.
"""
from __future__ import annotations

import http.client
import os
import shutil
import time
from collections import Counter
from collections.abc import Callable
from html.parser import HTMLParser
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.error import HTTPError
from urllib.parse import quote, urlencode, urljoin, urlsplit
from urllib.request import HTTPCookieProcessor, Request, build_opener, url2pathname

from data_manifests.manifest import Artifact, Manifest
from plumbing.errors import BadInputError, ChecksumMismatchError, ToolkitError
from plumbing.files import commit_temp, temp_name
from plumbing.hashing import file_digest
from plumbing.jobs import progress_bar

CHUNK = 1 << 20
_USER_AGENT = "rawseg-bench-fetch/0.1"
_MAX_CONFIRMATIONS = 2


class SourceUnavailableError(ToolkitError):
    """No source (upstream, mirror) delivered a file: every one failed or none exists (exit code 1)."""


class _SourceFailed(Exception):
    """This source cannot deliver the file; try the next one."""


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/rawseg-bench`` (default ``~/.cache/rawseg-bench``)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rawseg-bench"


def sources(artifact: Artifact, mirror: str | None) -> list[str | Path]:
    """Where to get ``artifact``: the mirror alone when one is given, else the upstream URLs in order."""
    if not mirror:
        return list(artifact.urls)
    if mirror.startswith(("http://", "https://")):
        return [mirror.rstrip("/") + "/" + quote(artifact.path)]
    root = Path(url2pathname(urlsplit(mirror).path)) if mirror.startswith("file://") else Path(mirror)
    if not root.is_dir():
        raise BadInputError(f"--mirror {mirror}: no such folder (give an http(s):// URL, a file:// URL or a folder)")
    return [root / artifact.path]


def fetch(artifact: Artifact, dest: str | os.PathLike, *, mirror: str | None = None,
          cache_dir: str | os.PathLike | None = None, retries: int = 4, backoff: float = 1.0,
          timeout: float = 60.0, progress: bool = True, check: Callable[[Path], None] | None = None) -> str:
    """Put the verified ``artifact`` at ``dest``; ``present``, ``cached`` or ``downloaded`` says what it took.

    ``check(path)`` raises ``BadInputError`` for a file of the wrong structure: with no published digest it is the
    only verification."""
    dest = Path(dest)
    if dest.exists():
        problem = _problem(dest, artifact, check)
        if problem:
            raise ChecksumMismatchError(f"{dest}: exists but {problem}; it is not overwritten: move it away and rerun")
        return "present"
    key = "-".join(artifact.digest) if artifact.digest else "unverified"
    cached = Path(cache_dir or default_cache_dir()) / key / artifact.path
    status = "cached"
    if not (cached.is_file() and not _problem(cached, artifact, check)):
        aside = dest.parent / f"{dest.name}.{artifact.digest[0] if artifact.digest else 'invalid'}-mismatch"
        _download(artifact, sources(artifact, mirror), cached, aside, retries, backoff, timeout, progress, check)
        status = "downloaded"
    _install(cached, dest)
    return status


def _problem(path: Path, artifact: Artifact, check: Callable[[Path], None] | None) -> str | None:
    """Why ``path`` is not ``artifact`` (wrong digest, or the structure check's message), else None."""
    if artifact.digest:
        algorithm, expected = artifact.digest
        got = file_digest(path, algorithm)
        if got != expected:
            return f"its {algorithm} is {got}, expected {expected}"
    if check is not None:
        try:
            check(path)
        except BadInputError as exc:
            return f"it is not a valid {artifact.name} ({exc})"
    return None


def _install(cached: Path, dest: Path) -> None:
    """Hard-link (or copy) the cached file to ``dest`` through a temporary name."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(dest)
    try:
        try:
            os.link(cached, tmp)
        except OSError:
            shutil.copyfile(cached, tmp)
        commit_temp(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _download(artifact: Artifact, srcs: list, target: Path, aside: Path, retries: int, backoff: float,
              timeout: float, progress: bool, check: Callable[[Path], None] | None) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.parent / f".{target.name}.part"
    failures, mismatch = [], None
    for src in srcs:
        with progress_bar(artifact.size, artifact.name, "B", progress, unit_scale=True, unit_divisor=1024) as bar:
            try:
                if isinstance(src, Path):
                    _copy_local(src, part, bar)
                else:
                    _fetch_http(src, part, retries, backoff, timeout, bar)
            except _SourceFailed as exc:
                failures.append(f"{src}: {exc}")
                continue
        problem = _problem(part, artifact, check)
        if problem is None:
            commit_temp(part, target)
            return
        aside.parent.mkdir(parents=True, exist_ok=True)
        os.replace(part, aside)
        mismatch = ChecksumMismatchError(f"{artifact.path} from {src}: {problem}; the file is kept aside as {aside} "
                                         "and not used: check the source (or --mirror) and rerun")
    if mismatch is not None:
        raise mismatch
    reasons = "; ".join(failures) or "no source (upstream publishes no direct link: give --mirror)"
    raise SourceUnavailableError(f"could not get {artifact.path}: {reasons}")


def _copy_local(src: Path, part: Path, bar) -> None:
    if not src.is_file():
        raise _SourceFailed("no such file in the mirror")
    have = part.stat().st_size if part.exists() else 0
    if have > src.stat().st_size:
        have = 0
    with open(src, "rb") as fin, open(part, "ab" if have else "wb") as fout:
        fin.seek(have)
        bar.update(have)
        while chunk := fin.read(CHUNK):
            fout.write(chunk)
            bar.update(len(chunk))


def _fetch_http(url: str, part: Path, retries: int, backoff: float, timeout: float, bar) -> None:
    """Download ``url`` into ``part`` (resuming it), retrying transient failures with exponential backoff."""
    opener = build_opener(HTTPCookieProcessor(CookieJar()))
    failures = confirmations = 0
    while True:
        try:
            confirmed = _attempt(opener, url, part, timeout, bar)
        except HTTPError as exc:
            if exc.code < 500 and exc.code not in (408, 429):
                raise _SourceFailed(f"HTTP {exc.code} {exc.reason}") from None
            error = f"HTTP {exc.code} {exc.reason}"
        except (OSError, http.client.HTTPException) as exc:
            error = f"{type(exc).__name__}: {exc}"
        else:
            if confirmed is None:
                return
            confirmations += 1
            if confirmations > _MAX_CONFIRMATIONS:
                raise _SourceFailed("the confirmation page keeps coming back")
            url = confirmed
            continue
        failures += 1
        if failures > retries:
            raise _SourceFailed(f"{error} (gave up after {retries} retries)")
        time.sleep(backoff * 2 ** (failures - 1))


def _attempt(opener, url: str, part: Path, timeout: float, bar) -> str | None:
    """One request; the URL to go on with when a confirmation page (Google Drive) answered instead of the file."""
    have = part.stat().st_size if part.exists() else 0
    headers = {"User-Agent": _USER_AGENT, **({"Range": f"bytes={have}-"} if have else {})}
    try:
        response = opener.open(Request(url, headers=headers), timeout=timeout)
    except HTTPError as exc:
        if exc.code == 416 and have:  # nothing left to send: the digest decides
            return None
        raise
    with response:
        if response.headers.get_content_type() == "text/html":
            confirmed = _confirmation_url(response.geturl(), response.read(1 << 20).decode("utf-8", "replace"))
            if confirmed is None:
                raise _SourceFailed("served an HTML page instead of the file")
            return confirmed
        if have and response.status == 206 and not response.headers.get("Content-Range", "").startswith(
                f"bytes {have}-"):
            part.unlink()
            raise http.client.HTTPException("the server answered another byte range; starting over")
        if have and response.status != 206:
            have = 0  # the server ignored Range: start over
        length = response.headers.get("Content-Length")
        bar.reset(total=bar.total)
        bar.update(have)
        written = 0
        with open(part, "ab" if have else "wb") as f:
            while chunk := response.read1(CHUNK):
                f.write(chunk)
                written += len(chunk)
                bar.update(len(chunk))
        if length is not None and written < int(length):
            raise http.client.IncompleteRead(b"", int(length) - written)
    return None


class _ConfirmPage(HTMLParser):
    """The first form (action + hidden fields) and the first ``confirm=`` link of a page."""

    def __init__(self):
        super().__init__()
        self.action, self.fields, self.link, self._in_form = None, [], None, False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and self.action is None:
            self.action, self._in_form = attrs.get("action"), True
        elif tag == "input" and self._in_form and attrs.get("type") == "hidden" and attrs.get("name"):
            self.fields.append((attrs["name"], attrs.get("value") or ""))
        elif tag == "a" and self.link is None and "confirm=" in (attrs.get("href") or ""):
            self.link = attrs["href"]

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_form = False


def _confirmation_url(url: str, page: str) -> str | None:
    """Google Drive answers large files with a "can't scan for viruses" page: a form (or link) with ``confirm``."""
    parser = _ConfirmPage()
    parser.feed(page)
    if parser.action and any(name == "confirm" for name, _ in parser.fields):
        return urljoin(url, parser.action) + "?" + urlencode(parser.fields)
    return urljoin(url, parser.link) if parser.link else None


def fetch_all(manifest: Manifest, artifacts: list[Artifact], root: str | os.PathLike, *, mirror: str | None = None,
              **options) -> Counter:
    """Fetch ``artifacts`` to ``root/<path>``; the mirror defaults to the manifest's environment variable."""
    mirror = mirror or os.environ.get(manifest.mirror_env) or None
    return Counter(fetch(artifact, Path(root) / artifact.path, mirror=mirror, **options) for artifact in artifacts)
