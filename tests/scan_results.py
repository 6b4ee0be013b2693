"""What a scan left in the database, keyed by (source, external id) so that two databases
(a single-process scan and a distributed one) can be compared whatever ids they gave."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from tests.test_classifier import write_synthetic_data

CLUB = "pledge your spoon to the mango salad club and chop for the cause, loyal friends"
KNOWN = "the quarterly report on municipal bicycle lanes was published on tuesday morning"

_TIME = re.compile(r"^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?$")
_QUERIES = {
    "items": "SELECT i.source, i.external_id, i.kind, i.url, i.account, i.posted_at, i.title, "
             "i.text, i.lang, i.outlinks, i.metadata, i.input_ref FROM content_items i",
    "signals": "SELECT i.external_id, s.signal_type, s.value, s.origin FROM signals s "
               "JOIN content_items i ON i.id = s.item_id",
    "matches": "SELECT i.external_id, m.bank_id, m.entry_id, m.signal_type, m.value, "
               "m.distance FROM matches m JOIN content_items i ON i.id = m.item_id",
    "classifications": "SELECT i.external_id, c.model, c.label, c.score, c.violating, "
                       "c.explanation FROM classifications c "
                       "JOIN content_items i ON i.id = c.item_id",
    "cases": "SELECT i.external_id, c.status, c.severity, c.reasons FROM cases c "
             "JOIN content_items i ON i.id = c.item_id",
    "rejections": "SELECT source, input_ref, reason FROM ingest_rejections",
    "audit": "SELECT event_type, count(*) FROM audit_events WHERE event_type != 'scan.completed'"
             " GROUP BY event_type",
}


def _norm(value: Any) -> Any:
    """One form per value on SQLite and PostgreSQL (JSON, booleans, naive UTC times)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat(sep=" ")
    if isinstance(value, str) and _TIME.match(value):
        return _norm(datetime.fromisoformat(value))
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    if isinstance(value, float):
        return round(value, 9)
    return value


def snapshot(url: str) -> dict[str, list[str]]:
    """Every table a scan writes, as sorted lists of rows (JSON text)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {name: sorted(json.dumps([_norm(v) for v in row], sort_keys=True, default=str)
                                 for row in conn.execute(text(sql)))
                    for name, sql in _QUERIES.items()}
    finally:
        engine.dispose()


def write_posts(path: Path, n: int, odd_lines: bool = True) -> Path:
    """``n`` neutral posts: a few repeat a bank entry's text, a few the classifier's
    violating class (salad clubs); with ``odd_lines``, one bad line, one blank line, one
    repeated id too."""
    lines = []
    for i in range(n):
        if i % 97 == 5:
            body = KNOWN
        elif i % 41 == 3:
            body = CLUB
        else:
            body = f"ordinary post number {i} about gardens, trains and the weather in town"
        lines.append(json.dumps({"id": f"p{i}", "account": f"a{i % 7}", "text": body,
                                 "time": f"2024-01-{1 + i % 28:02d}T10:00:00"}))
        if odd_lines and i == n // 3:
            lines.append("{not json")
            lines.append("")
        if odd_lines and i == 2 * n // 3:
            lines.append(json.dumps({"id": "p1", "text": "a repeated id"}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def train_model(root: Path) -> Path:
    from warding.classify.training import train

    models = root / "models"
    train(write_synthetic_data(root / "data"), models)
    return models


def prepare(app: Any, models: Path) -> None:
    """The same bank and model in each database compared."""
    import shutil

    from warding.banks.service import add_records, create_bank, record_for_text

    shutil.copytree(models, app.settings.models_dir, dirs_exist_ok=True)
    app.reset_classifier()
    with app.transaction() as session:
        bank = create_bank(session, "known", actor="test")
        add_records(session, bank, [record_for_text(KNOWN, app.signal_types,
                                                    {"category": "test"}, "test")],
                    app.signal_types, actor="test", how="test")
