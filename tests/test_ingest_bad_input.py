"""Bad inputs become Rejections that name the input and say why; good items still come through."""

from __future__ import annotations

import json
import socket
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest

from tests import ingest_samples as samples
from warding.ingest._common import (
    Reason,
    check_image,
    load_media,
    parse_time,
    sniff_mime,
    urls_in_text,
)
from warding.ingest.base import Connector, Limits, RawItem, Read, Rejection
from warding.ingest.files import MediaFileConnector
from warding.ingest.posts import CSVPostsConnector, JSONLPostsConnector
from warding.ingest.telegram import TelegramExportConnector
from warding.ingest.web import WebPageConnector, decode_html, strip_boilerplate

SOURCE = "bad-input-test"


def read_all(connector: Connector, path: Path, limits: Limits | None = None) -> list[Read]:
    return list(connector.read(path, SOURCE, limits or Limits()))


def split(results: list[Read]) -> tuple[list[RawItem], list[Rejection]]:
    items = [r for r in results if isinstance(r, RawItem)]
    rejections = [r for r in results if isinstance(r, Rejection)]
    assert len(items) + len(rejections) == len(results)
    return items, rejections


def write_lines(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def post(post_id: str, text: str, **extra: Any) -> bytes:
    return json.dumps({"id": post_id, "text": text, **extra}).encode()


def huge_png(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` x ``height`` pixels (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


# JSONL -------------------------------------------------------------------------------------


def test_jsonl_bad_lines_are_rejected_and_the_rest_accepted(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "posts.jsonl", [
        post("ok1", "The quick brown fox jumps over the lazy dog."),
        b'{"id": "bad-utf8", "text": "caf\xe9 au lait"}',
        b'{"id": "broken", "text": "missing brace"',
        b'["a", "list", "not", "an", "object"]',
        b"",
        b"   ",
        post("ok2", "Pancakes: flour, milk, eggs."),
        b'{"id": "wrongtext", "text": 42}',
        b'{"id": "wrongmedia", "text": "weather", "media": "photo.png"}',
        b'{"id": {"nested": 1}, "text": "x"}',
        b"{}",
        b"null",
    ])
    items, rejections = split(read_all(JSONLPostsConnector(), path))

    assert [i.external_id for i in items] == ["ok1", "ok2"]
    assert [i.input_ref for i in items] == [f"{path}:1", f"{path}:7"]
    reasons = {r.input.rsplit(":", 1)[1]: r.reason for r in rejections}
    assert all(r.input.startswith(f"{path}:") for r in rejections)
    assert set(reasons) == {"2", "3", "4", "8", "9", "10", "11", "12"}  # blank lines skipped
    assert reasons["2"].startswith("not valid UTF-8 at byte ")
    assert reasons["3"].startswith("invalid JSON: ") and "column" in reasons["3"]
    assert reasons["4"] == "expected a JSON object, got a list"
    assert reasons["8"] == "field 'text' must be a string, got a number"
    assert reasons["9"] == "field 'media' must be a list, got a string"
    assert reasons["10"] == "field 'id' must be a string or a number, got an object"
    assert reasons["11"] == "post has no id, url, text or media"
    assert reasons["12"] == "expected a JSON object, got null"


def test_jsonl_utf8_bom_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + post("a", "Sunny.") + b"\r\n" + post("b", "Rain.") + b"\r\n")
    items, rejections = split(read_all(JSONLPostsConnector(), path))
    assert not rejections and [i.text for i in items] == ["Sunny.", "Rain."]


def test_post_without_id_gets_a_stable_content_id(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "noid.jsonl", [
        json.dumps({"text": "Weather: cloudy", "account": "a"}).encode(),
        json.dumps({"account": "a", "text": "Weather: cloudy"}).encode(),  # same record
        json.dumps({"text": "Weather: clear", "account": "a"}).encode(),
    ])

    def ids() -> list[str]:
        items, rejections = split(read_all(JSONLPostsConnector(), path))
        assert not rejections
        return [i.external_id for i in items]

    first = ids()
    assert first[0].startswith("sha256:") and first[0] == first[1] != first[2]
    assert ids() == first


def test_jsonl_missing_and_corrupt_media_reject_the_whole_post(tmp_path: Path) -> None:
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "good.png").write_bytes(samples.make_png(5))
    (tmp_path / "media" / "broken.png").write_bytes(samples.make_png(6)[:300])
    path = write_lines(tmp_path / "posts.jsonl", [
        post("missing", "Recipe", media=["media/good.png", "media/nope.png"]),
        post("corrupt", "Recipe", media=["media/broken.png"]),
        post("escape", "Recipe", media=["../outside.png"]),
        post("good", "Recipe", media=["media/good.png"]),
    ])
    items, rejections = split(read_all(JSONLPostsConnector(), path))

    assert [i.external_id for i in items] == ["good"]
    missing, corrupt, escape = rejections
    assert missing.input == f"{path}:1"
    assert missing.reason == "media file 'media/nope.png': file not found"
    assert corrupt.input == f"{path}:2"
    assert corrupt.reason.startswith("media file 'media/broken.png': corrupt or truncated image")
    assert escape.reason == "media path '../outside.png' escapes the input folder"


def test_jsonl_over_long_line_is_rejected(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "posts.jsonl", [
        post("long", "x" * 500), post("short", "Fog."),
    ])
    items, rejections = split(read_all(JSONLPostsConnector(), path, Limits(max_file_bytes=200)))
    assert [i.external_id for i in items] == ["short"]
    assert rejections[0].input == f"{path}:1" and "max_file_bytes" in rejections[0].reason


def test_text_over_the_character_limit_is_rejected(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "posts.jsonl", [post("long", "y" * 101), post("ok", "Hail.")])
    items, rejections = split(read_all(JSONLPostsConnector(), path, Limits(max_text_chars=100)))
    assert [i.external_id for i in items] == ["ok"]
    assert rejections[0].reason == (
        "text is 101 characters, over the 100 character limit (max_text_chars)"
    )


def test_unreadable_time_keeps_the_post(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "posts.jsonl", [post("t", "Snow.", time="next Tuesday")])
    (item,) = read_all(JSONLPostsConnector(), path)
    assert isinstance(item, RawItem) and item.posted_at is None
    assert item.metadata["time_unparsed"] == "next Tuesday"


# CSV ---------------------------------------------------------------------------------------


def test_csv_bad_rows_are_rejected_and_the_rest_accepted(tmp_path: Path) -> None:
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "ok.png").write_bytes(samples.make_png(7))
    path = tmp_path / "posts.csv"
    path.write_bytes(
        b"\xef\xbb\xbfid,text,media\r\n"
        b"r1,Tomato soup,img/ok.png\r\n"
        b"r2,caf\xe9,\r\n"
        b"r3,Lentils,img/missing.png|img/ok.png\r\n"
        b"\r\n"
        b"r4,too,many,fields\r\n"
        b'r5,"Multi\r\nline",\r\n'
        b"r6,Bread,\r\n"
    )
    items, rejections = split(read_all(CSVPostsConnector(), path))

    assert [(i.external_id, i.input_ref) for i in items] == [
        ("r1", f"{path}:2"), ("r5", f"{path}:7"), ("r6", f"{path}:9"),
    ]
    assert items[1].text == "Multi\nline"
    assert [r.input for r in rejections] == [f"{path}:3", f"{path}:4", f"{path}:6"]
    assert rejections[0].reason == "not valid UTF-8 in column 'text'"
    assert rejections[1].reason == "media file 'img/missing.png': file not found"
    assert rejections[2].reason.startswith("row has 4 fields but the header has 3")


def test_csv_empty_and_headerless(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert read_all(CSVPostsConnector(), empty) == [Rejection(str(empty), "empty file")]
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("alpha,beta\n1,2\n")
    (rejection,) = read_all(CSVPostsConnector(), wrong)
    assert isinstance(rejection, Rejection) and "header row names none" in rejection.reason


# Files and images --------------------------------------------------------------------------


def test_media_dir_bad_files_are_rejected_and_the_rest_accepted(tmp_path: Path) -> None:
    root = samples.write_media_dir(tmp_path)
    (root / "truncated.png").write_bytes(samples.make_png(8)[:200])
    (root / "garbage.jpg").write_bytes(b"\xff\xd8\xff" + b"not really a jpeg" * 10)
    (root / "empty.txt").write_bytes(b"")
    items, rejections = split(read_all(MediaFileConnector(), root))

    assert [i.metadata["path"] for i in items] == ["a.png", "doc.pdf", "sub/b.png"]
    by_name = {Path(r.input).name: r.reason for r in rejections}
    assert set(by_name) == {"truncated.png", "garbage.jpg", "empty.txt"}
    assert all(str(root) in r.input for r in rejections)
    assert by_name["truncated.png"].startswith("corrupt or truncated image")
    assert by_name["garbage.jpg"].startswith("corrupt or truncated image")
    assert by_name["empty.txt"] == "empty file"


def test_over_size_file_is_rejected_before_reading(tmp_path: Path) -> None:
    root = tmp_path / "m"
    root.mkdir()
    (root / "big.bin").write_bytes(b"\x01" * 3000)
    (root / "small.bin").write_bytes(b"\x02" * 10)
    items, rejections = split(read_all(MediaFileConnector(), root, Limits(max_file_bytes=1024)))
    assert [i.title for i in items] == ["small.bin"]
    assert rejections == [Rejection(
        str(root / "big.bin"), "file is 2.9 KB, over the 1.0 KB limit (max_file_bytes)"
    )]


def test_decompression_bomb_header_is_rejected(tmp_path: Path) -> None:
    root = tmp_path / "m"
    root.mkdir()
    (root / "bomb.png").write_bytes(huge_png(100_000, 100_000))  # 10 gigapixels claimed
    (root / "ok.png").write_bytes(samples.make_png(9))
    items, rejections = split(read_all(MediaFileConnector(), root))
    assert [i.title for i in items] == ["ok.png"]
    assert rejections[0].input == str(root / "bomb.png")
    assert "decompression bomb" in rejections[0].reason


def test_image_over_the_pixel_limit_is_rejected(tmp_path: Path) -> None:
    data = samples.make_png(10, size=(64, 64))
    reason = check_image(data, "x.png", Limits(max_image_pixels=1000))
    assert isinstance(reason, Reason)
    assert reason.startswith("image is 64x64 = 4,096 pixels, over the 1,000 pixel limit")
    assert check_image(data, "x.png", Limits()) is None


def test_symlink_out_of_the_folder_is_rejected(tmp_path: Path) -> None:
    outside = tmp_path / "outside.png"
    outside.write_bytes(samples.make_png(11))
    root = tmp_path / "m"
    root.mkdir()
    (root / "inside.png").write_bytes(samples.make_png(12))
    (root / "link_in.png").symlink_to(root / "inside.png")
    (root / "link_out.png").symlink_to(outside)
    items, rejections = split(read_all(MediaFileConnector(), root))
    assert [i.metadata["path"] for i in items] == ["inside.png", "link_in.png"]
    assert rejections == [
        Rejection(str(root / "link_out.png"), "symbolic link points outside the input folder")
    ]


def test_load_media_allows_absolute_paths(tmp_path: Path) -> None:
    image = tmp_path / "abs.png"
    image.write_bytes(samples.make_png(13))
    blob = load_media(tmp_path / "elsewhere", str(image), Limits())
    assert not isinstance(blob, str) and blob.mime == "image/png" and blob.name == "abs.png"


# Web pages ---------------------------------------------------------------------------------


ARTICLE_BODY = "".join(
    f"<p>Paragraph {n} about the farmers market: {'apples and pears are in season. ' * 6}</p>"
    for n in range(5)
)


def test_script_text_never_reaches_the_output(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text(
        "<html><head><script>var a = 'HIDDEN_SCRIPT_WORDS';</script></head><body><article>"
        + ARTICLE_BODY + "<script>document.write('HIDDEN_SCRIPT_WORDS')</script>"
        "<noscript>HIDDEN_SCRIPT_WORDS</noscript><style>p { color: red }</style>"
        "</article></body></html>", encoding="utf-8"
    )
    (item,) = read_all(WebPageConnector(), page)
    assert isinstance(item, RawItem) and item.text and "farmers market" in item.text
    assert "HIDDEN_SCRIPT_WORDS" not in item.text and "color: red" not in item.text
    assert item.external_id.startswith("sha256:") and item.url is None


def test_broken_encoding_is_rejected(tmp_path: Path) -> None:
    page = tmp_path / "broken.html"
    page.write_bytes(
        b'<html><head><meta charset="utf-8"></head><body><article><p>'
        + bytes(range(0x80, 0xC0)) * 60 + b"</p></article></body></html>"
    )
    good = samples.write_article(tmp_path)
    (rejection,) = read_all(WebPageConnector(), page)
    assert isinstance(rejection, Rejection) and rejection.input == str(page)
    assert rejection.reason.startswith("broken encoding: ")
    assert "utf-8" in rejection.reason
    assert isinstance(read_all(WebPageConnector(), good)[0], RawItem)


def test_declared_charset_is_used(tmp_path: Path) -> None:
    html = ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">'
            "</head><body><article>" + ARTICLE_BODY + "<p>Crème brûlée for dessert, "
            + "a café favourite. " * 8 + "</p></article></body></html>")
    page = tmp_path / "latin1.html"
    page.write_bytes(html.encode("latin-1"))
    (item,) = read_all(WebPageConnector(), page)
    assert isinstance(item, RawItem) and item.text and "Crème brûlée" in item.text
    assert item.metadata["encoding"] == "cp1252"  # what browsers use for a Latin-1 label


def test_page_without_article_text_is_rejected(tmp_path: Path) -> None:
    page = tmp_path / "nav.html"
    page.write_text('<html><body><nav><a href="/">Home</a></nav></body></html>')
    assert read_all(WebPageConnector(), page) == [Rejection(str(page), "no article text found")]


def test_over_size_page_is_rejected(tmp_path: Path) -> None:
    page = samples.write_article(tmp_path)
    (rejection,) = read_all(WebPageConnector(), page, Limits(max_html_bytes=1000))
    assert isinstance(rejection, Rejection) and "(max_html_bytes)" in rejection.reason


def test_web_reading_never_touches_the_network(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access during ingest")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    (item,) = read_all(WebPageConnector(), samples.write_article(tmp_path))
    assert isinstance(item, RawItem)


def test_boilerplate_lines_are_dropped() -> None:
    text = "\n".join([
        "Share | Tweet | WhatsApp", "Email this", "Print", "Share on Facebook",
        "Read also: Park benches", "Lire aussi : Les bancs du parc", "Lesen Sie auch",
        "Leer también: Los bancos", "اقرأ أيضا: المقاعد", "Related: benches",
        "Read more books, said the librarian.", "The library opens at nine.",
    ])
    assert strip_boilerplate(text) == (
        "Read more books, said the librarian.\nThe library opens at nine."
    )


def test_decode_html_prefers_bom_and_declaration() -> None:
    assert decode_html("<p>é</p>".encode("utf-16")) == ("<p>é</p>", "utf-16")
    assert decode_html(b"\xef\xbb\xbf<p>\xc3\xa9</p>") == ("<p>é</p>", "utf-8-sig")
    assert decode_html(b"<p>plain</p>") == ("<p>plain</p>", "utf-8")


# Telegram ----------------------------------------------------------------------------------


def test_telegram_broken_messages_are_rejected(tmp_path: Path) -> None:
    root = samples.write_telegram_export(tmp_path)
    export = json.loads((root / "result.json").read_text(encoding="utf-8"))
    export["messages"] += [
        "not a message",
        {"id": "abc", "type": "message", "text": "Clouds."},
        {"id": 7, "type": "message", "text": 12},
        {"id": 8, "type": "message", "text": "Hail.", "photo": "photos/missing.jpg"},
        {"id": 9, "type": "message", "text": "Drizzle."},
    ]
    (root / "result.json").write_text(json.dumps(export), encoding="utf-8")
    items, rejections = split(read_all(TelegramExportConnector(), root))

    assert [i.external_id.split(":")[1] for i in items] == ["2", "3", "4", "5", "9"]
    result = root / "result.json"
    assert [r.input for r in rejections] == [f"{result}#message[{n}]" for n in (5, 6, 7, 8)]
    assert rejections[0].reason == "message is not an object but a string"
    assert rejections[1].reason == "bad message id: 'abc'"
    assert rejections[2].reason.startswith("field 'text' must be a string or a list")
    assert rejections[3].reason == "media file 'photos/missing.jpg': file not found"


def test_telegram_broken_export_is_one_rejection(tmp_path: Path) -> None:
    root = tmp_path / "export"
    root.mkdir()
    (root / "result.json").write_text('{"name": "x", "messages": [ {"id": 1,')
    (rejection,) = read_all(TelegramExportConnector(), root)
    assert isinstance(rejection, Rejection)
    assert rejection.input == str(root / "result.json")
    assert rejection.reason.startswith("invalid JSON: ")


def test_telegram_url_from_username(tmp_path: Path) -> None:
    root = samples.write_telegram_export(tmp_path)
    export = json.loads((root / "result.json").read_text(encoding="utf-8"))
    export["username"] = "@town_weather"
    (root / "result.json").write_text(json.dumps(export), encoding="utf-8")
    items = [i for i in read_all(TelegramExportConnector(), root) if isinstance(i, RawItem)]
    assert items[0].url == "https://t.me/town_weather/2"


def test_telegram_can_read_only_exports(tmp_path: Path) -> None:
    connector = TelegramExportConnector()
    other = tmp_path / "other"
    other.mkdir()
    (other / "result.json").write_text('{"rows": []}')
    assert not connector.can_read(other)
    assert not connector.can_read(other / "result.json")
    assert connector.can_read(samples.write_telegram_export(tmp_path))


# Helpers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [
    ("2024-01-02T03:04:05Z", "2024-01-02T03:04:05+00:00"),
    ("2024-01-02T05:04:05+02:00", "2024-01-02T03:04:05+00:00"),
    ("2024-01-02 03:04", "2024-01-02T03:04:00+00:00"),
    (1704164645, "2024-01-02T03:04:05+00:00"),
    ("1704164645", "2024-01-02T03:04:05+00:00"),
    ("tomorrow", None),
    (None, None),
    (True, None),
    (10**30, None),
])
def test_parse_time(value: object, expected: str | None) -> None:
    parsed = parse_time(value)
    assert (parsed.isoformat() if parsed else None) == expected


def test_urls_in_text() -> None:
    text = ("See https://a.example.org/x, (https://b.example.org/y) and "
            "https://en.example.org/wiki/Fox_(animal). Again https://a.example.org/x!")
    assert urls_in_text(text) == [
        "https://a.example.org/x", "https://b.example.org/y",
        "https://en.example.org/wiki/Fox_(animal)",
    ]


def test_sniff_mime() -> None:
    assert sniff_mime(samples.make_png(1), "x.bin") == "image/png"
    assert sniff_mime(samples.make_jpeg(1), "x") == "image/jpeg"
    assert sniff_mime(b"%PDF-1.7 ...", "x") == "application/pdf"
    assert sniff_mime(b"PK\x03\x04....", "x") == "application/zip"
    assert sniff_mime(b"\0\0\0\x18ftypmp42", "x") == "video/mp4"
    assert sniff_mime(b"hello", "notes.txt") == "text/plain"
    assert sniff_mime(b"hello", "noext") == "application/octet-stream"


def test_sample_pngs_differ_per_seed() -> None:
    assert samples.make_png(1) == samples.make_png(1)
    assert len({samples.make_png(seed) for seed in range(10)}) == 10
