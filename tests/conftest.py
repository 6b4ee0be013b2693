"""Shared fixtures: an initialised Warding app on SQLite, and on a real PostgreSQL server."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests import pgserver
from warding.app import Warding
from warding.config import Settings
from warding.setup import initialise

SHARED_DATA = Path(os.environ.get("WARDING_SHARED_DATA_DIR")
                   or Path(__file__).resolve().parents[2] / "shared" / "data")


def make_app(tmp_path: Path, url: str | None = None, **settings: object) -> Warding:
    data_dir = tmp_path / "data"
    db_url = url or f"sqlite:///{tmp_path / 'warding.db'}"
    app = Warding(Settings(database_url=db_url, data_dir=data_dir, **settings))  # type: ignore[arg-type]
    initialise(app, actor="test")
    return app


@pytest.fixture
def app_factory(tmp_path: Path) -> Iterator[Callable[..., Warding]]:
    made: list[Warding] = []

    def factory(**settings: object) -> Warding:
        app = make_app(tmp_path / f"app{len(made)}", **settings)
        made.append(app)
        return app

    yield factory
    for app in made:
        app.close()


@pytest.fixture
def wapp(tmp_path: Path) -> Iterator[Warding]:
    app = make_app(tmp_path)
    yield app
    app.close()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[pgserver.PgServer]:
    try:
        server = pgserver.start()
    except (RuntimeError, OSError) as exc:
        if os.environ.get("CI"):
            raise  # in CI the PostgreSQL tests must run, not skip
        pytest.skip(f"PostgreSQL not available: {exc}")
    yield server
    server.stop()


@pytest.fixture
def pg_url(pg_server: pgserver.PgServer) -> Iterator[str]:
    """A fresh database on the throw-away server for each test."""
    name = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(pg_server.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = pg_server.url.rsplit("/", 1)[0] + f"/{name}"
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def pg_app(tmp_path: Path, pg_url: str) -> Iterator[Warding]:
    app = make_app(tmp_path, url=pg_url)
    yield app
    app.close()


@pytest.fixture(scope="session")
def embedder() -> object:
    """The sentence-embedding model, loaded once for the whole test session (~2 s)."""
    from warding.signals.embedding import get_embedder

    return get_embedder()


def bank_of_texts(w: Warding, name: str, texts: list[str]) -> list[int]:
    """A bank holding ``texts`` (their text signals, and their sentence vectors when
    semantic matching is on); the entry id of each text (-1 without a vector)."""
    from warding.banks.service import add_records, create_bank, record_for_text
    from warding.matching.semantic import add_bank_text

    with w.transaction() as session:
        bank = create_bank(session, name, actor="test")
        add_records(session, bank, [record_for_text(t, w.signal_types, {}, "test")
                                    for t in texts], w.signal_types, actor="test", how="add")
        return [add_bank_text(w, session, bank, t) or -1 for t in texts]
