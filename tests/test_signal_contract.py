"""Contract every signal type must honour, built-in or plug-in, plus PDQ checks."""

from __future__ import annotations

import io
import random
import re

import pytest
from PIL import Image, ImageDraw

from warding.plugins import signal_type_classes
from warding.signals.base import SignalError, SignalType
from warding.signals.pdq import PDQSignal
from warding.signals.text import TextNearSignal, TextSignal

BUILTIN_NAMES = {"md5", "sha256", "pdq", "vpdq", "text", "text_near", "url"}

TEXT_A = (
    "The quick brown fox jumps over the lazy dog while the farmer walks to the market "
    "with fresh bread, cheese and apples on a sunny morning in early spring near the river."
)
TEXT_B = (
    "Rain fell steadily on the old harbour as fishing boats returned with their nets, "
    "and the lighthouse keeper climbed the stairs to light the lamp before dusk."
)


def shapes_png(seed: int, size: int = 256) -> bytes:
    """A PNG of random coloured rectangles and ellipses (deterministic per seed)."""
    rng = random.Random(seed)
    img = Image.new("RGB", (size, size), tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(img)
    for i in range(12):
        x0, y0 = rng.randrange(size - 40), rng.randrange(size - 40)
        box = (x0, y0, x0 + rng.randrange(30, size // 2), y0 + rng.randrange(30, size // 2))
        colour = tuple(rng.randrange(256) for _ in range(3))
        (draw.rectangle if i % 2 else draw.ellipse)(box, fill=colour)
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def samples(st: SignalType) -> tuple[bytes | str, bytes | str]:
    """Two different inputs suited to ``st.content``."""
    if st.content == "image":
        return shapes_png(1), shapes_png(2)
    if st.content == "video":
        from tests import videogen

        return videogen.video(1, seconds=3), videogen.video(2, seconds=3)
    if st.content == "file":
        return b"The quick brown fox\x00\x01\x02" * 10, b"another file\xff" * 7
    if st.content == "text":
        return TEXT_A, TEXT_B
    if st.content == "url":
        return "https://Example.com/Some/Path/?b=2&a=1#top", "https://example.org/other"
    raise AssertionError(f"unknown content kind {st.content!r}")


def copy_of(x: bytes | str) -> bytes | str:
    return bytes(bytearray(x)) if isinstance(x, bytes) else "".join(list(x))


CLASSES = signal_type_classes()


def test_builtins_registered() -> None:
    assert BUILTIN_NAMES <= set(CLASSES)


@pytest.fixture(params=sorted(CLASSES), name="st")
def signal_type(request: pytest.FixtureRequest) -> SignalType:
    return CLASSES[request.param]()  # instantiable with no arguments


def test_class_attributes(st: SignalType) -> None:
    assert re.fullmatch(r"[a-z][a-z0-9_]*", st.name)
    assert CLASSES[st.name] is type(st)
    assert st.content in ("file", "image", "video", "text", "url")
    assert st.match in ("exact", "hamming")
    assert isinstance(st.default_threshold, int) and st.default_threshold >= 0
    if st.match == "hamming":
        assert isinstance(st.bits, int) and st.bits > 0 and st.bits % 4 == 0
        assert st.default_threshold < st.bits
    else:
        assert st.default_threshold == 0


def test_compute_is_deterministic_and_valid(st: SignalType) -> None:
    a, _ = samples(st)
    value = st.compute(a)
    assert value is None or isinstance(value, str)
    if st.name in BUILTIN_NAMES:
        assert value is not None
    if value is None:
        return
    assert type(st)().compute(copy_of(a)) == value
    assert st.validate(value) == value
    parts = st.split(value)
    assert parts and all(st.validate(p) == p for p in parts)
    assert st.join(parts) == value  # the exchange form survives storage
    if not st.multi:
        assert parts == [value]
    if st.match == "hamming":
        assert st.bits is not None
        for part in parts:
            assert re.fullmatch(rf"[0-9a-f]{{{st.bits // 4}}}", st.index_key(part))
        assert st.distance(value, value) == 0


def test_different_inputs(st: SignalType) -> None:
    a, b = samples(st)
    va, vb = st.compute(a), st.compute(b)
    if va is None or vb is None:
        return
    if st.match == "exact":
        assert va != vb
        assert st.distance(va, vb) == 1
    else:
        assert st.distance(va, vb) > st.default_threshold


def test_validate_rejects_garbage(st: SignalType) -> None:
    with pytest.raises(ValueError):
        st.validate("")


# --- PDQ -------------------------------------------------------------------


def _recompressed(png: bytes, size: int = 200, quality: int = 70) -> bytes:
    with Image.open(io.BytesIO(png)) as img:
        small = img.resize((size, size), Image.Resampling.BILINEAR)
    out = io.BytesIO()
    small.save(out, format="JPEG", quality=quality)
    return out.getvalue()


def test_pdq_survives_resize_and_jpeg() -> None:
    pdq = PDQSignal()
    for seed in range(1, 6):
        original = pdq.compute(shapes_png(seed))
        copy = pdq.compute(_recompressed(shapes_png(seed)))
        assert original is not None and copy is not None
        assert pdq.distance(original, copy) <= pdq.default_threshold


def test_pdq_different_images_far_apart() -> None:
    pdq = PDQSignal()
    values = [pdq.compute(shapes_png(seed)) for seed in range(1, 6)]
    for i, a in enumerate(values):
        for b in values[i + 1 :]:
            assert a is not None and b is not None
            assert pdq.distance(a, b) > pdq.default_threshold


def test_pdq_other_modes() -> None:
    """Palette, RGBA and greyscale images hash like their RGB version."""
    pdq = PDQSignal()
    png = shapes_png(3)
    reference = pdq.compute(png)
    assert reference is not None
    with Image.open(io.BytesIO(png)) as img:
        rgb = img.convert("RGB")
    for mode in ("RGBA", "P", "L"):
        out = io.BytesIO()
        rgb.convert(mode).save(out, format="PNG")
        value = pdq.compute(out.getvalue())
        assert value is not None
        assert pdq.distance(reference, value) <= pdq.default_threshold


def test_pdq_flat_image_is_none() -> None:
    out = io.BytesIO()
    Image.new("RGB", (128, 128), (120, 130, 140)).save(out, format="PNG")
    assert PDQSignal().compute(out.getvalue()) is None


@pytest.mark.parametrize(
    "data",
    [shapes_png(4)[: len(shapes_png(4)) // 2], b"not an image at all", b""],
    ids=["truncated", "garbage", "empty"],
)
def test_pdq_corrupt_raises(data: bytes) -> None:
    with pytest.raises(SignalError):
        PDQSignal().compute(data)


def test_pdq_validate() -> None:
    pdq = PDQSignal()
    assert pdq.validate(" " + "AB" * 32 + "\n") == "ab" * 32
    with pytest.raises(ValueError, match="64 hex"):
        pdq.validate("ab" * 31)
    with pytest.raises(ValueError, match="hexadecimal"):
        pdq.validate("zz" * 32)


# --- text / text_near ------------------------------------------------------

NEUTRAL_TEXTS = [
    TEXT_A,
    TEXT_B,
    "Our library opens at nine on weekdays and offers free reading rooms, a small cafe, "
    "children's story hours on Saturday mornings and a quiet study area on the top floor.",
    "To bake simple bread, mix flour, water, salt and yeast, knead the dough for ten minutes, "
    "let it rise for an hour, shape the loaf and bake it in a hot oven.",
    "The city council voted to repair the footbridge over the canal next year, after residents "
    "asked for better lighting, wider paths and new benches along the water.",
    "Migrating geese fly south in long lines each autumn, resting on lakes and fields along the "
    "way, and return north in spring when the ice begins to melt.",
]
REPLACEMENTS = ["pebble", "violin", "orange", "window", "garden", "silver", "ladder", "cotton"]


def _edit(text: str, count: int, rng: random.Random) -> str:
    words = text.split()
    for i in rng.sample(range(len(words)), count):
        words[i] = rng.choice(REPLACEMENTS)
    return " ".join(words)


def test_text_exact_ignores_obfuscation() -> None:
    text = TextSignal()
    base = text.compute(TEXT_A)
    assert text.compute("  " + TEXT_A.upper().replace("fox", "f\u043ex") + " #tag") == base
    assert text.compute(TEXT_A.replace("quick", "qu\u200bick")) == base
    assert text.compute(TEXT_B) != base
    assert text.compute("") is None
    assert text.compute("https://example.com @someone #tag !!!") is None


def test_text_near_small_edits_are_close() -> None:
    near = TextNearSignal()
    rng = random.Random(7)
    within = {1: 0, 2: 0}
    trials = 0
    for text in NEUTRAL_TEXTS:
        base = near.compute(text)
        assert base is not None
        for _ in range(10):
            trials += 1
            for count in (1, 2):
                edited = near.compute(_edit(text, count, rng))
                assert edited is not None
                within[count] += near.distance(base, edited) <= near.default_threshold
    # One-bit minhash is probabilistic: nearly all one-word and most
    # two-word edits of a ~30 word text fall within the default threshold.
    assert within[1] >= 0.95 * trials
    assert within[2] >= 0.8 * trials


def test_text_near_fixed_examples() -> None:
    near = TextNearSignal()
    base = near.compute(TEXT_A)
    one = near.compute(TEXT_A.replace("brown", "grey"))
    two = near.compute(TEXT_A.replace("brown", "grey").replace("cheese", "honey"))
    assert base is not None and one is not None and two is not None
    assert near.distance(base, one) <= 6
    assert near.distance(base, two) <= 6


def test_text_near_unrelated_are_far() -> None:
    near = TextNearSignal()
    values = [near.compute(t) for t in NEUTRAL_TEXTS]
    distances = []
    for i, a in enumerate(values):
        for b in values[i + 1 :]:
            assert a is not None and b is not None
            distances.append(near.distance(a, b))
    # Unrelated texts average ~29 bits apart (function words they share pull
    # them below 32); the spread of a 64-bit hash puts ~1% of pairs under 20,
    # but never near the threshold of 6.
    assert min(distances) > 3 * near.default_threshold - 2
    assert sum(d > 20 for d in distances) >= 0.9 * len(distances)


def test_text_near_short_text_is_none() -> None:
    near = TextNearSignal()
    assert near.compute("hello world") is None
    assert near.compute("hello world https://example.com #a #b") is None
    assert near.compute("one two three") is not None
    with pytest.raises(ValueError):
        near.validate("abc")
