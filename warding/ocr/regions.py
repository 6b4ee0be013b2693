"""A cheap test for text regions, so that an image stream without text costs little.

Printed text is rows of strokes: in a small greyscale copy of the image, text lines show as
horizontal runs of blocks dense in strong edges in both directions and of high contrast.
The test costs about a millisecond; it is tuned to keep (almost) every image with text —
a photo with busy texture passes it too and is then read by the engine, which finds nothing
— because an image with text that is skipped would escape the text signals
(docs/benchmarks.md measures both rates).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

AREA = 512 * 512
"""The image is tested at this many pixels at most (scaled down keeping its shape, so that a
long banner keeps its letters; never upscaled)."""
BLOCK = 8
EDGE = 40
"""Grey-level step that counts as a stroke edge."""
MIN_RUN = 3
"""Adjacent text-like blocks in one block row that make a line of text."""


def text_blocks(img: Image.Image) -> np.ndarray:
    """Boolean grid: which BLOCK x BLOCK blocks of the thumbnail look like text."""
    g = img.convert("L")
    scale = (AREA / (g.width * g.height)) ** 0.5 if g.width * g.height else 1.0
    if scale < 1.0:
        g = g.resize((max(1, round(g.width * scale)), max(1, round(g.height * scale))),
                     Image.Resampling.BILINEAR)
    a = np.asarray(g, dtype=np.int16)
    h, w = (a.shape[0] // BLOCK) * BLOCK, (a.shape[1] // BLOCK) * BLOCK
    if h == 0 or w == 0:
        return np.zeros((0, 0), dtype=bool)
    a = a[:h, :w]
    dx = np.zeros_like(a, dtype=bool)
    dy = np.zeros_like(a, dtype=bool)
    dx[:, 1:] = np.abs(np.diff(a, axis=1)) >= EDGE
    dy[1:, :] = np.abs(np.diff(a, axis=0)) >= EDGE

    def per_block(m: np.ndarray) -> np.ndarray:
        return m.reshape(h // BLOCK, BLOCK, w // BLOCK, BLOCK).mean(axis=(1, 3))

    blocks = a.reshape(h // BLOCK, BLOCK, w // BLOCK, BLOCK)
    contrast = blocks.max(axis=(1, 3)) - blocks.min(axis=(1, 3))
    return (per_block(dx) >= 0.06) & (per_block(dy) >= 0.03) & (contrast >= 70)


def likely_text(img: Image.Image) -> bool:
    """True when the image probably holds printed text (a line of MIN_RUN text blocks)."""
    grid = text_blocks(img)
    if grid.size == 0:
        return False
    for row in grid:
        run = 0
        for cell in row:
            run = run + 1 if cell else 0
            if run >= MIN_RUN:
                return True
    return False
