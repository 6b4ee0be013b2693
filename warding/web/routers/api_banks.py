"""Banks of known content: list, create, inspect, add entries."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from warding.banks.records import EntryRecord, FormatError
from warding.banks.service import (
    add_records,
    create_bank,
    get_bank,
    list_banks,
    record_for_text,
    record_for_url,
)
from warding.db.models import User
from warding.errors import InvalidInput, NotFound
from warding.matching.semantic import add_bank_text
from warding.web.deps import SessionDep, WardingDep, require
from warding.web.schemas import AddEntriesOut, BankCreate, BankOut, BanksOut, EntryIn, ErrorOut

router = APIRouter(prefix="/api/banks", tags=["banks"],
                   responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut}})

Viewer = Annotated[User, Depends(require("view_banks"))]
Manager = Annotated[User, Depends(require("manage_banks"))]


def _summary(session: Session, name: str) -> BankOut:
    for summary in list_banks(session):
        if summary.name == name:
            return BankOut(**summary.as_json())
    raise NotFound(f"no bank named {name!r}")


@router.get("", response_model=BanksOut)
def banks(session: SessionDep, user: Viewer) -> BanksOut:
    return BanksOut(banks=[BankOut(**b.as_json()) for b in list_banks(session)])


@router.post("", response_model=BankOut, status_code=201,
             responses={409: {"model": ErrorOut}, 422: {"model": ErrorOut}})
def new_bank(body: BankCreate, session: SessionDep, user: Manager) -> BankOut:
    create_bank(session, body.name, actor=user.username, description=body.description,
                thresholds=body.thresholds, auto_action=body.auto_action)
    return _summary(session, body.name)


@router.get("/{name}", response_model=BankOut, responses={404: {"model": ErrorOut}})
def bank(name: str, session: SessionDep, user: Viewer) -> BankOut:
    return _summary(session, name)


@router.post("/{name}/entries", response_model=AddEntriesOut, status_code=201,
             responses={404: {"model": ErrorOut}, 422: {"model": ErrorOut}})
def add_entry(name: str, body: EntryIn, w: WardingDep, session: SessionDep,
              user: Manager) -> AddEntriesOut:
    """Add one entry made of the signals of ``text``, ``url`` and ``hashes`` together.
    Signals the bank already holds are skipped (``skipped`` counts the entry then)."""
    bank = get_bank(session, name)
    if body.text is None and body.url is None and not body.hashes:
        raise InvalidInput("give at least one of text, url or hashes")
    if body.text is not None and len(body.text) > w.settings.max_text_chars:
        raise InvalidInput(f"the text is over {w.settings.max_text_chars} characters")
    types = w.signal_types
    signals: list[tuple[str, str]] = []
    parts: list[EntryRecord | FormatError] = []
    if body.text is not None:
        parts.append(record_for_text(body.text, types, body.labels, body.provenance))
    if body.url is not None:
        parts.append(record_for_url(body.url, types, body.labels, body.provenance))
    for part in parts:
        if isinstance(part, FormatError):
            raise InvalidInput(f"{part.input}: {part.reason}" if part.input != "--text"
                               else f"text: {part.reason}")
        signals.extend(part.signals)
    signals.extend((h.type, h.value) for h in body.hashes or [])
    record = EntryRecord(signals=signals, labels=dict(body.labels), provenance=body.provenance,
                         ref="request")
    summary = add_records(session, bank, [record], types, actor=user.username, how="api")
    if body.text is not None:
        add_bank_text(w, session, bank, body.text)
    if summary.errors and not summary.entries:
        raise InvalidInput("; ".join(e["reason"] for e in summary.errors))
    return AddEntriesOut(**summary.as_json())
