"""The whole loop, ingest → signals → match/classify → case → decision → action → audit,
on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from warding.app import Warding
from warding.audit.log import verify
from warding.banks.records import EntryRecord, FormatError
from warding.banks.service import add_records, create_bank, record_for_text, records_for_files
from warding.cases.queries import QueueFilter, list_cases
from warding.db.models import Action, ContentItem, Decision, Signal
from warding.demo import content
from warding.errors import Conflict
from warding.pipeline.scan import scan_paths
from warding.review.case_view import case_detail
from warding.review.decisions import DecisionInput
from warding.review.service import record_decision


def _setup_bank(app: Warding, tmp: Path) -> None:
    image = tmp / "known.png"
    image.write_bytes(content.png_bytes(content.make_image(7)))
    labels = {"group": "placeholder", "category": "glorification"}
    with app.transaction() as session:
        bank = create_bank(session, "known", actor="test")
        records: list[EntryRecord | FormatError] = list(
            records_for_files([image], app.signal_types, labels, "test", app.settings.max_file_bytes))
        records.append(record_for_text(content.KNOWN_TEXTS[0], app.signal_types, labels, "test"))
        records.append(EntryRecord(signals=[("url", "https://files.example.net/share/abc")],
                                   labels=labels, provenance="test"))
        summary = add_records(session, bank, records, app.signal_types, actor="test", how="test")
        assert summary.entries == 3, summary.errors


def _loop(app: Warding, tmp: Path) -> None:
    _setup_bank(app, tmp)
    inputs = content.write_stream(tmp / "stream", content.make_image(7))
    summary = scan_paths(app, inputs, "demo")
    assert summary.errors == []
    assert summary.items == len(content.ORDINARY_POSTS) + 4 + 1  # posts + media posts + article

    with app.transaction() as session:
        cases = list_cases(session, QueueFilter(status="open"))
        by_ext = {c["item"]["external_id"]: c for c in cases}
    # exact copy, altered copy (PDQ), near-duplicate text with a known link: all matched
    assert {"demo-copy", "demo-altered", "demo-text-copy"} <= set(by_ext)
    assert "demo-new-image" not in by_ext
    assert summary.cases_opened == len(cases)
    with app.transaction() as session:
        detail = case_detail(session, by_ext["demo-altered"]["id"])
    pdq = [r for r in detail["reasons_detail"] if r.get("signal_type") == "pdq"]
    assert pdq and 0 < pdq[0]["distance"] <= 31 and pdq[0]["labels"]["group"] == "placeholder"
    with app.transaction() as session:
        detail = case_detail(session, by_ext["demo-text-copy"]["id"])
    kinds = {r["signal_type"] for r in detail["reasons_detail"] if r["kind"] == "bank_match"}
    assert {"text_near", "url"} <= kinds

    # scanning again duplicates nothing
    again = scan_paths(app, inputs, "demo")
    assert again.items == 0 and again.duplicates == summary.items and again.cases_opened == 0
    with app.transaction() as session:
        assert session.execute(select(func.count(ContentItem.id))).scalar_one() == summary.items

    # decide, act, appeal
    case_id = by_ext["demo-copy"]["id"]
    out = record_decision(app, case_id, DecisionInput(
        violating=True, category="incitement_glorification", reason="matches known placeholder"),
        actor="reviewer1", reviewer_id=None)
    assert [a["status"] for a in out["actions"]] == ["done"]
    with pytest.raises(Conflict):
        record_decision(app, case_id, DecisionInput(violating=False, reason="again"),
                        actor="reviewer1", reviewer_id=None)
    record_decision(app, case_id, DecisionInput(
        violating=False, reason="appeal: it is a news report", exemption="journalism",
        kind="appeal"), actor="reviewer2", reviewer_id=None)
    with app.transaction() as session:
        decisions = session.execute(select(Decision).where(Decision.case_id == case_id)
                                    .order_by(Decision.id)).scalars().all()
        assert [d.violating for d in decisions] == [True, False]
        assert decisions[1].supersedes_id == decisions[0].id
        assert decisions[1].exemption == "journalism"
        assert session.execute(select(func.count(Action.id))).scalar_one() == 2
        assert verify(session).ok


def test_loop_sqlite(wapp: Warding, tmp_path: Path) -> None:
    _loop(wapp, tmp_path)


@pytest.mark.postgres
def test_loop_postgres(pg_app: Warding, tmp_path: Path) -> None:
    assert pg_app.engine.dialect.name == "postgresql"
    _loop(pg_app, tmp_path)


def test_auto_action_bank_decides_without_review(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app = app_factory()
    image = tmp_path / "known.png"
    image.write_bytes(content.png_bytes(content.make_image(7)))
    with app.transaction() as session:
        bank = create_bank(session, "auto", actor="test", auto_action=True)
        add_records(session, bank, records_for_files([image], app.signal_types,
                    {"category": "recruitment"}, "test", 10**7), app.signal_types,
                    actor="test", how="test")
    posts = tmp_path / "posts.jsonl"
    media = tmp_path / "m.png"
    media.write_bytes(image.read_bytes())
    posts.write_text('{"id": "1", "text": "a picture", "media": ["m.png"]}\n', encoding="utf-8")
    summary = scan_paths(app, [posts], "auto-test")
    assert summary.cases_opened == 1
    with app.transaction() as session:
        decision = session.execute(select(Decision)).scalar_one()
        assert decision.automated and decision.violating
        assert decision.category == "solicitation_recruitment"
        assert "configured to act automatically" in decision.reason


def test_signals_are_stored_per_item(wapp: Warding, tmp_path: Path) -> None:
    inputs = content.write_stream(tmp_path / "s", content.make_image(3))
    scan_paths(wapp, inputs, "x")
    with wapp.transaction() as session:
        types = set(session.execute(select(Signal.signal_type)).scalars())
    assert {"md5", "sha256", "pdq", "text", "text_near", "url"} <= types
