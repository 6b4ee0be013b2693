"""Text read from the images of items (issue 21, docs/ocr.md).

``image_texts``: one row per image of an item whose text was read (or could not be) — an
attached image, or an image inside an attached file (a scanned PDF page, a video frame): the
text in logical order with its language, script and the engine's confidence, and the
classifier's score of that text (scored apart from the item's own text). The text's
signals are ordinary ``signals`` rows with origin ``ocr``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from warding.db.models import Base, utcnow


class ImageTextRow(Base):
    __tablename__ = "image_texts"
    __table_args__ = (UniqueConstraint("item_id", "position", "part",
                                       name="uq_image_texts_position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("content_items.id", ondelete="CASCADE"),
                                         index=True)
    position: Mapped[int] = mapped_column(Integer)
    # 0: the media file itself (an image); 1, 2...: an image inside it (a PDF page's image, a
    # video frame), named by ``name``
    part: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text, default="")
    lang: Mapped[str | None] = mapped_column(String(16), nullable=True)
    script: Mapped[str] = mapped_column(String(16), default="")
    confidence: Mapped[float] = mapped_column(Float, default=0.0)
    model: Mapped[str] = mapped_column(String(40), default="")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    label: Mapped[str | None] = mapped_column(String(40), nullable=True)
    violating: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
