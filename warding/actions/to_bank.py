"""Add a decided item's signals to a bank (the add-to-bank action), and take them out
again when an appeal reverses the decision."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from warding.actions.base import ActionRequest
from warding.audit.log import record
from warding.banks.records import EntryRecord
from warding.banks.service import add_records, create_bank
from warding.db.models import Bank, BankEntry, Case, ContentItem, Signal
from warding.events import BankEntriesDisabled
from warding.matching import feed
from warding.matching.semantic import add_bank_text

BANKABLE = ("md5", "sha256", "pdq", "text", "text_near")


def case_provenance_prefix(case_id: int) -> str:
    return f"warding:case:{case_id}:"


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
        # Re-enable entries an earlier reversal disabled (a second appeal upheld the removal).
        reenabled = _set_case_entries(session, bank, case_id, enabled=True)
        rec = EntryRecord(
            signals=list(signals),
            labels={"category": request.category or ""},
            provenance=f"{case_provenance_prefix(case_id)}decision:{request.decision_id}",
        )
        summary = add_records(session, bank, [rec], app.signal_types, actor="system",
                              how=f"decision:{request.decision_id}")
        item = session.get(ContentItem, case.item_id)
        text = "\n".join(p for p in (item.title, item.text) if p) if item is not None else ""
        if text.strip():  # translations of confirmed material match too (text_semantic)
            add_bank_text(app, session, bank, text)
        return summary.signals + reenabled


def _set_case_entries(session: Any, bank: Bank, case_id: int, *, enabled: bool) -> int:
    entries = list(session.execute(
        select(BankEntry).where(BankEntry.bank_id == bank.id,
                                BankEntry.provenance.startswith(case_provenance_prefix(case_id)),
                                BankEntry.enabled.is_(not enabled))
    ).scalars())
    for entry in entries:
        entry.enabled = enabled
    if entries:
        session.flush()
        for entry in entries:  # running match engines learn of it from the change feed
            if enabled:
                feed.entries_added_range(session, bank.id, entry.id, entry.id)
            else:
                feed.entries_removed(session, bank.id, entry.id, entry.id)
    return len(entries)


def remove_item_from_bank(app: Any, case_id: int, bank_name: str,
                          request: ActionRequest) -> int:
    """Disable (never delete: the history stays) the entries this case added to the bank."""
    with app.transaction() as session:
        bank = session.execute(select(Bank).where(Bank.name == bank_name)).scalar_one_or_none()
        if bank is None:
            return 0
        ids = [e.id for e in session.execute(
            select(BankEntry).where(BankEntry.bank_id == bank.id,
                                    BankEntry.provenance.startswith(
                                        case_provenance_prefix(case_id)),
                                    BankEntry.enabled.is_(True))).scalars()]
        count = _set_case_entries(session, bank, case_id, enabled=False)
        if count:
            record(session, BankEntriesDisabled(bank.name, ids,
                                                f"appeal:decision:{request.decision_id}"),
                   "system")
        return count
