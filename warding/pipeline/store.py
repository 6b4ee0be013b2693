"""The write step of the bulk pipeline: one batch of prepared items, a few statements.

Items go in with one multi-row ``INSERT … ON CONFLICT (source, external_id) DO
NOTHING RETURNING id`` (SQLite and PostgreSQL), so an item that another writer
stored meanwhile is skipped, not an error, and no savepoint per item is needed.
Their media, signals, matches, classifications and cases follow as one
multi-row insert per table, and the audit events of the opened cases as one
chained insert. The caller's transaction commits all of it at once.

The rows of each insert travel as one JSON parameter that the database expands
itself (PostgreSQL: ``json_populate_recordset`` over the table's row type;
SQLite: ``json_each``): a statement with thousands of placeholders cost more to
build and bind on the client than to run. Values are stored as SQLAlchemy
stores them (SQLite datetimes as UTC ``YYYY-MM-DD HH:MM:SS.ffffff`` text).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, select, text, tuple_
from sqlalchemy.orm import Session

from warding.db.models import (
    Case,
    Classification,
    ContentItem,
    IngestRejection,
    ItemMedia,
    Match,
    MediaObject,
    Signal,
    utcnow,
)

ITEMS: Table = ContentItem.__table__  # type: ignore[assignment]
MEDIA: Table = MediaObject.__table__  # type: ignore[assignment]
CASES: Table = Case.__table__  # type: ignore[assignment]


def _utc(value: datetime) -> datetime:
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)


def json_insert(session: Session, table: Table, rows: Sequence[dict[str, Any]], *,
                conflict: Sequence[str] = (), returning: Sequence[str] = ()) -> Any:
    """``INSERT INTO table (cols) SELECT … FROM <the rows as one JSON parameter>``, with
    ``ON CONFLICT (conflict) DO NOTHING`` and ``RETURNING`` when asked; the result."""
    cols = list(rows[0])
    names = ", ".join(f'"{c}"' for c in cols)
    if session.get_bind().dialect.name == "postgresql":
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


def existing_ids(session: Session, source: str, external_ids: Iterable[str]) -> dict[str, int]:
    """{external id: item id} of the given ids already stored for ``source``."""
    ids = list(dict.fromkeys(external_ids))
    found: dict[str, int] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        rows = session.execute(select(ContentItem.external_id, ContentItem.id).where(
            ContentItem.source == source, ContentItem.external_id.in_(chunk)))
        found.update({e: i for e, i in rows})
    return found


def insert_items(session: Session, rows: Sequence[dict[str, Any]]) -> dict[tuple[str, str], int]:
    """Insert item rows (keys: column names); {(source, external id): id} of those inserted.
    Rows whose (source, external id) is already stored are skipped."""
    if not rows:
        return {}
    result = json_insert(session, ITEMS, rows, conflict=("source", "external_id"),
                         returning=("id", "source", "external_id"))
    return {(s, e): i for i, s, e in result}


def ids_of(session: Session, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """{(source, external id): id} of stored items (those another writer stored first)."""
    if not keys:
        return {}
    rows = session.execute(select(ContentItem.source, ContentItem.external_id, ContentItem.id)
                           .where(tuple_(ContentItem.source, ContentItem.external_id)
                                  .in_(list(keys))))
    return {(s, e): i for s, e, i in rows}


def insert_media_objects(session: Session, objects: Mapping[str, tuple[int, str]]) -> None:
    """Media objects {sha256: (size, mime)}; those already stored are kept as they are."""
    if objects:
        now = utcnow()
        json_insert(session, MEDIA, [{"sha256": d, "size": size, "mime": mime, "created_at": now}
                                     for d, (size, mime) in objects.items()],
                    conflict=("sha256",))


def insert_rows(session: Session, model: type[Any], rows: Sequence[dict[str, Any]]) -> None:
    """One INSERT of ``rows`` into ``model``'s table (nothing when empty)."""
    if rows:
        json_insert(session, model.__table__, rows)


def insert_cases(session: Session, rows: Sequence[dict[str, Any]]) -> dict[int, int]:
    """Insert case rows; {item id: case id}."""
    if not rows:
        return {}
    return {item: case for case, item in json_insert(session, CASES, rows,
                                                     returning=("id", "item_id"))}


def case_row(item_id: int, reasons: list[dict[str, Any]], severity: int,
             now: datetime) -> dict[str, Any]:
    return {"item_id": item_id, "status": "open", "severity": severity, "reasons": reasons,
            "opened_at": now, "updated_at": now, "deadline": None, "assigned_to": None}


def reject_rows(session: Session, source: str, rejections: Sequence[tuple[str, str]]) -> None:
    """Record refused inputs [(input ref, reason)]: nothing is dropped silently."""
    now = utcnow()
    insert_rows(session, IngestRejection, [
        {"source": source, "input_ref": ref, "reason": reason, "created_at": now}
        for ref, reason in rejections])


__all__ = ["Classification", "ItemMedia", "Match", "Signal", "case_row", "existing_ids",
           "ids_of", "insert_cases", "insert_items", "insert_media_objects", "insert_rows",
           "json_insert", "reject_rows"]
