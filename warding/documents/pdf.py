"""PDF: the text of each page (to the text signals and the classifier) and the images each
page embeds (to PDQ and the file hashes), with pypdf.

Hostile files are bounded: the page count (``pdf_max_pages``), the bytes decompressed in all
(``pdf_max_bytes``; pypdf also caps each stream) and the wall-clock time (``pdf_max_seconds``).
A breach, an encrypted or a broken file raises :class:`PdfError`, naming the file's problem;
the item is refused with that reason.
"""

from __future__ import annotations

import io
import logging
import time
from typing import ClassVar

from warding.signals.base import SignalError
from warding.signals.derive import Derived, DeriveLimits, Deriver

log = logging.getLogger("warding.documents")

MAX_IMAGES_PER_PAGE = 50


class PdfError(SignalError):
    """The PDF cannot be read within the limits; the message says why."""


class _Budget:
    def __init__(self, limits: DeriveLimits) -> None:
        self.limits = limits
        self.used = 0
        self.deadline = time.monotonic() + limits.pdf_max_seconds

    def spend(self, n: int, where: str) -> None:
        self.used += n
        if self.used > self.limits.pdf_max_bytes:
            raise PdfError(f"{where}: the PDF decompresses to over {self.limits.pdf_max_bytes} "
                           "bytes (pdf_max_bytes)")
        if time.monotonic() > self.deadline:
            raise PdfError(f"{where}: reading the PDF took over {self.limits.pdf_max_seconds:g} s "
                           "(pdf_max_seconds)")


def _image_mime(name: str) -> str:
    ext = name.rsplit(".", 1)[-1].lower()
    return {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "jp2": "image/jp2",
            "tif": "image/tiff", "tiff": "image/tiff", "gif": "image/gif",
            "bmp": "image/bmp", "webp": "image/webp"}.get(ext, "image/png")


def read_pdf(data: bytes, origin: str, limits: DeriveLimits) -> list[Derived]:
    """Page texts (``<origin>:p<n>``) and embedded images (``<origin>:p<n>:img<k>``)."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError, PyPdfError

    budget = _Budget(limits)
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise PdfError("the PDF is encrypted: its text and images cannot be read")
        pages = len(reader.pages)
    except PdfError:
        raise
    except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError, OSError,
            RecursionError) as exc:
        raise PdfError(f"not a readable PDF: {exc}") from exc
    if pages > limits.pdf_max_pages:
        raise PdfError(f"the PDF has {pages} pages, over the {limits.pdf_max_pages}-page limit "
                       "(pdf_max_pages)")
    out: list[Derived] = []
    for n, page in enumerate(reader.pages, start=1):
        where = f"page {n}"
        try:
            text = page.extract_text() or ""
        except (PyPdfError, ValueError, KeyError, TypeError, RecursionError) as exc:
            if "limit" in str(exc).lower():
                raise PdfError(f"{where}: {exc}") from exc
            log.warning("%s page %d: no text extracted: %s", origin, n, exc)
            text = ""
        budget.spend(len(text.encode()), where)
        if text.strip():
            out.append(Derived("text", f"{origin}:p{n}", text=text))
        out += _images(page, n, origin, budget, limits)
    return out


def _images(page: object, n: int, origin: str, budget: _Budget,
            limits: DeriveLimits) -> list[Derived]:
    from pypdf.errors import PyPdfError

    out: list[Derived] = []
    try:
        images = list(page.images)  # type: ignore[attr-defined]
    except (PyPdfError, ValueError, KeyError, TypeError, OSError, RecursionError) as exc:
        log.warning("%s page %d: images not read: %s", origin, n, exc)
        return out
    for k, image in enumerate(images[:MAX_IMAGES_PER_PAGE], start=1):
        where = f"page {n} image {k}"
        try:
            data = image.data
            pil = image.image
            if pil is not None and pil.width * pil.height > limits.max_image_pixels:
                raise PdfError(f"{where}: {pil.width}x{pil.height} is over the "
                               f"{limits.max_image_pixels}-pixel limit (max_image_pixels)")
        except PdfError:
            raise
        except Exception as exc:  # noqa: BLE001 - pypdf/Pillow decoder failures of one image
            log.warning("%s %s: not read: %s", origin, where, exc)
            continue
        budget.spend(len(data) + (pil.width * pil.height * 3 if pil is not None else 0), where)
        out.append(Derived("image", f"{origin}:p{n}:img{k}", data=data,
                           mime=_image_mime(image.name)))
    if len(images) > MAX_IMAGES_PER_PAGE:
        log.warning("%s page %d: only the first %d of %d images hashed", origin, n,
                    MAX_IMAGES_PER_PAGE, len(images))
    return out


class PdfDeriver(Deriver):
    name: ClassVar[str] = "pdf"

    def applies(self, mime: str, data: bytes) -> bool:
        return mime == "application/pdf" or data[:5] == b"%PDF-"

    def derive(self, data: bytes, origin: str, limits: DeriveLimits) -> list[Derived]:
        return read_pdf(data, origin, limits)
