"""The fuzz targets: one per parser, each a function of arbitrary bytes.

A target returns normally when the parser accepted the input or refused it the documented
way (a :class:`~warding.ingest.base.Rejection` from a connector, ``InvalidInput`` or
``ValueError`` from a hash-list or signal check, a 4xx from the API). Anything else it
raises: an unexpected exception type, or :class:`ServerError` for a 5xx answer. Seeds are
small valid inputs of each format (neutral placeholder text and generated images) that a
coverage-guided fuzzer mutates.

Targets are built in a work folder (:func:`build`); nothing is built at import time.
"""

from __future__ import annotations

import io
import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Run = Callable[[bytes], None]


class ServerError(Exception):
    """The API answered 5xx."""


@dataclass
class Target:
    name: str
    run: Run
    seeds: list[bytes]
    note: str = ""
    known: Callable[[bytes, BaseException], str] | None = field(default=None, repr=False)


LIMITS_KW = {"max_file_bytes": 1 << 20, "max_text_chars": 20_000,
             "max_image_pixels": 4_000_000, "max_html_bytes": 1 << 20}


def _images() -> list[bytes]:
    from PIL import Image

    out = []
    for fmt, mode in (("PNG", "RGB"), ("JPEG", "RGB"), ("GIF", "P"), ("BMP", "RGB"),
                      ("WEBP", "RGB"), ("PNG", "RGBA"), ("TIFF", "L")):
        img = Image.new(mode, (24, 16))
        for x in range(24):
            for y in range(16):
                img.putpixel((x, y), (x * 10 % 256, y * 15 % 256, (x * y) % 256)
                             if mode in ("RGB", "RGBA") else (x * 7 + y) % 256)
        buf = io.BytesIO()
        img.save(buf, format=fmt)
        out.append(buf.getvalue())
    return out


def _posts_seeds() -> list[bytes]:
    lines = [json.dumps({"id": "p1", "text": "A neutral placeholder post about the weather.",
                         "url": "https://example.org/p/1", "account": "someone",
                         "time": "2024-05-01T10:00:00Z",
                         "outlinks": ["https://example.org/a"]}),
             json.dumps({"id": 2, "text": "Second placeholder", "media": ["picture.png"]}),
             json.dumps({"text": "no id here", "posted_at": 1714557600}),
             "{broken", "", "[1, 2]"]
    return ["\n".join(lines).encode(), lines[0].encode(), b"\xef\xbb\xbf" + lines[1].encode()]


def _csv_seeds() -> list[bytes]:
    return [(b"id,text,url,account,time\np1,A neutral placeholder,https://example.org/1,acct,"
             b"2024-05-01\np2,\"quoted, with comma\",,,\n"),
            b"text\nonly text\n", b"id;text\n1;semicolon\n", b"\xef\xbb\xbfid,text\r\n1,x\r\n"]


def _telegram_seeds() -> list[bytes]:
    export = {"name": "Placeholder channel", "type": "public_channel", "id": 1234,
              "messages": [
                  {"id": 1, "type": "message", "date": "2024-05-01T10:00:00",
                   "date_unixtime": "1714557600", "from": "Placeholder", "from_id": "channel1",
                   "text": "A neutral placeholder message",
                   "text_entities": [{"type": "plain", "text": "A neutral placeholder"}]},
                  {"id": 2, "type": "message", "date": "2024-05-01T11:00:00",
                   "text": ["mixed ", {"type": "link", "text": "https://example.org/x"}],
                   "photo": "photos/photo_1.jpg"},
                  {"id": 3, "type": "service", "action": "pin_message"}]}
    return [json.dumps(export).encode(), json.dumps({"messages": []}).encode()]


def _html_seeds() -> list[bytes]:
    page = ("<!doctype html><html lang=en><head><meta charset=\"utf-8\"><title>Placeholder"
            "</title><meta property=\"og:url\" content=\"https://example.org/a\">"
            "<meta name=\"author\" content=\"Someone\"></head><body><nav><a href=\"/\">Home</a>"
            "</nav><article><h1>A neutral headline</h1><p>The weather was mild today and the "
            "market was busy.</p><p>Read also: <a href=\"https://example.org/b\">more</a></p>"
            "<img src=\"x.png\"></article><script>var x = 1;</script></body></html>")
    return [page.encode(), page.replace("utf-8", "windows-1251").encode("cp1251"),
            "<p>Привет, мир. Сегодня тихий день.</p>".encode("cp1251"), b"<html>"]


