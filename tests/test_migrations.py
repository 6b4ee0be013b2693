"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from warding.app import Warding
from warding.db.schema import metadata


def _diff(app: Warding) -> list[object]:
    with app.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": False})
        return list(compare_metadata(ctx, metadata))


def test_sqlite_schema_matches_models(wapp: Warding) -> None:
    assert _diff(wapp) == []


@pytest.mark.postgres
def test_postgres_schema_matches_models(pg_app: Warding) -> None:
    assert _diff(pg_app) == []


def test_init_is_idempotent(wapp: Warding) -> None:
    from warding.setup import initialise

    assert initialise(wapp, actor="test") is False
