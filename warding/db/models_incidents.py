"""Tables of incident response (issue 20, docs/incidents.md).

- ``retro_cursors``: where the retroactive matcher is in the change feed (its own
  cursor, so that it resumes after a crash or ``kill -9``), and the bank settings it
  last saw (to notice a bank enabled again or a threshold loosened).
- ``retro_runs``: one retroactive matching run of changed entries of a bank against
  the stored items of a window, with its progress and counts.
- ``retro_matches``: the matches a run found (the item was stored before the hash).
- ``retro_item_vectors``: sentence embeddings of stored items' texts, computed by a
  run with ``text_semantic`` entries, kept so the next run does not embed them again.
- ``incidents``: a content incident (an attack filmed, a surge of copies): its banks,
  its start, the queue priority of its cases and the webhook step it last crossed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from warding.db.models import Base, utcnow


class RetroCursor(Base):
    __tablename__ = "retro_cursors"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    watermark: Mapped[int] = mapped_column(BigInteger, default=0)
    gaps: Mapped[dict[str, Any]] = mapped_column(default=dict)
    banks: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class RetroRun(Base):
    __tablename__ = "retro_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("banks.id", ondelete="CASCADE"), index=True)
    trigger: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="running")
    first_entry: Mapped[int | None] = mapped_column(BigInteger)
    last_entry: Mapped[int | None] = mapped_column(BigInteger)
    since: Mapped[datetime] = mapped_column()
    entries: Mapped[int] = mapped_column(Integer, default=0)
    items_checked: Mapped[int] = mapped_column(BigInteger, default=0)
    signals_checked: Mapped[int] = mapped_column(BigInteger, default=0)
    matches: Mapped[int] = mapped_column(Integer, default=0)
    cases_opened: Mapped[int] = mapped_column(Integer, default=0)
    cases_updated: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[datetime | None] = mapped_column()  # earliest entry's arrival
    live_at: Mapped[datetime | None] = mapped_column()  # the entries matched live from then
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()
    seconds: Mapped[float | None] = mapped_column(Float)
    error: Mapped[str] = mapped_column(Text, default="")


class RetroMatch(Base):
    __tablename__ = "retro_matches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("retro_runs.id", ondelete="CASCADE"),
                                        index=True)
    match_id: Mapped[int] = mapped_column(ForeignKey("matches.id", ondelete="CASCADE"),
                                          unique=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("content_items.id", ondelete="CASCADE"),
                                         index=True)
    entry_id: Mapped[int] = mapped_column(BigInteger)
    found_at: Mapped[datetime] = mapped_column(default=utcnow)


class RetroItemVector(Base):
    __tablename__ = "retro_item_vectors"

    item_id: Mapped[int] = mapped_column(ForeignKey("content_items.id", ondelete="CASCADE"),
                                         primary_key=True)
    model: Mapped[str] = mapped_column(String(120))
    vector: Mapped[bytes] = mapped_column(LargeBinary)


class Incident(Base):
    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime] = mapped_column()
    banks: Mapped[list[Any]] = mapped_column(JSON, default=list)
    priority: Mapped[int] = mapped_column(Integer, default=90)
    notify_step: Mapped[int | None] = mapped_column(Integer)
    notified_count: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
