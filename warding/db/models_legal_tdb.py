"""The queue of statements for the DSA Transparency Database (issue 14, DSA Art. 24(5)).

- ``tdb_submissions``: one row per statement of reasons that goes to the database,
  holding the statement exactly as it is (or was) sent, in the database's schema,
  with its ``puid`` and its submission state: ``pending`` (waiting, or retried after
  a network error or a 429), ``sent`` (the database answered 201, or it already held
  this ``puid``) or ``rejected`` (the database refused the statement itself, with its
  error text). ``warding.legal.tdb_send`` sends the due rows in batches.

Kept out of ``warding.db.models`` so the feature area owns its schema; the Alembic
migration is ``0131_transparency_db``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from warding.db.models import Base, utcnow


class TdbSubmission(Base):
    """One statement for the Transparency Database and its submission state."""

    __tablename__ = "tdb_submissions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    statement_id: Mapped[int] = mapped_column(
        ForeignKey("statements_of_reasons.id", ondelete="CASCADE"), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    puid: Mapped[str] = mapped_column(String(200), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(index=True)
    lease_until: Mapped[datetime | None] = mapped_column()
    lease_token: Mapped[str | None] = mapped_column(String(40))
    error: Mapped[str] = mapped_column(Text, default="")
    http_status: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
