"""Trim black borders (letterbox bars above and below, pillarbox bars at the sides) that
uploaders add when they show a video inside a larger frame.

The box kept is the union, over the sampled frames, of each frame's rows and columns that are
not all dark, so a dark scene does not lose its edges as long as some frame lights them. The
same trim is applied to every frame, of bank videos and queries alike, so a copy shown inside a
bigger black frame hashes like the original.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

#: Luma at or below which a pixel counts as black (compression leaves bars a little above 0).
DARK = 40
#: Borders thinner than this share of the side are left alone (encoder padding, rounding).
MIN_TRIM = 0.02
#: A content box smaller than this share of the frame's width or height is not trusted.
MIN_KEEP = 0.2


def content_box(images: Sequence[Image.Image]) -> tuple[int, int, int, int] | None:
    """(left, top, right, bottom) of the non-black content, or None to keep whole frames."""
    if not images:
        return None
    width, height = images[0].size
    rows = np.zeros(height, dtype=bool)
    cols = np.zeros(width, dtype=bool)
    for image in images:
        if image.size != (width, height):
            return None  # the size changes mid-stream: do not guess
        luma = np.asarray(image.convert("L"), dtype=np.uint8)
        bright = luma > DARK
        rows |= bright.any(axis=1)
        cols |= bright.any(axis=0)
    if not rows.any() or not cols.any():
        return None  # all dark: nothing to trim against
    top, bottom = int(np.argmax(rows)), height - int(np.argmax(rows[::-1]))
    left, right = int(np.argmax(cols)), width - int(np.argmax(cols[::-1]))
    if (right - left) < MIN_KEEP * width or (bottom - top) < MIN_KEEP * height:
        return None
    trims_x = left + (width - right) >= MIN_TRIM * width
    trims_y = top + (height - bottom) >= MIN_TRIM * height
    if not trims_x:
        left, right = 0, width
    if not trims_y:
        top, bottom = 0, height
    if (left, top, right, bottom) == (0, 0, width, height):
        return None
    return left, top, right, bottom


def trim(images: Sequence[Image.Image]) -> tuple[list[Image.Image], tuple[int, int, int, int] | None]:
    """The images with their common black borders cut off, and the box kept (None: untouched)."""
    box = content_box(images)
    if box is None:
        return list(images), None
    return [image.crop(box) for image in images], box
