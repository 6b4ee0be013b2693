"""Small, neutral sample inputs for the ingest connectors (helpers, not tests).

Every ``write_*`` function writes into the given folder and returns the path
to hand to a connector; the content is fixed, so ids are the same every time.

- ``write_jsonl_posts(dir)``: ``posts.jsonl``, 3 posts (ids ``p1``, ``2``, ``p3``);
  ``p1`` has ``media/p1.png``, ``2`` has a URL in its text and explicit outlinks.
- ``write_csv_posts(dir)``: ``posts.csv``, 3 posts (ids ``c1``..``c3``); ``c2`` has
  two images (``csv_media/c2a.png|csv_media/c2b.png``).
- ``write_media_dir(dir)``: folder ``media_dir`` with ``a.png``, ``sub/b.png``,
  ``doc.pdf`` (3 items) and a hidden ``.DS_Store`` (skipped).
- ``write_article(dir)``: ``article.html``, a municipal library reopening, with a
  share bar, a "Read also" line, scripts, navigation links and 5 paragraphs.
- ``write_telegram_export(dir)``: folder ``telegram_export`` (``result.json`` +
  ``photos/``): 4 messages and 1 service message, channel id ``1234567890``.
- ``make_png(seed, size)`` / ``make_jpeg(seed, size)``: generated shapes, distinct per seed.
"""

from __future__ import annotations

import csv
import io
import json
import random
from pathlib import Path

from PIL import Image, ImageDraw

ARTICLE_URL = "https://news.example.org/2024/05/library-reopens"
TELEGRAM_CHANNEL_ID = 1234567890
#: Words that appear only in the boilerplate of the sample article: never in extracted text.
ARTICLE_BOILERPLATE = ("SCRIPT_MARKER", "Share on Facebook", "Read also", "Email this")


def _image(seed: int, size: tuple[int, int]) -> Image.Image:
    rng = random.Random(seed)
    width, height = size

    def colour() -> tuple[int, int, int]:
        return (rng.randrange(256), rng.randrange(256), rng.randrange(256))

    img = Image.new("RGB", size, colour())
    draw = ImageDraw.Draw(img)
    for _ in range(6 + seed % 5):
        x0, y0 = rng.randrange(width), rng.randrange(height)
        x1, y1 = rng.randrange(x0, width + 1), rng.randrange(y0, height + 1)
        shape = rng.choice(("rectangle", "ellipse", "polygon", "line"))
        if shape == "rectangle":
            draw.rectangle((x0, y0, x1, y1), fill=colour())
        elif shape == "ellipse":
            draw.ellipse((x0, y0, x1, y1), fill=colour())
        elif shape == "polygon":
            points = [(rng.randrange(width), rng.randrange(height)) for _ in range(3 + seed % 3)]
            draw.polygon(points, fill=colour())
        else:
            draw.line((x0, y0, x1, y1), fill=colour(), width=1 + rng.randrange(8))
    return img


def make_png(seed: int, size: tuple[int, int] = (256, 256)) -> bytes:
    """A PNG of random shapes and colours; different seeds give different pictures."""
    out = io.BytesIO()
    _image(seed, size).save(out, format="PNG")
    return out.getvalue()


def make_jpeg(seed: int, size: tuple[int, int] = (256, 256)) -> bytes:
    """Like :func:`make_png`, as a JPEG (Telegram exports photos as JPEG)."""
    out = io.BytesIO()
    _image(seed, size).save(out, format="JPEG", quality=85)
    return out.getvalue()


def write_jsonl_posts(directory: Path) -> Path:
    media = directory / "media"
    media.mkdir(parents=True, exist_ok=True)
    (media / "p1.png").write_bytes(make_png(1))
    posts = [
        {
            "id": "p1", "url": "https://social.example.com/p/1", "account": "baker_anna",
            "time": "2024-03-01T08:15:00Z", "text": "Fresh bread recipe: flour, water, salt "
            "and patience. Bake at 230 degrees for forty minutes.", "media": ["media/p1.png"],
            "lang": "en", "platform": "examplesocial", "likes": 12,
        },
        {
            "id": 2, "account": "weather_desk", "time": 1709283600,
            "text": "Sunny in the morning, light rain after noon. Details at "
            "https://weather.example.org/today.", "outlinks": ["https://weather.example.org/week"],
            "source": "scraper-7",
        },
        {
            "id": "p3", "account": "fox_facts", "time": "2024-03-02 17:45",
            "text": "The quick brown fox jumps over the lazy dog.",
        },
    ]
    path = directory / "posts.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in posts), encoding="utf-8")
    return path


