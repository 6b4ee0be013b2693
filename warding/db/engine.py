"""Engine and session factory: SQLite in WAL mode by default, PostgreSQL in production."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker


def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def normalise_url(url: str) -> str:
    """Use the psycopg 3 driver for plain ``postgresql://`` URLs."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def make_sessionmaker(engine: Engine | Connection) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def begin_write(session: Session) -> None:
    """Open the write transaction now, on SQLite, before any read or savepoint.

    Python's sqlite3 driver starts a transaction only at the first INSERT/UPDATE/DELETE,
    so a SAVEPOINT issued before any write starts the transaction itself, and releasing
    it commits everything so far (the outer transaction is not atomic any more); reads
    made inside such a transaction also pin a snapshot that cannot be upgraded to a
    write once another connection has committed ("database is locked" at once). An
    empty UPDATE first takes SQLite's single write lock (waiting up to the busy
    timeout), after which savepoints nest as they should. PostgreSQL needs nothing."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("UPDATE audit_events SET id = id WHERE 0"))


@contextmanager
def savepoint(session: Session) -> Iterator[None]:
    """A savepoint that rolls back only its own changes on error, on every database."""
    begin_write(session)
    with session.begin_nested():
        yield


@contextmanager
def checkpoint_behind(engine: Engine, every: float = 0.2) -> Iterator[Connection | None]:
    """For a series of large write transactions on SQLite: a connection whose commits leave
    the write-ahead log to a second connection, which copies committed pages into the
    database (passive checkpoints) on a thread, so on the other core while the next
    transaction is written. Yields None on other databases."""
    if engine.dialect.name != "sqlite":
        yield None
        return
    stop = threading.Event()

    def copy_behind() -> None:
        with engine.connect() as other:
            driver = other.connection.driver_connection
            while not stop.wait(every):
                driver.execute("PRAGMA wal_checkpoint(PASSIVE)")  # type: ignore[union-attr]

    worker = threading.Thread(target=copy_behind, name="wal-checkpoint", daemon=True)
    with engine.connect() as conn:
        driver = conn.connection.driver_connection
        driver.execute("PRAGMA wal_autocheckpoint=0")  # type: ignore[union-attr]
        worker.start()
        try:
            yield conn
        finally:
            stop.set()
            worker.join()
            driver.execute("PRAGMA wal_autocheckpoint=1000")  # type: ignore[union-attr]
