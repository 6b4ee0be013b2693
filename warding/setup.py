"""Initialise a Warding installation: schema, folders, first audit event."""

from __future__ import annotations

from sqlalchemy import func, select

from warding.app import Warding
from warding.audit.log import record
from warding.db.models import AuditEvent
from warding.events import DatabaseInitialised


def initialise(app: Warding, actor: str) -> bool:
    """Migrate to the latest schema; returns True when the database was new."""
    app.init_db()
    with app.transaction() as session:
        if session.execute(select(func.count(AuditEvent.id))).scalar_one() == 0:
            url = app.engine.url.render_as_string(hide_password=True)
            record(session, DatabaseInitialised(url), actor)
            return True
    return False
