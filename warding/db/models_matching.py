"""Tables of the match engine: the change feed that keeps every process's in-memory
indexes current without rebuilding them, and the database's identity."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from warding.db.models import Base, utcnow


class MatchChange(Base):
    """One change to the matchable bank contents, written in the same transaction as the change.

    ``kind``: ``add`` (entries ``first_entry``..``last_entry`` of ``bank_id`` were added; only
    that bank's entries in the range are read), ``remove`` (those entries must no longer match)
    or ``bank`` (a bank was created, changed or deleted: banks are reloaded). Every process
    running a match engine reads the rows after the last one it applied.
    """

    __tablename__ = "match_changes"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    bank_id: Mapped[int | None] = mapped_column(Integer)
    first_entry: Mapped[int | None] = mapped_column(BigInteger)
    last_entry: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MatchState(Base):
    """Small key/value facts about the match engine; ``database_id`` names this database so
    that an index snapshot is never applied to another one."""

    __tablename__ = "match_state"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
