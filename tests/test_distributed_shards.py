"""The bank index sharded across Dask workers gives the single index's answers, and its
shards follow bank changes (the change feed)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import daskcluster
from tests.conftest import make_app
from tests.test_matching_engine import _flip as near_pdq
from tests.test_matching_engine import _pdq as random_pdq
from warding.matching.service import get_engine

daskcluster.require()

ENTRIES = 1500


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[daskcluster.DaskCluster]:
    c = daskcluster.start(2, tmp_path_factory.mktemp("shard-logs"))
    yield c
    c.stop()


@pytest.fixture
def banked(tmp_path: Path) -> Iterator[tuple[Any, list[str]]]:
    from warding.banks.bulk import import_path

    app = make_app(tmp_path, index_poll_seconds=0.0)
    rng = random.Random(7)
    hashes = [random_pdq(rng) for _ in range(ENTRIES)]
    for name, part in (("one", hashes[:1000]), ("two", hashes[1000:])):
        lines = tmp_path / f"{name}.txt"
        lines.write_text("".join(f"pdq {h}\n" for h in part) + f"md5 {rng.getrandbits(128):032x}\n")
        import_path(app, name, lines, actor="test")
    yield app, hashes
    app.close()


def _queries(hashes: list[str], rng: random.Random) -> list[tuple[str, str]]:
    out = [("pdq", near_pdq(h, rng.choice((0, 5, 20, 40)), rng)) for h in rng.sample(hashes, 200)]
    out += [("pdq", random_pdq(rng)) for _ in range(50)]
    return out + [("md5", "0" * 32)]


def test_sharded_lookups_give_the_single_index_answers(
        banked: tuple[Any, list[str]], cluster: daskcluster.DaskCluster) -> None:
    from distributed import Client

    from warding.distributed.shards import ShardedEngine, ShardedIndex
    from warding.matching.engine import MatchCore

    app, hashes = banked
    rng = random.Random(11)
    queries = _queries(hashes, rng)
    with Client(cluster.address) as client:
        for shards in (1, 2, 3):
            index = ShardedIndex(client, app.settings, shards)
            sharded = ShardedEngine(index, app.signal_types)
            single = get_engine(app)
            want = single.lookup_many(queries)
            assert sum(map(len, want)) > 100
            assert sharded.lookup_many(queries) == want
            assert sharded.lookup_many(queries, banks={"two"}) == single.lookup_many(
                queries, banks={"two"})
            from warding.signals.compute import SignalValue

            groups = [[SignalValue(t, v, "text") for t, v in queries[i:i + 3]]
                      for i in range(0, 30, 3)]
            assert sharded.lookup_groups(groups) == single.lookup_groups(groups)
            assert sharded.lookup("pdq", queries[0][1]) == single.lookup("pdq", queries[0][1])
            assert sharded.lookup("pdq", "not a hash") == []
        assert isinstance(single.core, MatchCore)


def test_shards_follow_bank_changes(banked: tuple[Any, list[str]],
                                    cluster: daskcluster.DaskCluster) -> None:
    from distributed import Client

    from warding.banks.service import update_bank
    from warding.distributed.shards import ShardedIndex

    app, hashes = banked
    fresh = random_pdq(random.Random(99))
    with Client(cluster.address) as client:
        index = ShardedIndex(client, app.settings, 2)
        assert index.lookup_many([("pdq", fresh)]) == [[]]
        lines = Path(app.settings.data_dir) / "more.txt"
        lines.write_text(f"pdq {fresh}\n")
        from warding.banks.bulk import import_path

        import_path(app, "three", lines, actor="test")
        found = index.lookup_many([("pdq", fresh)])[0]
        assert [r.bank for r in found] == ["three"]
        assert found == get_engine(app).lookup_many([("pdq", fresh)])[0]
        with app.transaction() as session:
            update_bank(session, "one", actor="test", enabled=False)
        queries = [("pdq", h) for h in hashes[990:1010]]
        answers = index.lookup_many(queries)
        assert answers == get_engine(app).lookup_many(queries)
        assert [bool(a) for a in answers] == [False] * 10 + [True] * 10


def test_serve_looks_up_in_the_shards(banked: tuple[Any, list[str]],
                                      cluster: daskcluster.DaskCluster) -> None:
    """A server with WARDING_DASK_SCHEDULER answers /api/match and HMA's /m/lookup from the
    shards, as a server with its own index does."""
    from fastapi.testclient import TestClient

    from tests.test_web import api_key
    from warding.accounts.service import create_user
    from warding.app import Warding
    from warding.distributed.shards import ShardedEngine, close_sharded
    from warding.web.factory import create_app

    app, hashes = banked
    with app.transaction() as session:
        create_user(session, "matcher", "api", "a long test password", actor="test")
    key = api_key(app, "matcher")
    near = near_pdq(hashes[3], 6, random.Random(5))
    body = {"signals": [{"type": "pdq", "value": near}]}
    answers = []
    for settings in ({}, {"dask_scheduler": cluster.address, "dask_shards": 2}):
        w = Warding(app.settings.model_copy(update=settings))
        with TestClient(create_app(w)) as client:
            matched = client.post("/api/match", headers=key, json=body)
            hma = client.get("/m/lookup", headers=key,
                             params={"signal_type": "pdq", "signal": near})
            assert matched.status_code == 200 and hma.status_code == 200, hma.text
            answers.append((matched.json(), hma.json()))
            assert isinstance(get_engine(w), ShardedEngine) == bool(settings)
        close_sharded(w)
        w.close()
    assert answers[0] == answers[1] and answers[0][0]["matches"]


def test_lookups_go_on_when_a_shard_worker_dies(banked: tuple[Any, list[str]],
                                                tmp_path: Path) -> None:
    """kill -9 of the worker holding a shard: the next lookup places the shards on the
    workers left and gives the same answers."""
    import signal

    from distributed import Client

    from warding.distributed.shards import ShardedIndex

    app, hashes = banked
    queries = _queries(hashes, random.Random(3))
    want = get_engine(app).lookup_many(queries)
    logs = tmp_path / "logs"
    logs.mkdir()
    c = daskcluster.start(2, logs)
    try:
        with Client(c.address) as client:
            index = ShardedIndex(client, app.settings, 2)
            assert index.lookup_many(queries) == want
            assert len(set(index.placement)) == 2
            c.workers[1].send_signal(signal.SIGKILL)
            c.workers[1].wait()
            assert index.lookup_many(queries) == want
            assert len(set(index.placement)) == 1
    finally:
        c.stop()
