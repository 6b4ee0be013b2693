"""The model card's classifier sections: targets, base rates, per-set and per-language flag
rates, calibration, shortcut test, stance suite and cross-validation (see
:mod:`warding.classify.card`)."""

from __future__ import annotations

from typing import Any

from warding.classify.card_format import f as _f
from warding.classify.card_format import met as _met
from warding.classify.card_format import pct as _pct
from warding.classify.evaluation import rate
from warding.classify.labels import TAXONOMY
from warding.classify.measure import PREVALENCES, wilson

#: The targets of issue 16 (flag rates are upper limits, recall a lower one).
TARGETS: dict[str, float] = {
    "propaganda": 0.85,
    "news_relay": 0.10,
    "other_posts": 0.03,
    "everyday": 0.02,
    "everyday_worst_language": 0.05,
    "stance": 0.05,
    "news": 0.01,
    "throughput": 1000.0,
}

#: Rows of the flag-rate table: (set key, description).
SET_ROWS: tuple[tuple[str, str], ...] = (
    ("propaganda", "**propaganda posts (recall)**"),
    ("propaganda:high", "— labelled with high confidence"),
    ("propaganda:low", "— labelled with low confidence (ambiguous, truncated, a bare link)"),
    ("news_relay", "news relays of the pro-ISIS accounts"),
    ("news_relay:high", "— labelled with high confidence"),
    ("news_relay:low", "— labelled with low confidence"),
    ("partisan", "partisan posts of the pro-ISIS accounts (not a target)"),
    ("other_posts", "other posts of the pro-ISIS accounts (chat, religious text, personal)"),
    ("other_posts:high", "— labelled with high confidence"),
    ("other_posts:low", "— labelled with low confidence"),
    ("discussion", "discussion tweets of ordinary users (terrorism hashtags, 2020)"),
    ("news", "news items (journalism), all"),
    ("news_terrorism", "— news items about terrorism"),
    ("news_world", "— other world news"),
    ("stormfront", "white-supremacist forum sentences (hateful, not terrorist content)"),
    ("everyday", "ordinary tweets, held-out quarter, all languages"),
)


def worst_language(flags: dict[str, list[int]], prefix: str = "everyday:"
                   ) -> tuple[str | None, float | None]:
    """The language with the highest flag rate among ``prefix<lang>`` sets (at least 20 items)."""
    rows = [(k[len(prefix):], k_ / n) for k, (k_, n) in flags.items()
            if k.startswith(prefix) and n >= 20]
    if not rows:
        return None, None
    return max(rows, key=lambda r: r[1])


def target_checks(flags: dict[str, list[int]], mt_ok: bool) -> list[tuple[str, str, bool]]:
    """(target, measured, met) for the detection targets, from flag counts."""
    out = []
    recall = rate(flags, "propaganda")
    out.append(("propaganda recall ≥ 0.85 (per post)", _f(recall),
                recall is not None and recall >= TARGETS["propaganda"]))
    for key, label in (("news_relay", "news relays flagged ≤ 10%"),
                       ("other_posts", "other posts flagged ≤ 3%"),
                       ("everyday", "ordinary tweets flagged ≤ 2%"),
                       ("stance", ("stance suite (counter-speech, condemnation, news leads, "
                                   "religious speech) flagged ≤ 5%")),
                       ("news", "journalism (news items) flagged ≤ 1%")):
        r = rate(flags, key)
        k, n = flags.get(key, (0, 0))
        cell = f"{_pct(r)} ({k}/{n})"
        if key == "news":
            kt, nt = flags.get("news_terrorism", (0, 0))
            cell += f"; about terrorism {kt}/{nt}"
        out.append((label, cell, r is not None and r <= TARGETS[key]))
    lang, worst = worst_language(flags)
    out.append(("ordinary tweets flagged ≤ 5% in every language (the worst)",
                f"{lang}: {_pct(worst)}", worst is not None
                and worst <= TARGETS["everyday_worst_language"]))
    out.append(("news article about ISIS online recruitment never flagged (7 languages)",
                "none flagged" if mt_ok else "flagged", mt_ok))
    return out