def _hash_seeds(fmt: str) -> list[bytes]:
    pdq = "f" * 8 + "0" * 56
    md5 = "0123456789abcdef" * 2
    sha = "ab" * 32
    if fmt == "jsonl":
        return [json.dumps({"signals": [{"type": "pdq", "value": pdq}, {"type": "md5",
                                                                        "value": md5}],
                            "labels": {"category": "placeholder"}, "tier": 1}).encode(),
                json.dumps({"signal_type": "sha256", "value": sha, "enabled": "no"}).encode()]
    if fmt == "csv":
        return [("entry_id,signal_type,value,group,category,labels,provenance,tier,enabled\n"
                 f"e1,pdq,{pdq},,placeholder,{{}},test,1,true\ne2,md5,{md5},,,,,,\n").encode(),
                (f"signal_type,signal_str,collab,category,tags\npdq,{pdq},Collab,"
                 "POSITIVE_CLASS,tag1 tag2\nraw_text,some text,Collab,NEGATIVE_CLASS,\n")
                .encode()]
    if fmt == "lines":
        return [f"pdq {pdq}\nmd5 {md5}\nsha256 {sha}\n# comment\n".encode(),
                f"pdq {pdq} 'Collab' POSITIVE_CLASS tag1,tag2\nraw_text a text\n".encode(),
                f"video_md5 {md5}\nurl https://example.org/x\n".encode()]
    page = {"count": 2, "next": None, "previous": None, "checkpoint": "c1", "results": [
        {"id": 1, "hash_digest": md5, "algorithm": "MD5", "ideology": "placeholder",
         "file_type": "image", "deleted": False, "updated_on": "2024-05-01T10:00:00Z",
         "created_on": "2024-05-01T10:00:00Z"},
        {"id": 2, "hash_digest": pdq, "algorithm": "PDQ", "deleted": True}]}
    return [json.dumps(page).encode(), json.dumps(page["results"]).encode(),
            "\n".join(json.dumps(r) for r in page["results"]).encode()]


def _validate_records(types: Any, records: Any) -> None:
    from warding.banks.records import EntryRecord
    from warding.signals import compute

    for rec in records:
        pairs: list[tuple[str, str]] = []
        if isinstance(rec, EntryRecord):
            pairs = list(rec.signals)
        elif type(rec) is tuple and len(rec) == 4:
            pairs = [(rec[1], rec[2])]
        elif hasattr(rec, "signal") and isinstance(rec.signal, tuple):
            pairs = [rec.signal]
        for signal_type, value in pairs:
            try:
                compute.validate(types, signal_type, value)
            except ValueError:
                pass  # the import's documented per-line refusal


def build(workdir: Path, names: list[str] | None = None) -> dict[str, Target]:
    """The targets (all, or those named), working in ``workdir``."""
    workdir.mkdir(parents=True, exist_ok=True)
    makers: dict[str, Callable[[Path], Target]] = {
        "posts_jsonl": _posts_jsonl, "posts_csv": _posts_csv, "telegram": _telegram,
        "html": _html, "hashlist_jsonl": lambda d: _hashlist(d, "jsonl"),
        "hashlist_csv": lambda d: _hashlist(d, "csv"),
        "hashlist_lines": lambda d: _hashlist(d, "lines"),
        "hashlist_tcap": lambda d: _hashlist(d, "tcap"), "image": _image, "http_api": _http,
    }
    wanted = names or list(makers)
    unknown = [n for n in wanted if n not in makers]
    if unknown:
        raise SystemExit(f"unknown fuzz target(s): {', '.join(unknown)}; "
                         f"known: {', '.join(makers)}")
    return {name: makers[name](workdir / name) for name in wanted}


def _limits() -> Any:
    from warding.ingest.base import Limits

    return Limits(**LIMITS_KW)


def _connector_target(name: str, folder: Path, connector: Any, file_name: str,
                      seeds: list[bytes], read_folder: bool = False) -> Target:
    from warding.ingest.base import RawItem, Rejection

    folder.mkdir(parents=True, exist_ok=True)
    _images_for(folder)
    path = folder / file_name
    limits = _limits()

    def run(data: bytes) -> None:
        path.write_bytes(data)
        for read in connector.read(folder if read_folder else path, "fuzz", limits):
            if not isinstance(read, (RawItem, Rejection)):
                raise TypeError(f"the connector yielded a {type(read).__name__}")

    return Target(name, run, seeds)


