"""Posts files inside a scanned folder are read as posts; pages without a declared charset
are decoded with charset-normalizer; CLI errors are plain text whatever they contain."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli_helpers import CLI
from tests.test_web import png_bytes
from warding.app import Warding
from warding.ingest.base import Limits, RawItem, Rejection
from warding.ingest.files import MediaFileConnector
from warding.ingest.web import WebPageConnector, decode_html
from warding.pipeline.scan import scan_paths

ARABIC = ("الطقس اليوم مشمس والناس يذهبون إلى السوق لشراء الخضروات والفواكه الطازجة. "
          "المكتبة العامة تفتح أبوابها في الصباح الباكر، ويقرأ الطلاب الكتب في القاعة الكبيرة.")
RUSSIAN = ("Сегодня солнечная погода, и люди идут на рынок за свежими овощами и фруктами. "
           "Городская библиотека открывается рано утром, и студенты читают книги в большом зале.")


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    (folder / "sub").mkdir(parents=True)
    (folder / "posts.jsonl").write_text(
        "\n".join(json.dumps({"id": f"j{i}", "text": f"placeholder post number {i}"})
                  for i in range(3)) + "\n{not json\n", encoding="utf-8")
    (folder / "sub" / "more.csv").write_text(
        "id,text\nc1,first placeholder row\nc2,second placeholder row\n", encoding="utf-8")
    (folder / "picture.png").write_bytes(png_bytes())
    return folder


def test_posts_files_in_a_folder_are_read_as_posts(tmp_path: Path) -> None:
    reads = list(MediaFileConnector().read(_folder(tmp_path), "s", Limits()))
    items = [r for r in reads if isinstance(r, RawItem)]
    rejected = [r for r in reads if isinstance(r, Rejection)]
    assert sorted(i.external_id for i in items if i.kind == "post") == \
        ["c1", "c2", "j0", "j1", "j2"]
    assert [i.kind for i in items if i.kind != "post"] == ["image"]
    assert len(rejected) == 1 and rejected[0].input.endswith("posts.jsonl:4")


def test_scanning_a_folder_stores_its_posts(wapp: Warding, tmp_path: Path) -> None:
    summary = scan_paths(wapp, [_folder(tmp_path)], "s")
    assert summary.items == 6 and len(summary.errors) == 1
    again = scan_paths(wapp, [_folder(tmp_path / "again")], "s")
    assert again.items == 0 and again.duplicates == 6  # the same posts: nothing twice


def _page(text: str) -> str:
    return (f"<html><head><title>{text[:12]}</title></head><body><article>"
            f"<p>{text}</p><p>{text}</p></article></body></html>")


def test_pages_without_a_charset_are_detected(tmp_path: Path) -> None:
    for text, encoding in ((ARABIC, "cp1256"), (RUSSIAN, "cp1251")):
        raw = _page(text).encode(encoding)
        decoded = decode_html(raw)
        assert isinstance(decoded, tuple) and decoded[0] == _page(text), encoding
        page = tmp_path / f"{encoding}.html"
        page.write_bytes(raw)
        (item,) = WebPageConnector().read(page, "s", Limits())
        assert isinstance(item, RawItem) and text[:40] in (item.text or ""), encoding


def test_errors_with_brackets_are_one_line(tmp_path: Path) -> None:
    cli = CLI(tmp_path)
    for path in ("[/tmp]x", "[red]x[/red]", "[bold"):
        out = cli.run("hash", path, code=1)
        assert out.stderr.strip().startswith("error:") and path in out.stderr, out.stderr
        assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1
    out = cli.run("audit", "verify", "--checkpoint", "[/tmp]cp.json", code=1)
    assert "[/tmp]cp.json" in out.stderr and "Traceback" not in out.stderr


def test_a_link_with_a_broken_ipv6_host_is_skipped(tmp_path: Path) -> None:
    """Found by the fuzzer: an unclosed '[' in a link's host raised ValueError."""
    page = tmp_path / "links.html"
    page.write_text('<html><head><link rel="canonical" href="https://example.org/a">'
                    '</head><body><article><p>A neutral placeholder paragraph about a '
                    'quiet day in town.</p><a href="http://[x/y">one</a>'
                    '<a href="https://example.org/b">two</a></article></body></html>',
                    encoding="utf-8")
    (item,) = WebPageConnector().read(page, "s", Limits())
    assert isinstance(item, RawItem) and item.outlinks == ["https://example.org/b"]
