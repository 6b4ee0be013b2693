"""Tesseract 5 through ``tesserocr``: one engine per thread and model, loaded once.

The language data comes from Debian (``tesseract-ocr-*`` packages, installed by
``scripts/ensure-tesseract.sh``); ``tesserocr``'s wheel brings the library. Script models
(``Latin``, ``Arabic``, ``Cyrillic``) read every language of their script, accented and
Turkish letters included, so the engine does not have to guess the language first: each
image is read by the script models in turn and the most confident reading is kept
(docs/ocr.md says why, with the measurements).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from PIL import Image

from warding.ocr.model import OcrError, OcrUnavailable
from warding.ocr.scripts import letter_share, script_of

SCRIPT_MODELS = ("Latin", "Arabic", "Cyrillic")
"""Tried in this order; a reading of its own script at ``EARLY_CONFIDENCE`` ends the search."""
EARLY_CONFIDENCE = 80.0
RETRIES = (("Latin", "2", 1.0, 3), ("Arabic", "0", 1.0, 6), ("Arabic", "0", 0.7, 3))
"""(model, Tesseract ``thresholding_method``, scale, page segmentation mode) of the readings
tried, in order, when no model found any text: Sauvola's local thresholding (2) for text over
a textured background; mode 6 (the image as one block of text; mode 3, the first reading,
analyses the layout) and a smaller size for the short Arabic lines Tesseract's layout analysis
drops (measured in docs/benchmarks.md)."""
RTL_MODELS = frozenset({"Arabic", "ara", "urd"})
MIN_LINE_CONFIDENCE = 45.0
"""Lines read with less confidence are dropped (noise from photos and textures)."""
LANGUAGE_PACKS = ("ara", "eng", "fra", "deu", "rus", "spa", "tur", "urd")
"""The language packs ``make setup`` installs beside the script models (docs/ocr.md)."""
DEBIAN_TESSDATA = ("/usr/share/tesseract-ocr/5/tessdata", "/usr/share/tesseract-ocr/4.00/tessdata",
                   "/usr/share/tessdata")


def find_tessdata(configured: Path | None) -> Path:
    """The folder holding the script models, or OcrUnavailable naming what to install."""
    candidates = [configured] if configured is not None else [Path(p) for p in DEBIAN_TESSDATA]
    for folder in candidates:
        if folder is not None and all((folder / f"{m}.traineddata").is_file()
                                      for m in SCRIPT_MODELS):
            return folder
    where = str(configured) if configured is not None else ", ".join(DEBIAN_TESSDATA)
    raise OcrUnavailable(
        f"Tesseract script models ({', '.join(SCRIPT_MODELS)}) not found in {where}: install "
        "the Debian packages tesseract-ocr-script-latn, tesseract-ocr-script-arab and "
        "tesseract-ocr-script-cyrl (make setup does, as root), or set WARDING_OCR_TESSDATA")


class TesseractEngine:
    """Reads an image with the script models; thread-safe (one API object per thread)."""

    def __init__(self, tessdata: Path, timeout_seconds: float) -> None:
        try:
            import tesserocr  # type: ignore[import-untyped]
        except ImportError as exc:  # pragma: no cover - a dependency of the package
            raise OcrUnavailable(f"the tesserocr package is not installed: {exc}") from exc
        self._tesserocr = tesserocr
        self.tessdata = tessdata
        self.timeout_ms = max(1, int(timeout_seconds * 1000))
        self.version = str(tesserocr.tesseract_version().split()[1])
        self._local = threading.local()

    @contextmanager
    def _api(self, model: str) -> Iterator[Any]:
        apis: dict[str, Any] = self._local.__dict__.setdefault("apis", {})
        api = apis.get(model)
        if api is None:
            api = self._tesserocr.PyTessBaseAPI(path=str(self.tessdata) + "/", lang=model,
                                               psm=self._tesserocr.PSM.AUTO)
            apis[model] = api
        try:
            yield api
        finally:
            api.Clear()

    def _read_with(self, img: Image.Image, model: str, deadline: float,
                   threshold: str = "0", psm: int = 3) -> tuple[str, float]:
        too_slow = OcrError(f"OCR took longer than the {self.timeout_ms / 1000:g} s limit "
                            "(WARDING_OCR_TIMEOUT_SECONDS)")
        left_ms = int((deadline - time.monotonic()) * 1000)
        if left_ms <= 0:
            raise too_slow
        with self._api(model) as api:
            api.SetVariable("thresholding_method", threshold)
            api.SetPageSegMode(psm)
            api.SetImage(img)
            if not api.Recognize(timeout=left_ms):
                raise too_slow
            if model in RTL_MODELS:
                # tesserocr's line iterator gives right-to-left lines reversed and cut:
                # take the page text (in logical order) and drop the lines of symbols.
                lines = [t.strip() for t in str(api.GetUTF8Text()).splitlines()]
                text = "\n".join(t for t in lines if t and letter_share(t) >= 0.5)
                return text, float(api.MeanTextConf()) if text else -1.0
            return self._lines(api)

    def _lines(self, api: Any) -> tuple[str, float]:
        """The lines read, without the lines of low confidence (the marks a textured
        background leaves), and their mean confidence weighted by length."""
        level = self._tesserocr.RIL.TEXTLINE
        kept: list[tuple[str, float]] = []
        iterator = api.GetIterator()
        if iterator is None:
            return "", -1.0
        for line in self._tesserocr.iterate_level(iterator, level):
            try:
                text = (line.GetUTF8Text(level) or "").strip()
            except RuntimeError:  # an empty line ("No text returned")
                continue
            conf = float(line.Confidence(level))
            if text and conf >= MIN_LINE_CONFIDENCE and letter_share(text) >= 0.5:
                kept.append((text, conf))
        if not kept:
            return "", -1.0
        chars = sum(len(t) for t, _ in kept)
        return "\n".join(t for t, _ in kept), sum(len(t) * c for t, c in kept) / chars

    def read(self, img: Image.Image) -> tuple[str, str, float]:
        """(text, model, confidence) of the most confident script model's reading."""
        deadline = time.monotonic() + self.timeout_ms / 1000
        best = ("", SCRIPT_MODELS[0], -1.0)
        for model in SCRIPT_MODELS:
            text, conf = self._read_with(img, model, deadline)
            if not text.strip():
                continue
            if conf > best[2]:
                best = (text, model, conf)
            if conf >= EARLY_CONFIDENCE and script_of(text) == model:
                return best
        if best[0]:
            return best
        # No model found any text. Tesseract's layout analysis now and then takes a line at
        # one size, or over a textured background, for a picture and returns nothing: a few
        # more readings, a fixed number so that a photo without text stays cheap.
        for model, threshold, scale, psm in RETRIES:
            text, conf = self._read_with(_scaled(img, scale), model, deadline, threshold, psm)
            if text.strip():
                return text, model, conf
        return best


def _scaled(img: Image.Image, factor: float) -> Image.Image:
    if factor == 1.0:
        return img
    size = (max(1, round(img.width * factor)), max(1, round(img.height * factor)))
    return img.resize(size, Image.Resampling.LANCZOS)
