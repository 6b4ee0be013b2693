"""Reviewer wellness: per-person settings, the items-seen counter and the break reminder.

People who review terrorist content see executions, attack footage and
recruitment material for hours. Courts have ordered greyscale, blurring and
muted audio as defaults (Scola v. Facebook, 2020), so these are Warding's
defaults: media blurred and grey until revealed one file at a time, video never
playing by itself, audio muted. Each person may change their own settings (the
change is audited as a setting change).

The counter counts distinct cases opened since the current stretch began. A
stretch begins at the last break the reviewer recorded, or after a pause of
``IDLE_BREAK_MINUTES`` without opening a case (a pause is a break too). The
reminder is due after ``break_after_items`` cases or ``break_after_minutes``
minutes in a stretch; 0 turns either off. The reminder never blocks work: it asks.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from warding.audit.log import record
from warding.db.models import User, utcnow
from warding.db.models_review import (
    DEFAULT_BREAK_ITEMS,
    DEFAULT_BREAK_MINUTES,
    CaseView,
    ReviewerSettings,
    WellnessBreak,
)
from warding.errors import InvalidInput
from warding.events import SettingsChanged

IDLE_BREAK_MINUTES = 30
LOOKBACK = timedelta(hours=12)
MAX_BREAK_ITEMS = 1000
MAX_BREAK_MINUTES = 600


@dataclass(frozen=True)
class WellnessSettings:
    blur: bool = True
    greyscale: bool = True
    autoplay: bool = False
    mute_audio: bool = True
    break_after_items: int = DEFAULT_BREAK_ITEMS
    break_after_minutes: int = DEFAULT_BREAK_MINUTES

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


FIELDS = tuple(WellnessSettings.__dataclass_fields__)


def get_settings(session: Session, user_id: int) -> WellnessSettings:
    row = session.get(ReviewerSettings, user_id)
    if row is None:
        return WellnessSettings()
    return WellnessSettings(row.blur, row.greyscale, row.autoplay, row.mute_audio,
                            row.break_after_items, row.break_after_minutes)


def _validate(changes: dict[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for key, value in changes.items():
        if key not in FIELDS:
            raise InvalidInput(f"unknown setting {key!r}; known: {', '.join(FIELDS)}")
        if key in ("break_after_items", "break_after_minutes"):
            top = MAX_BREAK_ITEMS if key == "break_after_items" else MAX_BREAK_MINUTES
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top:
                raise InvalidInput(f"{key} must be a whole number from 0 (off) to {top}")
        elif not isinstance(value, bool):
            raise InvalidInput(f"{key} must be true or false")
        clean[key] = value
    return clean


def update_settings(session: Session, user: User, changes: dict[str, Any], *,
                    actor: str) -> WellnessSettings:
    """Change some of a person's settings; the audit event lists each change as [old, new]."""
    clean = _validate(changes)
    row = session.get(ReviewerSettings, user.id)
    if row is None:
        row = ReviewerSettings(user_id=user.id, **WellnessSettings().as_json())
        session.add(row)
    diff: dict[str, Any] = {}
    for key, value in clean.items():
        old = getattr(row, key)
        if old != value:
            diff[key] = [old, value]
            setattr(row, key, value)
    if diff:
        session.flush()
        record(session, SettingsChanged(user.username, diff), actor)
    return get_settings(session, user.id)


def _last_break(session: Session, user_id: int) -> datetime | None:
    return session.execute(
        select(func.max(WellnessBreak.taken_at)).where(WellnessBreak.user_id == user_id)
    ).scalar_one_or_none()


def _stretch_views(session: Session, user_id: int, now: datetime) -> list[CaseView]:
    """Views of the current stretch, oldest first."""
    since = now - LOOKBACK
    last_break = _last_break(session, user_id)
    if last_break is not None and last_break > since:
        since = last_break
    views = list(session.execute(
        select(CaseView).where(CaseView.user_id == user_id, CaseView.viewed_at >= since)
        .order_by(CaseView.viewed_at, CaseView.id)).scalars())
    start = 0
    gap = timedelta(minutes=IDLE_BREAK_MINUTES)
    for i in range(1, len(views)):
        if views[i].viewed_at - views[i - 1].viewed_at >= gap:
            start = i
    if views and now - views[-1].viewed_at >= gap:
        return []
    return views[start:]


def record_view(session: Session, user_id: int, case_id: int,
                now: datetime | None = None) -> None:
    """Count a case once per stretch."""
    when = now or utcnow()
    if any(v.case_id == case_id for v in _stretch_views(session, user_id, when)):
        return
    session.add(CaseView(user_id=user_id, case_id=case_id, viewed_at=when))
    session.flush()


def take_break(session: Session, user_id: int, now: datetime | None = None) -> None:
    session.add(WellnessBreak(user_id=user_id, taken_at=now or utcnow()))
    session.flush()


def status(session: Session, user_id: int, now: datetime | None = None) -> dict[str, Any]:
    """The counter and whether a break is due."""
    when = now or utcnow()
    settings = get_settings(session, user_id)
    views = _stretch_views(session, user_id, when)
    seen = len({v.case_id for v in views})
    minutes = int((when - views[0].viewed_at).total_seconds() // 60) if views else 0
    day_start = when.replace(hour=0, minute=0, second=0, microsecond=0)
    today = session.execute(
        select(func.count(func.distinct(CaseView.case_id)))
        .where(CaseView.user_id == user_id, CaseView.viewed_at >= day_start)).scalar_one()
    reasons = []
    if settings.break_after_items and seen >= settings.break_after_items:
        reasons.append(f"you have reviewed {seen} items since your last break")
    if settings.break_after_minutes and views and minutes >= settings.break_after_minutes:
        reasons.append(f"you have been reviewing for {minutes} minutes")
    return {
        "seen_since_break": seen,
        "seen_today": int(today),
        "minutes_since_break": minutes,
        "break_after_items": settings.break_after_items,
        "break_after_minutes": settings.break_after_minutes,
        "break_due": bool(reasons),
        "break_reason": " and ".join(reasons),
    }
