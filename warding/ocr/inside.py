"""Text in the images inside an attached file: the scanned pages of a PDF (a page whose
image holds text the PDF does not carry as text) and a few frames of a video.

Each image read gives an :class:`~warding.ocr.items.ImageRead` whose ``part`` (1, 2...)
and ``name`` (``report.pdf:p3:img1``, ``clip.mp4@12s``) say where in the file it was.
"""

from __future__ import annotations

import logging
from typing import Any

from PIL import Image

from warding.ocr.model import ImageText, OcrError, OcrUnavailable
from warding.signals.compute import MediaSignals

log = logging.getLogger(__name__)


def pdf_images(found: MediaSignals, prefix: str) -> list[tuple[str, Image.Image]]:
    """(where, image) of the images on a PDF's pages that carry no text of their own, from
    what :func:`warding.signals.compute.for_media` derived from it (the PDF is not read
    again); ``where`` is the piece's origin without ``prefix``."""
    import io

    texted = {origin for origin, text in found.texts if text.strip()}
    out: list[tuple[str, Image.Image]] = []
    for origin, data in found.images:
        if origin.rsplit(":", 1)[0] in texted:
            continue
        try:
            with Image.open(io.BytesIO(data)) as img:
                img.load()
                out.append((origin.removeprefix(prefix), img.copy()))
        except Exception as exc:  # noqa: BLE001 - a broken embedded image: nothing to read
            log.info("%s: image not read for OCR: %s", origin, exc)
    return out


def video_frames(app: Any, data: bytes, name: str) -> list[tuple[str, Image.Image]]:
    """(where, frame) of up to ``WARDING_OCR_VIDEO_FRAMES`` frames spread over the video, at
    full size (text in a video is often small)."""
    from warding.video.frames import VideoError, frame_at, sample

    wanted = int(app.settings.ocr_video_frames)
    if wanted <= 0:
        return []
    try:
        stamps = [f.timestamp for f in sample(data, 1.0, _video_limits(app))]
        if len(stamps) > wanted:
            step = len(stamps) / wanted
            stamps = [stamps[int(k * step + step / 2)] for k in range(wanted)]
        return [(f"{name}@{t:g}s", frame_at(data, t, _video_limits(app))) for t in stamps]
    except VideoError:
        return []  # the video's own hashing said why


def _video_limits(app: Any) -> Any:
    """The video limits the ``vpdq`` signal type was configured with (the settings')."""
    return getattr(app.signal_types.get("vpdq"), "limits", None)


def read_all(app: Any, images: list[tuple[str, Image.Image]]
             ) -> list[tuple[str, ImageText | None, str | None]]:
    """(where, text or None, error or None) of each image; the same text twice (a title held
    over several frames) is kept once."""
    reader = app.ocr
    out: list[tuple[str, ImageText | None, str | None]] = []
    seen: set[str] = set()
    for where, img in images:
        try:
            text = reader.read_image(img)
        except OcrError as exc:
            out.append((where, None, str(exc)))
            continue
        except OcrUnavailable:
            return []
        if text is not None and text.text not in seen:
            seen.add(text.text)
            out.append((where, text, None))
    return out
