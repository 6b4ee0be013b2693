"""Posts from JSON Lines and CSV files.

One post per JSONL line (or CSV row). The documented fields are:

``id``        the platform's post id (string or number). Without one, the post's
              external id is ``sha256:`` + the SHA-256 of its canonical JSON, so
              reading the same file again gives the same ids.
``url``       link to the post.
``account``   the account that posted it (string or number).
``time``      when it was posted: ISO-8601, epoch seconds or ``YYYY-MM-DD HH:MM``
              (naive times are UTC). A time that cannot be read keeps the post
              and is stored as ``metadata["time_unparsed"]``.
``title``     optional title.
``text``      the post's text.
``media``     list of media file paths relative to the file's folder (CSV: one
              ``|``-separated cell). A missing or corrupt media file rejects the
              whole post, so nothing is stored half.
``outlinks``  list of URLs (CSV: ``|``-separated); URLs found in the text are added.
``lang``      language code, kept as ``metadata["lang"]``.
``source``    the record's own source, kept as ``metadata["source_field"]``: the
              item's ``source`` is always the one given to the connector.
``platform``  kept as ``metadata["platform"]``.

Any other field is kept in ``metadata`` under its own name. Each line/row is
read on its own: a bad one is a Rejection naming ``<file>:<line>`` and reading
goes on. Blank lines are skipped.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

from warding.ingest._common import (
    Reason,
    canonical_json,
    clean_text,
    content_id,
    dedupe,
    load_media,
    parse_time,
    reject,
    scrub,
    stable_id,
    type_name,
    urls_in_text,
)
from warding.ingest.base import Connector, Limits, MediaBlob, RawItem, Read

#: Fields mapped onto RawItem attributes or renamed in metadata; the rest go to metadata as is.
KNOWN_FIELDS = frozenset(
    {"id", "url", "account", "time", "title", "text", "media", "outlinks", "lang", "source",
     "platform"}
)

_BOM = b"\xef\xbb\xbf"
_CHUNK = 1024 * 1024


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _opt_str(record: dict[str, Any], key: str, numbers: bool = False) -> str | None | Reason:
    value = record.get(key)
    if _missing(value):
        return None
    if isinstance(value, str):
        return scrub(value.strip())
    if numbers and isinstance(value, int | float) and not isinstance(value, bool):
        return _number_text(value)
    expected = "a string or a number" if numbers else "a string"
    return Reason(f"field {key!r} must be {expected}, got {type_name(value)}")


def _number_text(value: float) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _str_list(record: dict[str, Any], key: str) -> list[str] | Reason:
    value = record.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        return Reason(f"field {key!r} must be a list, got {type_name(value)}")
    out = []
    for i, entry in enumerate(value):
        if not isinstance(entry, str):
            return Reason(f"field {key!r}[{i}] must be a string, got {type_name(entry)}")
        if entry.strip():
            out.append(scrub(entry.strip()))
    return out


def record_to_item(
    record: dict[str, Any], ref: str, source: str, base_dir: Path, limits: Limits
) -> Read:
    """A post record (already parsed) as a RawItem, or a Rejection naming ``ref``."""
    post_id = _opt_str(record, "id", numbers=True)
    url = _opt_str(record, "url")
    account = _opt_str(record, "account", numbers=True)
    title = _opt_str(record, "title")
    text = _opt_str(record, "text")
    lang = _opt_str(record, "lang")
    time_raw = record.get("time")
    media_paths = _str_list(record, "media")
    outlinks = _str_list(record, "outlinks")
    for value in (post_id, url, account, title, text, lang, media_paths, outlinks):
        if isinstance(value, Reason):
            return reject(ref, value)
    assert not isinstance(media_paths, Reason) and not isinstance(outlinks, Reason)
    if isinstance(time_raw, bool) or not isinstance(time_raw, str | int | float | None):
        return reject(ref, f"field 'time' must be a string or a number, got {type_name(time_raw)}")

    if not (post_id or url or text or media_paths):
        return reject(ref, "post has no id, url, text or media")

    if text is not None:
        cleaned = clean_text(str(text), limits)
        if isinstance(cleaned, Reason):
            return reject(ref, cleaned)
        text = cleaned or None

    media: list[MediaBlob] = []
    for rel in dedupe(media_paths):
        blob = load_media(base_dir, rel, limits)
        if isinstance(blob, Reason):
            return reject(ref, blob)
        media.append(blob)

    metadata: dict[str, Any] = {k: v for k, v in record.items() if k not in KNOWN_FIELDS}
    if lang:
        metadata["lang"] = lang
    for key, meta_key in (("source", "source_field"), ("platform", "platform")):
        if not _missing(record.get(key)):
            metadata[meta_key] = record[key]
    posted_at = parse_time(time_raw)
    if posted_at is None and not _missing(time_raw):
        metadata["time_unparsed"] = time_raw

    external_id = stable_id(str(post_id)) if post_id else content_id(canonical_json(record))
    return RawItem(
        source=source,
        external_id=external_id,
        input_ref=ref,
        kind="post",
        url=str(url) if url else None,
        account=str(account) if account else None,
        posted_at=posted_at,
        title=str(title) if title else None,
        text=text,
        media=media,
        outlinks=dedupe([*outlinks, *urls_in_text(text)]),
        metadata=metadata,
    )


def _check_input_file(path: Path) -> str | None:
    if not path.exists():
        return "file not found"
    if not path.is_file():
        return "not a regular file"
    return None


class JSONLPostsConnector(Connector):
    """Posts from a JSON Lines file (``*.jsonl`` / ``*.ndjson``), one JSON object per line."""

    name: ClassVar[str] = "jsonl"
    description: ClassVar[str] = (
        "Posts from a JSON Lines file (*.jsonl, *.ndjson): one object per line with id, url, "
        "account, time, text, media (paths relative to the file) and outlinks."
    )
    suffixes: ClassVar[tuple[str, ...]] = (".jsonl", ".ndjson")

    def can_read(self, path: Path) -> bool:
        return path.suffix.lower() in self.suffixes and path.is_file()

    def read(self, path: Path, source: str, limits: Limits) -> Iterator[Read]:
        """Each line is a post; a line longer than ``max_file_bytes`` is refused unread."""
        return self.read_range(path, source, limits)

    def read_range(self, path: Path, source: str, limits: Limits, start: int = 0,
                   end: int | None = None, first_line: int = 1) -> Iterator[Read]:
        """The lines that start at byte ``start`` (a line start, the ``first_line``-th line)
        up to, not including, byte ``end``: one partition of a distributed scan
        (:mod:`warding.distributed.partitions`); reading every range of a file gives what
        :meth:`read` gives."""
        problem = _check_input_file(path)
        if problem:
            yield reject(str(path), problem)
            return
        try:
            fh = path.open("rb")
        except OSError as exc:
            yield reject(str(path), f"cannot read file: {exc.strerror or exc}")
            return
        with fh:
            fh.seek(start)
            line_no = first_line - 1
            while end is None or fh.tell() < end:
                try:
                    raw = fh.readline(limits.max_file_bytes + 1)
                except OSError as exc:
                    yield reject(
                        f"{path}:{line_no + 1}", f"cannot read file: {exc.strerror or exc}"
                    )
                    return
                if not raw:
                    return
                line_no += 1
                ref = f"{path}:{line_no}"
                if len(raw) > limits.max_file_bytes and not raw.endswith(b"\n"):
                    _skip_rest_of_line(fh)
                    yield reject(
                        ref,
                        f"line is over the {limits.max_file_bytes:,}-byte limit (max_file_bytes)",
                    )
                    continue
                result = self._read_line(raw, line_no, ref, path, source, limits)
                if result is not None:  # None: a blank line
                    yield result

    def _read_line(
        self, raw: bytes, line_no: int, ref: str, path: Path, source: str, limits: Limits
    ) -> Read | None:
        if line_no == 1 and raw.startswith(_BOM):
            raw = raw[len(_BOM):]
        if not raw.strip():
            return None
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            return reject(ref, f"not valid UTF-8 at byte {exc.start + 1} of the line")
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            return reject(ref, f"invalid JSON: {exc.msg} at column {exc.colno}")
        except (ValueError, RecursionError) as exc:
            return reject(ref, f"invalid JSON: {exc}")
        if not isinstance(record, dict):
            return reject(ref, f"expected a JSON object, got {type_name(record)}")
        return record_to_item(record, ref, source, path.parent, limits)


def _skip_rest_of_line(fh: BinaryIO) -> None:
    while True:
        chunk = fh.readline(_CHUNK)
        if not chunk or chunk.endswith(b"\n"):
            return


class CSVPostsConnector(Connector):
    """Posts from a CSV file with a header row naming the same fields as JSONL."""

    name: ClassVar[str] = "csv"
    description: ClassVar[str] = (
        "Posts from a CSV file (*.csv) with a header row: id, url, account, time, text, "
        "media and outlinks ('|'-separated), any other column kept as metadata."
    )

    def can_read(self, path: Path) -> bool:
        return path.suffix.lower() == ".csv" and path.is_file()

    def read(self, path: Path, source: str, limits: Limits) -> Iterator[Read]:
        """Each row is a post; its input ref is the line on which the row starts."""
        problem = _check_input_file(path)
        if problem:
            yield reject(str(path), problem)
            return
        # Fields up to the text limit must fit; the csv module's limit is process-wide,
        # so it is only ever raised.
        needed = max(limits.max_text_chars, 1024) * 4
        if csv.field_size_limit() < needed:
            csv.field_size_limit(needed)
        try:
            fh = path.open("r", encoding="utf-8-sig", errors="surrogateescape", newline="")
        except OSError as exc:
            yield reject(str(path), f"cannot read file: {exc.strerror or exc}")
            return
        with fh:
            reader = csv.reader(fh)
            header: list[str] | None = None
            while True:
                start = reader.line_num + 1
                ref = f"{path}:{start}"
                try:
                    row = next(reader)
                except StopIteration:
                    break
                except csv.Error as exc:
                    yield reject(ref, f"invalid CSV: {exc}")
                    if reader.line_num < start:
                        break
                    continue
                except OSError as exc:
                    yield reject(ref, f"cannot read file: {exc.strerror or exc}")
                    return
                if not row or not any(cell.strip() for cell in row):
                    continue
                bad = _first_bad_utf8(row)
                if header is None:
                    if bad is not None:
                        yield reject(str(path), "header row is not valid UTF-8")
                        return
                    header = [name.strip() for name in row]
                    if not KNOWN_FIELDS & set(header):
                        yield reject(
                            f"{path}:{start}",
                            "header row names none of the post fields (id, url, account, time, "
                            "text, media, outlinks)",
                        )
                        return
                    continue
                if bad is not None:
                    column = header[bad] if bad < len(header) and header[bad] else f"#{bad + 1}"
                    yield reject(ref, f"not valid UTF-8 in column {column!r}")
                    continue
                yield self._row_to_item(header, row, ref, path, source, limits)
            if header is None:
                yield reject(str(path), "empty file")

    @staticmethod
    def _row_to_item(
        header: list[str], row: list[str], ref: str, path: Path, source: str, limits: Limits
    ) -> Read:
        if len(row) > len(header):
            return reject(
                ref, f"row has {len(row)} fields but the header has {len(header)} (bad quoting?)"
            )
        cells = {name: value for name, value in zip(header, row) if name and value.strip()}
        record: dict[str, Any] = dict(cells)
        for key in ("media", "outlinks"):
            if key in record:
                record[key] = [part.strip() for part in record[key].split("|") if part.strip()]
        return record_to_item(record, ref, source, path.parent, limits)


def _first_bad_utf8(row: list[str]) -> int | None:
    """The index of the first cell holding undecodable bytes (read as surrogates), or None."""
    for i, cell in enumerate(row):
        if any("\udc80" <= ch <= "\udcff" for ch in cell):
            return i
    return None
