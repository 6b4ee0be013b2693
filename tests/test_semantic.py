"""Cross-lingual semantic matching (``text_semantic``) on neutral sentence pairs.

The sentences are ordinary placeholders written for the tests (a library, a
bakery, the weather); their translations were written by hand.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select

from tests.cli_helpers import CLI
from tests.offline import no_network
from warding.app import Warding
from warding.banks.service import (
    add_records,
    create_bank,
    get_bank,
    record_for_text,
    update_bank,
)
from warding.db.models import Classification, ContentItem, Match
from warding.db.models_semantic import SemanticBankText
from warding.errors import InvalidInput
from warding.matching import semantic
from warding.pipeline.scan import scan_paths
from warding.signals import embedding

BANK_TEXT = "The old library on the hill will close for repairs until the end of March."
TRANSLATIONS = {
    "fr": "La vieille bibliothèque sur la colline fermera pour travaux jusqu'à la fin mars.",
    "de": "Die alte Bibliothek auf dem Hügel bleibt bis Ende März wegen Reparaturen geschlossen.",
    "es": "La antigua biblioteca de la colina cerrará por reparaciones hasta finales de marzo.",
}
UNRELATED = [
    "My grandmother bakes bread with rye flour every Sunday morning.",
    "Le train pour Lyon part du quai numéro trois à dix heures.",
    "Morgen wird es sonnig und warm, mit leichtem Wind aus Süden.",
]


def test_embedder_loads_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    saved = embedding._embedder
    embedding._embedder = None
    try:
        with no_network(monkeypatch):
            model = embedding.get_embedder()
            vecs = model.encode([BANK_TEXT, ""])
    finally:
        embedding._embedder = saved or embedding._embedder
    assert vecs.shape == (2, model.dim) and vecs.dtype == np.float32
    assert np.isclose(np.linalg.norm(vecs[0]), 1.0) and not vecs[1].any()


def test_translations_close_unrelated_far(embedder: Any) -> None:
    vecs = embedder.encode([BANK_TEXT, *TRANSLATIONS.values(), *UNRELATED])
    sims = vecs[1:] @ vecs[0]
    threshold = Warding.from_env().settings.semantic_threshold
    assert all(s >= threshold for s in sims[: len(TRANSLATIONS)]), sims
    assert all(s < threshold for s in sims[len(TRANSLATIONS):]), sims


def _bank_with_text(app: Warding, name: str = "known", **thresholds: float) -> None:
    with app.transaction() as session:
        bank = create_bank(session, name, actor="test", thresholds=thresholds)
        rec = record_for_text(BANK_TEXT, app.signal_types, {"category": "placeholder"}, "test")
        add_records(session, bank, [rec], app.signal_types, actor="test", how="test")
        assert semantic.add_bank_text(app, session, bank, BANK_TEXT) is not None
        assert semantic.add_bank_text(app, session, bank, BANK_TEXT) is None  # already there


def test_match_text_reports_similarity_and_distance(wapp: Warding, embedder: Any) -> None:
    _bank_with_text(wapp)
    with wapp.transaction() as session:
        for text in TRANSLATIONS.values():
            [m] = semantic.match_text(wapp, session, text)
            assert m.signal_type == "text_semantic" and m.bank == "known"
            assert m.distance == pytest.approx(1 - m.similarity, abs=1e-4)
            assert m.as_json()["similarity"] == m.similarity
            assert m.labels == {"category": "placeholder"}
        for text in UNRELATED:
            assert semantic.match_text(wapp, session, text) == []


def test_per_bank_threshold(wapp: Warding, embedder: Any) -> None:
    _bank_with_text(wapp, "strict", text_semantic=0.99)
    with wapp.transaction() as session:
        assert semantic.match_text(wapp, session, TRANSLATIONS["fr"]) == []
        update_bank(session, "strict", actor="test", thresholds={"text_semantic": 0.3})
    with wapp.transaction() as session:
        assert semantic.match_text(wapp, session, TRANSLATIONS["fr"])
        with pytest.raises(InvalidInput, match="text_semantic"):
            update_bank(session, "strict", actor="test", thresholds={"text_semantic": 1.5})


def test_disabled_bank_and_setting(app_factory: Any, embedder: Any) -> None:
    app = app_factory(semantic_matching=False)
    with app.transaction() as session:
        bank = create_bank(session, "known", actor="test")
        rec = record_for_text(BANK_TEXT, app.signal_types, {}, "test")
        add_records(session, bank, [rec], app.signal_types, actor="test", how="test")
        assert semantic.add_bank_text(app, session, bank, BANK_TEXT) is None
        assert semantic.match_text(app, session, TRANSLATIONS["de"]) == []
    other = app_factory()
    _bank_with_text(other)
    with other.transaction() as session:
        update_bank(session, "known", actor="test", enabled=False)
    with other.transaction() as session:
        assert semantic.match_text(other, session, TRANSLATIONS["de"]) == []


def test_stale_vectors_are_recomputed(wapp: Warding, embedder: Any) -> None:
    _bank_with_text(wapp)
    with wapp.transaction() as session:
        row = session.execute(select(SemanticBankText)).scalar_one()
        row.model, row.vector = "some-older-model", np.zeros(embedder.dim, np.float32).tobytes()
    with wapp.transaction() as session:
        assert semantic.match_text(wapp, session, TRANSLATIONS["es"])
        assert session.execute(select(SemanticBankText.model)).scalar_one() == embedder.name


def test_scan_stores_semantic_match_lang_and_nearest(wapp: Warding, embedder: Any,
                                                      tmp_path: Path) -> None:
    _bank_with_text(wapp)
    posts = tmp_path / "posts.jsonl"
    rows = [{"id": f"p{i}", "text": t} for i, t in enumerate([TRANSLATIONS["fr"], *UNRELATED])]
    posts.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    summary = scan_paths(wapp, [posts], "test")
    assert summary.items == 4 and summary.matches == 1 and summary.cases_opened == 1
    with wapp.transaction() as session:
        langs = dict(session.execute(select(ContentItem.external_id, ContentItem.lang)).all())
        [match] = session.execute(select(Match)).scalars().all()
    assert langs == {"p0": "fr", "p1": "en", "p2": "fr", "p3": "de"}
    assert match.signal_type == "text_semantic" and 0 < match.distance < 0.5


def test_nearest_known_in_classification_explanation(wapp: Warding, embedder: Any,
                                                     tmp_path: Path) -> None:
    from tests.test_classifier import write_synthetic_data
    from warding.classify.service import train_model

    train_model(wapp, write_synthetic_data(tmp_path / "data"), actor="test")
    _bank_with_text(wapp)
    posts = tmp_path / "posts.jsonl"
    posts.write_text(json.dumps({"id": "x", "text": TRANSLATIONS["de"]}) + "\n", encoding="utf-8")
    scan_paths(wapp, [posts], "test")
    with wapp.transaction() as session:
        explanation = session.execute(select(Classification.explanation)).scalar_one()
    [near] = explanation["nearest_known"]
    assert near["bank"] == "known" and near["matched"] and near["similarity"] > 0.5
    assert "top_features" in explanation and "probabilities" in explanation

    # The reviewer sees the explanation in the case view.
    from fastapi.testclient import TestClient

    from tests.test_web import PASSWORD, login
    from warding.accounts.service import create_user
    from warding.db.models import Case
    from warding.web.factory import create_app

    with wapp.transaction() as session:
        create_user(session, "rev", "reviewer", PASSWORD, actor="test")
        case_id = session.execute(select(Case.id)).scalar_one()
    with TestClient(create_app(wapp)) as client:
        login(client, "rev")
        page = client.get(f"/cases/{case_id}").text
    assert "Closest known items" in page and "Terms that moved the score" in page
    assert "Similarity" in page and "text_semantic" in page


def test_cli_and_api_report_text_semantic(tmp_path: Path, embedder: Any) -> None:
    cli = CLI(tmp_path)
    cli.run("init")
    cli.run("bank", "create", "known", "--threshold", "text_semantic=0.6")
    cli.run("bank", "add", "known", "--text", BANK_TEXT)
    out = cli.json("match", "--text", TRANSLATIONS["es"], "--json")
    [m] = out["matches"]
    assert m["signal_type"] == "text_semantic" and m["similarity"] >= 0.6
    assert abs(m["distance"] - (1 - m["similarity"])) < 1e-3
    assert cli.json("match", "--text", UNRELATED[0], "--json") == {"matches": []}
    bad = cli.run("bank", "create", "other", "--threshold", "text_semantic=7", code=1)
    assert "text_semantic" in bad.stderr

    from fastapi.testclient import TestClient

    from warding.accounts.service import create_api_key, create_user
    from warding.web.factory import create_app

    app = Warding.from_env(database_url=cli.db, data_dir=cli.data_dir)
    with app.transaction() as session:
        create_user(session, "api", "admin", "a-long-enough-password", actor="test")
        key = create_api_key(session, "api", actor="test")
    client = TestClient(create_app(app))
    resp = client.post("/api/match", json={"text": TRANSLATIONS["fr"]},
                       headers={"Authorization": f"Bearer {key}"})
    assert resp.status_code == 200, resp.text
    [m] = resp.json()["matches"]
    assert m["signal_type"] == "text_semantic" and m["similarity"] > 0.6
    app.close()


def test_classify_explains_with_nearest_known(tmp_path: Path, embedder: Any) -> None:
    from tests.test_classifier import write_synthetic_data

    cli = CLI(tmp_path)
    cli.run("init")
    cli.run("model", "train", "--data", str(write_synthetic_data(tmp_path / "data")))
    plain = cli.json("classify", "--text", TRANSLATIONS["fr"], "--json")
    assert "nearest_known" not in plain["explanation"]  # no bank holds texts yet
    cli.run("bank", "create", "known")
    cli.run("bank", "add", "known", "--text", BANK_TEXT)
    out = cli.json("classify", "--text", TRANSLATIONS["fr"], "--json")
    [near] = out["explanation"]["nearest_known"]
    assert near["bank"] == "known" and near["matched"] and out["score"] == plain["score"]


def test_demo_shows_translations_matching(wapp: Warding, embedder: Any, tmp_path: Path) -> None:
    from warding.demo.run import run_demo

    results = run_demo(wapp, shared_data=tmp_path / "no-shared-data", echo=lambda _: None)
    translations = results["translations"]
    assert isinstance(translations, dict)
    assert translations["items"] == 2 and translations["matches"] == 2
    assert translations["cases_opened"] == 2


def test_confirmed_items_match_their_translations(app_factory: Any, embedder: Any,
                                                  tmp_path: Path) -> None:
    """The add-to-bank action embeds the decided item's text: its translations match later."""
    from warding.db.models import Case
    from warding.review.decisions import DecisionInput
    from warding.review.service import record_decision

    app = app_factory(action_sinks=["add_to_bank"])
    with app.transaction() as session:
        item = ContentItem(source="t", external_id="1", kind="post", text=BANK_TEXT,
                           input_ref="t")
        session.add(item)
        session.flush()
        case = Case(item_id=item.id, status="open", reasons=[])
        session.add(case)
        session.flush()
        case_id = case.id
    posts = tmp_path / "p.jsonl"
    posts.write_text(json.dumps({"id": "src", "text": BANK_TEXT}) + "\n", encoding="utf-8")
    scan_paths(app, [posts], "t")  # stores the item's signals, as a real scan does
    with app.transaction() as session:
        item_id = session.execute(select(ContentItem.id).where(
            ContentItem.external_id == "src")).scalar_one()
        session.get(Case, case_id).item_id = item_id  # type: ignore[union-attr]
    record_decision(app, case_id, DecisionInput(violating=True, reason="test",
                                                category="threat"),
                    actor="test", reviewer_id=None)
    with app.transaction() as session:
        assert get_bank(session, "confirmed")
        assert semantic.match_text(app, session, TRANSLATIONS["de"])
    # An appeal reverses the decision: the entry is disabled and its translations stop matching
    # at once, in the same process whose index was cached before.
    record_decision(app, case_id, DecisionInput(kind="appeal", violating=False, reason="test",
                                                exemption="journalism"),
                    actor="test", reviewer_id=None)
    with app.transaction() as session:
        assert semantic.match_text(app, session, TRANSLATIONS["de"]) == []


