"""Signal exchanges (issue 13): configured through HMA's /c/exchanges API, fetched into their
banks by `warding exchange fetch`, credentials kept write-only."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from threatexchange.exchanges import fetch_state as state
from threatexchange.exchanges.impl.static_sample import StaticSampleSignalExchangeAPI
from threatexchange.signal_type.pdq.signal import PdqSignal

from tests.cli_helpers import CLI
from warding.app import Warding
from warding.db.models import AuditEvent, BankEntry, Exchange
from warding.errors import Conflict
from warding.exchanges import apis
from warding.exchanges.fetch import fetch_exchange
from warding.web.factory import create_app

TOKEN = "12345789|000000000000"


def _client(w: Warding) -> TestClient:
    return TestClient(create_app(w), client=("127.0.0.1", 50000))


def test_exchange_api_round_trip(app_factory: Callable[..., Warding]) -> None:
    w = app_factory(hma_compatible=True)
    with _client(w) as client:
        assert set(client.get("/c/exchanges/apis").json()) == {
            "sample", "fb_threatexchange", "ncmec", "stop_ncii", "tat"}
        r = client.post("/c/exchanges/api/fb_threatexchange",
                        json={"credential_json": {"api_token": TOKEN}})
        assert r.json() == {"supports_authentification": True, "has_set_authentification": True}
        bad = client.post("/c/exchanges/api/sample", json={"credential_json": {"x": 1}})
        assert bad.status_code == 400 and "takes no credentials" in bad.json()["message"]
        assert client.get("/c/exchanges/api/nope").status_code == 400
        # an exchange that needs settings: refused without them, with a pointer to the schema
        r = client.post("/c/exchanges", json={"api": "fb_threatexchange", "bank": "TX_A"})
        assert r.status_code == 400 and "schema" in r.json()["message"]
        r = client.post("/c/exchanges", json={"api": "fb_threatexchange", "bank": "TX_A",
                                              "api_json": {"privacy_group": 1234}})
        assert r.status_code == 201
        assert client.get("/c/exchange/TX_A").json() == {
            "name": "TX_A", "api": "fb_threatexchange", "enabled": True, "privacy_group": 1234}
        assert client.get("/c/bank/TX_A").status_code == 200  # its bank was made
        assert client.post("/c/exchanges", json={"api": "sample", "bank": "TX_A"}
                           ).status_code == 403
        assert client.post("/c/exchanges", json={"api": "sample", "bank": "lower"}
                           ).status_code == 400
        assert client.get("/c/exchanges").json() == ["TX_A"]
        r = client.put("/c/exchange/TX_A", json={"enabled": False})
        assert r.json()["enabled"] is False
        status = client.get("/c/exchange/TX_A/status").json()
        assert status["last_fetch_succeeded"] is None and status["fetched_items"] == 0
        assert client.delete("/c/exchange/TX_A", params={"delete_bank": "false"}).json() == {
            "message": "Exchange deleted"}
        assert client.get("/c/bank/TX_A").status_code == 200
        assert client.get("/c/exchange/TX_A/status").status_code == 404
    with w.transaction() as s:
        events = list(s.execute(select(AuditEvent)).scalars())
        logged = json.dumps([e.data for e in events])
        types = {e.event_type for e in events}
    assert TOKEN not in logged  # credentials are never logged, only that they were set
    assert {"exchange.credentials_set", "exchange.created", "exchange.deleted"} <= types


def test_fetch_sample_into_its_bank(tmp_path: Path) -> None:
    cli = CLI(tmp_path)
    cli.run("init")
    w = Warding(_settings(cli))
    try:
        with _client(w) as client:
            client.app.state.warding.settings.hma_compatible = True  # type: ignore[attr-defined]
            assert client.post("/c/exchanges", json={"api": "sample", "bank": "SAMPLE"}
                               ).status_code == 201
        first = cli.json("exchange", "fetch", "--json")["fetched"][0]
        assert first["succeeded"] and first["added"] >= 2
        assert first["retro"]["bank"] == "SAMPLE"  # stored items matched against the new
        assert first["retro"]["entries"] == first["added"]  # entries (issue 20)
        again = cli.json("exchange", "fetch", "SAMPLE", "--json", "--no-retro")["fetched"][0]
        assert again["succeeded"] and again["added"] == 0  # nothing twice
        assert "retro" not in again
        with w.transaction() as s:
            entries = list(s.execute(select(BankEntry)).scalars())
        assert len(entries) == first["added"]
        assert {e.provenance for e in entries} == {"exchange:SAMPLE"}
        listed = cli.json("exchange", "list", "--json")["exchanges"][0]
        assert listed["status"]["last_fetch_succeeded"] is True
        assert listed["status"]["up_to_date"] is True
    finally:
        w.close()


def _settings(cli: CLI) -> Any:
    from warding.config import Settings

    return Settings(database_url=cli.db, data_dir=cli.data_dir)


# -- a fake exchange: additions, an opinion change, a removal, a failure --------------------
@dataclass
class _Checkpoint(state.FetchCheckpointBase):
    step: int

    def get_progress_timestamp(self) -> int | None:
        return 1_700_000_000 + self.step


_PLAN: list[dict[tuple[str, str], Any]] = []


class _FakeAPI(StaticSampleSignalExchangeAPI):
    @classmethod
    def get_name(cls) -> str:
        return "fake"

    @staticmethod
    def get_checkpoint_cls() -> Any:
        return _Checkpoint

    def fetch_iter(self, supported: Any, checkpoint: Any) -> Iterator[Any]:
        start = checkpoint.step if checkpoint is not None else 0
        for step in range(start, len(_PLAN)):
            if _PLAN[step] == {("boom", "boom"): None}:
                raise RuntimeError("the exchange answered 500")
            yield state.FetchDelta(_PLAN[step], _Checkpoint(step + 1))


def _meta(category: state.SignalOpinionCategory) -> state.FetchedSignalMetadata:
    class Meta(state.FetchedSignalMetadata):
        def get_as_opinions(self) -> list[state.SignalOpinion]:
            return [state.SignalOpinion(False, category, {"t1"})]

    return Meta()


@pytest.fixture
def fake_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[tuple[str, str], Any]]]:
    monkeypatch.setattr(apis, "KNOWN", (*apis.KNOWN, _FakeAPI))
    _PLAN.clear()
    yield _PLAN
    _PLAN.clear()


def test_fetch_applies_deltas_with_checkpoints(app_factory: Callable[..., Warding],
                                               fake_api: list[Any]) -> None:
    w = app_factory(hma_compatible=True, exchange_apis=["fake"])
    a, b = PdqSignal.get_examples()[:2]
    pos, neg = (_meta(state.SignalOpinionCategory.POSITIVE_CLASS),
                _meta(state.SignalOpinionCategory.NEGATIVE_CLASS))
    fake_api.extend([{("pdq", a): pos, ("pdq", b): pos, ("tmk", "x"): pos},
                     {("pdq", a): neg},
                     {("pdq", b): None},
                     {("boom", "boom"): None}])
    with _client(w) as client:
        assert client.post("/c/exchanges", json={"api": "fake", "bank": "FAKE"}
                           ).status_code == 201
        out = fetch_exchange(w, "FAKE")
        assert not out.succeeded and "500" in out.error
        assert (out.added, out.changed, out.removed, out.deltas) == (2, 1, 1, 3)
        status = client.get("/c/exchange/FAKE/status").json()
        assert status["last_fetch_succeeded"] is False and "500" in status["last_error"]
        assert status["checkpoint_ts"] == 1_700_000_003 and status["fetched_items"] == 5
        assert status["running_fetch_start_ts"] is None and status["up_to_date"] is False
        with w.transaction() as s:
            rows = [(e.labels, e.enabled) for e in s.execute(select(BankEntry)).scalars()]
        assert rows == [({"te_opinion": "negative_class", "te_tags": "t1"}, False)]
        fake_api[3] = {}  # the exchange recovers: the fetch resumes at the checkpoint
        again = fetch_exchange(w, "FAKE")
        assert again.succeeded and again.deltas == 1 and again.added == 0
        with w.transaction() as s:  # a fetch still running: a second one is refused
            s.execute(update(Exchange).values(running_fetch_start_ts=time.time()))
        with pytest.raises(Conflict):
            fetch_exchange(w, "FAKE")
