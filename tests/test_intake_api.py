"""Live intake (issue 13): POST /api/items, the multipart upload, GET an item, webhook events,
limits and permissions. Neutral placeholder text and generated images only."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from standardwebhooks.webhooks import Webhook
from sqlalchemy import func, select

from tests.test_action_sinks import SECRET, Receiver
from tests.test_web import PASSWORD, api_key, png_bytes
from warding.accounts.service import create_user
from warding.app import Warding
from warding.banks.service import add_records, create_bank, records_for_files
from warding.db.models import Case, Classification, ContentItem, Decision, IngestRejection
from warding.db.models_intake import WebhookEvent
from warding.intake.outbox import deliver_due
from warding.web.factory import create_app

TEXT = "Neutral placeholder post about gardens, trains and the weather, number {n}."


def post(n: int, **extra: Any) -> dict[str, Any]:
    return {"id": f"p{n}", "account": "acct-1", "time": "2026-01-02T03:04:05Z",
            "text": TEXT.format(n=n), **extra}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture
def make(app_factory: Callable[..., Warding]
         ) -> Iterator[Callable[..., tuple[Warding, TestClient]]]:
    clients: list[TestClient] = []

    def factory(**settings: Any) -> tuple[Warding, TestClient]:
        w = app_factory(semantic_matching=False, **settings)
        with w.transaction() as session:
            for role in ("admin", "reviewer", "analyst", "api"):
                create_user(session, role, role, PASSWORD, actor="test")
        client = TestClient(create_app(w))
        clients.append(client)
        return w, client

    yield factory
    for client in clients:
        client.close()


def count(w: Warding, model: Any = ContentItem) -> int:
    with w.transaction() as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def test_batch_answers_every_post_in_order_and_retries_are_duplicates(make: Any) -> None:
    w, client = make()
    key = api_key(w, "api")
    body = {"source": "uploads", "items": [
        post(1), {"id": "p2", "text": 42}, post(1), post(3, outlinks=["https://example.invalid/a"]),
        {"text": "no id here"}, "not an object"]}
    r = client.post("/api/items", headers=key, json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["accepted"], out["duplicates"], out["rejected"]) == (2, 1, 3)
    statuses = [i["status"] for i in out["items"]]
    assert statuses == ["accepted", "rejected", "duplicate", "accepted", "rejected", "rejected"]
    first, bad, dup, third, no_id, not_obj = out["items"]
    assert first["external_id"] == "p1" and first["item_id"] and first["case_id"] is None
    assert dup["item_id"] == first["item_id"]
    assert "items[1] (id 'p2')" in bad["error"] and "'text' must be a string" in bad["error"]
    assert "'id' is required" in no_id["error"] and "items[4]" in no_id["error"]
    assert "expected a JSON object" in not_obj["error"]
    assert third["external_id"] == "p3"
    assert count(w) == 2
    assert count(w, IngestRejection) == 3  # refusals are logged, not dropped
    again = client.post("/api/items", headers=key, json=body).json()
    assert again["accepted"] == 0 and again["duplicates"] == 3
    assert [i["item_id"] for i in again["items"] if i["status"] == "duplicate"] == \
        [first["item_id"], first["item_id"], third["item_id"]]
    assert count(w) == 2


def test_get_item_for_polling(make: Any) -> None:
    w, client = make()
    key = api_key(w, "api")
    client.post("/api/items", headers=key, json={"source": "uploads", "items": [
        post(7, url="https://example.invalid/p7", lang="en", extra_field="kept")]})
    r = client.get("/api/items/uploads/p7", headers=key)
    assert r.status_code == 200, r.text
    item = r.json()
    assert item["external_id"] == "p7" and item["source"] == "uploads"
    assert item["metadata"]["extra_field"] == "kept" and item["lang"] == "en"
    assert {"text", "url"} <= {s["type"] for s in item["signals"]}
    assert item["case"] is None and item["decisions"] == [] and item["actions"] == []
    missing = client.get("/api/items/uploads/nope", headers=key)
    assert missing.status_code == 404 and "no item 'nope'" in missing.json()["detail"]
    # ids with slashes are fine
    client.post("/api/items", headers=key, json={"source": "s", "items": [post(8, id="a/b")]})
    assert client.get("/api/items/s/a/b", headers=key).json()["external_id"] == "a/b"


def test_limits_are_4xx_naming_the_reason(make: Any) -> None:
    w, client = make(intake_max_items=3, intake_max_body_bytes=8192, max_file_bytes=2000)
    key = api_key(w, "api")

    def send(body: Any, **kw: Any) -> Any:
        return client.post("/api/items", headers=key, json=body, **kw)

    r = send({"source": "s", "items": []})
    assert r.status_code == 422 and "empty" in r.json()["detail"]
    r = send({"source": "s", "items": [post(i) for i in range(4)]})
    assert r.status_code == 422 and "4 posts, over the limit of 3" in r.json()["detail"]
    r = send({"source": "s", "items": [post(1, text="x" * 9000)]})
    assert r.status_code == 413 and "intake_max_body_bytes" in r.json()["detail"]
    r = send({"items": [post(1)]})
    assert r.status_code == 422 and "'source' is required" in r.json()["detail"]
    for items in (None, 5, "p1", {"id": "p1"}):  # missing, a number, a string, an object
        body = {"source": "s"} if items is None else {"source": "s", "items": items}
        r = send(body)
        assert r.status_code == 422 and "must be a list" in r.json()["detail"], items
    r = send([post(1)])
    assert r.status_code == 422 and "JSON object" in r.json()["detail"]
    r = send({"source": "s", "items": [post(1)], "extra": 1})
    assert r.status_code == 422 and "'extra'" in r.json()["detail"]
    r = client.post("/api/items", headers={**key, "Content-Type": "application/json"},
                    content=b'{"source": "s", "items": [')
    assert r.status_code == 400 and "not valid JSON" in r.json()["detail"]
    big = b64(b"\0" * 3000)
    r = send({"source": "s", "items": [post(1, media=[{"filename": "big.bin", "data_b64": big}]),
                                       post(2, media=[{"filename": "x.png", "data_b64": "!!"}]),
                                       post(3)]})
    assert r.status_code == 200
    big_item, bad64, fine = r.json()["items"]
    assert big_item["status"] == "rejected" and "items[0] (id 'p1')" in big_item["error"]
    assert "max_file_bytes" in big_item["error"] and "big.bin" in big_item["error"]
    assert bad64["status"] == "rejected" and "not valid base64" in bad64["error"]
    assert fine["status"] == "accepted"
    assert count(w) == 1


def test_scan_permission_is_enforced(make: Any) -> None:
    w, client = make()
    body = {"source": "s", "items": [post(1)]}
    r = client.post("/api/items", json=body)
    assert r.status_code == 401
    r = client.post("/api/items", json=body, headers={"Authorization": "Bearer wd_nope"})
    assert r.status_code == 401
    for role in ("reviewer", "analyst"):
        r = client.post("/api/items", json=body, headers=api_key(w, role))
        assert r.status_code == 403 and "needs scan" in r.json()["detail"]
        r = client.get("/api/items/s/p1", headers=api_key(w, role))
        assert r.status_code == 403
    assert count(w) == 0
    for role in ("api", "admin"):
        assert client.post("/api/items", json=body, headers=api_key(w, role)).status_code == 200


def test_multipart_upload(make: Any) -> None:
    w, client = make(max_file_bytes=100_000)
    key = api_key(w, "api")
    image = png_bytes(3)
    form = {"source": "uploads", "id": "u1", "account": "acct-9", "text": "A placeholder caption.",
            "outlinks": ["https://example.invalid/x", "https://example.invalid/y"]}
    r = client.post("/api/items/upload", headers=key, data=form,
                    files={"file": ("../../etc/shape.png", image, "image/png")})
    assert r.status_code == 200, r.text
    item = r.json()["items"][0]
    assert item["status"] == "accepted" and item["external_id"] == "u1"
    stored = client.get("/api/items/uploads/u1", headers=key).json()
    assert stored["media"][0]["name"] == "shape.png" and stored["media"][0]["mime"] == "image/png"
    assert "pdq" in {s["type"] for s in stored["signals"]}
    assert stored["outlinks"] == ["https://example.invalid/x", "https://example.invalid/y"]
    retry = client.post("/api/items/upload", headers=key, data=form,
                        files={"file": ("shape.png", image, "image/png")})
    assert retry.json()["items"][0]["status"] == "duplicate"
    r = client.post("/api/items/upload", headers=key, data={**form, "id": "u2"},
                    files={"file": ("big.bin", b"\1" * 100_001, "application/octet-stream")})
    assert r.status_code == 413 and "'u2'" in r.json()["detail"]
    r = client.post("/api/items/upload", headers=key, data={**form, "id": "u3"},
                    files={"file": ("broken.png", image[:60], "image/png")})
    assert r.status_code == 422 and "corrupt or truncated" in r.json()["detail"]
    r = client.post("/api/items/upload", headers=key, data={"source": "uploads"},
                    files={"file": ("a.png", image, "image/png")})
    assert r.status_code == 422 and "'id' is required" in r.json()["detail"]
    r = client.post("/api/items/upload", headers=key, data=form,
                    files={"attachment": ("a.png", image, "image/png")})
    assert r.status_code == 422 and "no 'file' part" in r.json()["detail"]
    r = client.post("/api/items/upload", headers=key, data=form)
    assert r.status_code == 415
    r = client.post("/api/items/upload", headers=key, json=form)
    assert r.status_code == 415
    r = client.post("/api/items", headers=key, data=form, files={"file": ("a.png", image)})
    assert r.status_code == 415 and "/api/items/upload" in r.json()["detail"]
    assert count(w) == 1


def test_auto_action_bank_match_decides_and_sends_a_signed_event(make: Any,
                                                                 tmp_path: Path) -> None:
    receiver = Receiver(fail_first=0)
    try:
        w, client = make(event_webhook_url=receiver.url, webhook_secret=SECRET,
                         action_worker_interval=0)
        image = png_bytes(5)
        known = tmp_path / "known.png"
        known.write_bytes(image)
        with w.transaction() as session:
            bank = create_bank(session, "auto", actor="test", auto_action=True)
            add_records(session, bank, records_for_files([known], w.signal_types,
                        {"category": "recruitment"}, "test", 10**7), w.signal_types,
                        actor="test", how="test")
        key = api_key(w, "api")
        r = client.post("/api/items", headers=key, json={"source": "uploads", "items": [
            post(1, media=[{"filename": "k.png", "data_b64": b64(image)}]), post(2)]})
        hit, plain = r.json()["items"]
        assert hit["case_id"] and plain["case_id"] is None
        assert hit["matches"] and hit["matches"][0]["bank"] == "auto"
        assert deliver_due(w) == 1
        headers, raw = receiver.calls[0]
        event = json.loads(raw)
        assert event["event"] == "case.opened" and event["case_id"] == hit["case_id"]
        assert event["auto_action"] is True and event["banks"] == ["auto"]
        assert event["item"] == {"item_id": hit["item_id"], "source": "uploads",
                                 "external_id": "p1"}
        Webhook(SECRET).verify(raw, headers)  # the Standard Webhooks verifier
        assert headers["Idempotency-Key"] == event["event_id"]
        assert deliver_due(w) == 0  # delivered once
        retry = client.post("/api/items", headers=key, json={"source": "uploads", "items": [
            post(1, media=[{"filename": "k.png", "data_b64": b64(image)}])]}).json()["items"][0]
        assert retry["status"] == "duplicate" and retry["case_id"] == hit["case_id"]
        assert retry["matches"] == hit["matches"]
        polled = client.get("/api/items/uploads/p1", headers=key).json()
        assert polled["case"]["id"] == hit["case_id"]
        assert polled["decisions"][0]["automated"] is True
        assert polled["events"][0]["status"] == "done"
        with w.transaction() as session:
            assert session.execute(select(Decision)).scalar_one().violating
            assert session.execute(select(func.count(WebhookEvent.id))).scalar_one() == 1
    finally:
        receiver.close()


def test_no_event_without_a_webhook_url(make: Any, tmp_path: Path) -> None:
    w, client = make()
    image = png_bytes(6)
    known = tmp_path / "known.png"
    known.write_bytes(image)
    with w.transaction() as session:
        bank = create_bank(session, "known", actor="test")
        add_records(session, bank, records_for_files([known], w.signal_types, {}, "test", 10**7),
                    w.signal_types, actor="test", how="test")
    r = client.post("/api/items", headers=api_key(w, "api"), json={"source": "s", "items": [
        post(1, media=[{"filename": "k.png", "data_b64": b64(image)}])]})
    assert r.json()["items"][0]["case_id"]
    assert count(w, Case) == 1 and count(w, WebhookEvent) == 0
    with w.transaction() as session:
        assert session.execute(select(func.count(Decision.id))).scalar_one() == 0  # review


def test_openapi_lists_the_intake_endpoints(make: Any) -> None:
    _, client = make()
    spec = client.get("/openapi.json").json()
    batch = spec["paths"]["/api/items"]["post"]
    schema = batch["requestBody"]["content"]["application/json"]["schema"]
    assert schema["properties"]["items"]["maxItems"] == 1000
    assert "413" in batch["responses"] and "422" in batch["responses"]
    assert "multipart/form-data" in spec["paths"]["/api/items/upload"]["post"]["requestBody"][
        "content"]
    assert "get" in spec["paths"]["/api/items/{source}/{external_id}"]


@pytest.mark.postgres
def test_intake_on_postgres(pg_app: Warding) -> None:
    with pg_app.transaction() as session:
        create_user(session, "api", "api", PASSWORD, actor="test")
    client = TestClient(create_app(pg_app))
    key = api_key(pg_app, "api")
    body = {"source": "s", "items": [post(1), post(2), post(1)]}
    out = client.post("/api/items", headers=key, json=body).json()
    assert [i["status"] for i in out["items"]] == ["accepted", "accepted", "duplicate"]
    again = client.post("/api/items", headers=key, json=body).json()
    assert again["duplicates"] == 3
    assert count(pg_app) == 2
    client.post("/api/items", headers=key, json={"source": "s", "items": [post(
        9, outlinks=["https://example.invalid/a"], extra={"nested": [1, "two"]},
        media=[{"filename": "a.png", "data_b64": b64(png_bytes(1))}])]})
    item = client.get("/api/items/s/p9", headers=key).json()
    assert item["outlinks"] == ["https://example.invalid/a"]
    assert item["metadata"]["extra"] == {"nested": [1, "two"]}
    assert item["posted_at"].startswith("2026-01-02T03:04:05")
    assert item["media"][0]["mime"] == "image/png" and len(item["signals"]) >= 5
    from warding.audit.log import verify
    from warding.banks.service import record_for_text

    with pg_app.transaction() as session:
        bank = create_bank(session, "known", actor="test")
        add_records(session, bank, [record_for_text(TEXT.format(n=50), pg_app.signal_types, {},
                                                    "test")], pg_app.signal_types,
                    actor="test", how="test")
    out = client.post("/api/items", headers=key, json={"source": "s", "items": [
        post(50), post(51, text="Quite another note on bicycles, bread and rain."),
        post(52, text=TEXT.format(n=50))]}).json()
    assert [i["case_id"] is not None for i in out["items"]] == [True, False, True]
    with pg_app.transaction() as session:
        result = verify(session)
        assert result.ok, result.problem
    client.close()


@pytest.fixture(scope="module")
def synthetic_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model trained on the classifier tests' tiny neutral data set (salad clubs play the
    violating class)."""
    from tests.test_classifier import write_synthetic_data
    from warding.classify.training import train

    root = tmp_path_factory.mktemp("intake-model")
    models = root / "models"
    train(write_synthetic_data(root / "data"), models)
    return models


