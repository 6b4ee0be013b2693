"""Fetch an exchange's signals into its bank (``warding exchange fetch``).

The exchange's API type (threatexchange) fetches in deltas from the saved checkpoint (from
scratch when there is none or it went stale). Each delta is applied in one transaction with
the new checkpoint, so a fetch stopped at any point (even by kill -9) resumes where the last
applied delta ended, and no signal is added twice: new signals become entries of the bank
(labels ``te_opinion`` and ``te_tags``, provenance ``exchange:<name>``), an opinion that the
signal is a false positive disables its entry (humans decide), a signal the exchange
removed has its entries removed. Signal types Warding does not match are counted as skipped.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session
from threatexchange.exchanges.fetch_state import AggregateSignalOpinionCategory
from threatexchange.signal_type.md5 import VideoMD5Signal
from threatexchange.signal_type.pdq.signal import PdqSignal
from threatexchange.signal_type.url import URLSignal
from threatexchange.utils import dataclass_json

from warding.app import Warding
from warding.audit.log import record
from warding.banks.curation import remove_entries, set_entry_enabled
from warding.banks.records import EntryRecord
from warding.banks.service import add_records, get_bank
from warding.banks.sources import signal_type_for
from warding.db.models import BankEntry, BankSignal, Exchange
from warding.errors import Conflict, InvalidInput, WardingError
from warding.exchanges.apis import get_api, supports_auth
from warding.exchanges.events import ExchangeFetched
from warding.exchanges.service import collab_config, credentials_for, get_exchange

TE_TYPES: tuple[Any, ...] = (PdqSignal, VideoMD5Signal, URLSignal)
STALE_RUN = 6 * 3600.0  # seconds after which a fetch still marked running is taken to have died


@dataclass
class FetchSummary:
    exchange: str
    added: int = 0
    removed: int = 0
    skipped: int = 0
    changed: int = 0
    deltas: int = 0
    succeeded: bool = False
    error: str = ""
    skipped_types: set[str] = field(default_factory=set)

    def as_json(self) -> dict[str, Any]:
        return {"exchange": self.exchange, "added": self.added, "removed": self.removed,
                "changed": self.changed, "skipped": self.skipped, "deltas": self.deltas,
                "succeeded": self.succeeded, "error": self.error,
                "skipped_types": sorted(self.skipped_types)}


def supported_types(w: Warding) -> dict[Any, str]:
    """threatexchange signal type classes Warding matches → Warding's names."""
    out = {}
    for cls in TE_TYPES:
        try:
            name = signal_type_for(cls.get_name())
        except ValueError:
            continue
        if name in w.signal_types:
            out[cls] = name
    return out


def fetch_exchange(w: Warding, name: str, *, actor: str = "exchange-fetch") -> FetchSummary:
    """Fetch one exchange; the summary says what changed (and the error, if it failed)."""
    s = w.settings
    summary = FetchSummary(name)
    with w.transaction() as session:
        exchange = get_exchange(session, name)
        if not exchange.enabled:
            raise InvalidInput(f"exchange {name!r} is disabled (enable it first)")
        api_cls = get_api(s.exchange_apis, exchange.api)
        collab = collab_config(s, exchange)
        credentials = credentials_for(session, api_cls)
        checkpoint = None
        if exchange.checkpoint is not None:
            checkpoint = dataclass_json.dataclass_load_dict(dict(exchange.checkpoint),
                                                            api_cls.get_checkpoint_cls())
            if checkpoint.is_stale():
                checkpoint = None
        _claim(session, exchange.id, name)
    types = supported_types(w)
    try:
        if supports_auth(api_cls):
            api = api_cls.for_collab(collab, credentials)
        else:
            api = api_cls.for_collab(collab)
        for delta in api.fetch_iter(list(types), checkpoint):
            with w.transaction() as session:
                _apply(w, session, summary, api_cls, collab, types, delta.updates, actor)
                exchange = get_exchange(session, name)
                exchange.checkpoint = dataclass_json.dataclass_dump_dict(delta.checkpoint)
                progress = delta.checkpoint.get_progress_timestamp()
                exchange.checkpoint_ts = float(progress) if progress is not None else time.time()
                exchange.fetched_items += len(delta.updates)
            summary.deltas += 1
        summary.succeeded = True
    except WardingError as exc:
        summary.error = str(exc)
    except Exception as exc:  # noqa: BLE001 - any API failure is reported, not raised
        summary.error = f"{type(exc).__name__}: {exc}"
    with w.transaction() as session:
        exchange = get_exchange(session, name)
        exchange.running_fetch_start_ts = None
        exchange.last_fetch_succeeded = summary.succeeded
        exchange.last_error = summary.error
        if summary.succeeded:
            exchange.last_fetch_complete_ts = time.time()
        record(session, ExchangeFetched(name, summary.added, summary.removed, summary.skipped,
                                        summary.succeeded, summary.error), actor)
    return summary


