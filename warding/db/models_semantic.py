"""Tables of cross-lingual semantic matching (issue 4).

``semantic_bank_texts`` holds, for each bank entry added with a text, that
text's sentence embedding (float32 bytes) and the name of the model that made
it, so the vector index can be rebuilt without re-embedding, and vectors made
by another model are recognised and re-computed from ``text``. The text is kept
for that reason only: bank exports never include it (only hashes travel).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from warding.db.models import Base, utcnow


class SemanticBankText(Base):
    __tablename__ = "semantic_bank_texts"
    __table_args__ = (UniqueConstraint("entry_id", name="uq_semantic_bank_text_entry"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("bank_entries.id", ondelete="CASCADE"))
    bank_id: Mapped[int] = mapped_column(ForeignKey("banks.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    model: Mapped[str] = mapped_column(String(120))
    dim: Mapped[int] = mapped_column(Integer)
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
