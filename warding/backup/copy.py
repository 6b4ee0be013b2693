"""A consistent copy of the database while the server runs (``warding backup FILE``).

SQLite: the online backup API (``sqlite3.Connection.backup``) copies every page in one
step inside one read transaction, so the copy is the database as of one commit, with what
is still only in the write-ahead log (``-wal``) included; writers go on meanwhile (WAL
readers do not block them). The copy is written beside the target as ``FILE.partial``,
switched to the rollback journal (one self-contained file), synced and then renamed, so a
half-written backup never carries the final name. It is then checked: SQLite's
``integrity_check`` and the audit chain (:func:`warding.audit.log.verify`).

PostgreSQL: ``pg_dump`` is the tool (:func:`pg_dump_command` says how); Warding does not
wrap it.
"""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from warding.errors import InvalidInput, WardingError


@dataclass(frozen=True)
class BackupResult:
    path: str
    bytes: int
    seconds: float
    audit_events: int
    audit_ok: bool
    problem: str = ""

    def as_json(self) -> dict[str, object]:
        return {"file": self.path, "bytes": self.bytes, "seconds": round(self.seconds, 3),
                "audit_events": self.audit_events, "audit_ok": self.audit_ok,
                "problem": self.problem}


def pg_dump_command(database_url: str, out: Path) -> str:
    """The pg_dump command that backs up ``database_url`` (password left out: pg_dump reads
    it from PGPASSWORD or ~/.pgpass)."""
    url = make_url(database_url)
    parts = ["pg_dump", "--format=custom", f"--file={out}"]
    if url.host:
        parts.append(f"--host={url.host}")
    if url.port:
        parts.append(f"--port={url.port}")
    if url.username:
        parts.append(f"--username={url.username}")
    parts.append(url.database or "warding")
    return " ".join(parts)


def sqlite_path(database_url: str) -> Path:
    url = make_url(database_url)
    if not url.drivername.startswith("sqlite"):
        raise InvalidInput("not a SQLite database")
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise InvalidInput(f"{database_url}: an in-memory database cannot be backed up")
    return Path(url.database)


def backup(database_url: str, out: Path, *, force: bool = False) -> BackupResult:
    """Copy the database to ``out`` and verify the copy; InvalidInput for PostgreSQL (use
    :func:`pg_dump_command`), a missing database or an existing ``out`` without ``force``."""
    url = make_url(database_url)
    if url.drivername.startswith("postgresql") or url.drivername.startswith("postgres"):
        raise InvalidInput("a PostgreSQL database is backed up with pg_dump: "
                           + pg_dump_command(database_url, out)
                           + " (see docs/operations.md, Backups)")
    source = sqlite_path(database_url)
    if not source.is_file():
        raise InvalidInput(f"{source}: no such database file")
    if out.exists() and not force:
        raise InvalidInput(f"{out}: already exists (use --force to replace it)")
    if out.resolve() == source.resolve():
        raise InvalidInput(f"{out}: is the database itself")
    partial = out.with_name(out.name + ".partial")
    partial.unlink(missing_ok=True)
    started = time.perf_counter()
    try:
        src = sqlite3.connect(str(source), timeout=30)
        try:
            dst = sqlite3.connect(str(partial))
            try:
                src.backup(dst)  # every page in one step: one consistent snapshot
                dst.execute("PRAGMA journal_mode=DELETE")
            finally:
                dst.close()
        finally:
            src.close()
        with partial.open("rb+") as fh:
            os.fsync(fh.fileno())
        partial.replace(out)
    except (sqlite3.Error, OSError) as exc:
        partial.unlink(missing_ok=True)
        raise WardingError(f"backup to {out} failed: {exc}") from None
    seconds = time.perf_counter() - started
    return _verify(out, seconds)


def _verify(out: Path, seconds: float) -> BackupResult:
    from warding.audit.log import verify
    from warding.db.engine import make_engine, make_sessionmaker, transaction

    conn = sqlite3.connect(str(out))
    try:
        integrity = str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()
    engine = make_engine(f"sqlite:///{out}")
    try:
        with transaction(make_sessionmaker(engine)) as session:
            chain = verify(session)
    finally:
        engine.dispose()
    problem = "" if integrity == "ok" else f"integrity check: {integrity}"
    if not chain.ok:
        problem = (problem + "; " if problem else "") + \
            f"audit chain: event {chain.first_bad_id}: {chain.problem}"
    return BackupResult(str(out), out.stat().st_size, seconds, chain.events,
                        chain.ok, problem)
