"""The contract every ingest connector keeps, run over all registered connectors.

A connector with no sample input here (a third-party plug-in) is skipped; add
its writer to ``SAMPLES`` and a garbage file name to ``GARBAGE_NAMES``.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from tests import ingest_samples as samples
from warding.ingest.base import Connector, Limits, RawItem, Rejection
from warding.plugins import connector_classes, connectors

SOURCE = "contract-test"

#: Connector name -> writer of a good sample input.
SAMPLES: dict[str, Callable[[Path], Path]] = {
    "telegram": samples.write_telegram_export,
    "jsonl": samples.write_jsonl_posts,
    "csv": samples.write_csv_posts,
    "web": samples.write_article,
    "files": samples.write_media_dir,
}
#: Connector name -> a file name the connector would take for its own.
GARBAGE_NAMES = {
    "telegram": "result.json",
    "jsonl": "garbage.jsonl",
    "csv": "garbage.csv",
    "web": "garbage.html",
    "files": "garbage.png",
}

CLASSES = connector_classes()


def _ids(cls: type[Connector]) -> str:
    return getattr(cls, "name", cls.__name__)


def _sample(cls: type[Connector], tmp_path: Path) -> Path:
    writer = SAMPLES.get(cls.name)
    if writer is None:
        pytest.skip(f"no sample input for connector {cls.name!r}")
    return writer(tmp_path)


def test_builtin_connectors_are_registered() -> None:
    names = [cls.name for cls in CLASSES]
    assert names[:5] == ["telegram", "jsonl", "csv", "web", "files"]
    assert len(set(names)) == len(names), "connector names must be unique"


@pytest.mark.parametrize("cls", CLASSES, ids=_ids)
def test_name_and_description(cls: type[Connector]) -> None:
    assert isinstance(cls.name, str) and re.fullmatch(r"[a-z][a-z0-9_]*", cls.name)
    assert isinstance(cls.description, str) and cls.description.strip()
    assert cls().name == cls.name  # a class attribute, not computed per instance


@pytest.mark.parametrize("cls", CLASSES, ids=_ids)
def test_reads_its_sample(cls: type[Connector], tmp_path: Path) -> None:
    path = _sample(cls, tmp_path)
    connector = cls()
    assert connector.can_read(path)

    results = list(connector.read(path, SOURCE, Limits()))
    assert results, "the sample gives at least one item"
    rejections = [r for r in results if isinstance(r, Rejection)]
    assert not rejections, rejections
    for item in results:
        assert isinstance(item, RawItem)
        assert item.source == SOURCE
        assert isinstance(item.external_id, str) and item.external_id.strip()
        assert len(item.external_id) <= 512
        assert isinstance(item.input_ref, str) and item.input_ref.strip()
        assert item.kind in {"post", "file", "image", "article", "message"}
        assert all(isinstance(url, str) for url in item.outlinks)
        assert len(set(item.outlinks)) == len(item.outlinks)
        assert all(blob.data and blob.mime and blob.name for blob in item.media)
        assert item.posted_at is None or item.posted_at.tzinfo is not None
    ids = [item.external_id for item in results if isinstance(item, RawItem)]
    assert len(set(ids)) == len(ids), "ids are unique within one input"


@pytest.mark.parametrize("cls", CLASSES, ids=_ids)
def test_reading_twice_gives_the_same_ids(cls: type[Connector], tmp_path: Path) -> None:
    path = _sample(cls, tmp_path)

    def ids() -> list[str]:
        return [r.external_id for r in cls().read(path, SOURCE, Limits()) if isinstance(r, RawItem)]

    first = ids()
    assert first and ids() == first


@pytest.mark.parametrize("cls", CLASSES, ids=_ids)
def test_sample_is_routed_to_its_connector(cls: type[Connector], tmp_path: Path) -> None:
    """The first connector (in precedence order) that accepts the sample is its own."""
    path = _sample(cls, tmp_path)
    first = next(c for c in connectors() if c.can_read(path))
    assert first.name == cls.name


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("cls", CLASSES, ids=_ids)
def test_garbage_gives_only_rejections(cls: type[Connector], tmp_path: Path, seed: int) -> None:
    name = GARBAGE_NAMES.get(cls.name)
    if name is None:
        pytest.skip(f"no garbage file name for connector {cls.name!r}")
    rng = random.Random(seed)
    path = tmp_path / name
    path.write_bytes(rng.randbytes(4096) + b"\n" + rng.randbytes(512) + b"\n\xff\xfe\x00{")

    results = list(cls().read(path, SOURCE, Limits()))

    for result in results:
        assert isinstance(result, Rejection), result
        assert result.input.strip() and result.reason.strip()


@pytest.mark.parametrize("cls", CLASSES, ids=_ids)
def test_missing_input_is_one_rejection(cls: type[Connector], tmp_path: Path) -> None:
    path = tmp_path / "does-not-exist" / (GARBAGE_NAMES.get(cls.name) or "x")
    connector = cls()
    assert not connector.can_read(path)
    results = list(connector.read(path, SOURCE, Limits()))
    assert len(results) <= 1
    assert all(isinstance(r, Rejection) and str(path) in r.input for r in results)


# What the built-in connectors make of the samples -------------------------------------------


def _items(connector: Connector, path: Path) -> list[RawItem]:
    results = list(connector.read(path, SOURCE, Limits()))
    assert all(isinstance(r, RawItem) for r in results), results
    return [r for r in results if isinstance(r, RawItem)]


def test_jsonl_sample_fields(tmp_path: Path) -> None:
    from warding.ingest.posts import JSONLPostsConnector

    path = samples.write_jsonl_posts(tmp_path)
    p1, p2, p3 = _items(JSONLPostsConnector(), path)
    assert [p1.external_id, p2.external_id, p3.external_id] == ["p1", "2", "p3"]
    assert p1.input_ref == f"{path}:1" and p1.kind == "post"
    assert [m.name for m in p1.media] == ["p1.png"] and p1.media[0].mime == "image/png"
    assert p1.metadata["lang"] == "en" and p1.metadata["platform"] == "examplesocial"
    assert p1.metadata["likes"] == 12
    assert p2.outlinks == ["https://weather.example.org/week", "https://weather.example.org/today"]
    assert p2.metadata["source_field"] == "scraper-7" and p2.source == SOURCE
    assert p2.posted_at is not None and p2.posted_at.isoformat() == "2024-03-01T09:00:00+00:00"
    assert p3.posted_at is not None and p3.posted_at.isoformat() == "2024-03-02T17:45:00+00:00"


def test_csv_sample_fields(tmp_path: Path) -> None:
    from warding.ingest.posts import CSVPostsConnector

    path = samples.write_csv_posts(tmp_path)
    c1, c2, c3 = _items(CSVPostsConnector(), path)
    assert [c.external_id for c in (c1, c2, c3)] == ["c1", "c2", "c3"]
    assert c1.input_ref == f"{path}:2"
    assert [m.name for m in c2.media] == ["c2a.png", "c2b.png"]
    assert c2.outlinks == ["https://trails.example.org/ridge", "https://maps.example.org/ridge"]
    assert c3.text == 'Soup of the day: "leek and potato",\nserved hot.'
    assert c3.posted_at is None


def test_media_dir_sample_fields(tmp_path: Path) -> None:
    from warding.ingest.files import MediaFileConnector

    items = _items(MediaFileConnector(), samples.write_media_dir(tmp_path))
    assert [i.metadata["path"] for i in items] == ["a.png", "doc.pdf", "sub/b.png"]
    assert [i.kind for i in items] == ["image", "file", "image"]
    assert items[1].media[0].mime == "application/pdf"
    assert all(i.external_id.startswith("sha256:") for i in items)


def test_article_sample_fields(tmp_path: Path) -> None:
    from warding.ingest.web import WebPageConnector

    (article,) = _items(WebPageConnector(), samples.write_article(tmp_path))
    assert article.kind == "article"
    assert article.external_id == article.url == samples.ARTICLE_URL
    assert article.title == "Municipal library reopens after renovation"
    assert article.account == "Jane Doe" and article.metadata["lang"] == "en"
    assert article.posted_at is not None and article.posted_at.isoformat().startswith("2024-05-02")
    assert article.text and "eighteen-month renovation" in article.text
    assert "cooking workshops" in article.text
    for boilerplate in samples.ARTICLE_BOILERPLATE:
        assert boilerplate not in article.text
    assert "https://events.example.org/library" in article.outlinks
    assert "https://news.example.org/sports" in article.outlinks  # relative, resolved
    assert not any("sharer" in u or "intent" in u or "wa.me" in u for u in article.outlinks)
    assert not any(u.startswith("mailto:") or "#" in u for u in article.outlinks)


def test_telegram_sample_fields(tmp_path: Path) -> None:
    from warding.ingest.telegram import TelegramExportConnector

    root = samples.write_telegram_export(tmp_path)
    items = _items(TelegramExportConnector(), root)
    channel = samples.TELEGRAM_CHANNEL_ID
    assert [i.external_id for i in items] == [f"{channel}:{n}" for n in (2, 3, 4, 5)]
    assert all(i.kind == "message" and i.account == "Town Weather Notes" for i in items)
    assert all(i.url is None for i in items)  # the export has no username
    links = items[1]
    assert links.text == "Radar map: https://radar.example.org/now and the weekly outlook."
    assert links.outlinks == ["https://radar.example.org/now", "https://weather.example.org/week"]
    assert [m.mime for m in items[2].media] == ["image/jpeg"]
    assert items[3].media == [] and items[3].metadata["media_missing"] == [
        "file: rainfall_2023.pdf"
    ]
    assert items[0].posted_at is not None and items[0].posted_at.isoformat() == (
        "2024-01-01T10:00:00+00:00"
    )
    # result.json itself is accepted too, with the same ids
    assert [i.external_id for i in _items(TelegramExportConnector(), root / "result.json")] == [
        i.external_id for i in items
    ]
