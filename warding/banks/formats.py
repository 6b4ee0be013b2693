"""Bank exchange formats: JSONL (one entry a line), CSV (one signal a row), plain
``TYPE VALUE`` lines, and the lists platforms receive from others (threatexchange's
formats within ``lines`` and ``csv``, and TCAP's hash list: see ``sources.py``). Only
hashes travel, never content. See docs/formats.md.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any, Literal

from warding.banks.records import EntryRecord, FormatError, TextRecord
from warding.banks.sources import (
    TE_ALIASES,
    TE_TEXT,
    parse_te_tail,
    read_tcap,
    signal_type_for,
    te_metadata,
)

Format = Literal["jsonl", "csv", "lines", "tcap"]
FORMATS = ("jsonl", "csv", "lines", "tcap")
CSV_COLUMNS = ["entry_id", "signal_type", "value", "group", "category", "labels", "provenance",
               "tier", "enabled"]


def guess_format(name: str) -> Format:
    lower = name.lower()
    if lower.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if lower.endswith(".csv"):
        return "csv"
    return "lines"


def _tier(value: Any) -> int | None:
    if value in (None, ""):
        return None
    return int(value)


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() not in {"0", "false", "no", "n", "off"}


Record = Any  # EntryRecord | FormatError | Removal | TextRecord (records.py)


def read_records(lines: Iterable[str], fmt: Format, name: str) -> Iterator[Record]:
    if fmt == "jsonl":
        yield from _read_jsonl(lines, name)
    elif fmt == "csv":
        yield from _read_csv(lines, name)
    elif fmt == "tcap":
        yield from read_tcap(lines, name)
    else:
        yield from _read_lines(lines, name)


def sniff_format(name: str, head: str) -> Format:
    """The format of a file from its name and its first characters: a ``.json``/``.jsonl`` file
    whose records carry TCAP's ``hash_digest`` is a TCAP list."""
    fmt = guess_format(name)
    if fmt == "jsonl" and '"hash_digest"' in head:
        return "tcap"
    return fmt


def _read_jsonl(lines: Iterable[str], name: str) -> Iterator[EntryRecord | FormatError]:
    for n, line in enumerate(lines, 1):
        ref = f"{name}:{n}"
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict):
                raise ValueError("a line must be a JSON object")  # noqa: TRY004 - bad input data, caught below as a FormatError
            raw_signals = obj.get("signals")
            if raw_signals is None and "signal_type" in obj:
                raw_signals = [{"type": obj["signal_type"], "value": obj.get("value")}]
            if not isinstance(raw_signals, list) or not raw_signals:
                raise ValueError("'signals' must be a non-empty list of {type, value}")
            signals = []
            for s in raw_signals:
                if not isinstance(s, dict) or not isinstance(s.get("type"), str) \
                        or not isinstance(s.get("value"), str):
                    raise ValueError("each signal needs string 'type' and 'value'")  # noqa: TRY004 - bad input data, caught below as a FormatError
                signals.append((s["type"], s["value"]))
            labels = obj.get("labels") or {}
            if not isinstance(labels, dict):
                raise ValueError("'labels' must be an object")  # noqa: TRY004 - bad input data, caught below as a FormatError
            yield EntryRecord(
                signals=signals,
                labels=labels,
                provenance=str(obj.get("provenance") or ""),
                tier=_tier(obj.get("tier")),
                enabled=_bool(obj.get("enabled", True)),
                note=str(obj.get("note") or ""),
                ref=ref,
                entry_id=str(obj["entry_id"]) if obj.get("entry_id") is not None else None,
            )
        except (ValueError, TypeError) as exc:
            yield FormatError(ref, f"invalid entry: {exc}")


def _read_csv(lines: Iterable[str], name: str) -> Iterator[Record]:
    reader = csv.DictReader(lines)
    fields = set(reader.fieldnames or ())
    if {"signal_type", "signal_str"} <= fields:  # threatexchange `dataset -P --csv`
        yield from _read_te_csv(reader, name)
        return
    if not reader.fieldnames or not {"signal_type", "value"} <= fields:
        yield FormatError(name, "CSV needs at least the columns signal_type and value "
                                "(or threatexchange's signal_type and signal_str)")
        return
    grouped: dict[str, EntryRecord] = {}
    order: list[str] = []
    for n, row in enumerate(reader, 2):
        ref = f"{name}:{n}"
        try:
            labels = json.loads(row["labels"]) if row.get("labels") else {}
            if not isinstance(labels, dict):
                raise ValueError("'labels' must be a JSON object")  # noqa: TRY004 - bad input data, caught below as a FormatError
            for key in ("group", "category"):
                if row.get(key):
                    labels.setdefault(key, row[key])
            signal = (str(row["signal_type"]).strip(), str(row["value"]).strip())
            key = row.get("entry_id") or f"row{n}"
            if key in grouped:
                grouped[key].signals.append(signal)
                continue
            grouped[key] = EntryRecord(
                signals=[signal],
                labels=labels,
                provenance=row.get("provenance") or "",
                tier=_tier(row.get("tier")),
                enabled=_bool(row.get("enabled") or True),
                ref=ref,
                entry_id=row.get("entry_id") or None,
            )
            order.append(key)
        except (ValueError, TypeError) as exc:
            yield FormatError(ref, f"invalid row: {exc}")
    for key in order:
        yield grouped[key]


