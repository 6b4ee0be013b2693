"""``warding backup``: a consistent, verifying copy of a SQLite database in use."""

from __future__ import annotations

import shutil
import sqlite3
import threading
from pathlib import Path

from sqlalchemy import text

from tests.cli_helpers import CLI
from warding.app import Warding
from warding.audit.log import record
from warding.backup.copy import backup
from warding.events import LoginFailed


def _count(path: Path) -> int:
    conn = sqlite3.connect(str(path))
    try:
        return int(conn.execute("SELECT count(*) FROM audit_events").fetchone()[0])
    finally:
        conn.close()


def test_a_copy_taken_while_another_connection_writes_is_consistent(wapp: Warding,
                                                                    tmp_path: Path) -> None:
    stop = threading.Event()
    written = [0]

    def writer() -> None:
        while not stop.is_set():
            with wapp.transaction() as session:
                for i in range(20):
                    record(session, LoginFailed(f"placeholder-{i}"), "writer")
            written[0] += 20

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        while written[0] < 200:
            stop.wait(0.01)
        copies = []
        for n in range(3):
            out = tmp_path / f"copy{n}.db"
            result = backup(wapp.settings.database_url, out)
            assert result.audit_ok and not result.problem, result
            copies.append(result.audit_events)
    finally:
        stop.set()
        thread.join(30)
    assert copies == sorted(copies) and copies[0] >= 200
    assert all(n % 20 == copies[0] % 20 for n in copies)  # whole transactions only
    cli = CLI(tmp_path, db=f"sqlite:///{tmp_path / 'copy2.db'}")
    cli.data_dir = tmp_path / "copy-data"
    assert cli.json("audit", "verify", "--json")["ok"] is True


def test_the_wal_content_is_in_the_copy(wapp: Warding, tmp_path: Path) -> None:
    db = Path(str(wapp.engine.url.database))
    with wapp.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    with wapp.engine.connect() as conn:  # keep new commits in the -wal file only
        conn.exec_driver_sql("PRAGMA wal_autocheckpoint=0")
        before = conn.execute(text("SELECT count(*) FROM audit_events")).scalar_one()
        with wapp.transaction() as session:
            for i in range(50):
                record(session, LoginFailed(f"placeholder-{i}"), "test")
        naive = tmp_path / "naive.db"
        shutil.copyfile(db, naive)  # the database file alone, as a careless copy would
        assert _count(naive) == before  # the 50 new events are missing
        result = backup(wapp.settings.database_url, tmp_path / "online.db")
        assert result.audit_ok and result.audit_events == before + 50
        assert not Path(str(tmp_path / "online.db-wal")).exists()  # one self-contained file


def test_cli_refuses_to_overwrite_and_explains_postgresql(wapp: Warding, tmp_path: Path) -> None:
    cli = CLI(tmp_path, db=wapp.settings.database_url)
    cli.data_dir = wapp.settings.data_dir
    out = tmp_path / "b.db"
    assert "audit log intact" in cli.run("backup", str(out)).stdout
    assert "already exists" in cli.run("backup", str(out), code=1).stderr
    assert cli.json("backup", str(out), "--force", "--json")["audit_ok"] is True
    pg = CLI(tmp_path, db="postgresql://someone:hidden@db.internal:5433/warding")
    said = pg.run("backup", str(tmp_path / "w.dump"), code=1).stderr
    assert "pg_dump --format=custom" in said and "hidden" not in said
