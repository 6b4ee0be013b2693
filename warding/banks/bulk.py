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
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Connection, select, text, update
from sqlalchemy.orm import Session

from warding.audit.log import record
from warding.banks.formats import Format, read_records, sniff_format
from warding.banks.hexblocks import HexBlock, TextLines, read_blocks
from warding.banks.records import EntryRecord, FormatError, Removal, TextRecord
from warding.banks.service import AddSummary, create_bank, get_bank, keep_fresh
from warding.banks.sources import TE_ALIASES, TE_TEXT, TE_UNSUPPORTED
from warding.db.engine import checkpoint_behind, make_sessionmaker, transaction
from warding.db.models import Bank, BankEntry, BankSignal, utcnow
from warding.errors import InvalidInput, NotFound
from warding.events import BankEntriesAdded
from warding.matching import feed
from warding.signals import compute
from warding.signals.base import SignalType

CHUNK = 100_000
INSERT_BATCH = 1_000_000
MAX_LISTED = 10_000
SQLITE_CACHE_KB = 512 * 1024
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

    def inserted(self, ids: list[int], signals: int) -> None:
        """Count entries just inserted (listing at most MAX_LISTED ids)."""
        self.entries += len(ids)
        self.signals += signals
        self.entry_ids.extend(ids[:max(MAX_LISTED - len(self.entry_ids), 0)])


# -- fingerprints -------------------------------------------------------------------------
def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser, element-wise (wrap-around intended)."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


