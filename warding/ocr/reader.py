"""Read the text of an image: limits, the cheap text check, the engine, language and script.

``OcrReader.read_bytes`` is what the rest of Warding calls (the pipeline, ``warding hash``,
``POST /api/hash``, ``bank add``): it returns the text read, ``None`` when the image holds
no readable text, and raises :class:`OcrError` for an image it will not read.
"""

from __future__ import annotations

import io
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from warding.ocr.model import ImageText, OcrError, OcrUnavailable
from warding.ocr.regions import likely_text
from warding.ocr.scripts import letter_share, script_of
from warding.ocr.tesseract import TesseractEngine, find_tessdata

MIN_SIDE = 0
"""Images whose shorter side is below this are enlarged (Tesseract reads text best at
20-40 px letter height)."""


@dataclass(frozen=True)
class OcrLimits:
    max_pixels: int
    timeout_seconds: float
    min_confidence: float
    min_chars: int = 3


class OcrReader:
    """One per application (``Warding.ocr``); thread-safe."""

    def __init__(self, limits: OcrLimits, tessdata: Path | None) -> None:
        self.limits = limits
        self._tessdata = tessdata
        self._engine: TesseractEngine | None = None
        self._unavailable: str | None = None

    # -- availability ------------------------------------------------------------
    def engine(self) -> TesseractEngine:
        if self._engine is None:
            if self._unavailable is not None:
                raise OcrUnavailable(self._unavailable)
            try:
                self._engine = TesseractEngine(find_tessdata(self._tessdata),
                                               self.limits.timeout_seconds)
            except OcrUnavailable as exc:
                self._unavailable = str(exc)
                raise
        return self._engine

    def status(self) -> tuple[bool, str]:
        """(available, what it is or why not), for ``warding ocr status`` and the docs."""
        try:
            engine = self.engine()
        except OcrUnavailable as exc:
            return False, str(exc)
        return True, f"Tesseract {engine.version} with script models in {engine.tessdata}"

    # -- reading -----------------------------------------------------------------------
    def read_bytes(self, data: bytes) -> ImageText | None:
        return self.read_image(_open(data, self.limits.max_pixels))

    def read_image(self, img: Image.Image) -> ImageText | None:
        _check_pixels(img, self.limits.max_pixels)
        started = time.perf_counter()
        if not likely_text(img):
            return None
        text, model, confidence = self.engine().read(_prepare(img))
        text = " ".join(text.split())
        if (len(text) < self.limits.min_chars or confidence < self.limits.min_confidence
                or letter_share(text) < 0.5):
            return None
        from warding.signals import langid

        lang = langid.detect_many([text])[0]
        return ImageText(text=text, lang=lang, script=script_of(text) or model,
                         confidence=confidence, model=f"tesseract-{model}",
                         seconds=time.perf_counter() - started)


def _check_pixels(img: Image.Image, max_pixels: int) -> None:
    pixels = img.width * img.height
    if pixels > max_pixels:
        raise OcrError(f"image of {pixels:,} pixels is over the OCR limit of {max_pixels:,} "
                       "(WARDING_OCR_MAX_PIXELS): its text was not read")


def _open(data: bytes, max_pixels: int) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            _check_pixels(img, max_pixels)  # before decoding
            img.load()
    except OcrError:
        raise
    except Exception as exc:
        raise OcrError(f"cannot read the image for OCR: {exc}") from exc
    return img


def _prepare(img: Image.Image) -> Image.Image:
    """Greyscale (first frame of an animation), enlarged when small. (A median filter
    against JPEG noise was tried: it erased the dots of Arabic letters.)"""
    g = img.convert("L")
    short = min(g.size)
    if 0 < short < MIN_SIDE:
        factor = min(4.0, MIN_SIDE / short)
        g = g.resize((round(g.width * factor), round(g.height * factor)),
                     Image.Resampling.LANCZOS)
    return g