CLUB = "pledge your spoon to the mango salad club and chop for the cause, loyal friends"
PLAIN = "cold morning in oslo, frost on the cars and fog near the river again today"


def _with_model(w: Warding, models: Path) -> None:
    import shutil

    shutil.copytree(models, w.settings.models_dir, dirs_exist_ok=True)
    w.reset_classifier()


def test_classified_posts_open_cases_and_retries_repeat_the_answer(
        make: Any, synthetic_models: Path) -> None:
    w, client = make()
    _with_model(w, synthetic_models)
    key = api_key(w, "api")
    body = {"source": "s", "items": [{"id": "c1", "text": CLUB}, {"id": "c2", "text": PLAIN},
                                     {"id": "c3", "text": "ok"}]}
    club, plain, short = client.post("/api/items", headers=key, json=body).json()["items"]
    assert club["classification"]["violating"] and club["case_id"]
    assert not plain["classification"]["violating"] and plain["case_id"] is None
    assert short["classification"]["assessed"] is False and short["case_id"] is None
    again = client.post("/api/items", headers=key, json=body).json()["items"]
    assert [a["status"] for a in again] == ["duplicate"] * 3
    assert again[0]["case_id"] == club["case_id"]
    assert again[0]["classification"] == club["classification"]
    assert again[2]["classification"]["assessed"] is False
    polled = client.get("/api/items/s/c1", headers=key).json()
    assert polled["case"]["reasons"][0]["kind"] == "classifier"
    assert polled["classification"]["explanation"]["top_features"]  # explained: it routed
    from warding.audit.log import verify

    with w.transaction() as session:  # the cases' events, inserted together, still chain
        result = verify(session)
        assert result.ok, result.problem