def _set_table(flags: dict[str, list[int]]) -> list[str]:
    lines = ["| set | flagged | n | 95% interval |", "|---|---|---|---|"]

    def row(label: str, key: str) -> None:
        k, n = flags.get(key, (0, 0))
        if not n:
            return
        lo, hi = wilson(k, n)
        lines.append(f"| {label} | {_pct(k / n)} ({k}) | {n:,} | {_pct(lo)}–{_pct(hi)} |")

    for key, label in SET_ROWS:
        row(label, key)
    for prefix, label in (("everyday:", "— ordinary tweets"),
                          ("parallel:", "everyday sentences (Tatoeba, held-out half)"),
                          ("stance:", "stance suite"), ("stance_lang:", "stance suite")):
        if prefix == "parallel:":
            row("everyday sentences (Tatoeba, held-out half), all languages", "parallel")
        if prefix == "stance:":
            row("**stance suite, all** (texts written for the project)", "stance")
        for key in sorted(k for k in flags if k.startswith(prefix)):
            row(f"{label}, {key[len(prefix):]}", key)
    return lines


def which_classifier(base: dict[str, Any], hyb: dict[str, Any], tp: dict[str, Any]) -> str:
    mt = {n: not any(r["violating"] for r in c["mt_news"]) for n, c in
          (("baseline", base), ("hybrid", hyb))}
    missed = {n: [t for t, _, ok in target_checks(c["report"]["flags"], mt[n]) if not ok]
              for n, c in (("baseline", base), ("hybrid", hyb))}
    speed = tp["baseline_posts_per_s"] / max(tp["hybrid_posts_per_s"], 1e-9)
    text = ("**Which classifier.** `baseline` is the default: about "
            f"{speed:.0f} times faster than `hybrid`, no sentence embedding, and ")
    if len(missed["baseline"]) <= len(missed["hybrid"]):
        text += "at least as many detection targets met. "
    else:
        text += "fewer detection targets met than `hybrid`. "
    for name in ("baseline", "hybrid"):
        text += (f"`{name}` misses: " + "; ".join(missed[name]) + ". " if missed[name]
                 else f"`{name}` meets every detection target. ")
    return text


def base_rate_section(rows: list[dict[str, Any]]) -> list[str]:
    head = " | ".join(f"at {100 * p:g}%: true / false cases, precision" for p in PREVALENCES)
    lines = [
        "| threshold | score | held-out recall | ordinary tweets flagged | " + head + " |",
        "|---|---|---|---|" + "---|" * len(PREVALENCES),
    ]
    for r in rows:
        cells = " | ".join(
            f"{r[str(p)]['true']:.1f} / {r[str(p)]['false']:,.0f}, {_pct(r[str(p)]['precision'])}"
            for p in PREVALENCES)
        lines.append(f"| {r['name']} | {r['threshold']:.4f} | {r['recall']:.3f} | "
                     f"{_pct(r['fpr'], 2)} | {cells} |")
    return lines