class Fingerprinter:
    """128-bit fingerprints of (signal type, value) pairs, to spot repeats without keeping
    the values. Hex values (hashes) are fingerprinted from their bytes, vectorised: a 128-bit
    digest (MD5) is its own fingerprint; longer ones are folded with two independent
    splitmix64 lanes. Other values (URLs) use BLAKE2b-128. Each type has its own salt."""

    def __init__(self, hex_lengths: Mapping[str, int]) -> None:
        self.hex_lengths = dict(hex_lengths)

    @staticmethod
    def _salt(signal_type: str) -> tuple[np.uint64, np.uint64]:
        d = hashlib.blake2b(signal_type.encode(), digest_size=16).digest()
        return np.uint64(int.from_bytes(d[:8], "little")), np.uint64(int.from_bytes(d[8:], "little"))

    def of_raw(self, signal_type: str, raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Fingerprints of hex values given as bytes, ``raw`` an (n, bytes) uint8 array."""
        n, width = raw.shape
        sh, sl = self._salt(signal_type)
        if width == 16:
            words = np.ascontiguousarray(raw).view("<u8").reshape(n, 2)
            return words[:, 0].astype(np.uint64) ^ sh, words[:, 1].astype(np.uint64) ^ sl
        padded = np.zeros((n, (width + 7) // 8 * 8), np.uint8)
        padded[:, :width] = raw
        words = padded.view("<u8").reshape(n, -1).astype(np.uint64)
        hi = np.full(n, sh, np.uint64)
        lo = np.full(n, sl, np.uint64)
        for j in range(words.shape[1]):
            hi = _mix(hi ^ words[:, j])
            lo = _mix((lo + np.uint64(0x9E3779B97F4A7C15)) ^ words[:, j])
        return hi, lo

    def of(self, signals: Sequence[tuple[str, str]]) -> tuple[np.ndarray, np.ndarray]:
        """Fingerprints of validated (type, value) pairs, in order."""
        hi = np.zeros(len(signals), np.uint64)
        lo = np.zeros(len(signals), np.uint64)
        groups: dict[str, list[int]] = {}
        for i, (t, _) in enumerate(signals):
            groups.setdefault(t, []).append(i)
        for t, idx in groups.items():
            hi[idx], lo[idx] = self.of_values(t, [signals[i][1] for i in idx])
        return hi, lo

    def of_values(self, signal_type: str, values: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Fingerprints of validated values of one signal type, in order."""
        width = self.hex_lengths.get(signal_type)
        if width:
            joined = "".join(values)
            if len(joined) == width * len(values):  # validated values: every one is width long
                raw = np.frombuffer(bytes.fromhex(joined), np.uint8).reshape(len(values),
                                                                              width // 2)
                return self.of_raw(signal_type, raw)
        digest = b"".join(hashlib.blake2b(f"{signal_type}\0{v}".encode(), digest_size=16).digest()
                          for v in values)
        words = np.frombuffer(digest, dtype="<u8").reshape(-1, 2)
        return words[:, 0].astype(np.uint64), words[:, 1].astype(np.uint64)


def hex_lengths(types: Mapping[str, SignalType]) -> dict[str, int]:
    """Hex length of each signal type whose values are hex (hashes, PDQ, text fingerprints)."""
    out = {}
    for name, st in types.items():
        length = getattr(st, "hex_length", None)
        if not length and st.match == "hamming" and st.bits and not st.multi:
            length = st.bits // 4
        if length:
            out[name] = int(length)
    return out


def signal_fingerprints(signals: Sequence[tuple[str, str]],
                        lengths: Mapping[str, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    return Fingerprinter(lengths or {}).of(list(signals))


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
        """Which (hi, lo) pairs are in the set. The queries are looked up in sorted order:
        numpy's binary search starts from the previous answer, so a sorted batch walks each
        level once instead of jumping around millions of entries per query."""
        if not len(hi) or not self._levels:
            return np.zeros(len(hi), dtype=bool)
        order = np.argsort(hi, kind="stable")
        qh, ql = hi[order], lo[order]
        hit = np.zeros(len(hi), dtype=bool)
        for lh, ll in self._levels:
            start = np.searchsorted(lh, qh, side="left")
            end = np.searchsorted(lh, qh, side="right")
            single = (end - start) == 1
            idx = np.minimum(start, len(ll) - 1)
            hit[single] |= ll[idx[single]] == ql[single]
            for i in np.flatnonzero((end - start) > 1):  # equal high words: practically never
                hit[i] |= bool(np.any(ll[start[i]:end[i]] == ql[i]))
        found = np.empty(len(hi), dtype=bool)
        found[order] = hit
        return found


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
    staged: dict[str, list[np.ndarray]] = field(default_factory=dict)
    fingerprint: Fingerprinter = field(default_factory=lambda: Fingerprinter({}))
    types: Mapping[str, SignalType] = field(default_factory=dict)


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
    from warding.banks.formats import _read_lines

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
        state = _State(bank.id, bank.name, actor, how)
    types = app.signal_types
    state.types = types
    lengths = hex_lengths(types)
    state.fingerprint = Fingerprinter(lengths)
    _load_known(app, state)
    check = fast_validators(types)
    hex_types = set(lengths)
    summary = state.summary
    pending: list[_Pending] = []
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
    _insert_staged(app, state)
    if removals:
        _remove(app, state, removals)
    if progress:
        progress(seen)
    summary.errors.sort(key=lambda e: _natural(e["input"]))  # file order (hex lines are checked in bulk)
    return summary


def _natural(text_: str) -> list[Any]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text_)]


def _fresh(state: _State, hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
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


def _stage(state: _State, plain: list[tuple[int, str, str, str]],
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


def _stage_raw(state: _State, signal_type: str, digest: np.ndarray) -> None:
    """Keep the new values of ``digest`` (an (n, bytes) uint8 array of one hex type) as
    lower-case hex byte strings, to be inserted sorted at the end."""
    count, size = digest.shape
    fresh = _fresh(state, *state.fingerprint.of_raw(signal_type, digest))
    state.summary.skipped += int(count - fresh.sum())
    if not fresh.any():
        return
    kept = np.ascontiguousarray(digest[fresh]).tobytes().hex().encode("ascii")
    state.staged.setdefault(signal_type, []).append(np.frombuffer(kept, dtype=f"S{2 * size}"))


def _insert_staged(app: Any, state: _State) -> None:
    """Insert the staged signals sorted by (type, value), in transactions of INSERT_BATCH
    entries. Sorted, the (signal_type, value) index grows by appends instead of random
    inserts, which is what makes 10M lines fit in minutes (entries of such files get their
    ids in hash order)."""
    if not state.staged:
        return
    with checkpoint_behind(app.engine) as conn:
        for t in sorted(state.staged):
            values = np.concatenate(state.staged.pop(t))
            values.sort()
            for start in range(0, len(values), INSERT_BATCH):
                ids = _insert_plain(app, state, t, values[start:start + INSERT_BATCH], conn)
                state.summary.inserted(ids, len(ids))


def _insert_plain(app: Any, state: _State, signal_type: str, values: np.ndarray,
                  conn: Connection | None) -> list[int]:
    """One entry per value (``values`` a sorted array of fixed-width byte strings), no
    labels, in one transaction (on ``conn`` if given). On SQLite the entries and their
    signals are generated inside the database from one sequence and one blob of the
    concatenated values: no Python object per row."""
    sessions = app.sessions if conn is None else make_sessionmaker(conn)
    with transaction(sessions) as session:
        conn = session.connection()
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            session.execute(text(f"PRAGMA cache_size=-{SQLITE_CACHE_KB}"))
        session.execute(update(Bank).where(Bank.id == state.bank_id)
                        .values(version=Bank.version + 1))
        ids = _reserve_ids(conn, len(values))
        if not sqlite:
            width = values.dtype.itemsize
            rows: list[_Pending] = [(DEFAULT_META, [(signal_type, v)])
                                    for v in values.astype(f"U{width}").tolist()]
            _copy_rows(conn, state.bank_id, ids, rows)
        else:
            _sqlite_generate(conn, state.bank_id, ids[0], signal_type, values)
        record(session, BankEntriesAdded(state.bank_name, len(ids), state.how), state.actor)
        feed.entries_added_range(session, state.bank_id, ids[0], ids[-1])
    return ids


def _entry_bind(conn: Connection, column: str) -> Callable[[Any], Any]:
    """The driver-level conversion of a ``bank_entries`` column's value (JSON, booleans,
    datetimes), for statements sent to the driver's cursor directly."""
    dialect = conn.dialect
    proc = BankEntry.__table__.c[column].type.dialect_impl(dialect).bind_processor(dialect)
    return proc if proc is not None else (lambda v: v)


def _sqlite_generate(conn: Connection, bank_id: int, first_id: int, signal_type: str,
                     values: np.ndarray) -> None:
    width = values.dtype.itemsize
    last = first_id + len(values) - 1
    seq = "WITH RECURSIVE seq(x) AS (SELECT ? UNION ALL SELECT x + 1 FROM seq WHERE x < ?) "
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(
            seq + "INSERT INTO bank_entries (id, bank_id, labels, provenance, tier, enabled, "
            "note, created_at) SELECT x, ?, ?, '', NULL, ?, '', ? FROM seq",
            (first_id, last, bank_id, _entry_bind(conn, "labels")({}),
             _entry_bind(conn, "enabled")(True), _entry_bind(conn, "created_at")(utcnow())))
        # substr() of a blob counts bytes, so each value is found in constant time.
        cursor.execute(
            seq + "INSERT INTO bank_signals (entry_id, signal_type, value) "
            "SELECT x, ?, CAST(substr(?, (x - ?) * ? + 1, ?) AS TEXT) FROM seq",
            (first_id, last, signal_type, values.tobytes(), first_id, width, width))
    finally:
        cursor.close()


def _load_known(app: Any, state: _State) -> None:
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


def _flush(app: Any, state: _State, pending: list[_Pending]) -> None:
    if not pending:
        return
    flat = [sig for _, sigs in pending for sig in sigs]
    fresh_arr = _fresh(state, *state.fingerprint.of(flat))
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
        keep = keep_fresh(sigs, fresh[k:k + len(sigs)], state.types)
        k += len(sigs)
        if keep:
            rows.append((meta, keep))
        else:
            state.summary.skipped += 1
    if rows:
        ids = _insert(app, state, rows)
        state.summary.inserted(ids, sum(len(sigs) for _, sigs in rows))


def _insert(app: Any, state: _State, rows: list[_Pending]) -> list[int]:
    """Insert the entries and their signals in one transaction with the audit event and the
    change-feed row; returns the new entry ids."""
    with app.transaction() as session:
        if session.get_bind().dialect.name == "sqlite":
            # A large page cache for this connection: the (type, value) index takes random
            # inserts, and with SQLite's default 2 MB cache every one of them reads pages.
            session.execute(text(f"PRAGMA cache_size=-{SQLITE_CACHE_KB}"))
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
    labels_p, enabled_p, created_p = (_entry_bind(conn, "labels"), _entry_bind(conn, "enabled"),
                                      _entry_bind(conn, "created_at"))
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