def test_deferred_scan_ends_as_a_waiting_one(app_factory: Callable[..., Warding],
                                             synthetic_models: Path, tmp_path: Path) -> None:
    """The CLI's scan stores items while the model loads and classifies them afterwards;
    the result is the same as a scan that waited, and a rerun classifies what a crash left
    unclassified and duplicates nothing."""
    from warding.pipeline.scan import scan_paths

    posts = tmp_path / "posts.jsonl"
    posts.write_text("".join(json.dumps({"id": f"p{i}", "text": CLUB if i % 3 == 0 else PLAIN})
                             + "\n" for i in range(60)), encoding="utf-8")

    def outcome(w: Warding) -> list[tuple[str, bool, int | None]]:
        with w.transaction() as session:
            rows = session.execute(
                select(ContentItem.external_id, Case.severity)
                .outerjoin(Case, Case.item_id == ContentItem.id).order_by(ContentItem.id)).all()
            n = session.execute(select(func.count(Classification.id))).scalar_one()
        assert n == 60
        return [(e, s is not None, s) for e, s in rows]

    waited, deferred = app_factory(semantic_matching=False), app_factory(semantic_matching=False)
    for w in (waited, deferred):
        _with_model(w, synthetic_models)
    a = scan_paths(waited, [posts], "s")
    b = scan_paths(deferred, [posts], "s", defer_classifier=True)
    assert (a.items, a.cases_opened, a.classified) == (b.items, b.cases_opened, b.classified)
    assert outcome(waited) == outcome(deferred)
    # a crash between storing and classifying: the rerun classifies, and adds no item
    with deferred.transaction() as session:
        session.query(Case).delete()
        session.query(Classification).delete()
    again = scan_paths(deferred, [posts], "s")
    assert again.items == 0 and again.duplicates == 60
    assert again.classified == 60 and again.cases_opened == a.cases_opened
    assert outcome(deferred) == outcome(waited)


