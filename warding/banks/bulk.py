"""Fast bank import, for hash lists of millions of lines.

``add_records`` (one ORM object and one flush per entry) is fine for a few entries and far
too slow for 10M. This importer:

- streams the file (never holds it in memory) in chunks of :data:`CHUNK` records;
- validates each signal with a fast check for hex types (the same normalisation as the
  signal type's ``validate``) and reports every bad line with its number and reason;
- skips signals the bank already holds and repeats within the file, by 128-bit
  fingerprints kept in sorted numpy arrays (about 16 bytes per signal, not a Python set);
- inserts each chunk set-based (SQLite ``executemany`` with reserved ids, PostgreSQL
  ``COPY``), and commits it together with its audit event and its change-feed row, so
  running match engines pick the new entries up while the import goes on.

An interrupted import keeps the chunks already committed; running it again adds the rest
(duplicates are skipped). Withdrawn hashes (TCAP ``deleted``) are removed from the bank.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Connection, select, text, update
from sqlalchemy.orm import Session

from warding.audit.log import record
from warding.banks.formats import EntryRecord, Format, FormatError, read_records, sniff_format
from warding.banks.service import AddSummary, create_bank, get_bank
from warding.banks.sources import Removal, TextRecord
from warding.db.models import Bank, BankEntry, BankSignal, utcnow
from warding.errors import InvalidInput, NotFound
from warding.events import BankEntriesAdded
from warding.matching import feed
from warding.signals import compute
from warding.signals.base import SignalType

CHUNK = 50_000
MAX_LISTED = 10_000
Progress = Callable[[int], None]


@dataclass
class ImportSummary(AddSummary):
    removed: int = 0
    errors_total: int = 0

    def as_json(self) -> dict[str, Any]:
        out = super().as_json()
        out["removed"] = self.removed
        if self.errors_total > len(self.errors):
            out["errors_total"] = self.errors_total
        return out

    def error(self, where: str, reason: str) -> None:
        self.errors_total += 1
        if len(self.errors) < MAX_LISTED:
            self.errors.append({"input": where, "reason": reason})


# -- fingerprints -------------------------------------------------------------------------
def signal_fingerprints(signals: Iterable[tuple[str, str]]) -> tuple[np.ndarray, np.ndarray]:
    raw = b"".join(hashlib.blake2b(f"{t}\0{v}".encode(), digest_size=16).digest()
                   for t, v in signals)
    words = np.frombuffer(raw, dtype=">u8").reshape(-1, 2)
    return words[:, 0].astype(np.uint64), words[:, 1].astype(np.uint64)


class FingerprintSet:
    """A set of 128-bit fingerprints: sorted levels merged like a binary counter."""

    def __init__(self) -> None:
        self._levels: list[tuple[np.ndarray, np.ndarray]] = []

    def __len__(self) -> int:
        return sum(len(h) for h, _ in self._levels)

    def add(self, hi: np.ndarray, lo: np.ndarray) -> None:
        if not len(hi):
            return
        order = np.argsort(hi, kind="stable")
        level = (hi[order], lo[order])
        while self._levels and len(self._levels[-1][0]) <= 2 * len(level[0]):
            top = self._levels.pop()
            h = np.concatenate([top[0], level[0]])
            lw = np.concatenate([top[1], level[1]])
            order = np.argsort(h, kind="stable")
            level = (h[order], lw[order])
        self._levels.append(level)

    def contains(self, hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
        found = np.zeros(len(hi), dtype=bool)
        for lh, ll in self._levels:
            start = np.searchsorted(lh, hi, side="left")
            end = np.searchsorted(lh, hi, side="right")
            single = (end - start) == 1
            idx = np.minimum(start, len(ll) - 1)
            found[single] |= ll[idx[single]] == lo[single]
            for i in np.flatnonzero((end - start) > 1):  # equal high words: practically never
                found[i] |= bool(np.any(ll[start[i]:end[i]] == lo[i]))
        return found


# -- validation ---------------------------------------------------------------------------
def fast_validators(types: Mapping[str, SignalType]) -> dict[str, Callable[[str], str]]:
    """Per signal type, a validator equivalent to ``validate`` (hex types: one regex)."""
    out: dict[str, Callable[[str], str]] = {}
    for name, st in types.items():
        length = getattr(st, "hex_length", None)
        if not length and st.match == "hamming" and st.bits:
            length = st.bits // 4
        if length:
            out[name] = _hex_validator(st, int(length))
        else:
            out[name] = st.validate
    return out


def _hex_validator(st: SignalType, length: int) -> Callable[[str], str]:
    pattern = re.compile(f"[0-9a-f]{{{length}}}")
    fullmatch = pattern.fullmatch
    slow = st.validate

    def check(value: str) -> str:
        norm = value.strip().lower()
        if fullmatch(norm):
            return norm
        return slow(value)  # raises ValueError with the signal type's own message

    return check


# -- the importer -------------------------------------------------------------------------
# An entry waiting to be inserted: (meta, signals); meta = (labels, provenance, tier, enabled,
# note). Plain tuples: millions of them go through the loop below.
Meta = tuple[dict[str, Any], str, "int | None", bool, str]
_Pending = tuple[Meta, list[tuple[str, str]]]
DEFAULT_META: Meta = ({}, "", None, True, "")


@dataclass
class _State:
    bank_id: int
    bank_name: str
    actor: str
    how: str
    known: FingerprintSet = field(default_factory=FingerprintSet)
    summary: ImportSummary = field(default_factory=ImportSummary)


def import_path(app: Any, bank_name: str, path: Path, *, actor: str, fmt: Format | None = None,
                create: bool = True, progress: Progress | None = None) -> ImportSummary:
    """Import a hash list file into a bank (created if missing and ``create``)."""
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file")
    try:
        with path.open("r", encoding="utf-8-sig", errors="strict") as fh:
            head = fh.read(4096)
        chosen = fmt or sniff_format(path.name, head)
        with path.open("r", encoding="utf-8-sig", newline="" if chosen == "csv" else None,
                       errors="strict") as fh:
            records = _lines_fast(fh, path.name) if chosen == "lines" \
                else read_records(fh, chosen, path.name)
            return import_records(app, bank_name, records, actor=actor,
                                  how=f"import:{path.name}", create=create, progress=progress)
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path}: not valid UTF-8 at byte {exc.start}") from exc
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read ({exc.strerror or exc})") from exc


def _lines_fast(lines: Iterable[str], name: str) -> Iterator[Any]:
    """``TYPE VALUE`` lines as (line number, type, value, file name) tuples; anything else (comments, the
    threatexchange tail, raw_text, bad lines) through the general reader, line by line."""
    from warding.banks.formats import _read_lines
    from warding.banks.sources import TE_ALIASES, TE_TEXT, TE_UNSUPPORTED

    aliases = TE_ALIASES
    special = TE_UNSUPPORTED | {TE_TEXT}
    for n, line in enumerate(lines, 1):
        parts = line.split()
        if len(parts) == 2 and parts[0][0] != "#":
            kind = parts[0].lower()
            if kind not in special:
                yield (n, aliases.get(kind, kind), parts[1], name)
                continue
        if not parts or parts[0][0] == "#":
            continue
        for rec in _read_lines([line], name):
            if isinstance(rec, FormatError):
                yield FormatError(f"{name}:{n}", rec.reason)
            else:
                rec.ref = f"{name}:{n}"
                yield rec


def import_records(app: Any, bank_name: str, records: Iterable[Any], *, actor: str, how: str,
                   create: bool = True, progress: Progress | None = None) -> ImportSummary:
    """Import records (EntryRecord, TextRecord, Removal, FormatError, or the fast path's
    (line number, type, value, file name) tuples)."""
    with app.transaction() as s:
        try:
            bank = get_bank(s, bank_name)
        except NotFound:
            if not create:
                raise
            bank = create_bank(s, bank_name, actor=actor)
        state = _State(bank.id, bank.name, actor, how)
    _load_known(app, state)
    types = app.signal_types
    check = fast_validators(types)
    summary = state.summary
    pending: list[_Pending] = []
    append = pending.append
    removals: list[tuple[str, tuple[str, str]]] = []
    seen = 0
    default = DEFAULT_META
    for rec in records:
        seen += 1
        if type(rec) is tuple:  # the fast path: one signal, no labels
            validator = check.get(rec[1])
            try:
                if validator is None:
                    compute.validate(types, rec[1], rec[2])  # raises: unknown type
                    continue
                append((default, [(rec[1], validator(rec[2]))]))
            except ValueError as exc:
                summary.error(f"{rec[3]}:{rec[0]}", str(exc))
                continue
        elif isinstance(rec, FormatError):
            summary.error(rec.input, rec.reason)
            continue
        else:
            if isinstance(rec, TextRecord):
                values = compute.for_text(types, rec.text)
                if not values:
                    summary.error(rec.ref, "the text is empty once normalised")
                    continue
                rec = EntryRecord(signals=[(v.signal_type, v.value) for v in values],
                                  labels=rec.labels, provenance=rec.provenance,
                                  enabled=rec.enabled, ref=rec.ref)
            try:
                signals = []
                for t, v in rec.signals:
                    validator = check.get(t)
                    if validator is None:
                        compute.validate(types, t, v)  # raises: unknown type
                        continue
                    signals.append((t, validator(v)))
            except ValueError as exc:
                summary.error(rec.ref, str(exc))
                continue
            if isinstance(rec, Removal):
                removals.extend((rec.ref, sig) for sig in signals)
                continue
            append(((dict(rec.labels), rec.provenance, rec.tier, rec.enabled, rec.note),
                    signals))
        if len(pending) >= CHUNK:
            _flush(app, state, pending)
            pending = []
            append = pending.append
            if progress:
                progress(seen)
    _flush(app, state, pending)
    if removals:
        _remove(app, state, removals)
    if progress:
        progress(seen)
    return summary


def _load_known(app: Any, state: _State) -> None:
    """Fingerprints of every signal the bank holds already."""
    with app.engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=100_000).execute(
            select(BankSignal.signal_type, BankSignal.value)
            .join(BankEntry, BankEntry.id == BankSignal.entry_id)
            .where(BankEntry.bank_id == state.bank_id))
        for batch in result.partitions(100_000):
            state.known.add(*signal_fingerprints((t, v) for t, v in batch))


def _flush(app: Any, state: _State, pending: list[_Pending]) -> None:
    if not pending:
        return
    flat = [sig for _, sigs in pending for sig in sigs]
    hi, lo = signal_fingerprints(flat)
    known = state.known.contains(hi, lo)
    # the first occurrence within the chunk only (lexsort is stable)
    order = np.lexsort((lo, hi))
    sh, sl = hi[order], lo[order]
    new_run = np.ones(len(order), dtype=bool)
    new_run[1:] = (sh[1:] != sh[:-1]) | (sl[1:] != sl[:-1])
    firsts = np.zeros(len(hi), dtype=bool)
    firsts[order[new_run]] = True
    fresh_arr = firsts & ~known
    fresh = fresh_arr.tolist()
    rows: list[_Pending] = []
    k = 0
    for meta, sigs in pending:
        if len(sigs) == 1:
            if fresh[k]:
                rows.append((meta, sigs))
            else:
                state.summary.skipped += 1
            k += 1
            continue
        keep = [sig for j, sig in enumerate(sigs) if fresh[k + j]]
        k += len(sigs)
        if keep:
            rows.append((meta, keep))
        else:
            state.summary.skipped += 1
    if rows:
        ids = _insert(app, state, rows)
        summary = state.summary
        summary.entries += len(ids)
        summary.signals += sum(len(sigs) for _, sigs in rows)
        room = MAX_LISTED - len(summary.entry_ids)
        if room > 0:
            summary.entry_ids.extend(ids[:room])
    state.known.add(hi[fresh_arr], lo[fresh_arr])


def _insert(app: Any, state: _State, rows: list[_Pending]) -> list[int]:
    """Insert the entries and their signals in one transaction with the audit event and the
    change-feed row; returns the new entry ids."""
    with app.transaction() as session:
        # A write first: on SQLite it takes the write lock before ids are reserved.
        session.execute(update(Bank).where(Bank.id == state.bank_id)
                        .values(version=Bank.version + 1))
        conn = session.connection()
        ids = _reserve_ids(conn, len(rows))
        if conn.dialect.name == "postgresql":
            _copy_rows(conn, state.bank_id, ids, rows)
        else:
            _executemany_rows(conn, state.bank_id, ids, rows)
        record(session, BankEntriesAdded(state.bank_name, len(ids), state.how), state.actor)
        feed.entries_added_range(session, state.bank_id, min(ids), max(ids))
    return ids


def _reserve_ids(conn: Connection, n: int) -> list[int]:
    if conn.dialect.name == "postgresql":
        rows = conn.execute(text(
            "SELECT nextval(pg_get_serial_sequence('bank_entries', 'id')) "
            "FROM generate_series(1, :n)"), {"n": n}).all()
        return sorted(int(r[0]) for r in rows)
    base = int(conn.execute(text("SELECT coalesce(max(id), 0) FROM bank_entries")).scalar() or 0)
    return list(range(base + 1, base + n + 1))


def _executemany_rows(conn: Connection, bank_id: int, ids: list[int],
                      rows: list[_Pending]) -> None:
    table = BankEntry.__table__
    dialect = conn.dialect

    def processor(column: str) -> Callable[[Any], Any]:
        proc = table.c[column].type.dialect_impl(dialect).bind_processor(dialect)
        return proc if proc is not None else (lambda v: v)

    labels_p, enabled_p, created_p = processor("labels"), processor("enabled"), processor("created_at")
    created = created_p(utcnow())
    default = (labels_p({}), "", None, enabled_p(True), "")
    entries = []
    signals = []
    for eid, (meta, sigs) in zip(ids, rows, strict=True):
        if meta is DEFAULT_META:
            labels, prov, tier, enabled, note = default
        else:
            labels, prov, tier, enabled, note = (labels_p(meta[0]), meta[1], meta[2],
                                                 enabled_p(meta[3]), meta[4])
        entries.append((eid, bank_id, labels, prov, tier, enabled, note, created))
        if len(sigs) == 1:
            signals.append((eid, sigs[0][0], sigs[0][1]))
        else:
            signals.extend((eid, t, v) for t, v in sigs)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(
            "INSERT INTO bank_entries (id, bank_id, labels, provenance, tier, enabled, note, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", entries)
        cursor.executemany(
            "INSERT INTO bank_signals (entry_id, signal_type, value) VALUES (?, ?, ?)", signals)
    finally:
        cursor.close()


def _copy_rows(conn: Connection, bank_id: int, ids: list[int], rows: list[_Pending]) -> None:
    created = utcnow()
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy("COPY bank_entries (id, bank_id, labels, provenance, tier, enabled, "
                         "note, created_at) FROM STDIN") as copy:
            for eid, (meta, _) in zip(ids, rows, strict=True):
                copy.write_row((eid, bank_id, json.dumps(meta[0]), meta[1], meta[2], meta[3],
                                meta[4], created))
        with cursor.copy("COPY bank_signals (entry_id, signal_type, value) FROM STDIN") as copy:
            for eid, (_, sigs) in zip(ids, rows, strict=True):
                for t, v in sigs:
                    copy.write_row((eid, t, v))
    finally:
        cursor.close()


def _remove(app: Any, state: _State, removals: list[tuple[str, tuple[str, str]]]) -> None:
    """Remove the entries of the bank holding withdrawn hashes."""
    from warding.banks.curation import remove_entries

    with app.transaction() as session:
        ids: set[int] = set()
        for _ref, (t, v) in removals:
            ids.update(_entries_with(session, state.bank_id, t, v))
        if ids:
            state.summary.removed += remove_entries(session, state.bank_name, sorted(ids),
                                                    actor=state.actor, how=state.how)


def _entries_with(session: Session, bank_id: int, signal_type: str, value: str) -> list[int]:
    return [i for (i,) in session.execute(
        select(BankSignal.entry_id).join(BankEntry, BankEntry.id == BankSignal.entry_id)
        .where(BankEntry.bank_id == bank_id, BankSignal.signal_type == signal_type,
               BankSignal.value == value))]
