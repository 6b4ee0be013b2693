"""Retroactive matching: items stored before their hashes arrived are found (issue 20)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.cli_helpers import CLI
from warding.app import Warding
from warding.db.models import Case, ContentItem, Match, Signal
from warding.db.models_incidents import RetroMatch, RetroRun
from warding.demo import content
from warding.ingest.base import MediaBlob, RawItem
from warding.pipeline.bulk import BulkPipeline

N_IMAGES = 120
KNOWN = [3, 17, 28, 41, 58, 64, 77, 85, 99, 110]  # (a few plain pictures have no PDQ)


def _scan_images(tmp: Path, n: int = N_IMAGES) -> Path:
    folder = tmp / "uploads"
    folder.mkdir()
    for i in range(n):
        (folder / f"img{i:04d}.png").write_bytes(
            content.png_bytes(content.make_image(1000 + i, (96, 96))))
    return folder


def _pdq_of(cli: CLI, names: list[str]) -> list[str]:
    w = Warding.from_env(database_url=cli.db, data_dir=cli.data_dir)
    try:
        with w.transaction() as session:
            rows = session.execute(
                select(ContentItem.input_ref, Signal.value)
                .join(Signal, Signal.item_id == ContentItem.id)
                .where(Signal.signal_type == "pdq")).all()
    finally:
        w.close()
    by_name = {Path(e).name: v for e, v in rows}
    return [by_name[n] for n in names]


def _app(cli: CLI) -> Warding:
    return Warding.from_env(database_url=cli.db, data_dir=cli.data_dir)


def test_import_after_scan_finds_every_earlier_copy_once(tmp_path: Path) -> None:
    cli = CLI(tmp_path)
    cli.run("init")
    folder = _scan_images(tmp_path)
    cli.run("scan", str(folder))
    names = [f"img{i:04d}.png" for i in KNOWN]
    hashes = _pdq_of(cli, names)
    hash_file = tmp_path / "incident.txt"
    hash_file.write_text("".join(f"pdq {h}\n" for h in hashes))

    out = cli.json("bank", "import", "shared", str(hash_file), "--json")
    assert out["entries"] == 10
    retro = out["retro"]
    assert set(retro) == {"bank", "entries", "items_checked", "signals_checked", "matches",
                          "cases_opened", "cases_updated", "seconds"}
    assert retro["bank"] == "shared" and retro["entries"] == 10
    assert retro["items_checked"] == N_IMAGES and retro["signals_checked"] == N_IMAGES - 3
    assert retro["matches"] == 10 and retro["cases_opened"] == 10

    w = _app(cli)
    try:
        with w.transaction() as session:
            cases = session.execute(select(Case, ContentItem.input_ref)
                                    .join(ContentItem, ContentItem.id == Case.item_id)).all()
            assert sorted(Path(e).name for _, e in cases) == sorted(names)  # no false match
            for case, _ in cases:
                assert case.status == "open"
                (reason,) = case.reasons
                assert reason["kind"] == "bank_match" and reason["bank"] == "shared"
                assert reason["signal_type"] == "pdq" and reason["distance"] == 0
                assert reason["retroactive"] is True and reason["found_at"]
                assert case.severity == 100
            assert session.execute(select(func.count(RetroMatch.id))).scalar() == 10
    finally:
        w.close()

    # nothing is matched twice: running it again finds nothing new
    again = cli.json("bank", "retro", "shared", "--json")
    assert again["matches"] == 0 and again["cases_opened"] == 0 and again["entries"] == 10
    # a live scan of a copy after the import matches at upload, as before
    later = tmp_path / "later"
    later.mkdir()
    (later / "copy.png").write_bytes(content.png_bytes(content.make_image(1000 + KNOWN[0],
                                                                          (96, 96))))
    cli.run("scan", str(later), "--source", "later")
    w = _app(cli)
    try:
        with w.transaction() as session:
            assert session.execute(select(func.count(Case.id))).scalar() == 11
            assert session.execute(select(func.count(Match.id))).scalar() == 11
    finally:
        w.close()


def test_no_retro_then_retro_on_demand(tmp_path: Path) -> None:
    cli = CLI(tmp_path)
    cli.run("init")
    cli.run("scan", str(_scan_images(tmp_path, 30)))
    (h,) = _pdq_of(cli, ["img0005.png"])
    cli.run("bank", "create", "later")
    out = cli.json("bank", "add", "later", "--hash", f"pdq:{h}", "--no-retro", "--json")
    assert "retro" not in out
    w = _app(cli)
    try:
        with w.transaction() as session:
            assert session.execute(select(func.count(Case.id))).scalar() == 0
    finally:
        w.close()
    bad = cli.run("bank", "retro", "later", "--days", "1", "--since", "2026-01-01", code=1)
    assert "not both" in bad.stderr
    missing = cli.run("bank", "retro", "nope", code=None)
    assert missing.exit_code != 0 and "nope" in missing.stderr
    # a window that ends before the items were stored finds nothing
    far = cli.json("bank", "retro", "later", "--since", "2999-01-01T00:00:00Z", "--json")
    assert far["items_checked"] == 0 and far["matches"] == 0
    done = cli.json("bank", "retro", "later", "--json")
    assert done["matches"] == 1 and done["cases_opened"] == 1
    text = cli.run("bank", "retro", "later").stdout
    assert "0 matches" in text


def _post(w: Warding, ext: str, *, text: str | None = None, image: bytes | None = None,
          source: str = "feed") -> int:
    media = [MediaBlob("a.png", image, "image/png")] if image is not None else []
    (outcome,) = BulkPipeline(w, "test").process(source, [RawItem(
        source=source, external_id=ext, input_ref=ext, text=text, media=media)])
    assert outcome.item_id is not None
    return outcome.item_id


def test_open_cases_gain_the_reason_and_decided_ones_stay_decided(wapp: Warding) -> None:
    from warding.banks.records import EntryRecord
    from warding.banks.service import add_records, create_bank
    from warding.incidents.runs import run_for_bank
    from warding.review.decisions import DecisionInput
    from warding.review.service import record_decision

    img_a = content.png_bytes(content.make_image(5, (96, 96)))
    img_b = content.png_bytes(content.make_image(6, (96, 96)))
    with wapp.transaction() as session:
        create_bank(session, "first", actor="test")
        add_records(session, session.execute(select(content_bank())).scalar_one(),
                    [EntryRecord(signals=[("md5", _md5(img_a)), ("md5", _md5(img_b))],
                                 labels={}, provenance="p", ref="x")],
                    wapp.signal_types, actor="test", how="add")
    a = _post(wapp, "a", image=img_a)
    b = _post(wapp, "b", image=img_b)
    with wapp.transaction() as session:
        case_b = session.execute(select(Case.id).where(Case.item_id == b)).scalar_one()
    record_decision(wapp, case_b, DecisionInput(violating=False, reason="checked"),
                    actor="test", reviewer_id=None)
    with wapp.transaction() as session:
        create_bank(session, "second", actor="test")
    from warding.banks.service import get_bank

    with wapp.transaction() as session:
        add_records(session, get_bank(session, "second"),
                    [EntryRecord(signals=[("sha256", _sha(img_a))], labels={"category": "x"},
                                 provenance="q", ref="1"),
                     EntryRecord(signals=[("sha256", _sha(img_b))], labels={}, provenance="q",
                                 ref="2")],
                    wapp.signal_types, actor="test", how="add")
    summary = run_for_bank(wapp, "second")
    assert summary.matches == 2 and summary.cases_opened == 0 and summary.cases_updated == 1
    with wapp.transaction() as session:
        ca = session.execute(select(Case).where(Case.item_id == a)).scalar_one()
        kinds = [(r["bank"], r.get("retroactive", False)) for r in ca.reasons]
        assert ("first", False) in kinds and ("second", True) in kinds
        cb = session.execute(select(Case).where(Case.item_id == b)).scalar_one()
        assert cb.status == "decided" and all(r["bank"] == "first" for r in cb.reasons)
        runs = session.execute(select(RetroRun)).scalars().all()
        assert [r.status for r in runs] == ["done"]


def content_bank() -> Any:
    from warding.db.models import Bank

    return Bank


def _md5(data: bytes) -> str:
    import hashlib

    return hashlib.md5(data).hexdigest()


def _sha(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def test_text_semantic_entries_find_stored_posts(app_factory: Any) -> None:
    w = app_factory()
    from warding.banks.service import add_records, create_bank, record_for_text
    from warding.incidents.runs import run_for_bank
    from warding.matching.semantic import add_bank_text

    known = content.KNOWN_TEXTS[1]
    _post(w, "p1", text=known.replace("forty", "thirty"))
    _post(w, "p2", text="an unrelated sentence about trains and stations")
    with w.transaction() as session:
        bank = create_bank(session, "texts", actor="test")
        add_records(session, bank, [record_for_text(known, w.signal_types, {}, "")],
                    w.signal_types, actor="test", how="add")
        add_bank_text(w, session, bank, known)
    summary = run_for_bank(w, "texts")
    assert summary.cases_opened == 1
    with w.transaction() as session:
        (case,) = session.execute(select(Case)).scalars().all()
        types = {r["signal_type"] for r in case.reasons}
        assert types == {"text_near", "text_semantic"}
        sem = next(r for r in case.reasons if r["signal_type"] == "text_semantic")
        assert sem["retroactive"] is True and 0 < sem["similarity"] <= 1
    again = run_for_bank(w, "texts")
    assert again.matches == 0


def test_text_semantic_entries_find_text_read_from_stored_images(app_factory: Any) -> None:
    """Text read from a stored post's image (``image_texts``) is compared too, as a live scan
    compares it: the reason says ``origin: ocr``; a post matched by its own text and by its
    image's text for the same entry gets one match."""
    from warding.banks.service import add_records, create_bank, record_for_text
    from warding.db.models_ocr import ImageTextRow
    from warding.incidents.runs import run_for_bank
    from warding.matching.semantic import add_bank_text

    w = app_factory()
    known = content.KNOWN_TEXTS[1]
    in_image = _post(w, "p1", text="a photo from the weekend market")
    both = _post(w, "p2", text=known.replace("forty", "thirty"))
    _post(w, "p3", text="an unrelated sentence about trains and stations")
    with w.transaction() as session:
        for item_id in (in_image, both):
            session.add(ImageTextRow(item_id=item_id, position=0, part=0, sha256="0" * 64,
                                     name="a.png", text=known.replace("forty", "fifty"),
                                     script="Latn", confidence=90.0, model="test"))
        bank = create_bank(session, "texts", actor="test")
        add_records(session, bank, [record_for_text(known, w.signal_types, {}, "")],
                    w.signal_types, actor="test", how="add")
        add_bank_text(w, session, bank, known)
    run_for_bank(w, "texts")
    with w.transaction() as session:
        cases = {c.item_id: c for c in session.execute(select(Case)).scalars()}
        assert set(cases) == {in_image, both}
        (sem,) = [r for r in cases[in_image].reasons if r["signal_type"] == "text_semantic"]
        assert sem["origin"] == "ocr" and sem["retroactive"] is True
        semantic = session.execute(select(Match).where(
            Match.item_id == both, Match.signal_type == "text_semantic")).scalars().all()
        assert len(semantic) == 1


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_background_worker_follows_the_feed_and_resumes(backend: str, app_factory: Any,
                                                        request: pytest.FixtureRequest) -> None:
    """The worker matches additions made by any writer; its cursor is in the database, so a
    new worker (a restart after kill -9) continues where the last one committed."""
    from warding.banks.records import EntryRecord
    from warding.banks.service import add_records, create_bank, get_bank, update_bank
    from warding.incidents import worker

    if backend == "postgres":
        w = request.getfixturevalue("pg_app")
    else:
        w = app_factory()
    imgs = [content.png_bytes(content.make_image(40 + i, (96, 96))) for i in range(4)]
    ids = [_post(w, f"i{i}", image=img) for i, img in enumerate(imgs)]
    worker.tick(w)  # the cursor starts at the end of the feed
    with w.transaction() as session:
        create_bank(session, "feedbank", actor="test")
    with w.transaction() as session:
        add_records(session, get_bank(session, "feedbank"),
                    [EntryRecord(signals=[("sha256", _sha(imgs[0]))], labels={},
                                 provenance="", ref="0")], w.signal_types, actor="api", how="add")
    assert worker.tick(w) >= 1
    with w.transaction() as session:
        assert session.execute(select(Case.item_id)).scalars().all() == [ids[0]]
        run = session.execute(select(RetroRun)).scalar_one()
        assert run.trigger == "feed" and run.matches == 1 and run.live_at is not None
    # the cursor survives: a fresh worker finds nothing to do
    assert worker.tick(w) == 0
    # a disabled bank gains an entry: nothing until it is enabled again
    with w.transaction() as session:
        update_bank(session, "feedbank", actor="test", enabled=False)
    with w.transaction() as session:
        add_records(session, get_bank(session, "feedbank"),
                    [EntryRecord(signals=[("sha256", _sha(imgs[1]))], labels={},
                                 provenance="", ref="1")], w.signal_types, actor="api", how="add")
    worker.tick(w)
    with w.transaction() as session:
        assert session.execute(select(func.count(Case.id))).scalar() == 1
    with w.transaction() as session:
        update_bank(session, "feedbank", actor="test", enabled=True)
    worker.tick(w)
    with w.transaction() as session:
        assert sorted(session.execute(select(Case.item_id)).scalars()) == sorted(ids[:2])
        assert session.execute(select(func.count(Match.id))).scalar() == 2
    progress = __import__("warding.incidents.runs", fromlist=["x"]).progress_of(w, "feedbank")
    assert progress["pending_changes"] == 0 and progress["runs"][0]["trigger"] == "bank"
    json.dumps(progress)