def test_deferred_scan_with_repeated_ids(app_factory: Callable[..., Warding],
                                         synthetic_models: Path, tmp_path: Path) -> None:
    """The same id twice in one input, the second far enough to land after the model
    loaded: one item, classified once."""
    from warding.pipeline.scan import scan_paths

    posts = tmp_path / "posts.jsonl"
    rows = [{"id": f"p{i}", "text": CLUB if i % 2 else PLAIN} for i in range(700)]
    rows.append({"id": "p1", "text": CLUB})
    posts.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    w = app_factory(semantic_matching=False)
    _with_model(w, synthetic_models)
    summary = scan_paths(w, [posts], "s", defer_classifier=True)
    assert (summary.items, summary.duplicates) == (700, 1)
    with w.transaction() as session:
        assert session.execute(select(func.count(Classification.id))).scalar_one() == 700
        assert session.execute(select(func.count(Case.id))).scalar_one() == summary.cases_opened


def test_event_delivery_is_retried_then_dead_lettered(make: Any, tmp_path: Path) -> None:
    from datetime import timedelta

    from warding.db.models import utcnow

    receiver = Receiver(fail_first=1)
    try:
        w, client = make(event_webhook_url=receiver.url, action_max_attempts=2,
                         webhook_unsigned=True, action_worker_interval=0)
        image = png_bytes(8)
        known = tmp_path / "known.png"
        known.write_bytes(image)
        with w.transaction() as session:
            bank = create_bank(session, "known", actor="test")
            add_records(session, bank, records_for_files([known], w.signal_types, {}, "test",
                                                         10**7), w.signal_types,
                        actor="test", how="test")
        key = api_key(w, "api")
        for n in (1, 2):
            client.post("/api/items", headers=key, json={"source": "s", "items": [
                post(n, media=[{"filename": "k.png", "data_b64": b64(image)}])]})
        assert deliver_due(w) == 1  # the first attempt of the first event got a 503
        with w.transaction() as session:
            states = sorted(session.execute(select(WebhookEvent.status)).scalars())
        assert states == ["done", "failed"]
        receiver.fail_first = 10
        later = utcnow() + timedelta(hours=2)
        assert deliver_due(w, now=later) == 0
        with w.transaction() as session:
            failed = session.execute(select(WebhookEvent).where(
                WebhookEvent.status != "done")).scalar_one()
            assert failed.status == "dead" and failed.attempts == 2
            assert "503" in failed.detail
    finally:
        receiver.close()