def test_disabled_entry_stops_matching_semantically(wapp: Warding, embedder: Any) -> None:
    from warding.banks.curation import set_entry_enabled

    _bank_with_text(wapp)
    with wapp.transaction() as session:
        [m] = semantic.match_text(wapp, session, TRANSLATIONS["fr"])
    with wapp.transaction() as session:
        set_entry_enabled(session, "known", m.entry_id, False, actor="test")
    with wapp.transaction() as session:
        assert semantic.match_text(wapp, session, TRANSLATIONS["fr"]) == []
    with wapp.transaction() as session:
        set_entry_enabled(session, "known", m.entry_id, True, actor="test")
    with wapp.transaction() as session:
        assert semantic.match_text(wapp, session, TRANSLATIONS["fr"])


@pytest.mark.parametrize("batch", [1, 3, semantic.BLAS_MIN_QUERIES, 50])
def test_batched_search_finds_what_single_queries_find(batch: int) -> None:
    """A scan searches a batch with one matrix product; the rows and similarities must be the
    ones each query finds alone."""
    rng = np.random.default_rng(7)
    bank = rng.standard_normal((500, 64)).astype(np.float32)
    bank /= np.linalg.norm(bank, axis=1, keepdims=True)
    queries = bank[:batch] + 0.1 * rng.standard_normal((batch, 64)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    index = semantic.SemanticIndex(token=(), model="test", default_threshold=0.5,
                                   rows=[(1, i) for i in range(len(bank))])
    index.index_vectors(bank)
    sims, rows = index.search(queries, 5)
    for i, query in enumerate(queries):
        one_sims, one_rows = index.search(query[None, :], 5)
        assert rows[i].tolist() == one_rows[0].tolist()
        np.testing.assert_allclose(sims[i], one_sims[0], atol=1e-5)
        assert rows[i][0] == i
