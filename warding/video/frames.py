"""Frames of a video, one per ``every`` seconds, as RGB Pillow images.

Containers and codecs are FFmpeg's, through PyAV (the ``av`` wheel bundles FFmpeg: nothing is
downloaded at run time). Animated GIF and WebP are read with Pillow, which knows their frame
durations (FFmpeg's WebP decoder does not read animations). Hostile files are bounded: a
duration limit, a pixel limit per frame and a wall-clock limit on decoding; each breach raises
:class:`VideoError` naming the limit.
"""

from __future__ import annotations

import io
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from PIL import Image

from warding.signals.base import SignalError

#: Longest side a frame is reduced to before hashing (PDQ works on a 64x64 reduction anyway).
HASH_SIDE = 512


class VideoError(SignalError):
    """The bytes are not a video that can be decoded within the limits; the message says why."""


@dataclass(frozen=True)
class VideoLimits:
    max_seconds: float = 3 * 3600.0
    max_decode_seconds: float = 300.0
    max_pixels: int = 50_000_000


@dataclass(frozen=True)
class Frame:
    timestamp: float  # seconds from the start
    image: Image.Image  # RGB, at most HASH_SIDE on its longest side


def is_animation(data: bytes) -> bool:
    """GIF or WebP data with more than one frame."""
    head = data[:16]
    if not (head.startswith((b"GIF87a", b"GIF89a"))
            or (head.startswith(b"RIFF") and head[8:12] == b"WEBP")):
        return False
    try:
        with Image.open(io.BytesIO(data)) as img:
            return int(getattr(img, "n_frames", 1)) > 1
    except Exception:  # noqa: BLE001 - unreadable: not an animation (the image checks say why)
        return False


def sample(data: bytes, every: float = 1.0, limits: VideoLimits | None = None) -> list[Frame]:
    """One frame per ``every`` seconds from the start (the first frame at or after each tick)."""
    limits = limits or VideoLimits()
    if not data:
        raise VideoError("empty file: not a video")
    source = _animation_frames(data, limits) if is_animation(data) else _av_frames(data, limits)
    out: list[Frame] = []
    next_tick = 0.0
    deadline = time.monotonic() + limits.max_decode_seconds
    for t, image in source:
        if time.monotonic() > deadline:
            raise VideoError(f"decoding took over {limits.max_decode_seconds:g} s "
                             "(video_max_decode_seconds)")
        if t > limits.max_seconds:
            raise VideoError(f"the video is longer than {limits.max_seconds:g} s "
                             "(video_max_seconds)")
        if t + 1e-6 < next_tick:
            continue
        out.append(Frame(round(t, 3), _small(image)))
        while next_tick <= t + 1e-6:
            next_tick += every
    if not out:
        raise VideoError("no video frames could be decoded")
    return out


def _small(image: Image.Image) -> Image.Image:
    rgb = image.convert("RGB") if image.mode != "RGB" else image
    if max(rgb.size) > HASH_SIDE:
        rgb = rgb.copy()
        rgb.thumbnail((HASH_SIDE, HASH_SIDE), Image.Resampling.BILINEAR)
    return rgb


def _check_pixels(width: int, height: int, limits: VideoLimits) -> None:
    if width * height > limits.max_pixels:
        raise VideoError(f"frames of {width}x{height} are over the {limits.max_pixels}-pixel "
                         "limit (max_image_pixels)")


@contextmanager
def _opened(data: bytes, limits: VideoLimits) -> Iterator[tuple[Any, Any]]:
    """The container and its first video stream (its frame size checked)."""
    import av

    try:
        container = av.open(io.BytesIO(data), mode="r")
    except (av.FFmpegError, ValueError, OSError) as exc:
        raise VideoError(f"not a decodable video: {exc}") from exc
    with container:
        if not container.streams.video:
            raise VideoError("the file has no video stream")
        stream = container.streams.video[0]
        ctx = stream.codec_context
        _check_pixels(int(ctx.width or 0), int(ctx.height or 0), limits)
        yield container, stream


def _av_frames(data: bytes, limits: VideoLimits) -> Iterator[tuple[float, Image.Image]]:
    import av

    with _opened(data, limits) as (container, stream):
        if container.duration is not None and container.duration / 1_000_000 > limits.max_seconds:
            raise VideoError(f"the video lasts {container.duration / 1_000_000:.0f} s, over the "
                             f"{limits.max_seconds:g}-second limit (video_max_seconds)")
        stream.thread_type = "AUTO"
        start = None
        rate = float(stream.average_rate or stream.guessed_rate or 25)
        try:
            for n, frame in enumerate(container.decode(stream)):
                _check_pixels(frame.width, frame.height, limits)
                t = frame.time if frame.time is not None else n / rate
                if start is None:
                    start = t
                yield max(0.0, t - start), frame.to_image()
        except av.FFmpegError as exc:
            raise VideoError(f"the video is corrupt or truncated: {exc}") from exc


def _animation_frames(data: bytes, limits: VideoLimits) -> Iterator[tuple[float, Image.Image]]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                _check_pixels(img.width, img.height, limits)
                t = 0.0
                for index in range(int(getattr(img, "n_frames", 1))):
                    img.seek(index)
                    yield t, img.convert("RGB")
                    t += max(float(img.info.get("duration", 100) or 100), 10.0) / 1000
    except VideoError:
        raise
    except Exception as exc:
        raise VideoError(f"the animation is corrupt or truncated: {exc}") from exc


def frame_at(data: bytes, timestamp: float, limits: VideoLimits | None = None) -> Image.Image:
    """The frame shown at ``timestamp`` seconds (the first at or after it), as RGB."""
    limits = limits or VideoLimits()
    if is_animation(data):
        chosen = None
        for t, image in _animation_frames(data, limits):
            chosen = image
            if t + 1e-3 >= timestamp:
                break
        if chosen is None:
            raise VideoError("no frames in the animation")
        return chosen
    import av

    with _opened(data, limits) as (container, stream):
        start = float(stream.start_time * stream.time_base) \
            if stream.start_time is not None and stream.time_base else 0.0
        try:
            if timestamp > 0 and stream.time_base:
                container.seek(int((timestamp + start) / stream.time_base), stream=stream,
                               backward=True)
            last = None
            for frame in container.decode(stream):
                last = frame
                if frame.time is not None and frame.time - start + 1e-3 >= timestamp:
                    break
        except av.FFmpegError as exc:
            raise VideoError(f"the video is corrupt or truncated: {exc}") from exc
        if last is None:
            raise VideoError("no frame at that time")
        return last.to_image()
