"""Generated test videos (moving shapes over gradients and noise), written with PyAV, and the
edits uploaders make to them: re-encoding smaller, trimming, banners, letterbox/pillarbox.
Nothing is downloaded; the benchmarks build their set from the same functions."""

from __future__ import annotations

import io
import random
from collections.abc import Callable, Iterator

import av
import numpy as np
from PIL import Image, ImageDraw

Edit = Callable[[Image.Image], Image.Image]


def scene(seed: int, seconds: float, size: tuple[int, int] = (160, 120),
          fps: int = 10, shapes: int = 6) -> Iterator[Image.Image]:
    """Frames of a synthetic clip: a gradient background that changes scene every few
    seconds, with coloured shapes moving across it and a little noise."""
    rng = random.Random(seed)
    w, h = size
    moving = [(rng.randrange(256), rng.randrange(256), rng.randrange(256),
               rng.uniform(-30, 30), rng.uniform(-30, 30), rng.randrange(10, w // 2),
               rng.random() < 0.5) for _ in range(shapes)]
    starts = [(rng.uniform(0, w), rng.uniform(0, h)) for _ in moving]
    yy, xx = np.mgrid[0:h, 0:w]
    noise = np.random.default_rng(seed)
    for n in range(int(seconds * fps)):
        t = n / fps
        part = int(t // 3)  # a new background every 3 s
        prng = random.Random(seed * 1000 + part)
        c1 = np.array([prng.randrange(256) for _ in range(3)], dtype=np.float32)
        c2 = np.array([prng.randrange(256) for _ in range(3)], dtype=np.float32)
        angle = prng.uniform(0, np.pi)
        ramp = (np.cos(angle) * xx / w + np.sin(angle) * yy / h + 1) / 2
        bg = c1 * (1 - ramp[..., None]) + c2 * ramp[..., None]
        bg += noise.normal(0, 4, bg.shape)
        img = Image.fromarray(np.clip(bg, 0, 255).astype(np.uint8), "RGB")
        draw = ImageDraw.Draw(img)
        for (r, g, b, vx, vy, s, ellipse), (x0, y0) in zip(moving, starts, strict=True):
            x = (x0 + vx * t) % (w + s) - s
            y = (y0 + vy * t) % (h + s) - s
            (draw.ellipse if ellipse else draw.rectangle)((x, y, x + s, y + s), fill=(r, g, b))
        yield img


def encode(frames: Iterator[Image.Image] | list[Image.Image], fps: int = 10,
           container: str = "mp4", bitrate: int | None = None,
           scale: tuple[int, int] | None = None) -> bytes:
    """The frames encoded as H.264 (mp4) or VP9 (webm); ``scale`` resizes, ``bitrate`` in
    bits per second (None: the encoder's default quality)."""
    out = io.BytesIO()
    with av.open(out, mode="w", format=container) as c:
        codec = "libx264" if container in ("mp4", "mov") else "libvpx-vp9"
        stream = c.add_stream(codec, rate=fps)
        stream.pix_fmt = "yuv420p"
        if bitrate:
            stream.bit_rate = bitrate
        if codec == "libx264":
            stream.options = {"preset": "ultrafast"}
        first = True
        for img in frames:
            if scale is not None:
                img = img.resize(scale, Image.Resampling.BILINEAR)
            if first:
                stream.width, stream.height = (img.width // 2 * 2, img.height // 2 * 2)
                first = False
            img = img.crop((0, 0, stream.width, stream.height))
            for packet in stream.encode(av.VideoFrame.from_image(img)):
                c.mux(packet)
        for packet in stream.encode():
            c.mux(packet)
    return out.getvalue()


def video(seed: int, seconds: float = 6, size: tuple[int, int] = (160, 120), fps: int = 10,
          edit: Edit | None = None, start: float = 0.0, **kw: object) -> bytes:
    """An encoded clip; ``edit`` changes every frame, ``start`` drops the first seconds."""
    frames = list(scene(seed, seconds, size, fps))[int(start * fps):]
    if edit is not None:
        frames = [edit(f) for f in frames]
    return encode(frames, fps=fps, **kw)  # type: ignore[arg-type]


def letterbox(img: Image.Image, bar: float = 0.25) -> Image.Image:
    """Shown inside a taller black frame (bars above and below)."""
    w, h = img.size
    pad = int(h * bar) // 2 * 2
    out = Image.new("RGB", (w, h + 2 * pad))
    out.paste(img, (0, pad))
    return out


def pillarbox(img: Image.Image, bar: float = 0.4) -> Image.Image:
    """Shown inside a wider black frame (bars at the sides)."""
    w, h = img.size
    pad = int(w * bar) // 2 * 2
    out = Image.new("RGB", (w + 2 * pad, h))
    out.paste(img, (pad, 0))
    return out


def banner(img: Image.Image, share: float = 0.12) -> Image.Image:
    """A coloured strip with neutral placeholder text over the bottom of the picture."""
    out = img.copy()
    w, h = out.size
    draw = ImageDraw.Draw(out)
    draw.rectangle((0, h - int(h * share), w, h), fill=(20, 60, 160))
    draw.text((4, h - int(h * share) + 2), "example channel", fill=(255, 255, 255))
    return out


def gif(seed: int, frames: int = 12, duration_ms: int = 500, fmt: str = "GIF") -> bytes:
    """An animated GIF (or WebP) of the same kind of scene."""
    images = list(scene(seed, frames, (96, 72), fps=1))
    out = io.BytesIO()
    images[0].save(out, format=fmt, save_all=True, append_images=images[1:],
                   duration=duration_ms, loop=0)
    return out.getvalue()
