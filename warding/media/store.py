"""Media kept by SHA-256: written atomically (temp file, fsync, rename), never overwritten."""

from __future__ import annotations

import hashlib
from pathlib import Path

from warding.fsutil import atomic_write


class MediaStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a SHA-256: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if target.exists():
            return digest
        atomic_write(target, data, mode=0o600)
        return digest

    def get(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).exists()

    def delete(self, sha256: str) -> bool:
        """Remove a file (a purge of expired preserved content); False if it was not there."""
        target = self.path(sha256)
        try:
            target.unlink()
        except FileNotFoundError:
            return False
        return True
