"""Bulk statements with one JSON parameter instead of one placeholder per value.

Inserting hundreds of rows, or looking up hundreds of ids, with one placeholder per
value cost more on the client (building, binding and, with psycopg, parsing a
statement of thousands of placeholders) than the database spent running it. Here
the rows travel as one JSON text that the database expands itself: PostgreSQL with
``json_populate_recordset`` over the table's row type, SQLite with ``json_each``.
Values are stored as SQLAlchemy stores them (datetimes in UTC; on SQLite as
``YYYY-MM-DD HH:MM:SS.ffffff`` text; JSON columns as JSON).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, text
from sqlalchemy.orm import Session


def _utc(value: datetime) -> datetime:
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)


def json_insert(session: Session, table: Table, rows: Sequence[dict[str, Any]], *,
                conflict: Sequence[str] = (), returning: Sequence[str] = ()) -> Any:
    """``INSERT INTO table (cols) SELECT … FROM <the rows as one JSON parameter>``, with
    ``ON CONFLICT (conflict) DO NOTHING`` and ``RETURNING`` when asked; the result."""
    cols = list(rows[0])
    names = ", ".join(f'"{c}"' for c in cols)
    if _postgres(session):
        source = (f"SELECT {names} FROM "
                  f'json_populate_recordset(NULL::"{table.name}", CAST(:rows AS json))')

        def when(value: datetime) -> str:
            return _utc(value).isoformat()
    else:  # SQLite: objects and lists come out as JSON text, booleans as 0/1
        picks = ", ".join(f"json_extract(value, '$.\"{c}\"')" for c in cols)
        source = f"SELECT {picks} FROM json_each(:rows) WHERE true"  # WHERE: upsert syntax

        def when(value: datetime) -> str:
            return _utc(value).strftime("%Y-%m-%d %H:%M:%S.%f")

    def encode(value: Any) -> Any:
        if isinstance(value, datetime):
            return when(value)
        raise TypeError(f"cannot store {type(value).__name__} in {table.name}")

    sql = f'INSERT INTO "{table.name}" ({names}) {source}'
    if conflict:
        sql += f" ON CONFLICT ({', '.join(conflict)}) DO NOTHING"
    if returning:
        sql += " RETURNING " + ", ".join(returning)
    payload = json.dumps(list(rows), default=encode, separators=(",", ":"))
    return session.execute(text(sql), {"rows": payload})


def json_values(session: Session, param: str) -> str:
    """SQL for the values of the JSON list bound as ``param``, for ``IN (…)``."""
    if _postgres(session):
        return f"SELECT json_array_elements_text(CAST(:{param} AS json))"
    return f"SELECT value FROM json_each(:{param})"


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"
