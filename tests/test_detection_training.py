"""Label taxonomy, the parallel split, retraining from reviewers' decisions, batch mode and the
model card, on neutral placeholder data (see tests/test_classifier.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli_helpers import CLI
from tests.test_classifier import write_synthetic_data
from warding.app import Warding
from warding.classify import labels
from warding.classify.data import load_examples, parallel_pairs
from warding.classify.decisions import decision_examples
from warding.classify.service import train_model
from warding.db.models import Case, ContentItem
from warding.review.decisions import DecisionInput
from warding.review.service import record_decision

# Neutral everyday sentences and hand-made translations, in the parallel set's format.
PARALLEL = [
    ("fra", "Le marché ouvre à huit heures.", "The market opens at eight."),
    ("fra", "Il pleut depuis ce matin.", "It has been raining since this morning."),
    ("deu", "Der Zug hat zehn Minuten Verspätung.", "The train is ten minutes late."),
    ("deu", "Ich trinke gern Tee mit Milch.", "I like to drink tea with milk."),
    ("spa", "La tienda cierra los domingos.", "The shop is closed on Sundays."),
    ("spa", "Mi hermano toca la guitarra.", "My brother plays the guitar."),
    ("rus", "Я читаю интересную книгу.", "I am reading an interesting book."),
    ("rus", "Сегодня очень холодно.", "It is very cold today."),
    ("tur", "Kedi bahçede uyuyor.", "The cat is sleeping in the garden."),
    ("tur", "Yarın sinemaya gideceğiz.", "We will go to the cinema tomorrow."),
    ("ara", "المكتبة مغلقة اليوم.", "The library is closed today."),
    ("ara", "أحب المشي في الحديقة.", "I like walking in the park."),
    ("fra", "Le marché ouvre à huit heures du matin.", "The market opens at eight."),
]


def write_parallel(data: Path) -> None:
    rows = [{"id": f"{lang}-eng:{i}", "lang_a": lang, "text_a": a, "lang_b": "eng", "text_b": b,
             "source": "test", "path": "test"} for i, (lang, a, b) in enumerate(PARALLEL)]
    folder = data / "parallel"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tatoeba_pairs.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write_synthetic_data(tmp_path_factory.mktemp("det") / "data")
    write_parallel(root)
    return root


# ------------------------------------------------------------------ labels

def test_decision_labels_follow_art_2_7_and_exemptions() -> None:
    assert labels.decision_label(True, "threat", None) == "threat"
    assert labels.decision_label(True, "solicitation_recruitment", None) == \
        "solicitation_recruitment"
    assert labels.decision_label(True, "perpetrator_content", None) == "terrorist_content"
    assert labels.decision_label(False, None, "journalism") == "reporting"
    assert labels.decision_label(False, None, "research") == "research_education"
    assert labels.decision_label(False, None, "education") == "research_education"
    assert labels.decision_label(False, None, "counter_speech") == "counter_speech"
    assert labels.decision_label(False, None, None) == "other"


def test_unsupported_labels_fold_into_parents() -> None:
    pairs = [("terrorist_content", "a"), ("reporting", "b"), ("other", "c")]
    pairs += [("threat", f"t{i}") for i in range(labels.MIN_GROUPS)]
    pairs += [("counter_speech", f"c{i}") for i in range(labels.MIN_GROUPS - 1)]
    pairs += [("instruction", "same") for _ in range(20)]  # many posts, one account
    kept, dropped = labels.supported_labels(pairs)
    assert kept == ("terrorist_content", "threat", "reporting", "other")
    assert dropped["counter_speech"] == labels.MIN_GROUPS - 1 and dropped["instruction"] == 1
    assert labels.fold("instruction", kept) == "terrorist_content"
    assert labels.fold("counter_speech", kept) == "other"
    with pytest.raises(ValueError, match="unknown labels"):
        labels.supported_labels([("propaganda", "x")])


# ---------------------------------------------------------- parallel split

def test_parallel_split_keeps_components_whole(data: Path) -> None:
    pairs = parallel_pairs(data / "parallel" / "tatoeba_pairs.jsonl")
    assert {p.part for p in pairs} == {"train", "holdout"}
    sides: dict[str, set[str]] = {"train": set(), "holdout": set()}
    for p in pairs:
        sides[p.part] |= {p.text_a, p.text_b}
    assert not sides["train"] & sides["holdout"]
    market = [p.part for p in pairs if p.text_b == "The market opens at eight."]
    assert len(set(market)) == 1  # two translations of one sentence stay together
    assert pairs == parallel_pairs(data / "parallel" / "tatoeba_pairs.jsonl")
    everyday = {ex.text for ex in load_examples(data) if ex.origin == "parallel"}
    assert everyday == sides["train"]


# ---------------------------------------------------------- from decisions

def _decided_items(app: Warding, n: int, violating: bool, **decision: Any) -> None:
    for i in range(n):
        with app.transaction() as session:
            item = ContentItem(source="test", external_id=f"{decision}-{violating}-{i}",
                               kind="post", account=f"acct-{violating}-{i}",
                               text=f"placeholder decided post number {i} about "
                                    f"{'kites' if violating else 'teapots'} and boats",
                               input_ref="test")
            session.add(item)
            session.flush()
            case = Case(item_id=item.id, status="open", reasons=[])
            session.add(case)
            session.flush()
            case_id = case.id
        record_decision(app, case_id, DecisionInput(violating=violating, reason="test",
                                                    **decision), actor="test", reviewer_id=None)


def test_train_from_decisions(app_factory: Any, data: Path) -> None:
    app = app_factory()
    _decided_items(app, labels.MIN_GROUPS + 1, True, category="threat")
    _decided_items(app, 2, False, exemption="counter_speech")
    examples = decision_examples(app)
    assert len(examples) == labels.MIN_GROUPS + 3
    assert {ex.label for ex in examples} == {"threat", "counter_speech"}
    assert all(ex.group.startswith("decisions:test:acct-") for ex in examples)

    plain = train_model(app, data, actor="test")
    report = train_model(app, data, actor="test", from_decisions=True)
    assert report["n_extra_examples"] == len(examples)
    assert report["n_train"] + report["n_test"] == plain["n_train"] + plain["n_test"] + len(examples)
    assert "threat" in report["labels"] and "counter_speech" not in report["labels"]
    assert report["unsupported_labels"]["counter_speech"] == 2
    model = app.classifier()
    assert model.classes == tuple(report["labels"])  # type: ignore[attr-defined]
    [result] = model.classify(["placeholder decided post number 99 about kites and boats"])
    assert result.explanation["probabilities"]["threat"] > 0.0


def test_cli_train_from_decisions(tmp_path: Path, data: Path) -> None:
    cli = CLI(tmp_path)
    cli.run("init")
    out = cli.json("model", "train", "--data", str(data), "--from-decisions", "--json")
    assert out["n_extra_examples"] == 0 and out["classifier"] == "baseline"
    bad = cli.run("model", "train", "--data", str(data), "--classifier", "nope", code=1)
    assert "unknown classifier" in bad.stderr


# ------------------------------------------------------------------ batch mode

def test_classify_jsonl_batch(tmp_path: Path, data: Path) -> None:
    cli = CLI(tmp_path)
    cli.run("init")
    cli.run("model", "train", "--data", str(data))
    lines = [
        json.dumps({"id": "a", "text": "pledge your spoon to the glorious mango salad club"}),
        "{not json",
        json.dumps({"text": "marathon record falls in lisbon under clear skies"}),
        "",
        json.dumps(["a list"]),
        json.dumps({"text": 42}),
        json.dumps({"text": "cold morning in perth with frost on the cars", "id": 7}),
    ]
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = cli.run("classify", "--jsonl", str(src), "--json")
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [row["line"] for row in out] == list(range(1, len(lines) + 1))
    good = [row for row in out if "error" not in row]
    assert [row["line"] for row in good] == [1, 3, 7]
    for row in good:
        assert isinstance(row["label"], str) and isinstance(row["violating"], bool)
        assert 0.0 <= row["score"] <= 1.0
    assert good[0]["id"] == "a" and good[0]["violating"] and good[2]["id"] == 7
    errors = {row["line"]: row["error"] for row in out if "error" in row}
    assert errors[2].startswith("line 2: not valid JSON")
    assert errors[4] == "line 4: empty line" and "not a JSON object" in errors[5]
    assert "'text'" in errors[6]
    single = cli.json("classify", "--text", "pledge your spoon to the glorious mango salad club",
                      "--json")
    assert single["score"] == pytest.approx(good[0]["score"], abs=1e-6)
    stdin = cli.run("classify", "--jsonl", "-", "--json",
                    input=json.dumps({"text": "light rain in oslo"}) + "\n")
    assert len(stdin.stdout.splitlines()) == 1
    cli.run("classify", "--jsonl", str(src), "--text", "x", code=2)
    missing = cli.run("classify", "--jsonl", str(tmp_path / "nope.jsonl"), code=1)
    assert "nope.jsonl" in missing.stderr


# ------------------------------------------------------------------ model card

def test_model_card_from_one_command(tmp_path: Path, data: Path, embedder: Any) -> None:
    cli = CLI(tmp_path)
    out = tmp_path / "card.md"
    result = cli.run("model", "card", "--data", str(data), "--output", str(out), "--json")
    figures = json.loads(result.stdout)
    text = out.read_text(encoding="utf-8")
    for heading in ("## Targets", "## Classifier `baseline`", "## Classifier `hybrid`",
                    "### Calibration", "### Shortcut test", "### Machine-translated news check",
                    "## Cross-lingual semantic matching", "## Language identification",
                    "## Throughput", "## Cross-validation (5 account folds)"):
        assert heading in text
    assert set(figures["classifiers"]) == {"baseline", "hybrid"}
    assert 0 < figures["matching"]["threshold"] <= 1.001
    assert figures["throughput"]["baseline_posts_per_s"] > 0


def test_cross_validation_folds_keep_groups_whole_and_spread_labels() -> None:
    from warding.classify.data import fold_of_groups
    from warding.classify.data import Example

    examples = [Example(text=f"t{i}", label="other" if g % 2 else "terrorist_content",
                        group=f"g{g}", lang_hint="en", origin="x")
                for g in range(20) for i in range(3)]
    folds = fold_of_groups(examples, 5, "warding-cv")
    assert set(folds) == {f"g{g}" for g in range(20)} and set(folds.values()) == set(range(5))
    for k in range(5):  # every fold holds groups of both labels
        labels = {ex.label for ex in examples if folds[ex.group] == k}
        assert labels == {"other", "terrorist_content"}
    assert fold_of_groups(examples, 5, "warding-cv") == folds  # fixed seed