def write_csv_posts(directory: Path) -> Path:
    media = directory / "csv_media"
    media.mkdir(parents=True, exist_ok=True)
    (media / "c2a.png").write_bytes(make_png(21))
    (media / "c2b.png").write_bytes(make_png(22))
    rows = [
        ["id", "url", "account", "time", "text", "media", "outlinks", "lang"],
        ["c1", "https://forum.example.net/t/1", "gardener", "2024-04-01T10:00:00",
         "Tomatoes like sun, water and a little patience.", "", "", "en"],
        ["c2", "", "hiker", "2024-04-02 09:30", "Trail photos from the ridge, see "
         "https://maps.example.org/ridge, and the lake.", "csv_media/c2a.png|csv_media/c2b.png",
         "https://trails.example.org/ridge|https://maps.example.org/ridge", "en"],
        ["c3", "", "cook", "", "Soup of the day: \"leek and potato\",\nserved hot.", "", "",
         "en"],
    ]
    path = directory / "posts.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def write_media_dir(directory: Path) -> Path:
    root = directory / "media_dir"
    (root / "sub").mkdir(parents=True, exist_ok=True)
    (root / "a.png").write_bytes(make_png(31))
    (root / "sub" / "b.png").write_bytes(make_png(32))
    (root / "doc.pdf").write_bytes(
        b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n"
        b"% Weekly market report: apples, pears and plums.\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    )
    (root / ".DS_Store").write_bytes(b"hidden file, skipped")
    return root


_ARTICLE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Municipal library reopens after renovation | Town News</title>
<link rel="canonical" href="{url}">
<meta property="og:url" content="{url}">
<meta name="author" content="Jane Doe">
<meta property="article:published_time" content="2024-05-02T09:30:00Z">
<script>var tracker = "SCRIPT_MARKER in the head";</script>
<style>.share {{ display: flex; }}</style>
</head>
<body>
<nav><a href="/">Home</a> <a href="/sports">Sports</a> <a href="https://weather.example.org/">Weather</a></nav>
<article>
<h1>Municipal library reopens after renovation</h1>
<div class="share">
  <a href="https://www.facebook.com/sharer/sharer.php?u={url}">Share on Facebook</a>
  <a href="https://twitter.com/intent/tweet?url={url}">Tweet</a>
  <a href="https://wa.me/?text={url}">WhatsApp</a>
  <a href="mailto:?subject=Library">Email this</a>
</div>
<p>The municipal library on Elm Street reopened on Thursday after an eighteen-month renovation that added a reading garden, a children's wing and a small recording studio for local musicians.</p>
<p>Visitors queued before the doors opened at nine. The head librarian said the new layout doubles the number of study desks and brings the local history collection out of the basement and into the light.</p>
<p>Read also: <a href="/2024/04/park-benches">New benches for the riverside park</a></p>
<p>The renovation was paid for by a regional culture grant and a fundraising campaign in which more than two thousand residents took part, many of them buying a brick engraved with their name.</p>
<p>Opening hours are now longer on weekdays, and the library will stay open until eight in the evening on Thursdays. A free shuttle bus runs from the train station every half hour on Saturdays.</p>
<script>document.write("SCRIPT_MARKER in the body");</script>
<p>The first event in the new auditorium is a talk on the history of the town's bridges, followed next month by a series of cooking workshops using vegetables from community gardens. See <a href="https://events.example.org/library">the events page</a>.</p>
</article>
<footer><a href="/about">About us</a> <a href="#top">Back to top</a></footer>
</body>
</html>
"""


def write_article(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "article.html"
    path.write_text(_ARTICLE.format(url=ARTICLE_URL), encoding="utf-8")
    return path


def write_telegram_export(directory: Path) -> Path:
    root = directory / "telegram_export"
    (root / "photos").mkdir(parents=True, exist_ok=True)
    photo = "photos/photo_1@02-01-2024_09-00-00.jpg"
    (root / photo).write_bytes(make_jpeg(41))
    export = {
        "name": "Town Weather Notes",
        "type": "public_channel",
        "id": TELEGRAM_CHANNEL_ID,
        "messages": [
            {"id": 1, "type": "service", "date": "2024-01-01T09:00:00",
             "date_unixtime": "1704099600", "actor": "Town Weather Notes",
             "action": "create_channel", "title": "Town Weather Notes", "text": "",
             "text_entities": []},
            {"id": 2, "type": "message", "date": "2024-01-01T10:00:00",
             "date_unixtime": "1704103200", "from": "Town Weather Notes",
             "from_id": "channel1234567890", "text": "Frost tonight, cover the tulips.",
             "text_entities": [{"type": "plain", "text": "Frost tonight, cover the tulips."}]},
            {"id": 3, "type": "message", "date": "2024-01-01T12:00:00",
             "date_unixtime": "1704110400", "from": "Town Weather Notes",
             "from_id": "channel1234567890",
             "text": ["Radar map: ", {"type": "link", "text": "https://radar.example.org/now"},
                      " and the ", {"type": "text_link", "text": "weekly outlook",
                                    "href": "https://weather.example.org/week"}, "."],
             "text_entities": [
                 {"type": "plain", "text": "Radar map: "},
                 {"type": "link", "text": "https://radar.example.org/now"},
                 {"type": "plain", "text": " and the "},
                 {"type": "text_link", "text": "weekly outlook",
                  "href": "https://weather.example.org/week"},
                 {"type": "plain", "text": "."}]},
            {"id": 4, "type": "message", "date": "2024-01-02T09:00:00",
             "date_unixtime": "1704186000", "from": "Town Weather Notes",
             "from_id": "channel1234567890", "photo": photo, "width": 256, "height": 256,
             "text": "Morning fog over the river.", "text_entities": []},
            {"id": 5, "type": "message", "date": "2024-01-03T09:00:00",
             "date_unixtime": "1704272400", "from": "Town Weather Notes",
             "from_id": "channel1234567890",
             "file": "(File not included. Change data exporting settings to download.)",
             "file_name": "rainfall_2023.pdf", "mime_type": "application/pdf",
             "text": "Rainfall statistics for last year.", "text_entities": []},
        ],
    }
    (root / "result.json").write_text(
        json.dumps(export, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    return root
