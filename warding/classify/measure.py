"""The measurements behind docs/model-card.md (see :mod:`warding.classify.card`)."""

from __future__ import annotations

import itertools
import json
import math
import os
import time
from collections import defaultdict
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score

from warding.classify.data import (
    Example,
    account_split,
    load_examples,
    parallel_file,
    parallel_pairs,
)
from warding.classify.evaluation import probe_examples
from warding.classify.features import clean_text
from warding.classify.labels import VIOLATING, fold
from warding.classify.mt_news import MT_NEWS
from warding.classify.training import (
    CLASSIFIERS,
    SEED,
    TEST_FRACTION,
    TrainReport,
    prepare,
)

#: False-match rate the semantic threshold is chosen for (on the parallel training half).
TARGET_FMR = 0.005


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float | None, float | None]:
    """95% Wilson score interval of k successes in n trials."""
    if n == 0:
        return None, None
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _test_split(data_dir: Path, classes: list[str]) -> tuple[list[Example], list[Example]]:
    examples = [replace(ex, label=fold(ex.label, classes)) for ex in load_examples(data_dir)]
    return account_split(examples, TEST_FRACTION, SEED)


def rate_row(name: str, k: int, n: int) -> dict[str, Any]:
    lo, hi = wilson(k, n)
    return {"set": name, "rate": (k / n) if n else None, "n": n, "k": k, "lo": lo, "hi": hi}


def _prf(pred: np.ndarray, truth: np.ndarray) -> tuple[float | None, float | None, float | None]:
    tp = int((pred & truth).sum())
    precision = tp / int(pred.sum()) if pred.any() else None
    recall = tp / int(truth.sum()) if truth.any() else None
    f1 = (2 * precision * recall / (precision + recall)
          if precision and recall else (0.0 if precision is not None and recall is not None
                                        else None))
    return precision, recall, f1


#: Prevalences of terrorist content in a platform's stream the base-rate table is given for.
PREVALENCES = (0.001, 0.0001)
#: Held-out recall levels whose thresholds the base-rate table shows beside the default.
RECALL_LEVELS = (0.80, 0.85, 0.90, 0.95)


def base_rate_rows(pos_scores: np.ndarray, ordinary_scores: np.ndarray, ordinary_ok: np.ndarray,
                   thresholds: list[tuple[str, float]]) -> list[dict[str, Any]]:
    """For each (name, threshold): held-out recall, flag rate on ordinary tweets and, at each
    prevalence in PREVALENCES, true and false cases per 100,000 posts and precision."""
    rows = []
    for name, t in thresholds:
        recall = float((pos_scores >= t).mean()) if pos_scores.size else 0.0
        fpr = float(((ordinary_scores >= t) & ordinary_ok).mean()) if ordinary_scores.size else 0.0
        row: dict[str, Any] = {"name": name, "threshold": t, "recall": recall, "fpr": fpr}
        for p in PREVALENCES:
            true_cases = 100_000 * p * recall
            false_cases = 100_000 * (1 - p) * fpr
            row[str(p)] = {"true": true_cases, "false": false_cases,
                           "precision": true_cases / (true_cases + false_cases)
                           if true_cases + false_cases else None}
        rows.append(row)
    return rows


#: Form-only edits of a post: each must leave the score exactly as it is.
FORM_EDITS: tuple[tuple[str, Any], ...] = (
    ("a link added", lambda t: f"{t} https://t.co/a1B2c3"),
    ("`http` placeholder added", lambda t: f"{t} http"),
    ("`@user` mentions added", lambda t: f"@user @user {t}"),
    ("`RT @user:` prefix", lambda t: f"RT @user: {t}"),
    ("hashtag signs on every word", lambda t: " ".join("#" + w if w.isalnum() else w
                                                        for w in t.split())),
    ("emoji added", lambda t: f"{t} \U0001f602\U0001f44d\u2764\ufe0f"),
    ("text written twice (length)", lambda t: f"{t} {t}"),
)


def shortcut_rows(model: Any, texts: list[str], truth: np.ndarray) -> list[dict[str, Any]]:
    """How far each form-only edit moves the scores of ``texts``."""
    before = model.classify_batch(texts)
    base = np.array([r.score for r in before])
    base_flags = np.array([r.violating for r in before], dtype=bool)
    rows = []
    for name, edit in FORM_EDITS:
        results = model.classify_batch([edit(t) for t in texts])
        scores = np.array([r.score for r in results])
        flags = np.array([r.violating for r in results], dtype=bool)
        auc = float(roc_auc_score(truth, scores)) if 0 < truth.sum() < len(truth) else None
        rows.append({"edit": name, "max_change": float(np.abs(scores - base).max()),
                     "flips": int((flags != base_flags).sum()),
                     "auc": auc})
    return rows


