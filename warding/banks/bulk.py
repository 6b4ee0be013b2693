"""Fast bank import, for hash lists of millions of lines.

``add_records`` (one ORM object and one flush per entry) is fine for a few entries and far
too slow for 10M. This importer:

- streams the file (never holds it in memory) in chunks of :data:`CHUNK` records; a
  ``TYPE VALUE`` file comes in blocks, and blocks of one hex type in one layout are checked
  and decoded by numpy (:mod:`warding.banks.hexblocks`);
- validates each signal with a fast check for hex types (the same normalisation as the
  signal type's ``validate``) and reports every bad line with its number and reason;
- skips signals the bank already holds and repeats within the file, by 128-bit
  fingerprints kept in sorted numpy arrays (about 16 bytes per signal, not a Python set);
- inserts each chunk set-based (SQLite ``executemany`` with reserved ids, or for plain
  hex lines rows generated inside SQLite; PostgreSQL ``COPY``), and commits it together with its audit event and its change-feed row, so
  running match engines pick the new entries up while the import goes on.

An interrupted import keeps the chunks already committed; running it again adds the rest
(duplicates are skipped). Withdrawn hashes (TCAP ``deleted``) are removed from the bank.

The fingerprints are in ``fingerprints.py``, the import's summary and state in
``bulk_state.py``, the inserts and removals in ``bulk_insert.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Connection, select

from warding.banks.bulk_insert import insert_entries, insert_staged, remove_withdrawn
from warding.banks.bulk_state import DEFAULT_META, ImportState, ImportSummary, Pending
from warding.banks.fingerprints import Fingerprinter, hex_lengths
from warding.banks.formats import Format, _read_lines, read_records, sniff_format
from warding.banks.hexblocks import HexBlock, TextLines, read_blocks
from warding.banks.records import EntryRecord, FormatError, Removal, TextRecord
from warding.banks.service import create_bank, get_bank, keep_fresh
from warding.banks.sources import TE_ALIASES, TE_TEXT, TE_UNSUPPORTED
from warding.db.models import BankEntry, BankSignal
from warding.errors import InvalidInput, NotFound
from warding.signals import compute
from warding.signals.base import SignalType

CHUNK = 100_000
Progress = Callable[[int], None]


# -- validation ---------------------------------------------------------------------------
def fast_validators(types: Mapping[str, SignalType]) -> dict[str, Callable[[str], str]]:
    """Per signal type, a validator equivalent to ``validate`` (hex types: one regex)."""
    out: dict[str, Callable[[str], str]] = {}
    for name, st in types.items():
        length = getattr(st, "hex_length", None)
        if not length and st.match == "hamming" and st.bits and not st.multi:
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
def import_path(app: Any, bank_name: str, path: Path, *, actor: str, fmt: Format | None = None,
                create: bool = True, progress: Progress | None = None) -> ImportSummary:
    """Import a hash list file into a bank (created if missing and ``create``)."""
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file")
    try:
        with path.open("r", encoding="utf-8-sig", errors="strict") as fh:
            head = fh.read(4096)
        chosen = fmt or sniff_format(path.name, head)
        if chosen == "lines":
            with path.open("rb") as bfh:
                blocks = read_blocks(bfh, str(path), hex_lengths(app.signal_types), TE_ALIASES)
                return import_records(app, bank_name, _lines_fast(blocks, path.name),
                                      actor=actor, how=f"import:{path.name}", create=create,
                                      progress=progress)
        with path.open("r", encoding="utf-8-sig", newline="" if chosen == "csv" else None,
                       errors="strict") as fh:
            return import_records(app, bank_name, read_records(fh, chosen, path.name),
                                  actor=actor, how=f"import:{path.name}", create=create,
                                  progress=progress)
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path}: not valid UTF-8 at byte {exc.start}") from exc
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read ({exc.strerror or exc})") from exc


def _lines_fast(blocks: Iterable[HexBlock | TextLines], name: str) -> Iterator[Any]:
    """Records of a ``TYPE VALUE`` file: whole blocks of one hex type as they come; other
    ``TYPE VALUE`` lines as (line number, type, value, file name) tuples; anything else
    (comments, the threatexchange tail, raw_text, bad lines) through the general reader."""
    aliases = TE_ALIASES
    special = TE_UNSUPPORTED | {TE_TEXT}
    for block in blocks:
        if isinstance(block, HexBlock):
            yield block
            continue
        for n, line in enumerate(block.lines, block.first_line):
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
        state = ImportState(bank.id, bank.name, actor, how)
    types = app.signal_types
    state.types = types
    lengths = hex_lengths(types)
    state.fingerprint = Fingerprinter(lengths)
    _load_known(app, state)
    check = fast_validators(types)
    hex_types = set(lengths)
    summary = state.summary
    pending: list[Pending] = []
    append = pending.append
    plain: list[tuple[int, str, str, str]] = []
    add_plain = plain.append
    removals: list[tuple[str, tuple[str, str]]] = []
    seen = 0
    for rec in records:
        seen += 1
        if type(rec) is HexBlock:
            seen += len(rec.raw) - 1
            _stage_raw(state, rec.signal_type, rec.raw)
            if progress:
                progress(seen)
            continue
        if type(rec) is tuple:  # the fast path: one signal, no labels
            if rec[1] in hex_types:
                add_plain(rec)  # validated in bulk by _stage
            else:
                validator = check.get(rec[1])
                try:
                    if validator is None:
                        compute.validate(types, rec[1], rec[2])  # raises: unknown type
                        continue
                    append((DEFAULT_META, [(rec[1], part)
                                           for part in types[rec[1]].split(validator(rec[2]))]))
                except ValueError as exc:
                    summary.error(f"{rec[3]}:{rec[0]}", str(exc))
                    continue
            if len(plain) >= CHUNK:
                _stage(state, plain, check)
                plain = []
                add_plain = plain.append
                if progress:
                    progress(seen)
            if len(pending) < CHUNK:
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
                    signals += [(t, part) for part in types[t].split(validator(v))]
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
    _stage(state, plain, check)
    insert_staged(app, state)
    if removals:
        remove_withdrawn(app, state, removals)
    if progress:
        progress(seen)
    summary.errors.sort(key=lambda e: _natural(e["input"]))  # file order (hex lines are checked in bulk)
    return summary


def _natural(text_: str) -> list[Any]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text_)]


def _fresh(state: ImportState, hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
    """Which signals are new: not in the bank, not seen earlier in the file (first wins)."""
    known = state.known.contains(hi, lo)
    order = np.lexsort((lo, hi))  # stable: the first occurrence leads each run
    sh, sl = hi[order], lo[order]
    new_run = np.ones(len(order), dtype=bool)
    new_run[1:] = (sh[1:] != sh[:-1]) | (sl[1:] != sl[:-1])
    firsts = np.zeros(len(hi), dtype=bool)
    firsts[order[new_run]] = True
    fresh = firsts & ~known
    state.known.add(hi[fresh], lo[fresh])
    return fresh


def _stage(state: ImportState, plain: list[tuple[int, str, str, str]],
           check: Mapping[str, Callable[[str], str]]) -> None:
    """Validate the plain hex lines of a chunk in bulk and keep the new ones as compact byte
    strings by type, to be inserted sorted by value at the end."""
    if not plain:
        return
    by_type: dict[str, list[tuple[int, str, str, str]]] = {}
    for rec in plain:
        by_type.setdefault(rec[1], []).append(rec)
    for t, recs in by_type.items():
        width = state.fingerprint.hex_lengths[t]
        values = [r[2] for r in recs]
        raw: bytes | None = None
        if all(len(v) == width for v in values):
            try:
                raw = bytes.fromhex("".join(values))  # every value hex: one C call
            except ValueError:
                raw = None
        if raw is None:  # find the bad lines, keep the good ones (normalised)
            good = []
            for n, _, v, name in recs:
                try:
                    good.append(check[t](v))
                except ValueError as exc:
                    state.summary.error(f"{name}:{n}", str(exc))
            if not good:
                continue
            raw = bytes.fromhex("".join(good))
        count = len(raw) * 2 // width
        _stage_raw(state, t, np.frombuffer(raw, np.uint8).reshape(count, width // 2))


def _stage_raw(state: ImportState, signal_type: str, digest: np.ndarray) -> None:
    """Keep the new values of ``digest`` (an (n, bytes) uint8 array of one hex type) as
    lower-case hex byte strings, to be inserted sorted at the end."""
    count, size = digest.shape
    fresh = _fresh(state, *state.fingerprint.of_raw(signal_type, digest))
    state.summary.skipped += int(count - fresh.sum())
    if not fresh.any():
        return
    kept = np.ascontiguousarray(digest[fresh]).tobytes().hex().encode("ascii")
    state.staged.setdefault(signal_type, []).append(np.frombuffer(kept, dtype=f"S{2 * size}"))


def _flush(app: Any, state: ImportState, pending: list[Pending]) -> None:
    if not pending:
        return
    flat = [sig for _, sigs in pending for sig in sigs]
    fresh_arr = _fresh(state, *state.fingerprint.of(flat))
    fresh = fresh_arr.tolist()
    rows: list[Pending] = []
    k = 0
    for meta, sigs in pending:
        if len(sigs) == 1:
            if fresh[k]:
                rows.append((meta, sigs))
            else:
                state.summary.skipped += 1
            k += 1
            continue
        keep = keep_fresh(sigs, fresh[k:k + len(sigs)], state.types)
        k += len(sigs)
        if keep:
            rows.append((meta, keep))
        else:
            state.summary.skipped += 1
    if rows:
        ids = insert_entries(app, state, rows)
        state.summary.inserted(ids, sum(len(sigs) for _, sigs in rows))


def _load_known(app: Any, state: ImportState) -> None:
    """Fingerprints of every signal the bank holds already, one signal type at a time."""
    with app.engine.connect() as conn:
        for signal_type in sorted(app.signal_types):
            for values in _bank_values(conn, state.bank_id, signal_type):
                state.known.add(*state.fingerprint.of_values(signal_type, values))


def _bank_values(conn: Connection, bank_id: int, signal_type: str,
                 batch: int = 200_000) -> Iterator[list[str]]:
    """The bank's values of one signal type, in batches (SQLite: straight from the driver's
    cursor, without a Python row object per value; elsewhere streamed)."""
    query = (select(BankSignal.value).join(BankEntry, BankEntry.id == BankSignal.entry_id)
             .where(BankEntry.bank_id == bank_id, BankSignal.signal_type == signal_type))
    if conn.dialect.name != "sqlite":
        result = conn.execution_options(stream_results=True, yield_per=batch).execute(query)
        for part in result.scalars().partitions(batch):
            yield list(part)
        return
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(
            "SELECT s.value FROM bank_signals AS s JOIN bank_entries AS e ON e.id = s.entry_id "
            "WHERE e.bank_id = ? AND s.signal_type = ?", (bank_id, signal_type))
        while rows := cursor.fetchmany(batch):
            yield [v for (v,) in rows]
    finally:
        cursor.close()