def classifier_section(name: str, c: dict[str, Any]) -> list[str]:
    r = c["report"]
    title = "default, no embeddings" if name == "baseline" else \
        "n-grams + multilingual sentence embedding"
    lines = [
        f"## Classifier `{name}` ({title})",
        "",
        (f"Model `{r['model']}`: {r['n_train']:,} training examples, {r['n_test']:,} test "
         f"examples from held-out accounts. Decision threshold **{r['threshold']:.4f}** on the "
         "calibrated score (chosen on the out-of-fold scores of the training accounts; "
         "`WARDING_CLASSIFIER_THRESHOLD` overrides it)."),
        "",
        "Labels: " + ", ".join(f"`{lab}`" for lab in r["labels"]) + ". Not supported by the "
        "data, so not learned (groups in the data): "
        + ", ".join(f"`{lab}` ({n})" for lab, n in r["unsupported_labels"].items())
        + ". Reviewers' decisions (`warding model train --from-decisions`) add these labels "
        "once each has 5 or more accounts.",
        "",
        "### Base rate: what the threshold means on a platform",
        "",
        ("Per 100,000 posts of a platform's stream with the given share of terrorist content, "
         "using the held-out recall on propaganda posts and the flag rate on held-out ordinary "
         "tweets as the false-positive rate of the rest of the stream. Every flagged post is a "
         "case for a person; nothing is removed automatically. The other rows show the "
         "thresholds at which the *held-out* recall would be 0.80–0.95 (read off the test "
         "accounts, so for information only: the default is chosen without them)."),
        "",
        *base_rate_section(c["base_rate"]),
        "",
        "### Flagged share per set",
        "",
        ("Test accounts (per-post labels), news items and forum users of the test groups, and "
         "the probe sets used for nothing but figures: the held-out quarter of the ordinary "
         "tweets, the held-out half of the Tatoeba sentences (Russian and Turkish are in no "
         "training tweet) and the stance suite. The rows `labelled with high / low confidence` "
         "split a per-post label by how sure its reader was (the guide's `low`: ambiguous, "
         "truncated, a bare link, a language read less surely); the shared data's two human "
         "readers disagreed only where one of them said `low`."),
        "",
        *_set_table(r["flags"]),
        "",
        "### Per class (test accounts)",
        "",
        "| class | precision | recall | F1 | test examples |",
        "|---|---|---|---|---|",
    ]
    for lab in TAXONOMY:
        m = r["per_class"].get(lab)
        if m:
            lines.append(f"| {lab} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | "
                         f"{m['support']:,} |")
    lines += [
        "",
        ("`reporting` holds the news items and the pro-ISIS accounts' news relays; `other` "
         "everything else that is not propaganda."),
        "",
        "### Per language (test examples + probe sets; language by the language-ID model)",
        "",
        ("Languages with fewer than 20 examples are left out. `unknown`: nothing left to "
         "identify after cleaning, or no confident language."),
        "",
        "| language | examples | violating | precision | recall | F1 | flagged non-violating |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in c["per_language"]:
        lines.append(f"| {row['lang']} | {row['n']:,} | {row['n_pos']:,} | "
                     f"{_f(row['precision'])} | {_f(row['recall'])} | {_f(row['f1'])} | "
                     f"{_pct(row['fpr'], 2)} |")
    cal = c["calibration"]
    lines += [
        "",
        f"### Calibration (test examples; expected calibration error {cal['ece']:.4f})",
        "",
        ("Scores are Platt-scaled on out-of-fold scores of the training accounts, so they are "
         f"probabilities for the *data's mix* (the test examples are {_pct(cal['prevalence'], 2)} "
         "propaganda), not for a platform's stream, where terrorist content is far rarer (see "
         "the base-rate table)."),
        "",
        "| score bin | items | mean score | share propaganda |",
        "|---|---|---|---|",
    ]
    for b in cal["bins"]:
        lines.append(f"| {b['lo']:g}–{b['hi']:g} | {b['n']:,} | {_f(b['mean_score'], 4)} | "
                     f"{_f(b['observed'], 4)} |")
    sc = c["shortcut"]
    lines += [
        "",
        "### Shortcut test: form alone must not move the score",
        "",
        (f"{sc['n']:,} texts (the test accounts' tweets and held-out ordinary tweets), each "
         "scored as it is and after an edit of its form only. The cleaning removes links, "
         "`http` placeholders, mentions, `RT`, hashtag signs and emoji before any feature is "
         "computed, so these edits must change nothing. Writing a text twice keeps the same "
         "n-grams (presence is counted, not frequency, and each block is l2-normalised) but "
         "for the one word pair across the seam: it may move a score a little, never much."),
        "",
        "| edit | largest score change | flag changed | AUC after the edit |",
        "|---|---|---|---|",
    ]
    for row in sc["rows"]:
        lines.append(f"| {row['edit']} | {row['max_change']:.4f} | {row['flips']} | "
                     f"{_f(row['auc'])} |")
    flagged = [s for s in c["stance"] if s["flagged"]]
    lines += [
        "",
        "### Stance suite",
        "",
        f"{len(c['stance'])} texts written for the project (`warding/classify/stance.py`, "
        "never trained on) that name Islam, jihad, ISIS or an attack to condemn it, report it, "
        "answer anti-Muslim hate, pray or study it, in 11 languages. Flagged: "
        f"{len(flagged)}" + (" (" + ", ".join(f"{s['kind']}/{s['lang']} {s['score']:.3f}"
                                               for s in flagged) + ")" if flagged else "")
        + f"; highest score {max((s['score'] for s in c['stance']), default=0):.4f}.",
        "",
        "### Machine-translated news check",
        "",
        ("A neutral news paragraph about ISIS online recruitment (researchers, police, platforms; "
         "no propaganda), written for this project with share-button boilerplate "
         "(`warding/classify/mt_news.py`), translated by hand into six languages."),
        "",
        "| language | label | score | flagged |",
        "|---|---|---|---|",
    ]
    for row in c["mt_news"]:
        lines.append(f"| {row['lang']} | {row['label']} | {row['score']:.4f} | "
                     f"{'yes' if row['violating'] else 'no'} |")
    lines.append("")
    return lines


#: The sets the cross-validation table shows.
CV_SETS = ("propaganda", "news_relay", "partisan", "other_posts", "discussion", "news",
           "news_terrorism", "everyday")


def crossval_section(cv: dict[str, Any]) -> list[str]:
    k = cv["baseline"]["k"]
    lines = [
        f"## Cross-validation ({k} account folds)",
        "",
        (f"The whole training procedure is run {k} times, each time holding out another fifth "
         "of the groups (accounts; news items, forum users and ordinary tweets are their own "
         "groups), so every labelled post is tested exactly once. The pooled row is the "
         "sturdier estimate; where it and the single split disagree, believe it."),
        "",
        "| classifier | fold | threshold | " + " | ".join(CV_SETS) + " | worst language |",
        "|---|---|---|" + "---|" * len(CV_SETS) + "---|",
    ]
    for name in ("baseline", "hybrid"):
        c = cv[name]
        for row in [*c["folds"], {"fold": "all", "threshold": None, "flags": c["pooled"]}]:
            fl = row["flags"]
            cells = " | ".join(f"{_pct(rate(fl, s))}" for s in CV_SETS)
            lang, worst = worst_language(fl)
            thr = "" if row["threshold"] is None else f"{row['threshold']:.4f}"
            lines.append(f"| {name} | {row['fold']} | {thr} | {cells} | {lang}: {_pct(worst)} |")
    lines.append("")
    return lines


def targets_table(base: dict[str, Any], hyb: dict[str, Any], cv: dict[str, Any],
                  tp: dict[str, Any]) -> list[str]:
    mt = {n: not any(r["violating"] for r in c["mt_news"]) for n, c in
          (("baseline", base), ("hybrid", hyb))}
    rows_b = target_checks(base["report"]["flags"], mt["baseline"])
    rows_h = target_checks(hyb["report"]["flags"], mt["hybrid"])
    rows_cv = target_checks(cv["baseline"]["pooled"], mt["baseline"]) if cv else None
    lines = ["| target | baseline (default) | hybrid | baseline, cross-validated |",
             "|---|---|---|---|"]
    for i, (label, cell_b, ok_b) in enumerate(rows_b):
        _, cell_h, ok_h = rows_h[i]
        cv_cell = "" if rows_cv is None or "article" in label else \
            f"{rows_cv[i][1]} {_met(rows_cv[i][2])}"
        lines.append(f"| {label} | {cell_b} {_met(ok_b)} | {cell_h} {_met(ok_h)} | {cv_cell} |")
    speed_ok = tp["baseline_posts_per_s"] >= TARGETS["throughput"]
    lines.append(f"| ≥ 1,000 posts/s without embeddings (2 cores) | "
                 f"{tp['baseline_posts_per_s']:,.0f} posts/s {_met(speed_ok)} | "
                 f"{tp['hybrid_posts_per_s']:,.0f} posts/s (with embeddings) | |")
    return lines