def classifier_figures(data_dir: Path, models_dir: Path, report: TrainReport) -> dict[str, Any]:
    """Per-class, per-set, per-language, base-rate, calibration, shortcut and translated-news
    figures of the model ``report`` describes (trained with ``hold_out``)."""
    from warding.signals.langid import detect_many

    model = CLASSIFIERS[report.classifier].load(models_dir)
    classes = list(model.classes)
    _, test = _test_split(data_dir, classes)
    probes = probe_examples(data_dir)
    use_emb = model.uses_embeddings

    def score(examples: list[Example]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        data = prepare(examples, embeddings=use_emb)
        probs, scores = model.scores_from_counts(data.counts, data.emb)
        return scores, model.decide(probs, scores, data.assessed)[1], data.assessed

    t_scores, t_flags, t_assessed = score(test)
    p_scores, p_flags, p_assessed = score(probes)
    truth = np.array([ex.label in VIOLATING for ex in test])

    # Per language (detected), over test + probes.
    all_ex = list(test) + list(probes)
    langs = np.array([lang or "unknown" for lang in
                      detect_many([clean_text(ex.text) for ex in all_ex])])
    flags = np.concatenate([t_flags, p_flags])
    pos = np.concatenate([truth, np.zeros(len(probes), dtype=bool)])
    per_language = []
    for lang in sorted(set(langs), key=lambda x: (-int((langs == x).sum()), x)):
        m = langs == lang
        if m.sum() < 20:
            continue
        p, r, f = _prf(flags[m], pos[m])
        neg = m & ~pos
        per_language.append({"lang": lang, "n": int(m.sum()), "n_pos": int(pos[m].sum()),
                             "precision": p, "recall": r, "f1": f,
                             "fpr": float(flags[neg].mean()) if neg.any() else None})

    # Calibration on the test accounts' tweets and news (the data's mix).
    bins: list[dict[str, float | None]] = []
    ece = 0.0
    edges = [0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0]
    for lo, hi in itertools.pairwise(edges):
        m = (t_scores >= lo) & ((t_scores < hi) if hi < 1.0 else (t_scores <= hi))
        if m.any():
            mean_s, observed = float(t_scores[m].mean()), float(truth[m].mean())
            ece += m.sum() / len(t_scores) * abs(mean_s - observed)
            bins.append({"lo": lo, "hi": hi, "n": int(m.sum()), "mean_score": mean_s,
                         "observed": observed})
        else:
            bins.append({"lo": lo, "hi": hi, "n": 0, "mean_score": None, "observed": None})

    # Base rates: held-out recall against the flag rate on held-out ordinary tweets.
    pos_scores = t_scores[truth & t_assessed]
    ordinary = np.array([ex.origin == "everyday_tweets" for ex in probes])
    thresholds = [("default (chosen on out-of-fold recall)", model.threshold)]
    for level in RECALL_LEVELS:
        if pos_scores.size:
            t = float(np.quantile(pos_scores, 1 - level, method="lower"))
            thresholds.append((f"held-out recall {level:.2f}", t))
    base_rate = base_rate_rows(pos_scores, p_scores[ordinary], p_assessed[ordinary], thresholds)

    # Shortcut test: form-only edits of the test tweets and of held-out ordinary tweets.
    tweets = [ex for ex in test if ex.origin == "tvec_tweets"]
    sample = tweets + [ex for ex, o in zip(probes, ordinary, strict=True) if o][:2000]
    shortcut = shortcut_rows(model, [ex.text for ex in sample],
                             np.array([ex.label in VIOLATING for ex in sample]))

    mt = [{"lang": lang, "label": r.label, "score": r.score, "violating": r.violating}
          for lang, r in zip(MT_NEWS, model.classify(list(MT_NEWS.values())), strict=True)]
    stance = [{"kind": ex.topic, "lang": ex.lang_hint, "score": float(s), "flagged": bool(f)}
              for ex, s, f in zip(probes, p_scores, p_flags, strict=True)
              if ex.origin == "stance"]
    rep = asdict(report)
    rep["artefact"] = str(rep["artefact"])
    return {
        "report": rep,
        "per_language": per_language,
        "calibration": {"ece": float(ece), "bins": bins, "prevalence": float(truth.mean())},
        "base_rate": base_rate,
        "shortcut": {"rows": shortcut, "n": len(sample)},
        "mt_news": mt,
        "stance": stance,
    }


def _similarities(pairs: list[Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from warding.signals.embedding import get_embedder

    emb = get_embedder()
    a = emb.encode([p.text_a for p in pairs])
    b = emb.encode([p.text_b for p in pairs])
    sims = a @ b.T
    ka = np.array([" ".join(p.text_a.split()).casefold() for p in pairs])
    kb = np.array([" ".join(p.text_b.split()).casefold() for p in pairs])
    unrelated = (ka[:, None] != ka[None, :]) & (kb[:, None] != kb[None, :])
    same_pair = np.array([p.pair for p in pairs])
    return sims, unrelated, same_pair[:, None] == same_pair[None, :]


def _mean(values: np.ndarray) -> float | None:
    return float(values.mean()) if values.size else None


def _match_rates(pairs: list[Any], threshold: float) -> dict[str, Any]:
    sims, unrelated, same = _similarities(pairs)
    pos = np.diag(sims) >= threshold
    hit = sims >= threshold
    names = np.array([p.pair for p in pairs])
    by_pair = []
    for name in sorted(set(names)):
        m = names == name
        neg = unrelated & same & m[:, None]
        by_pair.append({"pair": name, "n": int(m.sum()), "recall": _mean(pos[m]),
                        "fmr": _mean(hit[neg]), "n_neg": int(neg.sum())})
    return {
        "n": len(pairs),
        "recall": _mean(pos),
        "fmr_same_pair": _mean(hit[unrelated & same]),
        "n_neg_same_pair": int((unrelated & same).sum()),
        "fmr_all": _mean(hit[unrelated]),
        "by_pair": by_pair,
    }


def choose_threshold(pairs: list[Any], target_fmr: float = TARGET_FMR) -> float:
    """Lowest cosine (rounded up to 0.001) with false matches <= target on ``pairs``."""
    sims, unrelated, same = _similarities(pairs)
    neg = np.sort(sims[unrelated & same])[::-1]
    if not len(neg):
        raise ValueError("no unrelated sentence pairs to choose a threshold on")
    k = math.floor(target_fmr * len(neg))
    t = float(neg[min(k, len(neg) - 1)])
    return math.floor(t * 1000) / 1000 + 0.001


def matching_figures(data_dir: Path) -> dict[str, Any]:
    """Threshold chosen on the train half of the parallel set, rates on the held-out half."""
    from warding.signals.embedding import get_embedder

    path = parallel_file(data_dir)
    if path is None:
        return {"skipped": "no parallel/tatoeba_pairs.jsonl"}
    pairs = parallel_pairs(path)
    train = [p for p in pairs if p.part == "train"]
    held = [p for p in pairs if p.part == "holdout"]
    threshold = choose_threshold(train)
    return {
        "model": get_embedder().name,
        "target_fmr": TARGET_FMR,
        "threshold": threshold,
        "train": _match_rates(train, threshold),
        "holdout": _match_rates(held, threshold),
    }


def langid_figures(data_dir: Path) -> dict[str, Any]:
    from warding.signals.langid import detect_many

    items: list[tuple[str, str]] = []
    path = parallel_file(data_dir)
    if path is not None:
        for p in parallel_pairs(path):
            items += [(p.text_a, p.lang), (p.text_b, "en")]
    news = data_dir / "news_reporting" / "articles.jsonl"
    with news.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh):
            if n >= 300:
                break
            items.append((json.loads(line)["text"], "en"))
    pred = detect_many([t for t, _ in items])
    per: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for (_, lang), got in zip(items, pred, strict=True):
        per[lang][0] += 1
        per[lang][1] += int(got == lang)
    return {
        "n": len(items),
        "accuracy": sum(v[1] for v in per.values()) / len(items),
        "by_lang": {k: {"n": v[0], "accuracy": v[1] / v[0]} for k, v in sorted(per.items())},
    }


def _rate(fn: Any, texts: list[str], chunk: int = 512, repeats: int = 2) -> float:
    """Texts/s of ``fn`` over ``texts`` in chunks: the best of ``repeats`` runs after a warm-up
    (on a shared machine the best run is the one least slowed by other processes)."""
    fn(texts[:chunk])  # warm up
    best = 0.0
    for _ in range(repeats):
        started = time.perf_counter()
        for i in range(0, len(texts), chunk):
            fn(texts[i:i + chunk])
        best = max(best, len(texts) / (time.perf_counter() - started))
    return best


def throughput(data_dir: Path, models_dir: Path, n: int = 4096) -> dict[str, Any]:
    """Posts/s of each classifier, the embedder and language ID on the data set's tweets."""
    from warding.signals.embedding import get_embedder
    from warding.signals.langid import detect_many

    texts: list[str] = []
    with (data_dir / "tvec_tweets" / "posts.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            texts.append(json.loads(line)["text"])
    step = max(1, len(texts) // n)
    texts = texts[::step][:n]
    base = CLASSIFIERS["baseline"].load(models_dir)
    hyb = CLASSIFIERS["hybrid"].load(models_dir)
    few = texts[: n // 4]  # the slow ones on fewer texts
    load_before = os.getloadavg()[0]
    return {
        "n": len(texts),
        "cores": os.cpu_count(),
        "baseline_posts_per_s": _rate(base.classify_batch, texts),
        "baseline_explained_posts_per_s": _rate(base.classify, texts),
        "hybrid_posts_per_s": _rate(hyb.classify_batch, few),
        "load_average": max(load_before, os.getloadavg()[0]),
        "embed_posts_per_s": _rate(get_embedder().encode, few),
        "langid_posts_per_s": _rate(detect_many, texts),
    }
