"""No blocking in the event loop (issue 22): the HMA routes' hashing and database work run
in the thread pool, and the semantic index sets faiss's process-wide settings once.

(How much this keeps lookups fast while uploads are hashed is measured, not asserted:
``make bench-latency``, docs/benchmarks.md.)"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from tests.test_web import PASSWORD, png_bytes
from warding.accounts.service import create_api_key, create_user
from warding.app import Warding
from warding.matching import semantic
from warding.web import hma, hma_media
from warding.web.factory import create_app
from warding.web.routers import hma_content, hma_curation


def _in_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def spy(calls: list[bool], real: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        calls.append(_in_loop())
        return real(*args, **kwargs)
    return wrapper


@pytest.fixture
def hma_client(wapp: Warding) -> Iterator[tuple[TestClient, dict[str, str]]]:
    with wapp.transaction() as s:
        create_user(s, "curator", "admin", PASSWORD, actor="test")
        key = create_api_key(s, "curator", actor="test")
    with TestClient(create_app(wapp)) as client:
        yield client, {"Authorization": f"Bearer {key}"}


def test_hma_hashing_and_bank_updates_run_off_the_event_loop(
        hma_client: tuple[TestClient, dict[str, str]], monkeypatch: pytest.MonkeyPatch) -> None:
    client, key = hma_client
    hashed: list[bool] = []
    written: list[bool] = []
    keys: list[bool] = []
    monkeypatch.setattr(hma_media, "hash_bytes", spy(hashed, hma_media.hash_bytes))
    monkeypatch.setattr(hma_curation, "update_bank", spy(written, hma_curation.update_bank))
    monkeypatch.setattr(hma_curation, "create_bank", spy(written, hma_curation.create_bank))
    monkeypatch.setattr(hma_content, "add_records", spy(written, hma_content.add_records))
    monkeypatch.setattr(hma, "api_key_owner", spy(keys, hma.api_key_owner))
    files = {"photo": ("a.png", png_bytes(3), "image/png")}
    assert client.post("/h/hash", files=files, headers=key).status_code == 200
    assert client.post("/c/banks", json={"name": "LOOP_BANK"}, headers=key).status_code == 201
    assert client.put("/c/bank/LOOP_BANK", json={"enabled_ratio": 0.5},
                      headers=key).status_code == 200
    assert client.post("/c/bank/LOOP_BANK/content", files=files,
                       headers=key).status_code == 200
    assert client.post("/m/lookup", files=files, headers=key).status_code == 200
    assert hashed == [False, False, False]  # /h/hash, /c/bank/…/content, /m/lookup
    assert written and not any(written)
    assert keys == [False]  # looked up once, then cached


def test_faiss_settings_are_set_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import faiss

    calls: list[int] = []
    monkeypatch.setattr(semantic, "_faiss_configured", set())
    monkeypatch.setattr(faiss, "omp_set_num_threads", lambda n: calls.append(n))
    rng = np.random.default_rng(1)
    bank = rng.standard_normal((50, 16)).astype(np.float32)
    bank /= np.linalg.norm(bank, axis=1, keepdims=True)
    index = semantic.SemanticIndex(token=(), model="test", default_threshold=0.5,
                                   rows=[(1, i) for i in range(len(bank))])
    index.index_vectors(bank)
    for _ in range(3):
        index.search(bank[:1], 3)
        index.search(bank[:10], 3)
    assert calls == [1]
