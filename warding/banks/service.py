"""Bank services: plain functions over a session. The CLI and web layer call these."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from warding.audit.log import record
from warding.banks.formats import Format, guess_format, read_records
from warding.banks.records import EntryRecord, FormatError
from warding.db.models import Bank, BankEntry, BankSignal
from warding.errors import Conflict, InvalidInput, NotFound
from warding.events import BankCreated, BankEntriesAdded, BankUpdated
from warding.matching import feed
from warding.signals import compute
from warding.signals.base import SignalError, SignalType
from warding.signals.derive import DeriveLimits

BANK_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,119}$")

# Behaviour categories for bank labels (see docs/formats.md). Free-form labels are allowed too.
CATEGORIES = (
    "glorification",
    "recruitment",
    "instruction",
    "threat",
    "perpetrator_content",
    "other",
)


@dataclass(frozen=True)
class BankSummary:
    name: str
    description: str
    enabled: bool
    thresholds: dict[str, Any]
    auto_action: bool
    entries: int
    signals: int

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "enabled": self.enabled,
            "thresholds": self.thresholds,
            "auto_action": self.auto_action,
            "entries": self.entries,
            "signals": self.signals,
        }


@dataclass
class AddSummary:
    entries: int = 0
    signals: int = 0
    skipped: int = 0
    entry_ids: list[int] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "entries": self.entries,
            "signals": self.signals,
            "skipped": self.skipped,
            "entry_ids": [str(i) for i in self.entry_ids],
            "errors": self.errors,
        }


def create_bank(
    session: Session,
    name: str,
    *,
    actor: str,
    description: str = "",
    thresholds: Mapping[str, int | float] | None = None,
    auto_action: bool = False,
    match_ratio: float = 1.0,
) -> Bank:
    if not BANK_NAME.match(name):
        raise InvalidInput(
            f"bank name {name!r} is not allowed: use letters, digits, '_', '.', '-' (max 120)"
        )
    if session.execute(select(Bank.id).where(Bank.name == name)).first():
        raise Conflict(f"bank {name!r} already exists")
    check_thresholds(thresholds or {})
    check_ratio(match_ratio)
    bank = Bank(name=name, description=description, thresholds=dict(thresholds or {}),
                auto_action=auto_action, enabled=match_ratio > 0, match_ratio=match_ratio,
                version=1)
    session.add(bank)
    session.flush()
    record(session, BankCreated(name, dict(bank.thresholds), auto_action), actor)
    feed.bank_changed(session, bank.id)
    return bank


def get_bank(session: Session, name: str) -> Bank:
    bank = session.execute(select(Bank).where(Bank.name == name)).scalar_one_or_none()
    if bank is None:
        raise NotFound(f"no bank named {name!r}")
    return bank


def update_bank(session: Session, name: str, *, actor: str, enabled: bool | None = None,
                thresholds: Mapping[str, int | float] | None = None,
                auto_action: bool | None = None, new_name: str | None = None,
                match_ratio: float | None = None) -> Bank:
    """Change a bank. ``enabled`` and HMA's ``match_ratio`` go together: disabling sets the
    ratio to 0, enabling to 1; a ratio above 0 enables, 0 disables."""
    bank = get_bank(session, name)
    changes: dict[str, Any] = {}
    if new_name is not None and new_name != bank.name:
        if not BANK_NAME.match(new_name):
            raise InvalidInput(f"bank name {new_name!r} is not allowed: use letters, digits, "
                               "'_', '.', '-' (max 120)")
        if session.execute(select(Bank.id).where(Bank.name == new_name)).first():
            raise Conflict(f"bank {new_name!r} already exists")
        bank.name = new_name
        changes["name"] = new_name
    if match_ratio is None and enabled is not None and enabled != bank.enabled:
        match_ratio = 1.0 if enabled else 0.0
    if match_ratio is not None and match_ratio != bank.match_ratio:
        check_ratio(match_ratio)
        bank.match_ratio = match_ratio
        changes["match_ratio"] = match_ratio
    if match_ratio is not None and (match_ratio > 0) != bank.enabled:
        bank.enabled = match_ratio > 0
        changes["enabled"] = bank.enabled
    if thresholds is not None:
        check_thresholds(thresholds)
        bank.thresholds = {**(bank.thresholds or {}), **thresholds}
        changes["thresholds"] = dict(thresholds)
    if auto_action is not None and auto_action != bank.auto_action:
        bank.auto_action = auto_action
        changes["auto_action"] = auto_action
    if changes:
        bank.version += 1
        record(session, BankUpdated(name, changes), actor)
        feed.bank_changed(session, bank.id)
    return bank


def check_ratio(ratio: float) -> None:
    if not 0.0 <= ratio <= 1.0:
        raise InvalidInput(f"matching ratio {ratio!r} must be between 0 and 1")


def list_banks(session: Session) -> list[BankSummary]:
    entry_counts: dict[int, int] = {
        bank_id: n for bank_id, n in session.execute(
            select(BankEntry.bank_id, func.count(BankEntry.id)).group_by(BankEntry.bank_id))
    }
    signal_counts: dict[int, int] = {
        bank_id: n for bank_id, n in session.execute(
            select(BankEntry.bank_id, func.count(BankSignal.id))
            .join(BankSignal, BankSignal.entry_id == BankEntry.id)
            .group_by(BankEntry.bank_id))
    }
    return [
        BankSummary(b.name, b.description, b.enabled, dict(b.thresholds or {}), b.auto_action,
                    entry_counts.get(b.id, 0), signal_counts.get(b.id, 0))
        for b in session.execute(select(Bank).order_by(Bank.name)).scalars()
    ]


def _existing_values(session: Session, bank_id: int,
                     signals: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of ``signals`` the bank holds already: looked up by value (the (type, value)
    index), so adding one entry to a bank of millions reads a few rows, not the bank."""
    by_type: dict[str, set[str]] = {}
    for t, v in signals:
        by_type.setdefault(t, set()).add(v)
    found: set[tuple[str, str]] = set()
    for t, values in by_type.items():
        ordered = sorted(values)
        for start in range(0, len(ordered), 500):
            rows = session.execute(
                select(BankSignal.signal_type, BankSignal.value)
                .join(BankEntry, BankSignal.entry_id == BankEntry.id)
                .where(BankEntry.bank_id == bank_id, BankSignal.signal_type == t,
                       BankSignal.value.in_(ordered[start:start + 500]))
            )
            found.update((st, v) for st, v in rows)
    return found


