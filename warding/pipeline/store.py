"""The write step of the bulk pipeline: one batch of prepared items, a few statements.

Items go in with one multi-row ``INSERT … ON CONFLICT (source, external_id) DO
NOTHING RETURNING id`` (SQLite and PostgreSQL), so an item that another writer
stored meanwhile is skipped, not an error, and no savepoint per item is needed.
Their media, signals, matches, classifications and cases follow as one
multi-row insert per table, and the audit events of the opened cases as one
chained insert. The caller's transaction commits all of it at once.

The rows of each insert, and the ids looked up, travel as one JSON parameter
(:mod:`warding.db.jsonrows`): a statement with thousands of placeholders cost more
to build and bind on the client than to run.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, select, text, tuple_
from sqlalchemy.orm import Session

from warding.db.jsonrows import json_insert, json_values
from warding.db.models import Case, ContentItem, IngestRejection, MediaObject, utcnow

ITEMS: Table = ContentItem.__table__  # type: ignore[assignment]
MEDIA: Table = MediaObject.__table__  # type: ignore[assignment]
CASES: Table = Case.__table__  # type: ignore[assignment]


def existing_ids(session: Session, source: str, external_ids: Iterable[str]) -> dict[str, int]:
    """{external id: item id} of the given ids already stored for ``source``."""
    ids = list(dict.fromkeys(external_ids))
    if not ids:
        return {}
    rows = session.execute(
        text(f"SELECT external_id, id FROM content_items WHERE source = :source "
             f"AND external_id IN ({json_values(session, 'ids')})"),
        {"source": source, "ids": json.dumps(ids)})
    return {e: i for e, i in rows}


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
