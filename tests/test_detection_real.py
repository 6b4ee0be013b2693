"""The default classifier trained on the real shared data (skipped without ../shared/data):
the stance suite, form-only edits and the regression floors of the model card's figures.

One model is trained for the module (about two minutes on two cores), on 70% of the accounts,
as the model card does; the figures here are its held-out ones.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from warding.classify.baseline import BaselineClassifier
from warding.classify.data import account_split, load_examples
from warding.classify.measure import FORM_EDITS
from warding.classify.mt_news import MT_NEWS
from warding.classify.stance import KINDS, stance_suite
from warding.classify.training import SEED, TEST_FRACTION, TrainReport, train

SHARED_DATA = Path(os.environ.get("WARDING_SHARED_DATA_DIR")
                   or Path(__file__).resolve().parents[2] / "shared" / "data")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> tuple[TrainReport, BaselineClassifier]:
    if not (SHARED_DATA / "tvec_tweets" / "post_labels.jsonl").is_file():
        pytest.skip(f"shared data folder {SHARED_DATA} (with per-post labels) is absent")
    models = tmp_path_factory.mktemp("real-model")
    report = train(SHARED_DATA, models, hold_out=True)
    return report, BaselineClassifier.load(models)


def test_stance_suite_stays_within_its_floor(real: tuple[TrainReport, BaselineClassifier]) -> None:
    """Condemnation, counter-speech, news leads and discussion are never flagged; at most one
    text of the whole suite (5% is the issue's target for counter-speech) may be, and only
    religious everyday speech (the default model flags one English greeting: see the card)."""
    _, model = real
    suite = stance_suite()
    assert {s.kind for s in suite} == set(KINDS) and len({s.lang for s in suite}) >= 10
    results = model.classify([s.text for s in suite])
    flagged = [(s.kind, s.lang, round(r.score, 4)) for s, r in zip(suite, results, strict=True)
               if r.violating]
    assert len(flagged) <= 1, flagged
    assert all(kind == "religious" for kind, _, _ in flagged), flagged


def test_translated_news_article_is_never_flagged(
        real: tuple[TrainReport, BaselineClassifier]) -> None:
    _, model = real
    assert not [lang for lang, r in zip(MT_NEWS, model.classify(list(MT_NEWS.values())),
                                        strict=True) if r.violating]


def test_form_alone_does_not_move_real_scores(
        real: tuple[TrainReport, BaselineClassifier]) -> None:
    _, model = real
    _, test = account_split(load_examples(SHARED_DATA), TEST_FRACTION, SEED)
    texts = [ex.text for ex in test if ex.origin in ("tvec_tweets", "everyday_tweets")][:3000]
    before = model.classify_batch(texts)
    for name, edit in FORM_EDITS:
        after = model.classify_batch([edit(t) for t in texts])
        if "twice" in name:
            flips = sum(a.violating != b.violating for a, b in zip(after, before, strict=True))
            assert flips <= len(texts) * 0.005, name
        else:
            assert [a.score for a in after] == [b.score for b in before], name


def test_held_out_figures_stay_within_their_floors(
        real: tuple[TrainReport, BaselineClassifier]) -> None:
    """Regression floors a little below the model card's figures (docs/model-card.md): a
    change that makes detection or equal treatment worse fails here."""
    report, _ = real
    assert (report.rate("propaganda") or 0.0) >= 0.83
    assert (report.rate("everyday") or 1.0) <= 0.02
    worst = max(report.rate(k) or 0.0 for k in report.flags if k.startswith("everyday:"))
    assert worst <= 0.03
    assert (report.rate("parallel") or 1.0) <= 0.02
    assert (report.rate("news") or 1.0) <= 0.03
    assert (report.rate("news_relay") or 1.0) <= 0.18
    assert report.count("stance")[0] <= 1
    assert (report.rate("other_posts") or 1.0) <= 0.09


def test_figures_are_also_split_by_the_readers_confidence(
        real: tuple[TrainReport, BaselineClassifier]) -> None:
    """Every per-post label carries its reader's confidence; the report counts each labelled
    set once more by it (the model card's "labelled with high / low confidence" rows)."""
    report, _ = real
    for key in ("propaganda", "news_relay", "other_posts", "partisan"):
        k, n = report.count(key)
        parts = [report.count(f"{key}:{c}") for c in ("high", "low")]
        assert sum(p[0] for p in parts) == k and sum(p[1] for p in parts) == n > 0, key
        assert all(p[1] > 0 for p in parts), key
