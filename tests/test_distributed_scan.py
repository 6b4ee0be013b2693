"""``warding scan --dask``: the same results as a single-process scan, on a real Dask cluster
(``dask scheduler`` and ``dask worker`` processes on this machine), and reruns that duplicate
nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import daskcluster
from tests.conftest import make_app
from tests.scan_results import prepare, snapshot, train_model, write_posts
from warding.distributed.partitions import plan
from warding.pipeline.scan import scan_paths

daskcluster.require()

N = 900
PART = 12_000  # bytes: about ten partitions of N posts


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[daskcluster.DaskCluster]:
    c = daskcluster.start(2, tmp_path_factory.mktemp("dask-logs"))
    yield c
    c.stop()


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_model(tmp_path_factory.mktemp("dask-model"))


@pytest.fixture(scope="module")
def posts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_posts(tmp_path_factory.mktemp("dask-posts") / "posts.jsonl", N)


@pytest.fixture(scope="module")
def local_result(tmp_path_factory: pytest.TempPathFactory, models: Path,
                 posts: Path) -> tuple[dict[str, Any], dict[str, list[str]]]:
    app = make_app(tmp_path_factory.mktemp("dask-local"))
    prepare(app, models)
    summary = scan_paths(app, [posts], "s", defer_classifier=True)  # as the CLI scans
    url = app.settings.database_url
    app.close()
    return summary.as_json(), snapshot(url)


def _dask_scan(app: Any, address: str, posts: Path) -> dict[str, Any]:
    from distributed import Client

    from warding.distributed.scan import scan_on_dask

    with Client(address) as client:
        return scan_on_dask(app, client, [posts], "s", partition_bytes=PART).as_json()


def _same_summary(a: dict[str, Any], b: dict[str, Any]) -> None:
    keys = ("items", "duplicates", "rejected", "errors", "matches", "classified", "cases_opened")
    assert {k: a[k] for k in keys} == {k: b[k] for k in keys}


def test_partitions_cover_the_file_once(posts: Path) -> None:
    from warding.ingest.base import Limits
    from warding.ingest.posts import JSONLPostsConnector

    c = JSONLPostsConnector()
    whole = [(r.input_ref if hasattr(r, "input_ref") else r.input)
             for r in c.read(posts, "s", Limits())]
    parts = plan([posts], [c], PART)
    assert len(parts) > 5 and plan([posts], [c], PART) == parts
    cut = [(r.input_ref if hasattr(r, "input_ref") else r.input)
           for p in parts for r in c.read_range(Path(p.path), "s", Limits(), p.start, p.end,
                                                p.first_line)]
    assert cut == whole


def test_sqlite_scan_on_dask_matches_the_local_scan(
        request: pytest.FixtureRequest, tmp_path: Path, cluster: daskcluster.DaskCluster, models: Path, posts: Path,
        local_result: tuple[dict[str, Any], dict[str, list[str]]]) -> None:
    app = make_app(tmp_path)
    request.addfinalizer(app.close)
    prepare(app, models)
    summary = _dask_scan(app, cluster.address, posts)
    local_summary, local_rows = local_result
    _same_summary(summary, local_summary)
    assert summary["matches"] > 0 and summary["cases_opened"] > 0 and summary["rejected"] == 1
    rows = snapshot(app.settings.database_url)
    assert rows == local_rows
    again = _dask_scan(app, cluster.address, posts)  # a rerun duplicates nothing
    assert again["items"] == 0 and again["duplicates"] == summary["items"] + summary["duplicates"]
    assert snapshot(app.settings.database_url) == local_rows | {
        "rejections": sorted(local_rows["rejections"] * 2)}


def test_postgres_workers_write_the_same_results(
        tmp_path: Path, pg_url: str, cluster: daskcluster.DaskCluster, models: Path,
        posts: Path, local_result: tuple[dict[str, Any], dict[str, list[str]]]) -> None:
    from warding.audit.log import verify

    app = make_app(tmp_path, url=pg_url)
    try:
        prepare(app, models)
        summary = _dask_scan(app, cluster.address, posts)
        assert any("written by the workers" in n for n in summary["notes"])
        local_summary, local_rows = local_result
        _same_summary(summary, local_summary)
        assert snapshot(pg_url) == local_rows  # the first copy of a repeated id, as locally
        with app.transaction() as session:
            assert verify(session).ok
    finally:
        app.close()


def test_local_cluster_from_the_cli(tmp_path: Path, posts: Path) -> None:
    import json
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    base = [sys.executable, "-m", "warding", "--db", url, "--data-dir", str(tmp_path / "d")]
    subprocess.run(base + ["init"], check=True, capture_output=True)
    out = subprocess.run(base + ["scan", str(posts), "--source", "s", "--json",
                                 "--dask", "local:2", "--partition-bytes", str(PART)],
                         check=True, capture_output=True, text=True)
    summary = json.loads(out.stdout)
    assert summary["items"] == N and summary["rejected"] == 1
    bad = subprocess.run(base + ["scan", str(posts), "--dask", "local:x"],
                         check=False, capture_output=True, text=True)
    assert bad.returncode != 0 and "local:N" in bad.stderr


def test_workers_commit_in_input_order(tmp_path: Path, pg_url: str,
                                       cluster: daskcluster.DaskCluster, posts: Path) -> None:
    """Partitions sent last first still commit in input order (no deadlock: a waiting
    partition frees its worker), so the first copy of a repeated id is the one kept."""
    import time

    from distributed import Client
    from sqlalchemy import create_engine, text

    from warding.distributed.partitions import Partition
    from warding.distributed.worker import process_partition, settings_data, turn_event

    app = make_app(tmp_path, url=pg_url)
    try:
        parts = plan([posts], app.connectors, PART)
        settings = settings_data(app.settings)
        with Client(cluster.address) as client:
            def submit(part: Partition) -> Any:
                return client.submit(process_partition, settings, part, "s", "test", "order",
                                     pure=False)

            futures = [submit(part) for part in reversed(parts[1:])]
            time.sleep(3)  # the later partitions are prepared (and would have committed)
            counts = client.gather([*futures, submit(parts[0])])
            for part in parts:
                turn_event("order", part.number, client).clear()
        assert sum(c.items for c in counts) == N
        engine = create_engine(pg_url)
        with engine.connect() as conn:
            kept = conn.execute(text("SELECT text FROM content_items WHERE external_id = 'p1'"))
            assert kept.scalar_one().startswith("ordinary post number 1 ")
        engine.dispose()
    finally:
        app.close()