def test_odd_text_and_long_ids_round_trip(make: Any) -> None:
    """Lone surrogates (valid JSON escapes, invalid text) are replaced, never a 500; an id
    over 512 characters is stored hashed and still found by the id the platform sent."""
    w, client = make()
    key = api_key(w, "api")
    long_id = "L" * 600
    raw = ('{"source": "s", "items": [{"id": "x1", "text": "caf\\u00e9 \\ud800 ok", '
           '"extra": {"k\\udfff": ["\\ud800", 1.5, true, null]}}, '
           '{"id": "' + long_id + '", "text": "A long id."}]}')
    r = client.post("/api/items", headers={**key, "Content-Type": "application/json"},
                    content=raw.encode())
    assert r.status_code == 200, r.text
    first, second = r.json()["items"]
    assert first["status"] == second["status"] == "accepted"
    assert second["external_id"].startswith("sha256:")
    item = client.get("/api/items/s/x1", headers=key).json()
    assert item["text"] == "café \ufffd ok"
    assert item["metadata"]["extra"] == {"k\ufffd": ["\ufffd", 1.5, True, None]}
    assert client.get(f"/api/items/s/{long_id}", headers=key).json()["item_id"] == \
        second["item_id"]


def test_concurrent_requests_with_the_same_posts_store_each_once(make: Any) -> None:
    """Two requests racing with the same posts: each post is accepted by exactly one of them
    (the other answers duplicate, with the same item id) and stored once."""
    import threading

    from warding.intake.service import ingest

    w, _ = make()
    posts = [post(n) for n in range(200)]
    answers: list[dict[str, Any]] = []
    errors: list[BaseException] = []

    def send() -> None:
        try:
            answers.append(ingest(w, "race", posts, actor="test").body)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(a["accepted"] for a in answers) == 200
    assert sum(a["duplicates"] for a in answers) == 200
    ids = [{i["external_id"]: i["item_id"] for i in a["items"]} for a in answers]
    assert ids[0] == ids[1]
    assert count(w) == 200


def test_a_post_stored_by_another_writer_meanwhile_is_a_duplicate(
        make: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The known-ids check can miss an item that another writer commits just after it; the
    insert then skips it (ON CONFLICT DO NOTHING) and the answer is duplicate, with its id."""
    from warding.intake.service import ingest
    from warding.pipeline import store

    w, _ = make()
    first = ingest(w, "race", [post(1), post(2)], actor="test").body
    monkeypatch.setattr(store, "existing_ids", lambda *a, **k: {})  # the check sees nothing
    again = ingest(w, "race", [post(1), post(3), post(2)], actor="test").body
    assert [i["status"] for i in again["items"]] == ["duplicate", "accepted", "duplicate"]
    assert again["items"][0]["item_id"] == first["items"][0]["item_id"]
    assert again["items"][2]["item_id"] == first["items"][1]["item_id"]
    assert count(w) == 3
