"""Tables of the legal workflows (issue 14, :mod:`warding.legal`).

- ``removal_orders`` and ``removal_order_items``: EU TCO removal orders (Art. 3, Annex I),
  their one-hour clock, the items their locations resolve to, and how each was handled.
- ``preservations``: content and data kept after a removal (TCO Art. 6), six months or longer.
- ``legal_complaints``: complaints against a removal (TCO Art. 10, DSA Art. 20).
- ``legal_notices`` and ``legal_notice_items``: notices of illegal content (DSA Art. 16).
- ``threat_alerts``: cases flagged as an imminent threat to life (TCO Art. 14(5)) and the
  notification of the law-enforcement contact.

Kept out of ``warding.db.models`` so the feature area owns its schema; the Alembic
migration is ``0130_legal``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from warding.db.models import Base, utcnow


class RemovalOrder(Base):
    """One removal order as received. ``received_at`` is never changed after creation."""

    __tablename__ = "removal_orders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(200), unique=True)
    authority: Mapped[dict[str, Any]] = mapped_column(default=dict)
    issued_at: Mapped[datetime] = mapped_column()
    received_at: Mapped[datetime] = mapped_column(index=True)
    due_at: Mapped[datetime | None] = mapped_column(index=True)
    locations: Mapped[list[Any]] = mapped_column(default=list)
    grounds: Mapped[list[Any]] = mapped_column(default=list)
    reasons: Mapped[str] = mapped_column(Text, default="")
    nondisclosure_until: Mapped[datetime | None] = mapped_column()
    cross_border: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    measure: Mapped[str | None] = mapped_column(String(20))
    complied_at: Mapped[datetime | None] = mapped_column()
    within_deadline: Mapped[bool | None] = mapped_column(Boolean)
    inability: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    paused_at: Mapped[datetime | None] = mapped_column()
    clarified_at: Mapped[datetime | None] = mapped_column()
    scrutiny: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    alerts: Mapped[list[Any]] = mapped_column(default=list)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class RemovalOrderItem(Base):
    """A location of an order and the stored item (and case) it resolved to."""

    __tablename__ = "removal_order_items"
    __table_args__ = (UniqueConstraint("order_id", "item_id", name="uq_order_item"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("removal_orders.id", ondelete="CASCADE"),
                                          index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("content_items.id", ondelete="CASCADE"),
                                         index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    location: Mapped[dict[str, Any]] = mapped_column(default=dict)
    resolved: Mapped[bool] = mapped_column(Boolean, default=True)
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("decisions.id"))
    reinstate_decision_id: Mapped[int | None] = mapped_column(ForeignKey("decisions.id"))


class Preservation(Base):
    """Removed content and its data kept for authorities and courts (TCO Art. 6)."""

    __tablename__ = "preservations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("content_items.id", ondelete="CASCADE"),
                                         index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id"), unique=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("removal_orders.id"))
    removed_at: Mapped[datetime] = mapped_column(index=True)
    preserve_until: Mapped[datetime] = mapped_column(index=True)
    extensions: Mapped[list[Any]] = mapped_column(default=list)
    purged_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LegalComplaint(Base):
    """A complaint by the content provider against a removal."""

    __tablename__ = "legal_complaints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("content_items.id", ondelete="CASCADE"),
                                         index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    location: Mapped[str | None] = mapped_column(Text)
    complainant: Mapped[dict[str, Any]] = mapped_column(default=dict)
    grounds: Mapped[str] = mapped_column(Text)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("removal_orders.id"))
    received_at: Mapped[datetime] = mapped_column(index=True)
    due_at: Mapped[datetime] = mapped_column()
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    outcome: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column()
    decided_by: Mapped[str | None] = mapped_column(String(120))
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("decisions.id"))
    response: Mapped[str | None] = mapped_column(Text)


class LegalNotice(Base):
    """A notice of allegedly illegal content (DSA Art. 16)."""

    __tablename__ = "legal_notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    explanation: Mapped[str] = mapped_column(Text)
    locations: Mapped[list[Any]] = mapped_column(default=list)
    notifier_name: Mapped[str | None] = mapped_column(String(200))
    notifier_email: Mapped[str | None] = mapped_column(String(320))
    bona_fide: Mapped[bool] = mapped_column(Boolean)
    trusted_flagger: Mapped[bool] = mapped_column(Boolean, default=False)
    received_at: Mapped[datetime] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    outcome: Mapped[str | None] = mapped_column(String(30))
    decided_at: Mapped[datetime | None] = mapped_column()
    response: Mapped[str | None] = mapped_column(Text)


class LegalNoticeItem(Base):
    __tablename__ = "legal_notice_items"
    __table_args__ = (UniqueConstraint("notice_id", "item_id", name="uq_notice_item"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("legal_notices.id", ondelete="CASCADE"),
                                           index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("content_items.id", ondelete="CASCADE"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    location: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ThreatAlert(Base):
    """A case flagged as an imminent threat to life and the notification of the authority."""

    __tablename__ = "threat_alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    flagged_by: Mapped[str] = mapped_column(String(120))
    note: Mapped[str] = mapped_column(Text, default="")
    flagged_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    notified_at: Mapped[datetime | None] = mapped_column()
    detail: Mapped[str] = mapped_column(Text, default="")
