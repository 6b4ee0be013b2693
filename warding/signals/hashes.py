"""Cryptographic file hashes: exact matches of byte-identical files.

MD5 is kept because many shared hash lists (industry and law-enforcement
exchanges) are still published as MD5; SHA-256 is the preferred exact hash.
Neither survives any re-encoding of the file: that is what PDQ is for.
"""

from __future__ import annotations

import hashlib
import string
from typing import ClassVar

from warding.signals.base import ContentKind, SignalError, SignalType

_HEX = frozenset(string.hexdigits.lower())


def _validate_hex(value: str, length: int, name: str) -> str:
    """Lower-case, strip and check that ``value`` is ``length`` hex digits."""
    if not isinstance(value, str):
        raise ValueError(  # noqa: TRY004 - the validators' contract is ValueError
            f"{name} value must be a string, got {type(value).__name__}")
    norm = value.strip().lower()
    if len(norm) != length:
        raise ValueError(
            f"invalid {name} value {value!r}: expected {length} hex characters, got {len(norm)}"
        )
    if not set(norm) <= _HEX:
        raise ValueError(f"invalid {name} value {value!r}: not hexadecimal")
    return norm


class _FileHash(SignalType):
    content: ClassVar[ContentKind] = "file"
    algorithm: ClassVar[str]
    hex_length: ClassVar[int]

    def compute(self, content: bytes | str) -> str | None:
        if isinstance(content, str):
            raise SignalError(f"{self.name} hashes file bytes, not text")
        return hashlib.new(self.algorithm, bytes(content)).hexdigest()

    def validate(self, value: str) -> str:
        return _validate_hex(value, self.hex_length, self.name)


class MD5Signal(_FileHash):
    """MD5 of the file bytes (32 lower-case hex characters); for legacy hash lists."""

    name: ClassVar[str] = "md5"
    algorithm: ClassVar[str] = "md5"
    hex_length: ClassVar[int] = 32
    description: ClassVar[str] = "MD5 of the file bytes (exact match; legacy hash lists)"

    def compute(self, content: bytes | str) -> str | None:
        if isinstance(content, str):
            raise SignalError("md5 hashes file bytes, not text")
        # usedforsecurity=False: identification only, and FIPS builds allow it.
        return hashlib.md5(bytes(content), usedforsecurity=False).hexdigest()


class SHA256Signal(_FileHash):
    """SHA-256 of the file bytes (64 lower-case hex characters)."""

    name: ClassVar[str] = "sha256"
    algorithm: ClassVar[str] = "sha256"
    hex_length: ClassVar[int] = 64
    description: ClassVar[str] = "SHA-256 of the file bytes (exact match)"


class SHA512Signal(_FileHash):
    """SHA-512 of the file bytes (128 lower-case hex characters): Tech Against Terrorism's
    TCAP hash list publishes SHA-512 beside MD5, SHA-256 and PDQ."""

    name: ClassVar[str] = "sha512"
    algorithm: ClassVar[str] = "sha512"
    hex_length: ClassVar[int] = 128
    description: ClassVar[str] = "SHA-512 of the file bytes (exact match)"
