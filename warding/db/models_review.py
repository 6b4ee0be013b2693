"""Tables of the review console and the action pipeline (issue 5).

- ``reviewer_settings``: each person's wellness settings (blur, greyscale, video
  autoplay, muted audio, break reminder thresholds). One row per user, created
  on first change; a user without a row has the safe defaults.
- ``case_views`` and ``wellness_breaks``: which cases a reviewer has opened and
  when they last took a break, for the items-seen counter and the reminder.
- ``action_schedules``: the retry state of one action (next attempt, lease of
  the runner sending it now, attempts cap, when it was dead-lettered).
- ``action_attempts``: the delivery log, one row per attempt of an action.
- ``statements_of_reasons``: the notices the ``notify_uploader`` sink writes.

Kept out of ``warding.db.models`` so the feature area owns its schema; the
Alembic migration is ``0105_review``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from warding.db.models import Base, utcnow

DEFAULT_BREAK_ITEMS = 50
DEFAULT_BREAK_MINUTES = 60


class ReviewerSettings(Base):
    """A person's wellness settings. The defaults are the protective ones."""

    __tablename__ = "reviewer_settings"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    blur: Mapped[bool] = mapped_column(Boolean, default=True)
    greyscale: Mapped[bool] = mapped_column(Boolean, default=True)
    autoplay: Mapped[bool] = mapped_column(Boolean, default=False)
    mute_audio: Mapped[bool] = mapped_column(Boolean, default=True)
    break_after_items: Mapped[int] = mapped_column(Integer, default=DEFAULT_BREAK_ITEMS)
    break_after_minutes: Mapped[int] = mapped_column(Integer, default=DEFAULT_BREAK_MINUTES)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CaseView(Base):
    """A reviewer opened a case (counted once per case between two breaks)."""

    __tablename__ = "case_views"
    __table_args__ = (Index("ix_case_views_user_time", "user_id", "viewed_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    viewed_at: Mapped[datetime] = mapped_column(default=utcnow)


class WellnessBreak(Base):
    __tablename__ = "wellness_breaks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    taken_at: Mapped[datetime] = mapped_column(default=utcnow)


class ActionSchedule(Base):
    """When an action is next tried, who is sending it now, and its attempts cap."""

    __tablename__ = "action_schedules"

    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"),
                                           primary_key=True)
    next_attempt_at: Mapped[datetime | None] = mapped_column(index=True)
    lease_until: Mapped[datetime | None] = mapped_column()
    max_attempts: Mapped[int] = mapped_column(Integer)
    dead_at: Mapped[datetime | None] = mapped_column()


class ActionAttempt(Base):
    """The delivery log: one row per attempt to carry out an action."""

    __tablename__ = "action_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"),
                                           index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    finished_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(Text, default="")
    http_status: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[float] = mapped_column(Float, default=0.0)
    next_attempt_at: Mapped[datetime | None] = mapped_column()


class StatementOfReasons(Base):
    """A statement of reasons for the uploader (DSA Art. 17 style), written once per action."""

    __tablename__ = "statements_of_reasons"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(200))
    account: Mapped[str | None] = mapped_column(String(512))
    restriction: Mapped[str] = mapped_column(String(40))
    body: Mapped[dict[str, Any]] = mapped_column(default=dict)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A removal order may forbid telling the uploader (TCO Art. 11(3)): the statement is
    # kept back until then and released (released_at) once the date has passed.
    withheld_until: Mapped[datetime | None] = mapped_column()
    released_at: Mapped[datetime | None] = mapped_column()


class DecisionContext(Base):
    """Why a decision was taken when it was not a review (a removal order, a complaint):
    passed to the action sinks with the request (``ActionRequest.context``)."""

    __tablename__ = "decision_contexts"

    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id", ondelete="CASCADE"),
                                             primary_key=True)
    context: Mapped[dict[str, Any]] = mapped_column(default=dict)
