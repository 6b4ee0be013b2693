"""Writing a bank import: entries and their signals inserted set-based (SQLite
``executemany`` with reserved ids, or for plain hex lines rows generated inside SQLite;
PostgreSQL ``COPY``), each batch committed with its audit event and its change-feed row;
and withdrawn hashes removed."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
from sqlalchemy import Connection, select, text, update
from sqlalchemy.orm import Session

from warding.audit.log import record
from warding.banks.bulk_state import DEFAULT_META, ImportState, Pending
from warding.banks.curation import remove_entries
from warding.db.engine import checkpoint_behind, make_sessionmaker, transaction
from warding.db.models import Bank, BankEntry, BankSignal, utcnow
from warding.events import BankEntriesAdded
from warding.matching import feed

INSERT_BATCH = 1_000_000
SQLITE_CACHE_KB = 512 * 1024


def insert_staged(app: Any, state: ImportState) -> None:
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


def _insert_plain(app: Any, state: ImportState, signal_type: str, values: np.ndarray,
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
            rows: list[Pending] = [(DEFAULT_META, [(signal_type, v)])
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


def insert_entries(app: Any, state: ImportState, rows: list[Pending]) -> list[int]:
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
                      rows: list[Pending]) -> None:
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


def _copy_rows(conn: Connection, bank_id: int, ids: list[int], rows: list[Pending]) -> None:
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


def remove_withdrawn(app: Any, state: ImportState, removals: list[tuple[str, tuple[str, str]]]) -> None:
    """Remove the entries of the bank holding withdrawn hashes."""
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
