"""Transparency Database benchmark (issue 14): queue statements of reasons in the
database's schema and send them to the local stand-in (``tests/tdb_standin.py``).

    python -m benchmarks.tdb        (WARDING_BENCH_TDB_STATEMENTS, default 5,000)

Measures, on SQLite in a throw-away folder: writing the decided cases with their
statements of reasons (setup, not timed as Warding's work), queueing them
(``queue_statement``: the mapping to the database's schema and the insert), and
``send_due`` to the stand-in on 127.0.0.1 (batches of 100: HTTP, the stand-in's
validation of every field, and recording each answer). Prints JSON; the figures are
copied by hand into docs/benchmarks.md.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from tests.conftest import make_app
from tests.tdb_standin import TdbStandIn
from tests.test_legal_tdb import TOKEN, make_statements
from warding.db.models_review import StatementOfReasons
from warding.legal.tdb_queue import queue_statement
from warding.legal.tdb_send import send_due
from warding.legal.transparency import EEA_COUNTRIES


def main() -> None:
    n = int(os.environ.get("WARDING_BENCH_TDB_STATEMENTS", "5000"))
    standin = TdbStandIn(TOKEN)
    with tempfile.TemporaryDirectory() as tmp:
        w = make_app(Path(tmp), tdb_url=standin.url, tdb_token=TOKEN)
        try:
            t0 = time.perf_counter()
            make_statements(w, n, queue=False)
            setup = time.perf_counter() - t0
            t0 = time.perf_counter()
            with w.transaction() as session:
                for s in session.execute(select(StatementOfReasons)).scalars():
                    queue_statement(session, s, list(EEA_COUNTRIES))
            queued = time.perf_counter() - t0
            t0 = time.perf_counter()
            out = send_due(w, max_batches=10_000)
            sent = time.perf_counter() - t0
        finally:
            w.close()
            standin.close()
    print(json.dumps({
        "statements": n, "setup_seconds": round(setup, 2),
        "queue_seconds": round(queued, 2), "queue_per_second": round(n / queued),
        "send_seconds": round(sent, 2), "send_per_second": round(n / sent),
        "requests": out["requests"], "sent": out["sent"],
        "machine": f"{platform.machine()}, {os.cpu_count()} cores (shared)",
    }, indent=2))


if __name__ == "__main__":
    main()