def test_server_matches_in_the_background_and_shows_progress(app_factory: Any) -> None:
    """`warding serve`: an entry added through the API opens the case of an item stored
    before it, found by the background worker; GET /api/banks/{name}/retro shows the run."""
    import time

    from fastapi.testclient import TestClient

    from tests.test_web import PASSWORD, api_key
    from warding.accounts.service import create_user
    from warding.web.factory import create_app

    w = app_factory(semantic_matching=False, retro_poll_seconds=0.1, index_poll_seconds=0.1)
    img = content.png_bytes(content.make_image(77, (96, 96)))
    item = _post(w, "before", image=img)
    with w.transaction() as session:
        create_user(session, "lead", "admin", PASSWORD, actor="test")
    headers = api_key(w, "lead")
    with TestClient(create_app(w)) as client:
        assert client.post("/api/banks", headers=headers,
                           json={"name": "srv"}).status_code == 201
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # the worker's cursor is set at its first pass
            with w.transaction() as session:
                if session.get(__import__("warding.db.models_incidents",
                                          fromlist=["RetroCursor"]).RetroCursor, "retro"):
                    break
            time.sleep(0.05)
        r = client.post("/api/banks/srv/entries", headers=headers,
                        json={"hashes": [{"type": "sha256", "value": _sha(img)}]})
        assert r.status_code == 201, r.text
        progress: dict[str, Any] = {}
        while time.monotonic() < deadline:
            progress = client.get("/api/banks/srv/retro", headers=headers).json()
            if progress["runs"] and progress["runs"][0]["status"] == "done":
                break
            time.sleep(0.1)
        (run,) = progress["runs"]
        assert run["trigger"] == "feed" and run["matches"] == 1 and run["cases_opened"] == 1
        assert progress["pending_changes"] == 0 and progress["running"] is False
        assert client.get("/api/banks/nope/retro", headers=headers).status_code == 404
    with w.transaction() as session:
        case = session.execute(select(Case).where(Case.item_id == item)).scalar_one()
        assert case.reasons[0]["retroactive"] is True


