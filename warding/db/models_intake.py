"""Tables of live intake (issue 13).

- ``webhook_events``: the outbox of events sent to the platform's event webhook
  (``WARDING_EVENT_WEBHOOK_URL``) when intake or a scan opens a case. A row is
  written in the same transaction as the case, so an event is never lost nor sent
  for a case that was not committed; :mod:`warding.intake.outbox` delivers it with
  retries and backoff.

Kept out of ``warding.db.models`` so the feature area owns its schema; the Alembic
migration is ``0111_intake``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from warding.db.models import Base, utcnow


class WebhookEvent(Base):
    """One event for the platform, with its delivery state."""

    __tablename__ = "webhook_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_type: Mapped[str] = mapped_column(String(60))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"),
                                                index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(index=True)
    lease_until: Mapped[datetime | None] = mapped_column()
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
