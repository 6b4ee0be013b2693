"""Copies of one picture as a surge spreads them: re-encoded, resized, bannered (neutral
generated images; used by the incident tests and the surge benchmark)."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw


def reencoded(img: Image.Image, quality: int = 60) -> bytes:
    buf = io.BytesIO()
    img.convert("RGB").save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def resized(img: Image.Image, factor: float = 0.6) -> bytes:
    small = img.resize((max(8, int(img.width * factor)), max(8, int(img.height * factor))))
    buf = io.BytesIO()
    small.save(buf, format="PNG")
    return buf.getvalue()


def bannered(img: Image.Image, text: str = "placeholder caption", height: int = 0) -> bytes:
    """The picture with a caption banner laid over its bottom edge, as reposts often have."""
    h = height or max(8, img.height // 24)
    out = img.convert("RGB")
    draw = ImageDraw.Draw(out)
    draw.rectangle((0, img.height - h, img.width, img.height), fill=(255, 255, 255))
    draw.text((4, img.height - h + 1), text, fill=(0, 0, 0))
    buf = io.BytesIO()
    out.save(buf, format="PNG")
    return buf.getvalue()


def variant(img: Image.Image, k: int) -> bytes:
    """The k-th copy: re-encoded, resized or bannered in turn, with small differences."""
    kind = k % 3
    if kind == 0:
        return reencoded(img, 50 + (k // 3) % 40)
    if kind == 1:
        return resized(img, 0.5 + ((k // 3) % 40) / 100)
    return bannered(img, f"placeholder caption {k}")
