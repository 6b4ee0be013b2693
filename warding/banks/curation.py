"""Removing what banks hold: delete a bank, remove entries, disable or enable an entry.

Each change is recorded in the audit log and in the match engine's change feed in the
same transaction, so running engines stop (or start) matching within a poll interval,
without a rebuild. Deletes are set-based SQL statements: deleting a bank of millions of
entries does not load them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from warding.audit.log import record
from warding.banks.service import get_bank
from warding.db.models import Bank, BankEntry, BankSignal, Match
from warding.errors import NotFound
from warding.events import BankDeleted, BankEntriesRemoved, BankEntryUpdated
from warding.matching import feed


def delete_bank(session: Session, name: str, *, actor: str) -> int:
    """Delete a bank with its entries and their signals; returns the number of entries."""
    bank = get_bank(session, name)
    bank_id = bank.id
    count = session.execute(
        select(func.count(BankEntry.id)).where(BankEntry.bank_id == bank_id)).scalar_one()
    entries = select(BankEntry.id).where(BankEntry.bank_id == bank_id)
    session.execute(delete(Match).where(Match.bank_id == bank_id))
    session.execute(delete(BankSignal).where(BankSignal.entry_id.in_(entries)))
    session.execute(delete(BankEntry).where(BankEntry.bank_id == bank_id))
    session.execute(delete(Bank).where(Bank.id == bank_id))
    session.expunge(bank)
    record(session, BankDeleted(name, int(count)), actor)
    feed.bank_changed(session, bank_id)
    return int(count)


def _runs(ids: Sequence[int]) -> Iterator[tuple[int, int]]:
    """Consecutive runs of sorted ids: (first, last)."""
    ordered = sorted(set(ids))
    start = prev = None
    for i in ordered:
        if start is None:
            start = prev = i
        elif i == (prev or 0) + 1:
            prev = i
        else:
            yield start, prev or start
            start = prev = i
    if start is not None:
        yield start, prev if prev is not None else start


def remove_entries(session: Session, bank_name: str, entry_ids: Sequence[int], *,
                   actor: str, how: str = "remove") -> int:
    """Delete entries of a bank; returns how many existed."""
    bank = get_bank(session, bank_name)
    found = [i for (i,) in session.execute(
        select(BankEntry.id).where(BankEntry.bank_id == bank.id, BankEntry.id.in_(entry_ids)))]
    if not found:
        return 0
    session.execute(delete(Match).where(Match.entry_id.in_(found)))
    session.execute(delete(BankSignal).where(BankSignal.entry_id.in_(found)))
    session.execute(delete(BankEntry).where(BankEntry.id.in_(found)))
    record(session, BankEntriesRemoved(bank.name, sorted(found)[:1000], how), actor)
    for first, last in _runs(found):
        feed.entries_removed(session, bank.id, first, last)
    return len(found)


def set_entry_enabled(session: Session, bank_name: str, entry_id: int, enabled: bool, *,
                      actor: str, disabled_until: float | None = None) -> BankEntry:
    """Disable an entry (it stops matching, and is kept) or enable it again.
    ``disabled_until`` (a Unix time; HMA's disable_until_ts) is kept with it: a disabled
    entry whose time has passed is enabled again by :func:`enable_due_entries`."""
    bank = get_bank(session, bank_name)
    entry = session.get(BankEntry, entry_id)
    if entry is None or entry.bank_id != bank.id:
        raise NotFound(f"bank {bank_name!r} has no entry {entry_id}")
    changes: dict[str, object] = {}
    if entry.disabled_until != disabled_until:
        entry.disabled_until = disabled_until
        changes["disabled_until"] = disabled_until
    if entry.enabled != enabled:
        entry.enabled = enabled
        changes["enabled"] = enabled
    if changes:
        session.flush()
        record(session, BankEntryUpdated(bank.name, entry_id, changes), actor)
    if "enabled" in changes:
        if enabled:
            feed.entries_added_range(session, bank.id, entry_id, entry_id)
        else:
            feed.entries_removed(session, bank.id, entry_id, entry_id)
    return entry


def set_entry_note(session: Session, bank_name: str, entry_id: int, note: str, *,
                   actor: str) -> BankEntry:
    bank = get_bank(session, bank_name)
    entry = session.get(BankEntry, entry_id)
    if entry is None or entry.bank_id != bank.id:
        raise NotFound(f"bank {bank_name!r} has no entry {entry_id}")
    if entry.note != note:
        entry.note = note
        session.flush()
        record(session, BankEntryUpdated(bank.name, entry_id, {"note": note}), actor)
    return entry


def enable_due_entries(session: Session, now: float, *, actor: str = "system") -> int:
    """Enable the disabled entries whose ``disabled_until`` has passed; returns how many.
    Each row is claimed by a conditional UPDATE, so two processes running this at the
    same time never enable (and feed) an entry twice."""
    due = session.execute(
        select(BankEntry.id, BankEntry.bank_id, Bank.name)
        .join(Bank, Bank.id == BankEntry.bank_id)
        .where(BankEntry.disabled_until <= now, BankEntry.enabled.is_(False))
        .limit(10_000)).all()
    done = 0
    for entry_id, bank_id, bank_name in due:
        claimed = session.execute(
            update(BankEntry).where(BankEntry.id == entry_id, BankEntry.enabled.is_(False))
            .values(enabled=True)).rowcount  # type: ignore[attr-defined]
        if claimed != 1:
            continue
        record(session, BankEntryUpdated(bank_name, entry_id,
                                         {"enabled": True, "why": "disabled_until passed"}),
               actor)
        feed.entries_added_range(session, bank_id, entry_id, entry_id)
        done += 1
    return done
