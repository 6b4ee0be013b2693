"""The ``transparency_db`` action sink: queue a decision's statement for the Transparency Database.

Enabled by adding ``transparency_db`` to ``WARDING_ACTION_SINKS``. For each
decision it finds the decision's statement of reasons (or writes it, exactly as
the ``notify_uploader`` sink would and under that sink's idempotency key, so the
uploader's statement and the database's are one statement whichever sink runs
first) and, when it states a restriction, queues it in the database's schema.
The sink itself sends nothing: :func:`warding.legal.tdb_send.send_due` sends the
queue in batches from the web server's action worker or ``warding legal tdb-send``,
and only when ``WARDING_TDB_URL`` is set.
"""

from __future__ import annotations

from typing import ClassVar

from sqlalchemy import select

from warding.actions.base import ActionOutcome, ActionRequest, AppSink
from warding.actions.executor import action_key
from warding.actions.notice import issue_statement
from warding.db.models_review import StatementOfReasons
from warding.legal.tdb_queue import queue_statement


def uploader_statement_key(request: ActionRequest) -> str:
    """The idempotency key the ``notify_uploader`` action of this decision carries."""
    return action_key(request.case_id, request.decision_id, "notify_uploader")


class TransparencyDbSink(AppSink):
    """Queues the statement of reasons of each restriction for the DSA Transparency Database."""

    name: ClassVar[str] = "transparency_db"
    description: ClassVar[str] = (
        "Queue each restriction's statement of reasons, without personal data, for the DSA "
        "Transparency Database (sent in batches when WARDING_TDB_URL is set).")

    def execute(self, request: ActionRequest) -> ActionOutcome:
        if not request.violating and request.kind != "appeal":
            return ActionOutcome("skipped", "not violating: no restriction to report")
        if self.app is None or not hasattr(self.app, "transaction"):
            return ActionOutcome("failed", "sink has no app")
        settings = self.app.settings
        with self.app.transaction() as session:
            statement = session.execute(
                select(StatementOfReasons).where(
                    StatementOfReasons.decision_id == request.decision_id)
                .order_by(StatementOfReasons.id).limit(1)).scalar_one_or_none()
            if statement is None:
                statement = issue_statement(session, uploader_statement_key(request),
                                            request.case_id, request.decision_id,
                                            getattr(settings, "notice_redress_url", None))
            if statement is None:
                return ActionOutcome("skipped", "the decision restricts nothing")
            row = queue_statement(session, statement, list(settings.tdb_territorial_scope))
            if row is None:
                return ActionOutcome("skipped", f"{statement.restriction}: not a restriction "
                                                "for the Transparency Database")
            return ActionOutcome("done", f"statement #{statement.id} queued for the "
                                         f"Transparency Database as {row.puid} ({row.status})")