def add_records(
    session: Session,
    bank: Bank,
    records: Iterable[EntryRecord | FormatError],
    types: Mapping[str, SignalType],
    *,
    actor: str,
    how: str,
    keep_repeats: bool = False,
) -> AddSummary:
    """Add entries; signals already in the bank are skipped, so re-importing is harmless
    (``keep_repeats``: each record becomes an entry even so, as HMA's curator does: the
    same content added twice, with its own metadata and note). For a few entries (the
    API, the CLI's ``bank add``, actions); large lists go through ``warding.banks.bulk``."""
    summary = AddSummary()
    checked: list[tuple[EntryRecord, list[tuple[str, str]]]] = []
    for rec in records:
        if isinstance(rec, FormatError):
            summary.errors.append({"input": rec.input, "reason": rec.reason})
            continue
        try:
            checked.append((rec, [(t, part) for t, v in rec.signals
                                  for part in types[t].split(compute.validate(types, t, v))]))
        except ValueError as exc:
            summary.errors.append({"input": rec.ref, "reason": str(exc)})
    existing = set() if keep_repeats else _existing_values(
        session, bank.id, (s for _, sigs in checked for s in sigs))
    for rec, signals in checked:
        signals = list(dict.fromkeys(signals))
        fresh = keep_fresh(signals, [s not in existing for s in signals], types)
        if not fresh:
            summary.skipped += 1
            continue
        entry = BankEntry(bank_id=bank.id, labels=dict(rec.labels), provenance=rec.provenance,
                          tier=rec.tier, enabled=rec.enabled, note=rec.note,
                          hma_metadata=rec.metadata)
        entry.signals = [BankSignal(signal_type=t, value=v) for t, v in fresh]
        session.add(entry)
        if not keep_repeats:
            existing.update(fresh)
        summary.entries += 1
        summary.signals += len(fresh)
        session.flush()
        summary.entry_ids.append(entry.id)
    if summary.entries:
        bank.version += 1
        record(session, BankEntriesAdded(bank.name, summary.entries, how), actor)
        feed.entries_added(session, bank.id, summary.entry_ids)
    return summary


def records_for_files(
    paths: Sequence[Path], types: Mapping[str, SignalType], labels: dict[str, Any], provenance: str,
    max_bytes: int, read_text: Callable[[bytes, str], str | None] | None = None,
    limits: DeriveLimits | None = None,
) -> Iterator[EntryRecord | FormatError]:
    """One entry per file, with its file signals and (for images) its image signals; with
    ``read_text`` (OCR), an image's text gives the entry its text signals too."""
    from warding.ingest._common import sniff_mime

    for path in paths:
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            ref = str(file)
            try:
                size = file.stat().st_size
                if size == 0:
                    yield FormatError(ref, "empty file")
                    continue
                if size > max_bytes:
                    yield FormatError(ref, f"file is {size} bytes, over the {max_bytes}-byte limit (max_file_bytes)")
                    continue
                data = file.read_bytes()
                mime = sniff_mime(data, file.name)
                values = compute.for_bytes(types, data, mime, ref, limits)
                image_text = read_text(data, mime) if read_text is not None else None
                if image_text:
                    values += compute.for_text(types, image_text, origin="ocr")
            except OSError as exc:
                yield FormatError(ref, f"cannot read file: {exc.strerror or exc}")
                continue
            except SignalError as exc:
                yield FormatError(ref, str(exc))
                continue
            yield EntryRecord(
                signals=[(v.signal_type, v.value) for v in values],
                labels=dict(labels),
                provenance=provenance or f"file:{file.name}",
                ref=ref,
            )