def _read_te_csv(reader: csv.DictReader[str], name: str) -> Iterator[Record]:
    for n, row in enumerate(reader, 2):
        ref = f"{name}:{n}"
        raw_type = (row.get("signal_type") or "").strip()
        value = (row.get("signal_str") or "").strip()
        labels, provenance, enabled = te_metadata((row.get("collab") or "").strip(),
                                                  (row.get("category") or "").strip(),
                                                  (row.get("tags") or "").strip())
        if raw_type.lower() == TE_TEXT:
            yield TextRecord(value, labels, provenance, enabled, ref)
            continue
        try:
            kind = signal_type_for(raw_type)
        except ValueError as exc:
            yield FormatError(ref, str(exc))
            continue
        yield EntryRecord(signals=[(kind, value)], labels=labels, provenance=provenance,
                          enabled=enabled, ref=ref)


def _read_lines(lines: Iterable[str], name: str) -> Iterator[Record]:
    """``TYPE VALUE`` per line; threatexchange type names are accepted, and so is the
    collaboration and opinion ``threatexchange dataset -P`` prints after the value."""
    aliases = TE_ALIASES
    for n, line in enumerate(lines, 1):
        text = line.strip()
        if not text or text[0] == "#":
            continue
        parts = _value_parts(text)
        if len(parts) < 2:
            yield FormatError(f"{name}:{n}", "expected 'TYPE VALUE'")
            continue
        kind = parts[0].lower()
        if kind == TE_TEXT:  # the rest of the line is the text
            yield TextRecord(text.split(None, 1)[1], {}, "threatexchange", True, f"{name}:{n}")
            continue
        if kind not in aliases:
            try:
                kind = signal_type_for(kind)
            except ValueError as exc:
                yield FormatError(f"{name}:{n}", str(exc))
                continue
        else:
            kind = aliases[kind]
        if len(parts) == 2:
            yield EntryRecord(signals=[(kind, parts[1])], ref=f"{name}:{n}")
            continue
        tail = parse_te_tail(parts[2])
        if tail is None:
            yield FormatError(f"{name}:{n}", "expected 'TYPE VALUE' (with threatexchange's "
                                             "optional 'collab' OPINION tags after the value)")
            continue
        labels, provenance, enabled = te_metadata(*tail)
        yield EntryRecord(signals=[(kind, parts[1])], labels=labels, provenance=provenance,
                          enabled=enabled, ref=f"{name}:{n}")


def _value_parts(text: str) -> list[str]:
    """``TYPE VALUE [TAIL]``; a value that is a JSON list (threatexchange's vPDQ, which may
    hold spaces) runs to its closing bracket."""
    parts = text.split(None, 2)
    if len(parts) >= 2 and parts[1].startswith("["):
        rest = text.split(None, 1)[1]
        end = rest.find("]")
        if end > 0:
            tail = rest[end + 1:].strip()
            return [parts[0], rest[:end + 1]] + ([tail] if tail else [])
    return parts


def write_records(records: Iterable[EntryRecord], fmt: Format) -> Iterator[str]:
    """Serialise records; yields chunks of text."""
    if fmt == "jsonl":
        for r in records:
            yield json.dumps(
                {
                    "entry_id": r.entry_id,
                    "signals": [{"type": t, "value": v} for t, v in r.signals],
                    "labels": r.labels,
                    "provenance": r.provenance,
                    "tier": r.tier,
                    "enabled": r.enabled,
                    "note": r.note,
                },
                ensure_ascii=False,
                sort_keys=True,
            ) + "\n"
    elif fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        yield buf.getvalue()
        for r in records:
            for t, v in r.signals:
                buf.seek(0)
                buf.truncate()
                writer.writerow([
                    r.entry_id, t, v, r.labels.get("group", ""), r.labels.get("category", ""),
                    json.dumps(r.labels, ensure_ascii=False, sort_keys=True), r.provenance,
                    "" if r.tier is None else r.tier, "true" if r.enabled else "false",
                ])
                yield buf.getvalue()
    else:
        for r in records:
            for t, v in r.signals:
                yield f"{t} {v}\n"
