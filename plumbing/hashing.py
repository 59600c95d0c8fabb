"""Streaming file digests (the manifests' sha256/md5, the submission fingerprints)."""
from __future__ import annotations

import hashlib
import os

CHUNK = 1 << 20


def file_digest(path: str | os.PathLike, algorithm: str = "sha256") -> str:
    """The hex digest of the file at ``path`` with ``algorithm`` (any name ``hashlib.new`` knows), read in 1 MiB
    blocks so memory stays flat. Raises OSError when the file cannot be read, ValueError for an unknown algorithm."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()