KILL_SCRIPT = """
import os, signal, sys
from warding.app import Warding
from warding.incidents import retro_write, worker
w = Warding.from_env(database_url=sys.argv[1], data_dir=sys.argv[2], semantic_matching=False)
retro_write.ITEMS_PER_TRANSACTION = 1
original = retro_write._write_page
pages = []
def page_then_die(*args, **kwargs):
    original(*args, **kwargs)
    pages.append(1)
    if len(pages) == 2:
        os.kill(os.getpid(), signal.SIGKILL)  # kill -9 in the middle of a run
retro_write._write_page = page_then_die
worker.tick(w)
"""


def test_worker_resumes_after_kill_9(app_factory: Any, tmp_path: Path) -> None:
    import subprocess
    import sys

    from warding.banks.records import EntryRecord
    from warding.banks.service import add_records, create_bank, get_bank
    from warding.incidents import worker

    w = app_factory(semantic_matching=False)
    imgs = [content.png_bytes(content.make_image(60 + i, (96, 96))) for i in range(5)]
    ids = [_post(w, f"k{i}", image=img) for i, img in enumerate(imgs)]
    _post(w, "unrelated", image=content.png_bytes(content.make_image(99, (96, 96))))
    worker.tick(w)
    with w.transaction() as session:
        create_bank(session, "killed", actor="test")
    with w.transaction() as session:
        add_records(session, get_bank(session, "killed"),
                    [EntryRecord(signals=[("sha256", _sha(img))], labels={}, provenance="",
                                 ref=str(i)) for i, img in enumerate(imgs)],
                    w.signal_types, actor="api", how="add")
    script = tmp_path / "kill.py"
    script.write_text(KILL_SCRIPT)
    proc = subprocess.run([sys.executable, str(script), w.settings.database_url,
                           str(w.settings.data_dir)], capture_output=True, text=True,
                          timeout=300, cwd=Path(__file__).resolve().parents[1])
    assert proc.returncode == -9, proc.stderr
    with w.transaction() as session:
        # the first page committed; the second was killed before its commit
        assert session.execute(select(func.count(Case.id))).scalar() == 1
        assert session.execute(select(RetroRun.status)).scalar_one() == "running"
    assert worker.tick(w) >= 1  # the cursor had not moved: the change is run again
    with w.transaction() as session:
        assert sorted(session.execute(select(Case.item_id)).scalars()) == sorted(ids)
        # nothing matched twice
        assert session.execute(select(func.count(Match.id))).scalar() == 5
        assert session.execute(select(func.count(RetroMatch.id))).scalar() == 5
        statuses = session.execute(select(RetroRun.status).order_by(RetroRun.id)).scalars()
        assert list(statuses) == ["interrupted", "done"]
    assert worker.tick(w) == 0


