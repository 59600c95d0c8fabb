"""Reading the manifests: data files (``<dataset>.json`` beside this module) that list what exists upstream.

Each artifact has a relative ``path`` (its place under a download root and under a mirror, same layout as
upstream), a ``group`` (``lists``, ``annotations``, ...), the subset ``mode`` it belongs to, its upstream
``urls``, its ``size`` when published and a digest: ``sha256``, or ``md5`` where that is all upstream publishes.
Datasets published without checksums list ``folders`` instead (published size and file count, browser links).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from plumbing.errors import BadInputError, ToolkitError

_HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Artifact:
    """One published file: relative ``path`` (same layout under a download root and a mirror), ``group``,
    subset ``mode`` (None: every subset), upstream ``urls``, published ``size`` in bytes (None if unpublished), hex
    ``sha256`` or ``md5`` digest, and ``unpack`` (how to unpack it, if at all)."""
    path: str
    group: str
    mode: str | None
    urls: tuple[str, ...]
    size: int | None
    sha256: str | None = None
    md5: str | None = None
    unpack: str | None = None

    @property
    def digest(self) -> tuple[str, str] | None:
        """``(algorithm, hex digest)`` to verify the file against; None where upstream publishes none."""
        if self.sha256 or self.md5:
            return ("sha256", self.sha256) if self.sha256 else ("md5", self.md5)
        return None

    @property
    def name(self) -> str:
        """The file name (last component of ``path``)."""
        return self.path.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Folder:
    """A dataset folder as published: size, file count, file names when fixed, browser links, how to generate it."""

    name: str
    size: str | None
    files: int
    names: tuple[str, ...]
    links: dict
    note: str | None = None
    generate: str | None = None


@dataclass(frozen=True)
class Manifest:
    """A dataset's manifest (``data_manifests/<dataset>.json``): the environment variable naming its mirror,
    its ``source`` description, its artifacts and (for datasets without checksums) its published folders."""
    dataset: str
    mirror_env: str
    source: dict
    artifacts: tuple[Artifact, ...]
    folders: tuple[Folder, ...] = ()

    def select(self, group: str, mode: str = "all") -> list[Artifact]:
        """The artifacts of ``group`` for subset ``mode`` (``all``: every subset)."""
        chosen = [a for a in self.artifacts if a.group == group and mode in ("all", a.mode)]
        if not chosen:
            raise ToolkitError(f"manifest {self.dataset}: no {group!r} artifacts for mode {mode}")
        return chosen


def load(dataset: str) -> Manifest:
    """The manifest ``data_manifests/<dataset>.json``."""
    path = _HERE / f"{dataset}.json"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        artifacts = []
        for entry in doc["artifacts"]:
            artifact = Artifact(**{**entry, "urls": tuple(entry["urls"])})
            if artifact.digest is None and doc["source"].get("checksums") is None:
                raise BadInputError(f"{artifact.path}: neither sha256 nor md5, and the source says nothing about it")
            artifacts.append(artifact)
        folders = tuple(Folder(**{**f, "names": tuple(f["names"])}) for f in doc.get("folders", []))
        return Manifest(doc["dataset"], doc["mirror_env"], doc["source"], tuple(artifacts), folders)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ToolkitError(f"{path}: broken manifest ({exc})") from None