def _images_for(folder: Path) -> None:
    """Media files that the seeds name, so posts with media are read to the end."""
    imgs = _images()
    (folder / "picture.png").write_bytes(imgs[0])
    (folder / "photos").mkdir(exist_ok=True)
    (folder / "photos" / "photo_1.jpg").write_bytes(imgs[1])
    (folder / "x.png").write_bytes(imgs[0])


def _posts_jsonl(folder: Path) -> Target:
    from warding.ingest.posts import JSONLPostsConnector

    return _connector_target("posts_jsonl", folder, JSONLPostsConnector(), "posts.jsonl",
                             _posts_seeds())


def _posts_csv(folder: Path) -> Target:
    from warding.ingest.posts import CSVPostsConnector

    return _connector_target("posts_csv", folder, CSVPostsConnector(), "posts.csv",
                             _csv_seeds())


def _telegram(folder: Path) -> Target:
    from warding.ingest.telegram import TelegramExportConnector

    return _connector_target("telegram", folder, TelegramExportConnector(), "result.json",
                             _telegram_seeds(), read_folder=True)


def _html(folder: Path) -> Target:
    from warding.ingest.web import WebPageConnector, decode_html

    inner = _connector_target("html", folder, WebPageConnector(), "page.html", _html_seeds())

    def run(data: bytes) -> None:
        decode_html(data)
        inner.run(data)

    return Target("html", run, inner.seeds)


def _hashlist(folder: Path, fmt: str) -> Target:
    from warding.banks.bulk import _lines_fast
    from warding.banks.fingerprints import hex_lengths
    from warding.banks.formats import read_records
    from warding.banks.hexblocks import read_blocks
    from warding.banks.sources import TE_ALIASES
    from warding.errors import InvalidInput
    from warding.plugins import signal_types

    types = signal_types()
    widths = hex_lengths(types)
    name = f"list.{fmt}"

    def run(data: bytes) -> None:
        if fmt == "lines":  # the import's fast path for TYPE VALUE files
            try:
                _validate_records(types, list(_lines_fast(
                    read_blocks(io.BytesIO(data), name, widths, TE_ALIASES), name)))
            except InvalidInput:
                pass  # invalid UTF-8, named with its byte offset
            return
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            return  # refused by import_path before parsing (InvalidInput)
        lines = io.StringIO(text, newline="" if fmt == "csv" else None)
        _validate_records(types, list(read_records(lines, fmt, name)))  # type: ignore[arg-type]

    return Target(f"hashlist_{fmt}", run, _hash_seeds(fmt))


def _image(folder: Path) -> Target:
    from warding.ingest._common import check_image, sniff_mime
    from warding.plugins import signal_types
    from warding.signals import compute
    from warding.signals.base import SignalError

    types = signal_types()
    limits = _limits()

    def run(data: bytes) -> None:
        problem = check_image(data, "upload.png", limits)
        mime = sniff_mime(data, "upload.png")
        if problem is None:
            try:  # PDQ (and md5/sha256) of the bytes, as an upload is hashed
                compute.for_bytes(types, data, "image/png", "fuzz")
                compute.for_bytes(types, data, mime, "fuzz")
            except SignalError:
                pass  # a broken image, refused with its reason

    return Target("image", run, _images(),
                  note="check_image (size, bomb, corruption) then PDQ/MD5/SHA-256")


# -- the HTTP API ------------------------------------------------------------------------
#: (method, path) of every route that takes a JSON body; path parameters name objects
#: the fixture creates (bank "fuzz", case 1, user "someone", exchange "fuzzx").
HTTP_ROUTES = [
    ("POST", "/api/banks"), ("POST", "/api/banks/fuzz/entries"),
    ("POST", "/api/cases/1/decision"), ("POST", "/api/cases/1/bulk-decision"),
    ("POST", "/api/match"), ("POST", "/api/classify"), ("POST", "/api/users"),
    ("PATCH", "/api/users/someone"), ("PATCH", "/api/me/settings"), ("POST", "/api/items"),
    ("POST", "/m/compare"), ("POST", "/c/banks"), ("PUT", "/c/bank/fuzz"),
    ("POST", "/c/bank/fuzz/signal"), ("POST", "/c/exchanges"), ("PUT", "/c/exchange/fuzzx"),
    ("POST", "/c/bank/fuzz/content"),
]

# The invalid-UTF-8 500 found here was fixed by the web layer's part of issue 22: no
# failure of this target is "known" any more.


