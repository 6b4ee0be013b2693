"""The domain model, as SQLAlchemy 2 tables.

The tables follow the data flow: content items and their media and signals
(ingest → signals), banks of known content, matches and classifications
(match/classify), cases, decisions and actions (review → act), and the
hash-chained audit log.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON, datetime: UTCDateTime}


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(120), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class ContentItem(Base):
    """One post, file, article or message, as ingested."""

    __tablename__ = "content_items"
    __table_args__ = (UniqueConstraint("source", "external_id", name="uq_item_source_external"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(200), index=True)
    external_id: Mapped[str] = mapped_column(String(512))
    kind: Mapped[str] = mapped_column(String(20))
    url: Mapped[str | None] = mapped_column(Text)
    account: Mapped[str | None] = mapped_column(String(512), index=True)
    posted_at: Mapped[datetime | None] = mapped_column(index=True)
    title: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str | None] = mapped_column(Text)
    lang: Mapped[str | None] = mapped_column(String(16))
    outlinks: Mapped[list[Any]] = mapped_column(default=list)
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)
    input_ref: Mapped[str] = mapped_column(Text)
    ingested_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    media: Mapped[list[ItemMedia]] = relationship(
        back_populates="item", cascade="all, delete-orphan", order_by="ItemMedia.position"
    )
    signals: Mapped[list[Signal]] = relationship(back_populates="item", cascade="all, delete-orphan")


class MediaObject(Base):
    """A stored file, keyed by its SHA-256 in the content-addressed store."""

    __tablename__ = "media_objects"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    mime: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ItemMedia(Base):
    __tablename__ = "item_media"
    __table_args__ = (UniqueConstraint("item_id", "position", name="uq_item_media_position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("content_items.id", ondelete="CASCADE"), index=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("media_objects.sha256"))
    name: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer)

    item: Mapped[ContentItem] = relationship(back_populates="media")
    media: Mapped[MediaObject] = relationship()


class Signal(Base):
    """A hash or fingerprint computed from an item (its text, a media file or a URL)."""

    __tablename__ = "signals"
    __table_args__ = (Index("ix_signals_type_value", "signal_type", "value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("content_items.id", ondelete="CASCADE"), index=True)
    signal_type: Mapped[str] = mapped_column(String(40))
    value: Mapped[str] = mapped_column(String(512))
    origin: Mapped[str] = mapped_column(String(200))

    item: Mapped[ContentItem] = relationship(back_populates="signals")


class Bank(Base):
    """A list of known content, e.g. a hash-sharing programme's list or a platform's own."""

    __tablename__ = "banks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # HMA's matching_enabled_ratio: the share of HMA lookups that search this bank (a
    # gradual roll-out); 0 disables it. Warding's own scans search every enabled bank.
    match_ratio: Mapped[float] = mapped_column(Float, default=1.0, server_default="1.0")
    thresholds: Mapped[dict[str, Any]] = mapped_column(default=dict)
    auto_action: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    entries: Mapped[list[BankEntry]] = relationship(back_populates="bank", cascade="all, delete-orphan")


class BankEntry(Base):
    """One piece of known content in a bank, with its labels and provenance."""

    __tablename__ = "bank_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("banks.id", ondelete="CASCADE"), index=True)
    labels: Mapped[dict[str, Any]] = mapped_column(default=dict)
    provenance: Mapped[str] = mapped_column(Text, default="")
    tier: Mapped[int | None] = mapped_column(Integer)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    note: Mapped[str] = mapped_column(Text, default="")
    # HMA's disable_until_ts: a Unix time until which the entry is disabled (enabled is
    # False meanwhile; the server's index keeper enables it again when the time passes).
    disabled_until: Mapped[float | None] = mapped_column(Float, index=True)
    # HMA's content metadata: {"content_id", "content_uri", "json"}, as given.
    hma_metadata: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    bank: Mapped[Bank] = relationship(back_populates="entries")
    signals: Mapped[list[BankSignal]] = relationship(back_populates="entry", cascade="all, delete-orphan")


class BankSignal(Base):
    __tablename__ = "bank_signals"
    __table_args__ = (
        # No unique constraint on (entry_id, signal_type, value): writers de-duplicate, and
        # its index would hold the value a third time (migration 0107).
        Index("ix_bank_signals_type_value", "signal_type", "value"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("bank_entries.id", ondelete="CASCADE"), index=True)
    signal_type: Mapped[str] = mapped_column(String(40))
    value: Mapped[str] = mapped_column(String(512))

    entry: Mapped[BankEntry] = relationship(back_populates="signals")


class Exchange(Base):
    """A signal exchange (HMA's "exchange"): a hash-sharing programme filling the bank of its
    name, with its fetch checkpoint and status (warding/exchanges)."""

    __tablename__ = "exchanges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    api: Mapped[str] = mapped_column(String(80))
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    checkpoint: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    checkpoint_ts: Mapped[float | None] = mapped_column(Float)
    running_fetch_start_ts: Mapped[float | None] = mapped_column(Float)
    last_fetch_complete_ts: Mapped[float | None] = mapped_column(Float)
    last_fetch_succeeded: Mapped[bool | None] = mapped_column(Boolean)
    last_error: Mapped[str] = mapped_column(Text, default="")
    fetched_items: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ExchangeCredential(Base):
    """Credentials of one exchange API type (e.g. a ThreatExchange token), as HMA keeps them;
    read only by the fetch, never shown by the API."""

    __tablename__ = "exchange_credentials"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    api: Mapped[str] = mapped_column(String(80), unique=True)
    credentials: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Match(Base):
    __tablename__ = "matches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("content_items.id", ondelete="CASCADE"), index=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("banks.id", ondelete="CASCADE"), index=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("bank_entries.id", ondelete="CASCADE"))
    signal_type: Mapped[str] = mapped_column(String(40))
    value: Mapped[str] = mapped_column(String(512))
    distance: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Classification(Base):
    __tablename__ = "classifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("content_items.id", ondelete="CASCADE"), index=True)
    model: Mapped[str] = mapped_column(String(120))
    label: Mapped[str] = mapped_column(String(60))
    score: Mapped[float] = mapped_column(Float)
    violating: Mapped[bool] = mapped_column(Boolean)
    explanation: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Case(Base):
    """One case per item, with every reason it was opened."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("content_items.id", ondelete="CASCADE"), unique=True
    )
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    severity: Mapped[int] = mapped_column(Integer, default=0)
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    deadline: Mapped[datetime | None] = mapped_column()
    assigned_to: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    item: Mapped[ContentItem] = relationship()
    decisions: Mapped[list[Decision]] = relationship(
        back_populates="case", order_by="Decision.id", cascade="all, delete-orphan"
    )


class Decision(Base):
    """A reviewer's (or an automatic bank's) decision on a case. Never edited: a reversal is a new row."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(20), default="decision")
    violating: Mapped[bool] = mapped_column(Boolean)
    category: Mapped[str | None] = mapped_column(String(60))
    reason: Mapped[str] = mapped_column(Text)
    exemption: Mapped[str | None] = mapped_column(String(30))
    automated: Mapped[bool] = mapped_column(Boolean, default=False)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("decisions.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship(back_populates="decisions")


class Action(Base):
    """An action requested of a sink (webhook, bank, notice), with its delivery state."""

    __tablename__ = "actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id", ondelete="CASCADE"))
    sink: Mapped[str] = mapped_column(String(60))
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class IngestRejection(Base):
    """An input that was refused, with the reason: nothing is silently dropped."""

    __tablename__ = "ingest_rejections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(200))
    input_ref: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEvent(Base):
    """Append-only, hash-chained record of everything that changes state."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(120))
    event_type: Mapped[str] = mapped_column(String(60), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Unique: two events can never chain off the same predecessor, so concurrent
    # writers cannot fork the chain (the loser's transaction fails and retries).
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)
