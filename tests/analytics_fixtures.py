"""Small neutral fixtures for the analytics tests, with hand-computed answers.

Ten posts in two sources ("forum": 7 posts, "board": 3), placeholder texts about
everyday things. Weeks start on Monday: 2026-01-05, 2026-01-12, 2026-01-19, 2026-02-02.

| post | source | account | time             | week       | label | text   | links (registered domain)            |
|------|--------|---------|------------------|------------|-------|--------|--------------------------------------|
| p1   | forum  | a1      | 2026-01-05 09:00 | 2026-01-05 | alpha | GARDEN | www.example.org → example.org        |
| p2   | forum  | a2      | 2026-01-07 10:00 | 2026-01-05 | alpha | GARDEN | bit.ly → short-link services         |
| p3   | forum  | a1      | 2026-01-11 23:30 | 2026-01-05 | alpha | SOUP + 2 youtube links in the text → youtube.com (once) |
| p4   | forum  | a3      | 2026-01-12 00:10 | 2026-01-12 | alpha | GARDEN | news.example.co.uk → example.co.uk   |
| p5   | forum  | a3      | 2026-01-13 08:00 | 2026-01-12 | beta  | FENCE  | archive.ph → archive.today           |
| p6   | forum  | a4      | 2026-01-20 12:00 | 2026-01-19 | beta  | FENCE  | -                                    |
| p7   | forum  | a4      | 2026-01-21 12:00 | 2026-01-19 | beta  | FENCE  | -                                    |
| p8   | board  | b1      | 2026-01-06 07:00 | 2026-01-05 | -     | FERRY  | t.co → short-link services           |
| p9   | board  | b1      | 2026-01-14 18:00 | 2026-01-12 | -     | GARDEN | -                                    |
| p10  | board  | b2      | 2026-02-02 15:00 | 2026-02-02 | -     | CHESS  | example.org/b + sub.example.org → example.org (once) |

Spread: GARDEN = {p1, p2, p4, p9} (4 items, 4 accounts, 2 sources, 2026-01-05 → 2026-01-14);
FENCE = {p5, p6, p7} (3 items, 2 accounts, 1 source).
"""

from __future__ import annotations

import json
from pathlib import Path

GARDEN = "The garden club meets on Tuesday evening near the old library building"
SOUP = "Bring warm soup and fresh bread for the winter picnic by the lake"
FENCE = "Paint the wooden fence light blue before the spring fair opens"
FERRY = "Ferry timetable changes for the long holiday weekend are posted"
CHESS = "Results of the village chess tournament are pinned on the board"

FORUM = [
    {"id": "p1", "account": "a1", "time": "2026-01-05T09:00:00Z", "text": GARDEN,
     "outlinks": ["https://www.example.org/a"], "label": "alpha"},
    {"id": "p2", "account": "a2", "time": "2026-01-07T10:00:00Z", "text": GARDEN,
     "outlinks": ["https://bit.ly/xyz"], "label": "alpha"},
    {"id": "p3", "account": "a1", "time": "2026-01-11T23:30:00Z",
     "text": SOUP + " https://youtu.be/abc and https://www.youtube.com/watch?v=1",
     "label": "alpha"},
    {"id": "p4", "account": "a3", "time": "2026-01-12T00:10:00Z", "text": GARDEN,
     "outlinks": ["http://news.example.co.uk/story"], "label": "alpha"},
    {"id": "p5", "account": "a3", "time": "2026-01-13T08:00:00Z", "text": FENCE,
     "outlinks": ["https://archive.ph/xyz"], "label": "beta"},
    {"id": "p6", "account": "a4", "time": "2026-01-20T12:00:00Z", "text": FENCE, "label": "beta"},
    {"id": "p7", "account": "a4", "time": "2026-01-21T12:00:00Z", "text": FENCE, "label": "beta"},
]
BOARD = [
    {"id": "p8", "account": "b1", "time": "2026-01-06T07:00:00Z", "text": FERRY,
     "outlinks": ["https://t.co/zz"]},
    {"id": "p9", "account": "b1", "time": "2026-01-14T18:00:00Z", "text": GARDEN},
    {"id": "p10", "account": "b2", "time": "2026-02-02T15:00:00Z", "text": CHESS,
     "outlinks": ["https://example.org/b", "https://sub.example.org/c"]},
]


def write_posts(folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, posts in (("forum", FORUM), ("board", BOARD)):
        path = folder / f"{name}.jsonl"
        path.write_text("".join(json.dumps(p) + "\n" for p in posts), encoding="utf-8")
        paths.append(path)
    return paths[0], paths[1]
