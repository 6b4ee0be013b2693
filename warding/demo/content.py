"""Neutral placeholder content for the demo: generated shapes and ordinary text.

No real extremist material is ever written here. The "known" bank items are
placeholders that stand in for hash-list entries.
"""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

KNOWN_TEXTS = (
    ("Placeholder known item one: the quarterly garden club newsletter announces the "
     "spring seed swap on Saturday morning at the community hall near the river."),
    ("Placeholder known item two: a recipe for lentil soup with carrots, cumin and lemon, "
     "simmered for forty minutes and served with warm flat bread."),
)

# Hand-made translations of the known placeholder texts: they share no word with the
# originals, so only cross-lingual semantic matching (text_semantic) can find them.
TRANSLATED_POSTS = (
    ("demo-fr", ("Élément connu numéro un : la lettre trimestrielle du club de jardinage annonce "
                 "l'échange de graines de printemps samedi matin à la salle communale près de la "
                 "rivière.")),
    ("demo-es", ("Elemento conocido número dos: una receta de sopa de lentejas con zanahorias, "
                 "comino y limón, cocida a fuego lento durante cuarenta minutos y servida con pan "
                 "plano caliente.")),
)

ORDINARY_POSTS = (
    "The bus to the coast leaves at nine tomorrow, bring a jacket because the wind is cold.",
    "Our choir rehearsal moves to Thursday evening this week; new singers are welcome.",
    "Does anyone know a good repair shop for an old bicycle with a bent front wheel?",
    "The museum opens a new exhibition on medieval maps next month, entry is free on Sundays.",
    "Heavy rain expected over the weekend, the football match may be postponed.",
    "I finally finished the thousand-piece puzzle of the lighthouse, it took three weeks.",
)


def make_image(seed: int, size: tuple[int, int] = (320, 320)) -> Image.Image:
    """A deterministic picture of coloured shapes (different seeds, different pictures)."""
    rng = random.Random(seed)
    img = Image.new("RGB", size, tuple(rng.randrange(256) for _ in range(3)))  # type: ignore[arg-type]
    draw = ImageDraw.Draw(img)
    w, h = size
    for _ in range(12):
        x0, y0 = rng.randrange(w), rng.randrange(h)
        x1, y1 = min(w, x0 + rng.randrange(30, w // 2)), min(h, y0 + rng.randrange(30, h // 2))
        colour = tuple(rng.randrange(256) for _ in range(3))
        if rng.random() < 0.5:
            draw.rectangle((x0, y0, x1, y1), fill=colour)  # type: ignore[arg-type]
        else:
            draw.ellipse((x0, y0, x1, y1), fill=colour)  # type: ignore[arg-type]
    return img


def png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def altered_copy(img: Image.Image) -> bytes:
    """A re-upload as platforms see it: resized, slightly blurred, JPEG-recompressed."""
    small = img.resize((img.width * 3 // 4, img.height * 3 // 4)).filter(ImageFilter.GaussianBlur(1))
    buf = io.BytesIO()
    small.save(buf, format="JPEG", quality=70)
    return buf.getvalue()


ARTICLE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>City library reopens after two years of renovation</title>
<meta property="og:url" content="https://news.example.org/local/library-reopens">
<meta name="date" content="2026-11-20">
<script>window.tracker = "this script text must never reach the item text";</script>
</head><body>
<nav><a href="/">Home</a> <a href="/local">Local</a> <a href="/sport">Sport</a></nav>
<div class="share"><a href="https://www.facebook.com/sharer/sharer.php?u=x">Share on Facebook</a>
<a href="https://twitter.com/intent/tweet?url=x">Tweet</a> <a href="mailto:?subject=x">Email this</a></div>
<article>
<h1>City library reopens after two years of renovation</h1>
<p>The central city library reopened its doors on Friday after a renovation that took two years
and replaced the roof, the heating and most of the reading rooms.</p>
<p>Visitors queued from early morning to see the new children's floor, which has a small stage
for storytelling and a workshop where families can repair books together.</p>
<p>The head librarian said the building now uses half the energy it used before, thanks to new
windows and solar panels on the south side of the roof.</p>
<p>The library also extended its opening hours: it now stays open until nine in the evening on
weekdays, and a new reading garden is open from spring to autumn.</p>
<p>More information about events and courses is available on the
<a href="https://library.example.org/events">library's event page</a>.</p>
</article>
<div class="related"><p>Read also: Ten quiet places to read in the city</p></div>
<footer>Share this article</footer>
</body></html>
"""


def write_stream(folder: Path, known: Image.Image) -> list[Path]:
    """Write the demo input stream: posts with images and a saved web article."""
    folder.mkdir(parents=True, exist_ok=True)
    media = folder / "media"
    media.mkdir(exist_ok=True)
    (media / "exact-copy.png").write_bytes(png_bytes(known))
    (media / "altered-copy.jpg").write_bytes(altered_copy(known))
    (media / "holiday.png").write_bytes(png_bytes(make_image(99)))
    posts: list[dict[str, str | list[str]]] = [
        {"id": f"demo-{i}", "account": f"user{i % 3}", "time": f"2026-11-{10 + i:02d}T12:00:00Z",
         "text": text, "url": f"https://forum.example.org/t/{i}"}
        for i, text in enumerate(ORDINARY_POSTS)
    ]
    posts.append({"id": "demo-copy", "account": "user4", "time": "2026-11-20T08:00:00Z",
                  "text": "look at this picture", "media": ["media/exact-copy.png"]})
    posts.append({"id": "demo-altered", "account": "user5", "time": "2026-11-21T08:00:00Z",
                  "text": "same picture, smaller", "media": ["media/altered-copy.jpg"]})
    posts.append({"id": "demo-new-image", "account": "user1", "time": "2026-11-21T09:00:00Z",
                  "text": "holiday photo", "media": ["media/holiday.png"]})
    posts.append({"id": "demo-text-copy", "account": "user2", "time": "2026-11-22T10:00:00Z",
                  "text": KNOWN_TEXTS[0].replace("Saturday", "Sunday"),
                  "outlinks": ["https://files.example.net/share/abc?utm_source=x"]})
    posts_file = folder / "posts.jsonl"
    posts_file.write_text("".join(json.dumps(p) + "\n" for p in posts), encoding="utf-8")
    article = folder / "article.html"
    article.write_text(ARTICLE, encoding="utf-8")
    return [posts_file, article]
