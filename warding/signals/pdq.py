"""PDQ: Meta's perceptual image hash (256 bits), the industry standard for
sharing hashes of known images (GIFCT hash-sharing database, ThreatExchange).

Two images whose PDQ hashes are within Hamming distance 31 are treated as the
same picture (the threshold recommended by the PDQ authors): it survives
resizing, re-compression and small edits, but not crops or mirror images.
"""

from __future__ import annotations

import io
from typing import ClassVar

from warding.signals.base import ContentKind, MatchKind, SignalError, SignalType
from warding.signals.hashes import _validate_hex

MIN_QUALITY = 50
"""PDQ quality below which a hash is not computed (the PDQ authors' cut-off)."""


class PDQSignal(SignalType):
    """PDQ hash of an image: 64 lower-case hex characters.

    ``compute`` returns None when the PDQ quality score is below 50: such
    images are nearly flat (a single colour, a faint gradient) so their hash
    is dominated by noise and would match many unrelated flat images.
    Corrupt, truncated or non-image bytes raise SignalError.

    The image is first fully decoded with Pillow (so broken files fail with a
    clear reason) and re-encoded as RGB when it is in another mode (palette,
    RGBA, CMYK, 16-bit...) that threatexchange's hasher would mishandle; only
    the first frame of an animation is hashed. EXIF orientation is not
    applied, as in the reference PDQ implementation.
    """

    name: ClassVar[str] = "pdq"
    content: ClassVar[ContentKind] = "image"
    match: ClassVar[MatchKind] = "hamming"
    bits: ClassVar[int | None] = 256
    default_threshold: ClassVar[int] = 31
    description: ClassVar[str] = "PDQ perceptual image hash (Hamming distance, 256 bits)"

    def compute(self, content: bytes | str) -> str | None:
        if isinstance(content, str):
            raise SignalError("pdq hashes image bytes, not text")
        data = _as_rgb_or_l(bytes(content))
        from threatexchange.signal_type.pdq.pdq_hasher import pdq_from_bytes

        try:
            hash_hex, quality = pdq_from_bytes(data)
        except Exception as exc:  # any decoder failure is a broken image
            raise SignalError(f"cannot compute PDQ hash: {exc}") from exc
        if quality < MIN_QUALITY:
            return None
        return self.validate(hash_hex)

    def validate(self, value: str) -> str:
        return _validate_hex(value, 64, self.name)


def _as_rgb_or_l(data: bytes) -> bytes:
    """Decode ``data`` fully (raising SignalError if broken); return bytes the
    PDQ hasher can read: the input itself if it is RGB or greyscale, otherwise
    an RGB re-encoding (lossless PNG)."""
    import warnings

    from PIL import Image

    if not data:
        raise SignalError("empty file: not an image")
    try:
        with warnings.catch_warnings():
            # A huge image is refused (below) rather than warned about.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                img.load()
                if img.mode in ("RGB", "L") and getattr(img, "n_frames", 1) == 1:
                    return data
                converted = img.convert("RGB")
    except Image.DecompressionBombWarning as exc:
        raise SignalError(f"image too large to hash: {exc}") from exc
    except Image.UnidentifiedImageError as exc:
        raise SignalError("not a recognised image format") from exc
    except Exception as exc:  # truncated/corrupt data: OSError, SyntaxError...
        raise SignalError(f"corrupt or truncated image: {exc}") from exc
    out = io.BytesIO()
    converted.save(out, format="PNG", compress_level=1)
    return out.getvalue()
