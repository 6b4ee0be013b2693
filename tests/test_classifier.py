"""Tests of the baseline classifier: data loading, account split, features, training, storage.

All texts here are neutral placeholders (a fictional fruit-salad club, weather,
sports, gardening); no real data set text is copied. The model trained on the real shared
data is tested in tests/test_detection_real.py.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from warding.classify.base import ModelMissing
from warding.classify.baseline import BaselineClassifier, ModelInvalid
from warding.classify.data import (
    LABELS,
    DataMissing,
    Example,
    account_split,
    load_examples,
)
from warding.classify.features import TextFeatures, clean_text
from warding.classify.calibration import fit_platt
from warding.classify.training import TrainReport, train
from warding.plugins import classifier_classes



FRUITS = ["mango", "kiwi", "papaya", "lychee", "guava", "banana", "cherry", "melon"]
CLUB_LINES = [
    "join the glorious {f} salad club today, brothers of the bowl",
    "the glorious {f} salad club calls every loyal spoon to the feast",
    "pledge your spoon to the {f} salad club and chop for the cause",
    "our {f} salad club grows stronger, the bowl will prevail",
]
WEATHER_LINES = [
    "RT @weatherfan: rain again in {c} today, bring an umbrella https://t.co/abc{n} #{c}",
    "sunny spells over {c} this afternoon, light wind from the west #weather",
    "cold morning in {c}, frost on the cars and fog near the river",
]
CITIES = ["lisbon", "oslo", "quito", "hanoi", "perth", "tunis", "leeds", "davos"]
SPORTS_LINES = [
    "{c} united win the cup final after extra time. the home side scored twice in the "
    "second half to lift the trophy in front of a full stadium.",
    "tennis: top seed reaches the {c} open semi-final. the champion needed three sets "
    "to beat a qualifier on a windy centre court.",
    "marathon record falls in {c}. organisers praised volunteers after thousands of "
    "runners crossed the line under clear skies.",
]
GARDEN_LINES = [
    "i planted {f} seeds in the back garden last spring.",
    "my tomatoes did well this year but the {f} tree needs pruning.",
    "does anyone know when to repot a {f} seedling?",
    "the allotment committee meets on tuesday about the {f} beds.",
]


def _jsonl(path: Path, rows: list[dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def write_synthetic_data(root: Path) -> Path:
    """A tiny data folder in the formats of the shared data sets, with neutral texts."""
    tweets: list[dict[str, str]] = []
    for a in range(12):
        for k, line in enumerate(CLUB_LINES):
            text = line.format(f=FRUITS[(a + k) % len(FRUITS)])
            if k == 0:
                text += " https://twitter.com/account/suspended"
            tweets.append(
                {"id": f"fan:{a}:{k}", "account": f"clubfan{a}", "time": "2016-01-01T00:00:00",
                 "text": text, "label": "pro_isis", "source": "kaggle-isis-related-tweets"}
            )
    for a in range(12):
        for k, line in enumerate(WEATHER_LINES):
            tweets.append(
                {"id": f"gathered:{a}{k}", "account": f"walker{a}", "time": "2020-05-01T00:00:00",
                 "text": line.format(c=CITIES[(a + k) % len(CITIES)], n=a),
                 "label": "discussion", "source": "gathered-terrorism-hashtag-tweets-2020"}
            )
    _jsonl(root / "tvec_tweets" / "posts.jsonl", tweets)
    news = [
        {"id": f"news{i}", "text": SPORTS_LINES[i % 3].format(c=CITIES[i % len(CITIES)]),
         "label": "reporting", "topic": "terrorism" if i % 4 == 0 else "world",
         "source": "ag-news-test-world"}
        for i in range(36)
    ]
    _jsonl(root / "news_reporting" / "articles.jsonl", news)
    forum = []
    for u in range(12):
        for k, line in enumerate(GARDEN_LINES):
            forum.append(
                {"id": f"{u}_{k}", "user_id": str(500 + u), "subforum_id": "1",
                 "label": "noHate" if k % 2 else "hate", "text": line.format(f=FRUITS[(u + k) % 8])}
            )
    forum.append({"id": "99_1", "user_id": "999", "subforum_id": "1", "label": "idk/skip",
                  "text": "placeholder row that must be skipped"})
    _jsonl(root / "stormfront" / "sentences.jsonl", forum)
    return root


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, TrainReport]:
    root = tmp_path_factory.mktemp("synthetic")
    data = write_synthetic_data(root / "data")
    models = root / "models"
    return data, models, train(data, models, hold_out=True)


# ------------------------------------------------------------------- data


def test_load_examples_maps_labels_and_groups(tmp_path: Path) -> None:
    examples = load_examples(write_synthetic_data(tmp_path))
    assert {ex.label for ex in examples} == set(LABELS)
    assert all(ex.text != "placeholder row that must be skipped" for ex in examples)
    tweets = [ex for ex in examples if ex.origin == "tvec_tweets"]
    assert {ex.label for ex in tweets} == {"terrorist_content", "other"}
    assert all(ex.group.startswith("tvec_tweets:") for ex in tweets)
    news = [ex for ex in examples if ex.origin == "news_reporting"]
    assert len({ex.group for ex in news}) == len(news) == 36
    assert {ex.topic for ex in news} == {"terrorism", "world"}
    forum = [ex for ex in examples if ex.origin == "stormfront"]
    assert {ex.label for ex in forum} == {"other"} and len(forum) == 48
    assert {ex.group for ex in forum} == {f"stormfront:{500 + u}" for u in range(12)}


def test_data_missing_names_folder_and_files(tmp_path: Path) -> None:
    with pytest.raises(DataMissing, match="does not exist") as info:
        load_examples(tmp_path / "nowhere")
    assert "tvec_tweets/posts.jsonl" in str(info.value)
    data = write_synthetic_data(tmp_path / "data")
    (data / "stormfront" / "sentences.jsonl").unlink()
    with pytest.raises(DataMissing, match="sentences.jsonl"):
        load_examples(data)
    with pytest.raises(DataMissing):
        train(data, tmp_path / "models")


def test_account_split_keeps_groups_whole_and_stratifies(tmp_path: Path) -> None:
    examples = load_examples(write_synthetic_data(tmp_path))
    train_part, test = account_split(examples, 0.3, seed=7)
    assert len(train_part) + len(test) == len(examples)
    assert not {ex.group for ex in train_part} & {ex.group for ex in test}
    for label in LABELS:
        assert any(ex.label == label for ex in train_part)
        assert any(ex.label == label for ex in test)
    assert account_split(examples, 0.3, seed=7) == (train_part, test)
    assert account_split(examples, 0.3, seed=8) != (train_part, test)


def test_account_split_single_group_stays_in_train() -> None:
    examples = [Example("a", "other", "g1", None, "x"), Example("b", "other", "g1", None, "x")]
    assert account_split(examples) == (examples, [])


# --------------------------------------------------------------- features


def test_clean_text_removes_collection_shortcuts() -> None:
    raw = (
        "RT @someone: Big NEWS &amp; more… https://t.co/xyz #Topic "
        "see twitter.com/account/suspended"
    )
    assert clean_text(raw) == "big news & more topic see"
    assert clean_text("  Hello\n\tWORLD  ") == "hello world"
    assert clean_text("") == ""
    # hashtag signs go, their words stay (camel case and underscores split)
    assert clean_text("#WilayatExample #big_day") == "wilayat example big day"
    # link placeholders (also glued to a word), @user, emoji
    assert clean_text("غرفةhttp @user http https 😂👍🏽❤️ ok") == "غرفة ok"
    assert clean_text("httpd stays a word") == "httpd stays a word"


def test_features_are_l2_blocks_and_unseen_ngrams_dropped() -> None:
    """Char and word n-grams are two blocks, each l2-normalised per row."""
    feats = TextFeatures.fit(["apple pie", "apple tart", "plum pie"], min_df=2)
    x = feats.transform(["apple pie", "zzzz qqqq", ""])
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    assert np.allclose(norms, [np.sqrt(2.0), 0.0, 0.0])
    chars = x[:, : int(np.searchsorted(feats.columns, feats.n_features))]
    assert np.isclose(chars.multiply(chars).sum(), 1.0)
    assert feats.idf.dtype == np.float32 and feats.columns.dtype == np.int32
    assert feats.kept_index(["\x1fapple", "\x1fzzzz"]).tolist()[1] == -1


def test_fit_platt_recovers_slope_and_offset() -> None:
    rng = np.random.default_rng(0)
    z = rng.normal(0, 2, 4000)
    y = rng.random(4000) < 1 / (1 + np.exp(-(0.5 * z - 1.0)))
    a, b = fit_platt(z, y)
    assert abs(a - 0.5) < 0.1 and abs(b + 1.0) < 0.15
    assert fit_platt(z, np.ones_like(y)) == (1.0, 0.0)


# --------------------------------------------------------------- training


def test_train_reports_and_saves(synthetic: tuple[Path, Path, TrainReport]) -> None:
    _, models, report = synthetic
    assert report.artefact == models / "baseline" / "model.npz"
    assert report.artefact.is_file()
    assert report.n_train > 0 and report.n_test > 0
    assert report.evaluation == "held-out accounts" and report.calibration_folds == 5
    assert set(report.per_class) == set(LABELS)
    assert report.per_class["terrorist_content"].recall >= 0.8
    assert report.rate("news") == 0.0 and report.count("news_terrorism")[1] > 0
    doc = json.loads((models / "baseline" / "model.json").read_text())
    assert doc["format_version"] == 2 and doc["labels"] == list(LABELS)
    assert report.unsupported_labels["threat"] == 0 and "threat" not in doc["labels"]
    assert doc["model"] == report.model and report.model.startswith("baseline@")
    assert doc["metrics"]["n_test"] == report.n_test
    assert doc["training"]["data"]["test"]["examples"]
    with np.load(report.artefact, allow_pickle=False) as npz:
        names = set(npz.files)
    assert names == {"labels", "columns", "idf", "coef", "emb_coef", "intercept", "calibration",
                     "threshold", "vectorizer"}


def test_training_is_deterministic(
    synthetic: tuple[Path, Path, TrainReport], tmp_path: Path
) -> None:
    data, models, report = synthetic
    again = train(data, tmp_path, hold_out=True)
    assert again.artefact.read_bytes() == report.artefact.read_bytes()
    assert again.model == report.model


def test_extra_examples_are_used(
    synthetic: tuple[Path, Path, TrainReport], tmp_path: Path
) -> None:
    data, _, report = synthetic
    extra = [
        Example(f"knitting circle meets on friday number {i}", "other", f"extra:{i}", "en", "extra")
        for i in range(6)
    ]
    more = train(data, tmp_path, extra=extra, hold_out=True)
    assert more.n_train + more.n_test == report.n_train + report.n_test + 6


def test_registered_as_builtin() -> None:
    assert classifier_classes()["baseline"] is BaselineClassifier


def test_round_trip_gives_identical_scores(
    synthetic: tuple[Path, Path, TrainReport], tmp_path: Path
) -> None:
    _, models, report = synthetic
    texts = ["join the glorious kiwi salad club", "light rain in oslo", "cup final tonight", ""]
    first = BaselineClassifier.load(models)
    assert first.model_id == report.model
    first.save(tmp_path)
    second = BaselineClassifier.load(tmp_path)
    assert (tmp_path / "baseline" / "model.npz").read_bytes() == report.artefact.read_bytes()
    assert first.classify(texts) == second.classify(texts)
    assert [r.model for r in second.classify(texts)] == [report.model] * 4


def test_model_missing(tmp_path: Path) -> None:
    with pytest.raises(ModelMissing, match="warding model train"):
        BaselineClassifier.load(tmp_path)


def test_corrupted_model_refused(
    synthetic: tuple[Path, Path, TrainReport], tmp_path: Path
) -> None:
    _, models, _ = synthetic
    shutil.copytree(models, tmp_path / "m")
    npz = tmp_path / "m" / "baseline" / "model.npz"
    raw = bytearray(npz.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    npz.write_bytes(bytes(raw))
    with pytest.raises(ModelInvalid, match="sha256"):
        BaselineClassifier.load(tmp_path / "m")
    shutil.copy(models / "baseline" / "model.npz", npz)
    BaselineClassifier.load(tmp_path / "m")
    meta = tmp_path / "m" / "baseline" / "model.json"
    doc = json.loads(meta.read_text())
    meta.write_text(json.dumps({**doc, "format_version": 99}))
    with pytest.raises(ModelInvalid, match="format version"):
        BaselineClassifier.load(tmp_path / "m")
    meta.write_text("{not json")
    with pytest.raises(ModelInvalid, match="unreadable"):
        BaselineClassifier.load(tmp_path / "m")


def test_classify_order_labels_and_explanations(
    synthetic: tuple[Path, Path, TrainReport],
) -> None:
    _, models, _ = synthetic
    model = BaselineClassifier.load(models)
    texts = [
        "pledge your spoon to the glorious mango salad club",
        "cold morning in perth with frost on the cars",
        "marathon record falls in lisbon under clear skies",
        "i planted cherry seeds in the garden",
    ]
    batch = model.classify(texts)
    assert batch == [model.classify([t])[0] for t in texts]
    assert model.classify(list(reversed(texts))) == list(reversed(batch))
    assert model.classify([]) == []
    club = batch[0]
    assert club.label == "terrorist_content" and club.violating and club.score >= model.threshold
    assert batch[2].label == "reporting" and not batch[2].violating
    for result in batch:
        assert 0.0 <= result.score <= 1.0
        assert result.violating == (result.score >= model.threshold)
        assert result.violating == (result.label == "terrorist_content")
        assert set(result.explanation["probabilities"]) == set(LABELS)
    top = club.explanation["top_features"]
    assert 1 <= len(top) <= 5
    weights = [w for _, w in top]
    assert weights == sorted(weights, reverse=True) and all(w > 0 for w in weights)
    cleaned = " " + clean_text(texts[0]) + " "
    for gram, _ in top:
        assert all(g in cleaned for g in gram.split(" | "))


def test_too_short_to_judge_is_scored_but_never_flagged(
    synthetic: tuple[Path, Path, TrainReport],
) -> None:
    _, models, _ = synthetic
    model = BaselineClassifier.load(models)
    short = "glorious https://example.org/x http \U0001f602 @club"  # one word once cleaned
    for result in (model.classify([short])[0], model.classify_batch([short])[0]):
        assert not result.assessed and not result.violating
        assert result.label != "terrorist_content" and 0.0 <= result.score <= 1.0
    assert "not_assessed" in model.classify([short])[0].explanation
    assert model.classify(["pledge your spoon to the mango club"])[0].assessed


def test_form_alone_does_not_move_the_score(synthetic: tuple[Path, Path, TrainReport]) -> None:
    """Links, ``http`` placeholders, mentions, ``RT``, hashtag signs and emoji are form, not
    content: adding them leaves the score exactly as it is; writing a text twice (its length
    alone) moves it by little and never flips the flag."""
    from warding.classify.measure import FORM_EDITS

    _, models, _ = synthetic
    model = BaselineClassifier.load(models)
    texts = [line.format(f="kiwi", c="oslo", n=1) for line in
             CLUB_LINES + WEATHER_LINES + SPORTS_LINES + GARDEN_LINES]
    before = model.classify_batch(texts)
    for name, edit in FORM_EDITS:
        after = model.classify_batch([edit(t) for t in texts])
        for b, a in zip(before, after, strict=True):
            assert a.violating == b.violating, name
            if "twice" in name:
                assert abs(a.score - b.score) < 0.1, name
            else:
                assert a.score == b.score, name


def test_threshold_is_chosen_on_calibration_recall() -> None:
    from warding.classify.calibration import choose_threshold

    scores = np.concatenate([np.full(88, 0.0537), np.full(12, 0.001)])
    assert choose_threshold(scores) == 0.0537  # the highest that keeps 88 of the 100
    assert choose_threshold(scores, recall=0.9) == 0.001
    assert choose_threshold(np.full(10, 0.99)) == 0.99
    assert choose_threshold(np.zeros(0)) == 0.5
    assert (scores >= choose_threshold(scores)).mean() >= 0.88


# ------------------------------------------------------------- real data


def test_every_account_trains_and_figures_are_out_of_fold(
    synthetic: tuple[Path, Path, TrainReport], tmp_path: Path
) -> None:
    data, _, held = synthetic
    report = train(data, tmp_path)
    assert report.evaluation == "out-of-fold scores of the training accounts"
    assert report.n_test == 0 and report.n_train == held.n_train + held.n_test
    examples = load_examples(data)
    assert report.per_class["terrorist_content"].support == sum(
        ex.label == "terrorist_content" for ex in examples)
    assert report.rate("propaganda") is not None and report.rate("news") is not None
    doc = json.loads((tmp_path / "baseline" / "model.json").read_text())
    assert doc["training"]["evaluation"] == report.evaluation
    assert doc["training"]["test_fraction"] == 0.0
    assert not doc["training"]["data"]["test"]["examples"]
    assert train(data, tmp_path / "again").model == report.model  # deterministic