def record_for_text(text: str, types: Mapping[str, SignalType], labels: dict[str, Any],
                    provenance: str) -> EntryRecord | FormatError:
    values = compute.for_text(types, text)
    if not values:
        return FormatError("--text", "the text is empty once normalised")
    return EntryRecord(signals=[(v.signal_type, v.value) for v in values], labels=dict(labels),
                       provenance=provenance, ref="--text")


def record_for_url(url: str, types: Mapping[str, SignalType], labels: dict[str, Any],
                   provenance: str) -> EntryRecord | FormatError:
    values = compute.for_urls(types, [url])
    if not values:
        return FormatError(url, "not a valid URL")
    return EntryRecord(signals=[(v.signal_type, v.value) for v in values], labels=dict(labels),
                       provenance=provenance, ref=url)


def import_file(session: Session, bank: Bank, path: Path, types: Mapping[str, SignalType], *,
                actor: str, fmt: Format | None = None) -> AddSummary:
    chosen = fmt or guess_format(path.name)
    try:
        with path.open("r", encoding="utf-8-sig", newline="" if chosen == "csv" else None,
                       errors="strict") as fh:
            return add_records(session, bank, read_records(fh, chosen, path.name), types,
                               actor=actor, how=f"import:{path.name}")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path}: not valid UTF-8 at byte {exc.start}") from exc
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read ({exc.strerror or exc})") from exc


def keep_fresh(signals: Sequence[tuple[str, str]], fresh: Sequence[bool],
               types: Mapping[str, SignalType]) -> list[tuple[str, str]]:
    """The signals of one entry not in the bank yet; a video's frames (multi-valued types)
    are kept all together when any is new, so an entry always holds its whole video."""
    new_multi = {t for (t, _), f in zip(signals, fresh, strict=True)
                 if f and t in types and types[t].multi}
    return [s for s, f in zip(signals, fresh, strict=True)
            if f or s[0] in new_multi]


def joined(signals: Sequence[tuple[str, str]],
           types: Mapping[str, SignalType]) -> list[tuple[str, str]]:
    """An entry's stored signals in their exchange form: a video's frames as one vPDQ value."""
    multi: dict[str, list[str]] = {}
    out: list[tuple[str, str]] = []
    for t, v in signals:
        if t in types and types[t].multi:
            if t not in multi:
                out.append((t, ""))
            multi.setdefault(t, []).append(v)
        else:
            out.append((t, v))
    return [(t, types[t].join(multi[t])) if t in multi else (t, v) for t, v in out]


def iter_export(session: Session, bank: Bank,
                types: Mapping[str, SignalType] | None = None) -> Iterator[EntryRecord]:
    entries = session.execute(
        select(BankEntry).where(BankEntry.bank_id == bank.id).order_by(BankEntry.id)
    ).scalars()
    for e in entries:
        yield EntryRecord(
            signals=joined([(s.signal_type, s.value)
                            for s in sorted(e.signals, key=lambda s: s.id)], types or {}),
            labels=dict(e.labels or {}),
            provenance=e.provenance,
            tier=e.tier,
            enabled=e.enabled,
            note=e.note,
            entry_id=str(e.id),
        )


def parse_thresholds(pairs: Sequence[str]) -> dict[str, int | float]:
    """``TYPE=N`` pairs: integers (Hamming distances), except ``text_semantic``, a cosine
    similarity in (0, 1]."""
    out: dict[str, int | float] = {}
    for key, value in parse_labels(pairs).items():
        try:
            out[key] = float(value) if key == "text_semantic" else int(value)
        except ValueError:
            raise InvalidInput(f"threshold {key}={value!r} is not a number") from None
    check_thresholds(out)
    return out


def check_thresholds(thresholds: Mapping[str, Any]) -> None:
    """Refuse a ``text_semantic`` threshold outside (0, 1]."""
    if "text_semantic" in thresholds:
        from warding.matching.semantic import check_threshold

        check_threshold(thresholds["text_semantic"])


def parse_labels(pairs: Sequence[str]) -> dict[str, str]:
    labels: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InvalidInput(f"label {pair!r} must look like key=value (e.g. category=recruitment)")
        labels[key.strip()] = value.strip()
    return labels