def _http_seeds() -> list[bytes]:
    pdq = "f" * 8 + "0" * 56
    bodies: list[Any] = [
        {"name": "placeholder_bank", "description": "x"},
        {"signals": [{"type": "pdq", "value": pdq}], "labels": {"category": "placeholder"}},
        {"violating": True, "category": "threat", "reason": "placeholder reason"},
        {"case_ids": [1], "violating": False, "reason": "placeholder"},
        {"signals": [{"type": "md5", "value": "0" * 32}], "text": "placeholder text"},
        {"text": "a neutral placeholder sentence"},
        {"username": "fuzzed", "role": "analyst", "password": "a long placeholder password"},
        {"role": "analyst", "active": True}, {"break_minutes": 5},
        {"source": "fuzz", "items": [{"id": "1", "text": "placeholder post"}]},
        {"signal_type": "pdq", "hashes": [pdq, pdq]},
        {"name": "PLACEHOLDER_BANK", "matching_enabled_ratio": 1.0},
        {"matching_enabled_ratio": 0.5}, {"pdq": pdq},
        {"name": "FUZZ_EXCHANGE", "api": "sample", "bank": "FUZZ_EXCHANGE"},
        {"enabled": True},
    ]
    return [bytes([i, 0]) + json.dumps(b).encode() for i, b in enumerate(bodies)]


def _http(folder: Path) -> Target:
    from fastapi.testclient import TestClient

    from warding.accounts.service import create_api_key, create_user
    from warding.app import Warding
    from warding.banks.service import create_bank
    from warding.config import Settings
    from warding.setup import initialise
    from warding.web.factory import create_app

    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "fuzz.db"
    for leftover in folder.glob("fuzz.db*"):
        leftover.unlink()
    w = Warding(Settings(database_url=f"sqlite:///{db}", data_dir=folder / "data",
                         semantic_matching=False, action_worker_interval=0,
                         hma_compatible=True))
    initialise(w, actor="fuzz")
    with w.transaction() as session:
        create_user(session, "fuzzer", "admin", "a long placeholder password", actor="fuzz")
        create_user(session, "someone", "analyst", "a long placeholder password", actor="fuzz")
        create_bank(session, "fuzz", actor="fuzz")
        key = create_api_key(session, "fuzzer", actor="fuzz")
    _case(w)
    _model(w, folder)
    client = TestClient(create_app(w), raise_server_exceptions=True)
    accepts = ("application/json", "*/*", "text/html")
    ctypes = ("application/json", "text/plain", "", "application/x-www-form-urlencoded")

    def run(data: bytes) -> None:
        """Byte 0 picks the route, byte 1 the Accept and Content-Type headers; the rest is
        the body."""
        if len(data) < 2:
            return
        method, path = HTTP_ROUTES[data[0] % len(HTTP_ROUTES)]
        headers = {"Authorization": f"Bearer {key}", "Accept": accepts[data[1] % len(accepts)]}
        ctype = ctypes[data[1] // len(accepts) % len(ctypes)]
        if ctype:
            headers["Content-Type"] = ctype
        response = client.request(method, path, content=data[2:], headers=headers)
        if response.status_code >= 500:
            raise ServerError(f"{method} {path} answered {response.status_code}: "
                              f"{response.text[:200]}")

    return Target("http_api", run, _http_seeds(),
                  note=f"{len(HTTP_ROUTES)} JSON routes, in process (TestClient)")


def _model(w: Any, folder: Path) -> None:
    """The classifier tests' tiny model (neutral synthetic data), for /api/classify and
    the classification of /api/items."""
    from tests.test_classifier import write_synthetic_data
    from warding.classify.training import train

    train(write_synthetic_data(folder / "train-data"), w.settings.models_dir)
    w.reset_classifier()


def _case(w: Any) -> None:
    """Case 1, on a placeholder item, for the decision routes."""
    from warding.cases.routing import open_case
    from warding.db.models import ContentItem

    with w.transaction() as session:
        item = ContentItem(source="fuzz", external_id="case-item", kind="post",
                           text="A neutral placeholder post.", input_ref="fuzz")
        session.add(item)
        session.flush()
        open_case(session, item, [{"kind": "classifier", "score": 0.99}], "fuzz")


def signature(exc: BaseException) -> str:
    """Where an unexpected exception came from: its type and the innermost warding frame."""
    import traceback

    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "/warding/" in f.filename] or frames
    where = f"{Path(ours[-1].filename).name}:{ours[-1].lineno}" if ours else "?"
    return f"{type(exc).__name__} at {where}"


def crc(data: bytes) -> str:
    return f"{zlib.crc32(data):08x}"