def _claim(session: Session, exchange_id: int, name: str) -> None:
    """Mark the fetch as running, unless another one is (a conditional UPDATE: two fetches
    started at once cannot both pass). A mark older than :data:`STALE_RUN` is from a fetch
    that died and is taken over."""
    now = time.time()
    claimed = session.execute(
        update(Exchange).where(Exchange.id == exchange_id,
                               or_(Exchange.running_fetch_start_ts.is_(None),
                                   Exchange.running_fetch_start_ts < now - STALE_RUN))
        .values(running_fetch_start_ts=now)).rowcount  # type: ignore[attr-defined]
    if claimed != 1:
        raise Conflict(f"a fetch of exchange {name!r} is already running")


def _apply(w: Warding, session: Session, summary: FetchSummary, api_cls: Any, collab: Any,
           types: Mapping[Any, str], updates: Mapping[Any, Any], actor: str) -> None:
    name = collab.name
    bank = get_bank(session, name)
    by_name = {cls.get_name(): kind for cls, kind in types.items()}
    gone: list[tuple[str, str]] = []
    for key, value in updates.items():
        if value is not None:
            continue
        if isinstance(key, tuple) and len(key) == 2 and key[0] in by_name:
            gone.append((by_name[key[0]], str(key[1])))
        else:
            summary.skipped += 1
    if gone:
        ids = _entries_holding(session, bank.id, gone)
        summary.removed += remove_entries(session, name, sorted({i for i, _ in ids.values()}),
                                          actor=actor, how=f"exchange:{name}")
    present = {k: v for k, v in updates.items() if v is not None}
    converted = api_cls.naive_convert_to_signal_type(list(types), collab, present)
    records: list[EntryRecord] = []
    wanted: list[tuple[str, str, bool, dict[str, Any]]] = []
    for te_cls, values in converted.items():
        kind = types.get(te_cls)
        if kind is None:
            summary.skipped += len(values)
            summary.skipped_types.add(te_cls.get_name())
            continue
        for raw, metadata in values.items():
            try:
                value = w.signal_types[kind].validate(raw)
            except ValueError:
                summary.skipped += 1
                continue
            opinion = metadata.get_as_aggregate_opinion()
            enabled = opinion.category != AggregateSignalOpinionCategory.NEGATIVE_CLASS
            labels: dict[str, Any] = {"te_opinion": opinion.category.name.lower()}
            if opinion.tags:
                labels["te_tags"] = ",".join(sorted(opinion.tags))
            wanted.append((kind, value, enabled, labels))
            records.append(EntryRecord(signals=[(kind, value)], labels=labels,
                                       provenance=f"exchange:{name}", enabled=enabled,
                                       ref=f"{te_cls.get_name()} {value}"))
    existing = _entries_holding(session, bank.id, [(k, v) for k, v, _, _ in wanted])
    for kind, value, enabled, labels in wanted:
        hit = existing.get((kind, value))
        if hit is not None and hit[1] != enabled:  # the exchange's opinion changed
            entry = set_entry_enabled(session, name, hit[0], enabled, actor=actor)
            entry.labels = {**dict(entry.labels or {}), **labels}
            summary.changed += 1
    fresh = [r for r in records if r.signals[0] not in existing]
    if fresh:
        added = add_records(session, bank, fresh, w.signal_types, actor=actor,
                            how=f"exchange:{name}")
        summary.added += added.entries
        summary.skipped += len(added.errors)


def _entries_holding(session: Session, bank_id: int, signals: list[tuple[str, str]]
                     ) -> dict[tuple[str, str], tuple[int, bool]]:
    """(type, value) → (entry id, enabled) of the bank's entries holding them."""
    out: dict[tuple[str, str], tuple[int, bool]] = {}
    by_type: dict[str, list[str]] = {}
    for kind, value in signals:
        by_type.setdefault(kind, []).append(value)
    for kind, values in by_type.items():
        ordered = sorted(set(values))
        for start in range(0, len(ordered), 500):
            rows = session.execute(
                select(BankSignal.value, BankEntry.id, BankEntry.enabled)
                .join(BankEntry, BankEntry.id == BankSignal.entry_id)
                .where(BankEntry.bank_id == bank_id, BankSignal.signal_type == kind,
                       BankSignal.value.in_(ordered[start:start + 500])))
            for value, entry_id, enabled in rows:
                out.setdefault((kind, value), (entry_id, bool(enabled)))
    return out
