"""kill -9 in the middle of a scan loses nothing accepted and, scanned again,
duplicates nothing."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine, func, select
from sqlalchemy.exc import OperationalError

from warding.db.models import ContentItem

N = 3000


def _count(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count(ContentItem.id))).scalar_one())
    except OperationalError:
        return 0
    finally:
        engine.dispose()


def test_kill_9_mid_scan(tmp_path: Path) -> None:
    posts = tmp_path / "posts.jsonl"
    posts.write_text("".join(
        json.dumps({"id": f"p{i}", "account": f"a{i % 7}", "text": f"ordinary post number {i} "
                    "about gardens, trains and the weather"}) + "\n" for i in range(N)),
        encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'crash.db'}"
    base = [sys.executable, "-m", "warding", "--db", url, "--data-dir", str(tmp_path / "d")]
    subprocess.run(base + ["init"], check=True, capture_output=True)
    proc = subprocess.Popen(base + ["scan", str(posts), "--source", "s", "--json"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None and _count(url) < 400:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL) if proc.poll() is None else None
    proc.wait()
    killed_at = _count(url)
    assert killed_at >= 0
    done = subprocess.run(base + ["scan", str(posts), "--source", "s", "--json"], check=True,
                          capture_output=True, text=True)
    summary = json.loads(done.stdout)
    assert summary["items"] + summary["duplicates"] == N
    assert summary["duplicates"] == killed_at
    engine = create_engine(url)
    with engine.connect() as conn:
        total = conn.execute(select(func.count(ContentItem.id))).scalar_one()
        distinct = conn.execute(select(func.count(func.distinct(ContentItem.external_id)))).scalar_one()
    engine.dispose()
    assert total == distinct == N
