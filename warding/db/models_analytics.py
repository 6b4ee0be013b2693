"""Tables of the analytics area (issue 6): dated event annotations shown on the charts,
and liveness observations of item and account URLs (the survival measure's re-checks).

Both are append-only facts: an observation is never edited, a later check adds a row.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from warding.db.models import Base, utcnow

LIVENESS_STATUSES = ("online", "gone", "error")


class EventAnnotation(Base):
    """A dated event (a battle, an attack, a takedown campaign) drawn on the time charts."""

    __tablename__ = "event_annotations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    label: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LivenessObservation(Base):
    """One re-check of a URL: still online, gone (removed/suspended) or error (unknown).

    ``subject`` is ``item`` (``item_id`` set: the item's own URL) or ``account``
    (``source`` + ``account`` set: the account's profile URL)."""

    __tablename__ = "liveness_observations"
    __table_args__ = (Index("ix_liveness_source_account", "source", "account"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject: Mapped[str] = mapped_column(String(20))
    item_id: Mapped[int | None] = mapped_column(
        ForeignKey("content_items.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(200))
    account: Mapped[str | None] = mapped_column(String(512))
    url: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), index=True)
    http_status: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[str] = mapped_column(Text, default="")
    checked_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
