"""Add a decided item's signals to a bank (the add-to-bank action)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from warding.actions.base import ActionRequest
from warding.banks.formats import EntryRecord
from warding.banks.service import add_records, create_bank
from warding.db.models import Bank, Case, ContentItem, Signal
from warding.matching.semantic import add_bank_text

BANKABLE = ("md5", "sha256", "pdq", "text", "text_near")


def add_item_to_bank(app: Any, case_id: int, bank_name: str, request: ActionRequest) -> int:
    with app.transaction() as session:
        case = session.get(Case, case_id)
        if case is None:
            return 0
        bank = session.execute(select(Bank).where(Bank.name == bank_name)).scalar_one_or_none()
        if bank is None:
            bank = create_bank(session, bank_name, actor="system",
                               description="Material confirmed violating by reviewers")
        signals = session.execute(
            select(Signal.signal_type, Signal.value).where(
                Signal.item_id == case.item_id, Signal.signal_type.in_(BANKABLE))
        ).all()
        if not signals:
            return 0
        rec = EntryRecord(
            signals=list(signals),
            labels={"category": request.category or ""},
            provenance=f"warding:case:{case_id}:decision:{request.decision_id}",
        )
        summary = add_records(session, bank, [rec], app.signal_types, actor="system",
                              how=f"decision:{request.decision_id}")
        item = session.get(ContentItem, case.item_id)
        text = "\n".join(p for p in (item.title, item.text) if p) if item is not None else ""
        if text.strip():  # translations of confirmed material match too (text_semantic)
            add_bank_text(app, session, bank, text)
        return summary.signals
