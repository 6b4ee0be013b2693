"""Preservation of removed content and its data (TCO Art. 6).

Every removal — after a removal order or by the platform's own measures — keeps the
content and its data: Warding never deletes an item when it is removed, and records a
preservation with ``removed_at`` and ``preserve_until`` = ``removed_at`` + six months
(``WARDING_PRESERVATION_DAYS``). A competent authority or court may ask for longer
(``extend``). When the time has passed, ``warding legal purge`` deletes the content
(text, title, media files no other item uses) and keeps the record, the hashes and the
audit trail; the purge is audited, and so is each access to preserved content.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from warding.audit.log import record
from warding.db.models import Case, ContentItem, Decision, ItemMedia, MediaObject, utcnow
from warding.db.models_legal import Preservation
from warding.errors import InvalidInput, NotFound
from warding.legal.events import PreservationChanged

MAX_EXTENSION_DAYS = 3650


def preserve(session: Session, settings: Any, decision: Decision, case: Case,
             order_id: int | None = None) -> Preservation:
    existing = session.execute(select(Preservation).where(
        Preservation.decision_id == decision.id)).scalar_one_or_none()
    if existing is not None:
        return existing
    removed_at = decision.created_at or utcnow()
    p = Preservation(item_id=case.item_id, case_id=case.id, decision_id=decision.id,
                     order_id=order_id, removed_at=removed_at,
                     preserve_until=removed_at + timedelta(days=int(settings.preservation_days)),
                     extensions=[])
    session.add(p)
    session.flush()
    return p


def ensure_all(session: Session, settings: Any, limit: int = 5000) -> int:
    """Preservations for removals decided by review (own measures) that have none yet."""
    done = select(Preservation.decision_id)
    rows = session.execute(
        select(Decision, Case).join(Case, Case.id == Decision.case_id)
        .where(Decision.violating.is_(True), Decision.id.not_in(done))
        .order_by(Decision.id).limit(limit)).all()
    for decision, case in rows:
        preserve(session, settings, decision, case)
    return len(rows)


def status_of(p: Preservation, now: datetime | None = None) -> str:
    if p.purged_at is not None:
        return "purged"
    return "expired" if p.preserve_until <= (now or utcnow()) else "preserved"


def preservation_json(p: Preservation) -> dict[str, Any]:
    return {"id": p.id, "item_id": p.item_id, "case_id": p.case_id,
            "decision_id": p.decision_id, "order_id": p.order_id,
            "removed_at": p.removed_at.isoformat(),
            "preserve_until": p.preserve_until.isoformat(), "status": status_of(p),
            "extensions": list(p.extensions or []),
            "purged_at": p.purged_at.isoformat() if p.purged_at else None}


def list_preservations(session: Session, settings: Any, status: str | None = None,
                       limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
    ensure_all(session, settings)
    query = select(Preservation).order_by(Preservation.id.desc())
    now = utcnow()
    if status == "purged":
        query = query.where(Preservation.purged_at.is_not(None))
    elif status == "expired":
        query = query.where(Preservation.purged_at.is_(None), Preservation.preserve_until <= now)
    elif status == "preserved":
        query = query.where(Preservation.purged_at.is_(None), Preservation.preserve_until > now)
    elif status is not None:
        raise InvalidInput("status is one of preserved, expired, purged")
    return [preservation_json(p) for p in
            session.execute(query.limit(limit).offset(offset)).scalars()]


def _get(session: Session, preservation_id: int) -> Preservation:
    p = session.get(Preservation, preservation_id)
    if p is None:
        raise NotFound(f"no preservation {preservation_id}")
    return p


def extend(session: Session, preservation_id: int, *, until: datetime, requested_by: str,
           reference: str, actor: str) -> dict[str, Any]:
    """Keep longer on the request of a competent authority or court (Art. 6(2))."""
    p = _get(session, preservation_id)
    if p.purged_at is not None:
        raise InvalidInput(f"preservation {p.id} was purged on {p.purged_at.isoformat()}")
    if until.tzinfo is None:
        raise InvalidInput("until needs a time zone, e.g. 2027-06-01T00:00:00Z")
    if until <= p.preserve_until:
        raise InvalidInput(f"until must be later than {p.preserve_until.isoformat()}")
    if until > utcnow() + timedelta(days=MAX_EXTENSION_DAYS):
        raise InvalidInput(f"until is more than {MAX_EXTENSION_DAYS} days away")
    if not requested_by.strip():
        raise InvalidInput("requested_by names the authority or court that asked")
    p.extensions = [*(p.extensions or []), {
        "from": p.preserve_until.isoformat(), "until": until.isoformat(),
        "requested_by": requested_by.strip(), "reference": reference.strip(),
        "at": utcnow().isoformat(), "by": actor}]
    p.preserve_until = until
    record(session, PreservationChanged(p.id, p.item_id, "extended",
                                        f"until {until.isoformat()} at the request of "
                                        f"{requested_by.strip()}"), actor)
    return preservation_json(p)


def content(session: Session, preservation_id: int, actor: str) -> dict[str, Any]:
    """The preserved content and its data; every access is audited."""
    p = _get(session, preservation_id)
    item = session.get(ContentItem, p.item_id)
    if item is None:
        raise NotFound(f"the item of preservation {p.id} is gone")
    record(session, PreservationChanged(p.id, p.item_id, "accessed", ""), actor)
    return {"preservation": preservation_json(p),
            "item": {"id": item.id, "source": item.source, "external_id": item.external_id,
                     "url": item.url, "account": item.account,
                     "posted_at": item.posted_at.isoformat() if item.posted_at else None,
                     "title": item.title, "text": item.text, "metadata": item.meta,
                     "media": [{"sha256": m.sha256, "name": m.name} for m in item.media]}}


def purge(app: Any, actor: str, now: datetime | None = None) -> dict[str, Any]:
    """Delete the content of expired preservations whose item is still removed; audited."""
    from warding.review.decisions import current_decision

    clock = now or utcnow()
    purged: list[int] = []
    kept: list[int] = []
    files: list[str] = []
    with app.transaction() as session:
        ensure_all(session, app.settings)
        due = list(session.execute(select(Preservation).where(
            Preservation.purged_at.is_(None), Preservation.preserve_until <= clock)).scalars())
        for p in due:
            last = current_decision(session, p.case_id)
            other = session.execute(select(Preservation.id).where(
                Preservation.item_id == p.item_id, Preservation.purged_at.is_(None),
                Preservation.preserve_until > clock)).first()
            item = session.get(ContentItem, p.item_id)
            if item is None or last is None or not last.violating or other is not None:
                # reinstated (the content is back online), or a later removal still runs
                p.purged_at = clock
                kept.append(p.id)
                record(session, PreservationChanged(p.id, p.item_id, "ended",
                                                    "expired; the item is no longer removed "
                                                    "or is preserved by a later removal"), actor)
                continue
            hashes = [m.sha256 for m in item.media]
            item.text, item.title = None, None
            session.execute(delete(ItemMedia).where(ItemMedia.item_id == item.id))
            session.flush()
            for sha in hashes:
                if session.execute(select(ItemMedia.id).where(ItemMedia.sha256 == sha)).first():
                    continue
                session.execute(delete(MediaObject).where(MediaObject.sha256 == sha))
                files.append(sha)
            p.purged_at = clock
            purged.append(p.id)
            record(session, PreservationChanged(p.id, p.item_id, "purged",
                                                f"{len(hashes)} media file(s) and the text "
                                                "deleted; hashes and records kept"), actor)
    for sha in files:  # after the commit: a crash leaves a stray file, never a dangling row
        app.media.delete(sha)
    return {"purged": purged, "ended_without_purge": kept, "files_deleted": len(files),
            "at": clock.isoformat()}


def note_media_access(session: Session, sha256: str, actor: str) -> int:
    """Audit a view of a media file that belongs to preserved (removed) content."""
    rows = session.execute(
        select(Preservation.id, Preservation.item_id)
        .join(ItemMedia, ItemMedia.item_id == Preservation.item_id)
        .where(ItemMedia.sha256 == sha256, Preservation.purged_at.is_(None))).all()
    for pid, item_id in rows:
        record(session, PreservationChanged(pid, item_id, "accessed", f"media {sha256[:12]}"),
               actor)
    return len(rows)