def test_scan_keeps_its_sentence_vectors_for_retroactive_runs(app_factory: Any,
                                                             monkeypatch: Any) -> None:
    """Posts scanned while a bank holds texts keep the vector semantic matching computed, so
    a retroactive text_semantic run later embeds none of them again."""
    from warding.banks.service import add_records, create_bank, record_for_text
    from warding.db.models_incidents import RetroItemVector
    from warding.incidents.runs import run_for_bank
    from warding.matching.semantic import add_bank_text
    from warding.signals import embedding

    w = app_factory()
    first, known = content.KNOWN_TEXTS[0], content.KNOWN_TEXTS[1]
    with w.transaction() as session:
        bank = create_bank(session, "early", actor="test")
        add_records(session, bank, [record_for_text(first, w.signal_types, {}, "")],
                    w.signal_types, actor="test", how="add")
        add_bank_text(w, session, bank, first)
    _post(w, "p1", text=known.replace("forty", "thirty"))
    _post(w, "p2", text="an unrelated sentence about trains and stations")
    with w.transaction() as session:
        kept = session.execute(select(func.count()).select_from(RetroItemVector)).scalar()
        assert kept == 2
        bank = create_bank(session, "texts", actor="test")
        add_records(session, bank, [record_for_text(known, w.signal_types, {}, "")],
                    w.signal_types, actor="test", how="add")
        add_bank_text(w, session, bank, known)
    embedder = embedding.get_embedder()
    encoded: list[int] = []
    original = embedder.encode
    monkeypatch.setattr(embedder, "encode",
                        lambda texts: encoded.append(len(texts)) or original(texts))
    summary = run_for_bank(w, "texts")
    assert summary.cases_opened == 1 and encoded == []
