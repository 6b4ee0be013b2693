"""Bank exchange formats: JSONL (one entry a line), CSV (one signal a row) and
plain ``TYPE VALUE`` lines. Only hashes travel, never content. See docs/formats.md.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

Format = Literal["jsonl", "csv", "lines"]
CSV_COLUMNS = ["entry_id", "signal_type", "value", "group", "category", "labels", "provenance",
               "tier", "enabled"]


@dataclass
class EntryRecord:
    signals: list[tuple[str, str]]
    labels: dict[str, Any] = field(default_factory=dict)
    provenance: str = ""
    tier: int | None = None
    enabled: bool = True
    note: str = ""
    ref: str = ""  # where it came from, for error messages
    entry_id: str | None = None


@dataclass(frozen=True)
class FormatError:
    input: str
    reason: str


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


def read_records(lines: Iterable[str], fmt: Format, name: str) -> Iterator[EntryRecord | FormatError]:
    if fmt == "jsonl":
        yield from _read_jsonl(lines, name)
    elif fmt == "csv":
        yield from _read_csv(lines, name)
    else:
        yield from _read_lines(lines, name)


def _read_jsonl(lines: Iterable[str], name: str) -> Iterator[EntryRecord | FormatError]:
    for n, line in enumerate(lines, 1):
        ref = f"{name}:{n}"
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict):
                raise ValueError("a line must be a JSON object")
            raw_signals = obj.get("signals")
            if raw_signals is None and "signal_type" in obj:
                raw_signals = [{"type": obj["signal_type"], "value": obj.get("value")}]
            if not isinstance(raw_signals, list) or not raw_signals:
                raise ValueError("'signals' must be a non-empty list of {type, value}")
            signals = []
            for s in raw_signals:
                if not isinstance(s, dict) or not isinstance(s.get("type"), str) \
                        or not isinstance(s.get("value"), str):
                    raise ValueError("each signal needs string 'type' and 'value'")
                signals.append((s["type"], s["value"]))
            labels = obj.get("labels") or {}
            if not isinstance(labels, dict):
                raise ValueError("'labels' must be an object")
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


def _read_csv(lines: Iterable[str], name: str) -> Iterator[EntryRecord | FormatError]:
    reader = csv.DictReader(lines)
    if not reader.fieldnames or not {"signal_type", "value"} <= set(reader.fieldnames):
        yield FormatError(name, "CSV needs at least the columns signal_type and value")
        return
    grouped: dict[str, EntryRecord] = {}
    order: list[str] = []
    for n, row in enumerate(reader, 2):
        ref = f"{name}:{n}"
        try:
            labels = json.loads(row["labels"]) if row.get("labels") else {}
            if not isinstance(labels, dict):
                raise ValueError("'labels' must be a JSON object")
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


def _read_lines(lines: Iterable[str], name: str) -> Iterator[EntryRecord | FormatError]:
    for n, line in enumerate(lines, 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        parts = text.split(None, 1)
        if len(parts) != 2:
            yield FormatError(f"{name}:{n}", "expected 'TYPE VALUE'")
            continue
        yield EntryRecord(signals=[(parts[0].lower(), parts[1].strip())], ref=f"{name}:{n}")


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
