"""Posts sent to the API, checked one by one: a RawItem, or a Rejection that names the item.

A post has the fields of a JSONL post (docs/formats.md, read by
:func:`warding.ingest.posts.record_to_item`), except that ``id`` is required (a
platform's retry is recognised by it) and ``media`` holds the files themselves:
``[{"filename": "a.jpg", "data_b64": "…"}]``. Each file is held to
``max_file_bytes`` and, for images, to the same checks as a scanned file (image
bombs, corrupt or truncated images).
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from warding.ingest._common import (
    Reason,
    check_image,
    human_size,
    is_raster_image,
    over_limit,
    reject,
    scrub,
    sniff_mime,
    stable_id,
    type_name,
)
from warding.ingest.base import Limits, MediaBlob, RawItem, Read
from warding.ingest.posts import record_to_item

#: Longest media file name kept (the rest is cut).
MAX_FILENAME = 255


def item_ref(position: int, post_id: Any) -> str:
    """How an item of a request is named in answers and in the rejections log."""
    if isinstance(post_id, str | int) and not isinstance(post_id, bool) and str(post_id).strip():
        return f"items[{position}] (id {str(post_id).strip()!r})"
    return f"items[{position}]"


def external_id_of(record: Any) -> str | None:
    """The post's id as stored (a string or a number as text; one over 512 characters is
    hashed, as for scans); None when it has none."""
    if not isinstance(record, dict):
        return None
    value = record.get("id")
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = scrub(str(value).strip())
    return stable_id(text) if text else None


def scrub_deep(value: Any) -> Any:
    """``value`` with lone surrogates (from JSON escapes like ``\\ud800``) replaced in every
    string, keys included, so that it can always be encoded again."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, list):
        return [scrub_deep(v) for v in value]
    if isinstance(value, dict):
        return {scrub(str(k)): scrub_deep(v) for k, v in value.items()}
    return value


def safe_filename(name: str) -> str:
    """The last part of a file name (no folders), at most :data:`MAX_FILENAME` characters."""
    base = PureWindowsPath(PurePosixPath(name.strip()).name).name
    return base[:MAX_FILENAME] or "upload"


def media_blob(name: str, data: bytes, limits: Limits) -> MediaBlob | Reason:
    """A media file as received, checked like a scanned one."""
    if not data:
        return Reason(f"media file {name!r} is empty")
    if len(data) > limits.max_file_bytes:
        return Reason(f"media file {name!r}: "
                      + over_limit(len(data), limits.max_file_bytes, "max_file_bytes"))
    mime = sniff_mime(data, name)
    if is_raster_image(mime):
        problem = check_image(data, name, limits)
        if problem is not None:
            return Reason(f"media file {name!r}: {problem}")
    return MediaBlob(name=name, data=data, mime=mime)


def inline_media(value: Any, limits: Limits) -> list[MediaBlob] | Reason:
    """The files of a post's ``media`` field, or why the post is refused."""
    if value is None:
        return []
    if not isinstance(value, list):
        return Reason("field 'media' must be a list of {\"filename\", \"data_b64\"} objects, "
                      f"got {type_name(value)}")
    blobs: list[MediaBlob] = []
    for k, entry in enumerate(value):
        if not isinstance(entry, dict):
            return Reason(f"media[{k}] must be an object with 'filename' and 'data_b64', "
                          f"got {type_name(entry)}")
        name, data_b64 = entry.get("filename"), entry.get("data_b64")
        if not isinstance(name, str) or not name.strip():
            return Reason(f"media[{k}]: field 'filename' must be a non-empty string")
        if not isinstance(data_b64, str):
            return Reason(f"media[{k}] {name!r}: field 'data_b64' must be a base64 string, "
                          f"got {type_name(data_b64)}")
        estimate = len(data_b64) * 3 // 4
        if estimate > limits.max_file_bytes + 3:
            return Reason(f"media[{k}] {name!r}: file is about {human_size(estimate)}, over the "
                          f"{human_size(limits.max_file_bytes)} limit (max_file_bytes)")
        try:
            data = base64.b64decode(data_b64, validate=True)
        except (binascii.Error, ValueError):
            return Reason(f"media[{k}] {name!r}: 'data_b64' is not valid base64")
        blob = media_blob(safe_filename(name), data, limits)
        if isinstance(blob, Reason):
            return Reason(f"media[{k}]: {blob}")
        blobs.append(blob)
    return blobs


def to_item(record: Any, position: int, source: str, limits: Limits, input_ref: str,
            media: list[MediaBlob] | None = None) -> Read:
    """One post of a request as a RawItem, or a Rejection naming ``items[position]``.
    ``media``: files received beside the post (the multipart upload) instead of inline."""
    ref = item_ref(position, record.get("id") if isinstance(record, dict) else None)
    if not isinstance(record, dict):
        return reject(ref, f"expected a JSON object, got {type_name(record)}")
    if external_id_of(record) is None:
        if "id" in record and record["id"] is not None and not isinstance(record["id"], str):
            return reject(ref, f"field 'id' must be a string or a number, got "
                               f"{type_name(record['id'])}")
        return reject(ref, "field 'id' is required: the platform's own id of the post "
                           "(a retry is recognised by it)")
    blobs = inline_media(record.get("media"), limits) if media is None else media
    if isinstance(blobs, Reason):
        return reject(ref, blobs)
    rest = {k: scrub_deep(v) for k, v in record.items() if k != "media"}
    read = record_to_item(rest, ref, source, Path("."), limits)  # media already taken out
    if isinstance(read, RawItem):
        read.media = blobs
        read.input_ref = input_ref
    return read
