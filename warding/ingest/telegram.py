"""Telegram Desktop channel exports (JSON format): one item per message.

The input is the export folder (holding ``result.json``) or ``result.json``
itself. Service messages (joins, pins, title changes) are skipped. Media paths
are relative to the export folder; the placeholders Telegram writes for files
it did not export ("(File not included. ...)") keep the message, noted in
``metadata["media_missing"]``. A media file that is named but missing or
corrupt rejects the message, so nothing is stored half.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from warding.ingest._common import (
    Reason,
    clean_text,
    dedupe,
    load_media,
    parse_time,
    read_limited,
    reject,
    scrub,
    type_name,
    urls_in_text,
)
from warding.ingest.base import Connector, Limits, MediaBlob, RawItem, Read

EXPORT_FILE = "result.json"
#: Message fields that hold a media path.
MEDIA_FIELDS = ("photo", "file")
#: Message fields copied to metadata when present.
META_FIELDS = (
    "from", "from_id", "media_type", "mime_type", "file_name", "forwarded_from",
    "reply_to_message_id", "edited", "via_bot", "duration_seconds",
)
_USERNAME_RE = re.compile(r"^@?([A-Za-z][A-Za-z0-9_]{3,31})$")
_SNIFF_BYTES = 64 * 1024


def _export_file(path: Path) -> Path:
    return path / EXPORT_FILE if path.is_dir() else path


def _looks_like_export(file: Path) -> bool:
    """A cheap check on the first bytes: a JSON object with a ``"messages"`` key."""
    try:
        with file.open("rb") as fh:
            head = fh.read(_SNIFF_BYTES)
    except OSError:
        return False
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{") and b'"messages"' in head


def _username(export: dict[str, Any]) -> str | None:
    for key in ("username", "user_name", "link", "channel_username"):
        value = export.get(key)
        if isinstance(value, str):
            value = value.strip().removeprefix("https://t.me/").removeprefix("t.me/")
            match = _USERNAME_RE.match(value)
            if match:
                return match.group(1)
    return None


def flatten_text(value: Any) -> tuple[str, list[str]] | Reason:
    """Telegram's ``text`` (a string, or a list of strings and entity objects) as plain
    text, and the URLs of its ``link``/``text_link`` entities."""
    if value is None:
        return "", []
    if isinstance(value, str):
        return value, []
    if not isinstance(value, list):
        return Reason(f"field 'text' must be a string or a list, got {type_name(value)}")
    parts: list[str] = []
    links: list[str] = []
    for i, part in enumerate(value):
        if isinstance(part, str):
            parts.append(part)
        elif isinstance(part, dict):
            text = part.get("text", "")
            if not isinstance(text, str):
                return Reason(f"field 'text'[{i}].text must be a string, got {type_name(text)}")
            parts.append(text)
            links += entity_links([part])
        else:
            return Reason(f"field 'text'[{i}] must be a string or an object, got "
                          f"{type_name(part)}")
    return "".join(parts), links


def entity_links(entities: Any) -> list[str]:
    """URLs of ``link`` (the text is the URL) and ``text_link`` (``href``) entities."""
    links: list[str] = []
    if not isinstance(entities, list):
        return links
    for entity in entities:
        if not isinstance(entity, dict):
            continue
        kind = entity.get("type")
        if kind == "text_link":
            url = entity.get("href")
        elif kind == "link":
            url = entity.get("text")
        else:
            continue
        if isinstance(url, str) and url.strip():
            url = url.strip()
            if not re.match(r"[a-z][a-z0-9+.-]*://", url, re.IGNORECASE):
                url = "http://" + url
            if re.match(r"https?://", url, re.IGNORECASE):
                links.append(url)
    return links


def _channel_key(raw_id: Any, channel_name: str | None, file: Path) -> str:
    """The channel part of external ids: its id, else its name, else the folder name."""
    if isinstance(raw_id, int) and not isinstance(raw_id, bool):
        return str(raw_id)
    if isinstance(raw_id, str) and raw_id.strip():
        return raw_id.strip()
    return channel_name or file.resolve().parent.name


def _is_placeholder(value: str) -> bool:
    return value.startswith("(") and value.endswith(")") and "File" in value


class TelegramExportConnector(Connector):
    """A Telegram Desktop channel export (``result.json`` and its media folders)."""

    name: ClassVar[str] = "telegram"
    description: ClassVar[str] = (
        "Telegram Desktop channel export (a folder with result.json, or result.json itself): "
        "one item per message with its text, links, photos and files."
    )

    def can_read(self, path: Path) -> bool:
        file = _export_file(path)
        return file.name == EXPORT_FILE and file.is_file() and _looks_like_export(file)

    def read(self, path: Path, source: str, limits: Limits) -> Iterator[Read]:
        file = _export_file(path)
        ref = str(file)
        data = read_limited(file, limits.max_file_bytes)
        if isinstance(data, Reason):
            yield reject(ref, data)
            return
        try:
            export = json.loads(data.decode("utf-8-sig"))
        except UnicodeDecodeError as exc:
            yield reject(ref, f"not valid UTF-8 at byte {exc.start + 1}")
            return
        except json.JSONDecodeError as exc:
            yield reject(ref, f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")
            return
        except (ValueError, RecursionError) as exc:
            yield reject(ref, f"invalid JSON: {exc}")
            return
        if not isinstance(export, dict):
            yield reject(ref, f"expected a JSON object, got {type_name(export)}")
            return
        messages = export.get("messages")
        if not isinstance(messages, list):
            yield reject(ref, f"'messages' must be a list, got {type_name(messages)}")
            return
        name = export.get("name")
        channel_name = scrub(name.strip()) if isinstance(name, str) and name.strip() else None
        channel_key = _channel_key(export.get("id"), channel_name, file)
        username = _username(export)
        for index, message in enumerate(messages):
            item = self._message(
                message, index, export, channel_key, channel_name, username, file, source, limits
            )
            if item is not None:
                yield item

    def _message(
        self,
        message: Any,
        index: int,
        export: dict[str, Any],
        channel_key: str,
        channel_name: str | None,
        username: str | None,
        file: Path,
        source: str,
        limits: Limits,
    ) -> Read | None:
        ref = f"{file}#message[{index}]"
        if not isinstance(message, dict):
            return reject(ref, f"message is not an object but {type_name(message)}")
        if message.get("type") == "service":
            return None
        msg_id = message.get("id")
        if isinstance(msg_id, str) and msg_id.strip().isdigit():
            msg_id = int(msg_id.strip())
        if isinstance(msg_id, bool) or not isinstance(msg_id, int) or msg_id < 0:
            return reject(ref, f"bad message id: {msg_id!r}")

        flat = flatten_text(message.get("text"))
        if isinstance(flat, Reason):
            return reject(ref, flat)
        text, links = flat
        cleaned = clean_text(text, limits)
        if isinstance(cleaned, Reason):
            return reject(ref, cleaned)

        media: list[MediaBlob] = []
        missing: list[str] = []
        for field in MEDIA_FIELDS:
            value = message.get(field)
            if value is None:
                continue
            if not isinstance(value, str) or not value.strip():
                return reject(ref, f"field {field!r} must be a file path, got {type_name(value)}")
            if _is_placeholder(value.strip()):
                name = message.get("file_name")
                missing.append(f"{field}: {name}" if field == "file" and
                               isinstance(name, str) else field)
                continue
            blob = load_media(file.parent, value, limits)
            if isinstance(blob, Reason):
                return reject(ref, blob)
            media.append(blob)

        metadata: dict[str, Any] = {"channel": channel_name, "channel_id": export.get("id")}
        if isinstance(export.get("type"), str):
            metadata["channel_type"] = export["type"]
        for key in META_FIELDS:
            if message.get(key) is not None:
                metadata[key] = message[key]
        if missing:
            metadata["media_missing"] = missing
        metadata = {k: v for k, v in metadata.items() if v is not None}

        sender = message.get("from")
        account = channel_name or (scrub(sender) if isinstance(sender, str) else None)
        posted_at = parse_time(message.get("date_unixtime")) or parse_time(message.get("date"))
        return RawItem(
            source=source,
            external_id=f"{channel_key}:{msg_id}",
            input_ref=ref,
            kind="message",
            url=f"https://t.me/{username}/{msg_id}" if username else None,
            account=account,
            posted_at=posted_at,
            text=cleaned or None,
            media=media,
            outlinks=dedupe(
                [*links, *entity_links(message.get("text_entities")), *urls_in_text(cleaned)]
            ),
            metadata=metadata,
        )
