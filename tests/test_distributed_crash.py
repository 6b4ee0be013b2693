"""kill -9 of a Dask worker or of the client during ``warding scan --dask`` loses nothing
committed and, scanned again, duplicates nothing (as tests/test_crash.py for a local scan)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from tests import daskcluster
from tests.scan_results import write_posts
from tests.test_crash import _count
from warding.db.models import Case, ContentItem

daskcluster.require()

N = 3000
PART = "6000"  # bytes per partition: about 60 partitions


def _totals(url: str) -> tuple[int, int, int, int]:
    """(items, distinct external ids, cases, distinct items with a case)."""
    engine = create_engine(url)
    with engine.connect() as conn:
        items = conn.execute(select(func.count(ContentItem.id))).scalar_one()
        distinct = conn.execute(select(func.count(func.distinct(ContentItem.external_id)))
                                ).scalar_one()
        cases = conn.execute(select(func.count(Case.id))).scalar_one()
        cased = conn.execute(select(func.count(func.distinct(Case.item_id)))).scalar_one()
    engine.dispose()
    return items, distinct, cases, cased


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[daskcluster.DaskCluster]:
    logs = tmp_path / "logs"
    logs.mkdir()
    c = daskcluster.start(2, logs)
    yield c
    c.stop()


@pytest.fixture
def posts(tmp_path: Path) -> Path:
    return write_posts(tmp_path / "posts.jsonl", N, odd_lines=False)


def _base(tmp_path: Path, url: str) -> list[str]:
    base = [sys.executable, "-m", "warding", "--db", url, "--data-dir", str(tmp_path / "d")]
    subprocess.run(base + ["init"], check=True, capture_output=True)
    return base


def _scan(base: list[str], posts: Path, address: str) -> list[str]:
    return base + ["scan", str(posts), "--source", "s", "--json", "--dask", address,
                   "--partition-bytes", PART]


def _wait_for(url: str, proc: subprocess.Popen[str], at_least: int) -> None:
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None and _count(url) < at_least:
        time.sleep(0.05)


def _kill_a_worker_mid_scan(tmp_path: Path, url: str, cluster: daskcluster.DaskCluster,
                            posts: Path) -> dict[str, int]:
    base = _base(tmp_path, url)
    proc = subprocess.Popen(_scan(base, posts, cluster.address), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    _wait_for(url, proc, 300)
    assert proc.poll() is None and _count(url) < N, "the scan ended before the kill"
    cluster.workers[0].send_signal(signal.SIGKILL)
    cluster.workers[0].wait()
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    summary = json.loads(out)
    assert summary["items"] + summary["duplicates"] == N and summary["rejected"] == 0
    items, distinct, cases, cased = _totals(url)
    assert items == distinct == N and cases == cased
    return summary


def test_kill_9_of_a_worker_sqlite(tmp_path: Path, cluster: daskcluster.DaskCluster,
                                   posts: Path) -> None:
    summary = _kill_a_worker_mid_scan(tmp_path, f"sqlite:///{tmp_path / 'w.db'}", cluster,
                                      posts)
    assert summary["items"] == N  # the workers wrote nothing: every item is this run's


def test_kill_9_of_a_worker_postgres(tmp_path: Path, pg_url: str,
                                     cluster: daskcluster.DaskCluster, posts: Path) -> None:
    _kill_a_worker_mid_scan(tmp_path, pg_url, cluster, posts)


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_kill_9_of_the_client(request: pytest.FixtureRequest, database: str, tmp_path: Path,
                              cluster: daskcluster.DaskCluster, posts: Path) -> None:
    url = (f"sqlite:///{tmp_path / 'c.db'}" if database == "sqlite"
           else request.getfixturevalue("pg_url"))
    base = _base(tmp_path, url)
    proc = subprocess.Popen(_scan(base, posts, cluster.address), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    _wait_for(url, proc, 400)  # type: ignore[arg-type]
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed_at = _count(url)
    assert 0 < killed_at < N, "the kill must come mid-scan"
    done = subprocess.run(_scan(base, posts, cluster.address), check=True, capture_output=True,
                          text=True)
    summary = json.loads(done.stdout)
    assert summary["items"] + summary["duplicates"] == N
    if database == "sqlite":
        assert summary["duplicates"] == killed_at
    else:  # the workers were not killed: partitions they had begun may commit after the kill
        assert summary["duplicates"] >= killed_at
    items, distinct, cases, cased = _totals(url)
    assert items == distinct == N and cases == cased
