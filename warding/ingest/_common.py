"""Helpers shared by the ingest connectors.

Every helper that can refuse an input returns a :class:`Reason` (a ``str``
subclass) instead of raising, so a connector turns it into a
:class:`~warding.ingest.base.Rejection` and carries on with the next item::

    data = read_limited(path, limits.max_file_bytes)
    if isinstance(data, Reason):
        yield reject(str(path), data)
"""

from __future__ import annotations

import hashlib
import io
import json
import mimetypes
import os
import re
import stat
import warnings
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from PIL import Image, UnidentifiedImageError

from warding.ingest.base import Limits, MediaBlob, Rejection
from warding.signals.normalize import trim_url

T = TypeVar("T")

#: The column width of ``content_items.external_id``; longer ids are hashed.
MAX_EXTERNAL_ID = 512

#: Image types that Pillow decodes and :func:`check_image` verifies.
RASTER_MIMES = frozenset(
    {"image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp", "image/x-ms-bmp",
     "image/tiff"}
)


class Reason(str):
    """Why an input was refused (a plain message, told apart from data by its type)."""


def reject(input_ref: str, reason: str) -> Rejection:
    """A Rejection with a plain ``str`` reason."""
    return Rejection(input=input_ref, reason=str(reason))


def human_size(n: int) -> str:
    """``512 bytes``, ``12.5 KB``, ``60.0 MB``."""
    if n < 1024:
        return f"{n} byte" if n == 1 else f"{n} bytes"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n / (1024 * 1024):.1f} MB"


def over_limit(size: int, limit: int, setting: str) -> Reason:
    return Reason(f"file is {human_size(size)}, over the {human_size(limit)} limit ({setting})")


def read_limited(path: Path, limit: int, setting: str = "max_file_bytes") -> bytes | Reason:
    """The bytes of a regular file, or why not (missing, empty, not a file, too big).

    The size is checked with ``stat`` before reading, and the read itself is
    capped, so a file that grows meanwhile cannot exceed ``limit`` in memory.
    """
    try:
        st = path.stat()
    except FileNotFoundError:
        return Reason("file not found")
    except OSError as exc:
        return Reason(f"cannot read file: {exc.strerror or exc}")
    except ValueError:  # NUL byte or unencodable character in the path
        return Reason("invalid file path")
    if not stat.S_ISREG(st.st_mode):
        return Reason("not a regular file")
    if st.st_size == 0:
        return Reason("empty file")
    if st.st_size > limit:
        return over_limit(st.st_size, limit, setting)
    try:
        with path.open("rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        return Reason(f"cannot read file: {exc.strerror or exc}")
    if len(data) > limit:
        return over_limit(len(data), limit, setting)
    if not data:
        return Reason("empty file")
    return data


def sniff_mime(data: bytes, name: str) -> str:
    """The MIME type from the magic bytes, else from the file name, else octet-stream."""
    head = data[:32]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"BM") and len(head) >= 14 and head[6:10] == b"\0\0\0\0":
        return "image/bmp"
    if head.startswith((b"II*\0", b"MM\0*")):
        return "image/tiff"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        return "application/zip"
    if head[4:8] == b"ftyp":
        return "video/quicktime" if head[8:10] == b"qt" else "video/mp4"
    if head.startswith(b"\x1aE\xdf\xa3"):
        return "video/webm" if b"webm" in data[:64] else "video/x-matroska"
    if head.startswith(b"RIFF") and head[8:12] == b"AVI ":
        return "video/x-msvideo"
    if head.startswith(b"FLV\x01"):
        return "video/x-flv"
    guessed, _ = mimetypes.guess_type(name, strict=False)
    return guessed or "application/octet-stream"


def is_raster_image(mime: str) -> bool:
    return mime in RASTER_MIMES


