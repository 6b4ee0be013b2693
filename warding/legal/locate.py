"""Where a legal request points: locations resolved to stored items and their cases.

An order, a notice or a complaint names content by its location: a URL, and any
identifying detail the authority or the notifier gave (the platform's own
``source`` and ``external_id`` when known). A location resolves to the stored item
with that source and external id, else to the item whose URL (or external id) is
that URL, compared in canonical form. A location Warding has never stored becomes a
placeholder item (source ``legal``, ``resolved: false``) so the measure can still
go through the action sinks: the platform receives the URL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from warding.db.models import Case, ContentItem
from warding.errors import InvalidInput
from warding.signals.url import canonical_url

PLACEHOLDER_SOURCE = "legal"
MAX_LOCATIONS = 1000


@dataclass(frozen=True)
class Location:
    url: str | None
    source: str | None = None
    external_id: str | None = None
    detail: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in (("url", self.url), ("source", self.source),
                                  ("external_id", self.external_id),
                                  ("detail", self.detail)) if v}


def parse_locations(raw: list[Any]) -> list[Location]:
    """Locations from a request: URLs as strings, or objects with url/source/external_id/
    detail. Each needs a URL or a source and external id."""
    if not raw:
        raise InvalidInput("at least one location is needed")
    if len(raw) > MAX_LOCATIONS:
        raise InvalidInput(f"at most {MAX_LOCATIONS} locations in one request")
    out = []
    for n, entry in enumerate(raw):
        if isinstance(entry, str):
            entry = {"url": entry}
        if not isinstance(entry, dict):
            raise InvalidInput(f"location {n}: a URL or an object with url, source, external_id")
        url = (entry.get("url") or "").strip() or None
        source = (entry.get("source") or "").strip() or None
        external_id = (entry.get("external_id") or "").strip() or None
        if url is not None:
            try:
                canonical_url(url)
            except ValueError as exc:
                raise InvalidInput(f"location {n}: {url!r} is not a URL ({exc})") from None
        if url is None and not (source and external_id):
            raise InvalidInput(f"location {n}: give a url, or a source and an external_id")
        out.append(Location(url, source, external_id, (entry.get("detail") or "").strip() or None))
    return out


def find_item(session: Session, loc: Location) -> ContentItem | None:
    if loc.source and loc.external_id:
        item = session.execute(select(ContentItem).where(
            ContentItem.source == loc.source,
            ContentItem.external_id == loc.external_id)).scalar_one_or_none()
        if item is not None:
            return item
    if loc.url is None:
        return None
    forms = list(dict.fromkeys([loc.url, canonical_url(loc.url)]))
    return session.execute(
        select(ContentItem)
        .where(or_(ContentItem.url.in_(forms), ContentItem.external_id.in_(forms)))
        .order_by(ContentItem.source == PLACEHOLDER_SOURCE, ContentItem.id).limit(1)
    ).scalar_one_or_none()


def resolve(session: Session, loc: Location, input_ref: str) -> tuple[ContentItem, bool]:
    """The item at ``loc`` and whether it was stored before; a placeholder if not."""
    item = find_item(session, loc)
    if item is not None:
        return item, item.source != PLACEHOLDER_SOURCE
    external = loc.url or f"{loc.source}:{loc.external_id}"
    item = ContentItem(source=PLACEHOLDER_SOURCE, external_id=external[:512], kind="url",
                       url=loc.url, text=None, outlinks=[], meta={"location": loc.as_dict()},
                       input_ref=input_ref)
    session.add(item)
    session.flush()
    return item, False


def case_with_reason(session: Session, item: ContentItem, reason: dict[str, Any],
                     actor: str, severity: int) -> Case:
    """The item's case with ``reason`` added (opened when the item has none)."""
    from warding.cases.routing import open_case

    case = session.execute(select(Case).where(Case.item_id == item.id)
                           .order_by(Case.id).limit(1)).scalar_one_or_none()
    if case is None:
        opened = open_case(session, item, [reason], actor)
        assert opened is not None
        opened.severity = max(opened.severity, severity)
        return opened
    if reason not in (case.reasons or []):
        case.reasons = [*(case.reasons or []), reason]
    case.severity = max(case.severity, severity)
    return case
