"""What reading an image gives: the text, its script and language, and how sure the engine is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class OcrError(ValueError):
    """An image that OCR will not read (over a limit, too slow, broken): the message says why.

    It never refuses the item: the image keeps its hashes and only its text is missing."""


class OcrUnavailable(RuntimeError):
    """The OCR engine or its language data is not installed (the message says what to install)."""


@dataclass(frozen=True)
class ImageText:
    """The text read from one image. ``text`` is in logical (reading) order, right-to-left
    scripts included; ``confidence`` is the engine's mean word confidence, 0-100."""

    text: str
    lang: str | None
    script: str
    confidence: float
    model: str
    seconds: float

    def as_json(self) -> dict[str, Any]:
        return {"text": self.text, "lang": self.lang, "script": self.script,
                "confidence": round(self.confidence, 1), "model": self.model}