def check_image(data: bytes, name: str, limits: Limits) -> Reason | None:
    """Why an image is refused (bomb, too many pixels, corrupt, truncated), or None.

    The pixel count is read from the header and checked before anything is
    decoded; Pillow's own decompression-bomb warning/error is a refusal too.
    The image is then verified on one open and fully decoded on a second one,
    which catches truncated files that ``verify()`` alone lets through.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                width, height = img.size
                pixels = width * height
                if pixels > limits.max_image_pixels:
                    return Reason(
                        f"image is {width}x{height} = {pixels:,} pixels, over the "
                        f"{limits.max_image_pixels:,} pixel limit (max_image_pixels): "
                        "possible decompression bomb"
                    )
                img.verify()
            with Image.open(io.BytesIO(data)) as img:
                img.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        return Reason(f"image refused as a possible decompression bomb: {exc}")
    except UnidentifiedImageError:
        return Reason(f"corrupt or truncated image: {name} is not a readable image")
    except Exception as exc:  # noqa: BLE001 - Pillow raises many types for bad data
        return Reason(f"corrupt or truncated image: {exc or type(exc).__name__}")
    return None


_TIME_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d %H:%M:%S")


def parse_time(value: Any) -> datetime | None:
    """A timezone-aware UTC datetime from ISO-8601, epoch seconds or ``YYYY-MM-DD HH:MM``.

    Naive times are taken as UTC. Anything unrecognised gives ``None``.
    """
    if value is None or isinstance(value, bool):
        return None
    parsed: datetime | None = None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, int | float):
        parsed = _from_epoch(float(value))
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if re.fullmatch(r"-?\d+(\.\d+)?", text):
            parsed = _from_epoch(float(text))
        else:
            iso = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
            try:
                parsed = datetime.fromisoformat(iso)
            except ValueError:
                for fmt in _TIME_FORMATS:
                    try:
                        parsed = datetime.strptime(text, fmt)
                        break
                    except ValueError:
                        continue
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _from_epoch(seconds: float) -> datetime | None:
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def load_media(base_dir: Path, rel_path: str, limits: Limits) -> MediaBlob | Reason:
    """Load a media file referenced by an item, checking size and (for images) integrity.

    ``rel_path`` is relative to ``base_dir`` (the folder of the file that refers
    to it); relative paths that climb out of it with ``..`` are refused.
    Absolute paths are allowed (the operator chose the input).
    """
    if not rel_path or not rel_path.strip():
        return Reason("empty media path")
    rel = rel_path.strip()
    candidate = Path(rel)
    if not candidate.is_absolute():
        normal = os.path.normpath(rel.replace("\\", "/"))
        if normal == ".." or normal.startswith("../"):
            return Reason(f"media path {rel!r} escapes the input folder")
        candidate = base_dir / normal
    data = read_limited(candidate, limits.max_file_bytes)
    if isinstance(data, Reason):
        return Reason(f"media file {rel!r}: {data}")
    mime = sniff_mime(data, candidate.name)
    if is_raster_image(mime):
        problem = check_image(data, candidate.name, limits)
        if problem is not None:
            return Reason(f"media file {rel!r}: {problem}")
    return MediaBlob(name=candidate.name, data=data, mime=mime)


_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def scrub(text: str) -> str:
    """Lone surrogates (from JSON escapes like ``\\ud800``) replaced, so the text encodes."""
    return _SURROGATE_RE.sub("\ufffd", text)


def clean_text(text: str, limits: Limits) -> str | Reason:
    """Text with normalised line ends, NULs and lone surrogates removed, outer whitespace
    trimmed; or why it is refused (over ``max_text_chars``)."""
    cleaned = scrub(text).replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "").strip()
    if len(cleaned) > limits.max_text_chars:
        return Reason(
            f"text is {len(cleaned):,} characters, over the {limits.max_text_chars:,} "
            "character limit (max_text_chars)"
        )
    return cleaned


_URL_RE = re.compile(r"https?://\S+", re.IGNORECASE)
_EXTRA_TRAILING = "»”’>"  # closing quotes and brackets of free text, besides trim_url's own


def urls_in_text(text: str | None) -> list[str]:
    """The http(s) URLs in free text, trailing punctuation trimmed, deduplicated in order."""
    if not text:
        return []
    found = []
    for match in _URL_RE.finditer(text):
        url = trim_url(match.group(0), _EXTRA_TRAILING)
        if re.match(r"https?://[^/\s]", url, re.IGNORECASE):
            found.append(url)
    return dedupe(found)


def dedupe(values: Iterable[T]) -> list[T]:
    """The values without repeats, first occurrence kept."""
    seen: set[T] = set()
    out: list[T] = []
    for value in values:
        if value not in seen:
            seen.add(value)
            out.append(value)
    return out


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical_json(value: Any) -> bytes:
    """A stable byte encoding of a JSON value (sorted keys, no spaces)."""
    return json.dumps(
        value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
    ).encode("utf-8", "surrogatepass")


def content_id(data: bytes) -> str:
    """``sha256:<hex>``, the external id of anything without a native id."""
    return "sha256:" + sha256_hex(data)


def stable_id(value: str) -> str:
    """A native id as is, or hashed if it would not fit the external_id column."""
    if len(value) <= MAX_EXTERNAL_ID:
        return value
    return content_id(value.encode("utf-8", "surrogatepass"))


def type_name(value: Any) -> str:
    """The JSON name of a value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
