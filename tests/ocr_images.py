"""Images of neutral text for the OCR tests and benchmark: text rendered with Pillow (with
right-to-left shaping through libraqm) over a plain background or a photo, at a size, with
JPEG compression and a little noise."""

from __future__ import annotations

import io
import os
import random
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
NASKH = Path("/usr/share/fonts/truetype/scheherazade/Scheherazade-Regular.ttf")
"""A Naskh font with the letters of Urdu (DejaVu Sans lacks some), for the benchmark."""
TESSDATA = Path("/usr/share/tesseract-ocr/5/tessdata")


def need_tesseract() -> None:
    """Skip (fail in CI) when Tesseract's language data or the font is missing."""
    missing = [str(p) for p in (FONT, TESSDATA / "Latin.traineddata",
                                TESSDATA / "Arabic.traineddata") if not p.is_file()]
    if not missing:
        return
    message = f"Tesseract data or font missing ({', '.join(missing)}): run make setup as root"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def is_rtl(text: str) -> bool:
    return any("\u0590" <= ch <= "\u08ff" for ch in text)


def render(text: str, size: int = 28, background: Image.Image | None = None,
           colour: str = "black", width: int | None = None,
           font_path: Path = FONT) -> Image.Image:
    """The text in one line (or wrapped to ``width`` pixels) on white or on ``background``."""
    font = ImageFont.truetype(str(font_path), size)
    kw = {"direction": "rtl"} if is_rtl(text) else {}
    probe = ImageDraw.Draw(Image.new("RGB", (8, 8)))
    lines = _wrap(text, font, probe, width, kw) if width else [text]
    boxes = [probe.textbbox((0, 0), line, font=font, **kw) for line in lines]
    line_h = max(b[3] - b[1] for b in boxes) + size // 3
    w = max(b[2] - b[0] for b in boxes) + 2 * size
    h = line_h * len(lines) + 2 * size
    if background is None:
        img = Image.new("RGB", (w, h), "white")
    else:
        img = background.convert("RGB").resize((w, h))
    draw = ImageDraw.Draw(img)
    for k, (line, box) in enumerate(zip(lines, boxes, strict=True)):
        draw.text((size - box[0], size + k * line_h - box[1]), line, font=font, fill=colour, **kw)
    return img


def _wrap(text: str, font: ImageFont.FreeTypeFont, probe: ImageDraw.ImageDraw, width: int,
          kw: dict[str, str]) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and probe.textlength(f"{lines[-1]} {word}", font=font, **kw) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


def degrade(img: Image.Image, quality: int = 70, noise: float = 6.0, seed: int = 0) -> bytes:
    """JPEG bytes of the image with Gaussian noise of ``noise`` grey levels."""
    import numpy as np

    rng = np.random.default_rng(seed)
    a = np.asarray(img.convert("RGB"), dtype=np.float32)
    a = np.clip(a + rng.normal(0.0, noise, a.shape), 0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(a).save(out, format="JPEG", quality=quality)
    return out.getvalue()


def png(img: Image.Image) -> bytes:
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def photo(seed: int = 0, size: tuple[int, int] = (640, 400)) -> Image.Image:
    """A photo-like background without text: matplotlib's sample photo, cropped at random
    (soft gradients and a face), or a generated landscape of gradients and blobs."""
    rng = random.Random(seed)
    sample = _sample_photo()
    if sample is not None and seed % 2 == 0:
        x = rng.randint(0, max(0, sample.width - size[0] // 2))
        y = rng.randint(0, max(0, sample.height - size[1] // 2))
        return sample.crop((x, y, x + size[0] // 2, y + size[1] // 2)).resize(size)
    img = Image.new("RGB", size)
    draw = ImageDraw.Draw(img)
    top = tuple(rng.randint(60, 200) for _ in range(3))
    bottom = tuple(rng.randint(20, 160) for _ in range(3))
    for y in range(size[1]):
        t = y / size[1]
        draw.line([(0, y), (size[0], y)],
                  fill=tuple(int(a * (1 - t) + b * t) for a, b in zip(top, bottom, strict=True)))
    for _ in range(12):
        x, y, r = rng.randint(0, size[0]), rng.randint(0, size[1]), rng.randint(20, 90)
        draw.ellipse((x - r, y - r, x + r, y + r),
                     fill=tuple(rng.randint(30, 230) for _ in range(3)))
    return img


def _sample_photo() -> Image.Image | None:
    try:
        import matplotlib

        path = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
        if not path.is_file():
            return None
        with Image.open(path) as img:
            return img.convert("RGB")
    except (ImportError, OSError):
        return None


def lighten(img: Image.Image, amount: float = 0.55) -> Image.Image:
    """A photo washed towards white, as a poster's background under dark text."""
    return Image.blend(img.convert("RGB"), Image.new("RGB", img.size, "white"), amount)


def cer(got: str, want: str) -> float:
    """Character error rate: edit distance / length of ``want``, whitespace normalised."""
    import unicodedata

    a = " ".join(unicodedata.normalize("NFC", got).split())
    b = " ".join(unicodedata.normalize("NFC", want).split())
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1] / max(1, len(b))
