"""Text in images (issue 21): OCR quality, known texts found through images, fairness of the
classifier on image text, and speed. ``make bench-ocr`` (``python -m benchmarks.ocr``).

Every image is made here from neutral sentences: the Tatoeba sentences of
``../shared/data/parallel`` (Arabic, German, English, French, Russian, Spanish, Turkish), a few
everyday Urdu sentences written for this benchmark, and the everyday tweets of
``../shared/data/everyday_tweets``, rendered with Pillow (libraqm shapes Arabic script) over a
plain background or a photo, JPEG-compressed with a little noise. Writes the ``ocr`` section of
docs/benchmarks.md and the ``ocr-fairness`` section of docs/model-card.md.
"""

from __future__ import annotations

import json
import os
import platform
import random
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from benchmarks.common import env_int, load_average
from benchmarks.sections import put_section
from tests.conftest import bank_of_texts
from tests.ocr_images import NASKH, cer, degrade, lighten, photo, render

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("WARDING_SHARED_DATA_DIR") or ROOT.parent / "shared" / "data")
OUT = Path(tempfile.gettempdir()) / "warding-bench-ocr.json"

# Everyday sentences (weather, shopping, family, travel), for Urdu, which the parallel set lacks.
URDU = [
    "آج موسم بہت اچھا ہے۔", "میں کل بازار جاؤں گا۔", "یہ کتاب بہت دلچسپ ہے۔",
    "بچے پارک میں کھیل رہے ہیں۔", "ہم شام کو چائے پیتے ہیں۔", "میری بہن ڈاکٹر ہے۔",
    "ریل گاڑی دیر سے آئی۔", "اس نے پانی کا گلاس مانگا۔", "دکان صبح دس بجے کھلتی ہے۔",
    "میرے دوست نے نیا گھر خریدا ہے۔", "سردیوں میں دن چھوٹے ہوتے ہیں۔",
    "ہم اتوار کو دادی سے ملنے گئے۔",
]
LANGS = ("ara", "deu", "eng", "fra", "rus", "spa", "tur", "urd")
SCRIPT = {"ara": "Arabic", "urd": "Arabic", "rus": "Cyrillic"}
ISO1 = {"ara": "ar", "deu": "de", "eng": "en", "fra": "fr", "rus": "ru", "spa": "es",
        "tur": "tr", "urd": "ur"}


def _pairs() -> list[dict[str, Any]]:
    lines = (SHARED / "parallel" / "tatoeba_pairs.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in lines.splitlines() if line.strip()]


def sentences(per_lang: int) -> dict[str, list[str]]:
    rng = random.Random(21)
    pairs = _pairs()
    rng.shuffle(pairs)
    out: dict[str, list[str]] = defaultdict(list)
    for p in pairs:
        lang = "ara" if p["lang_a"] in ("ara", "acm", "afb", "apc") else p["lang_a"]
        if len(out[lang]) < per_lang:
            out[lang].append(p["text_a"])
        if len(out["eng"]) < per_lang:
            out["eng"].append(p["text_b"])
    out["urd"] = URDU[:per_lang]
    return dict(out)


def _reader() -> Any:
    from warding.ocr.reader import OcrLimits, OcrReader

    return OcrReader(OcrLimits(25_000_000, 30.0, 50.0), None)


# -- 1. character error rate ------------------------------------------------------------------
CONDITIONS = [("plain", 16), ("plain", 24), ("plain", 36), ("photo", 24), ("photo", 36)]


def bench_cer(per_lang: int) -> dict[str, Any]:
    reader = _reader()
    rows: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    unread: dict[str, int] = defaultdict(int)
    lang_ok: dict[str, int] = defaultdict(int)
    for lang, texts in sentences(per_lang).items():
        font = NASKH if lang == "urd" else None
        for k, text in enumerate(texts):
            for bg, size in CONDITIONS:
                back = lighten(photo(k)) if bg == "photo" else None
                img = render(text, size=size, background=back, width=30 * size,
                             **({"font_path": font} if font else {}))
                got = reader.read_bytes(degrade(img, quality=70, noise=5.0, seed=k))
                rows[lang][f"{bg} {size}px"].append(cer(got.text if got else "", text))
                unread[lang] += got is None
                lang_ok[lang] += bool(got and got.lang == ISO1[lang])
    table = {lang: {cond: sum(v) / len(v) for cond, v in conds.items()}
             for lang, conds in rows.items()}
    n = {lang: sum(len(v) for v in conds.values()) for lang, conds in rows.items()}
    return {"cer": table, "images": n, "unread": dict(unread),
            "language_right": {k: lang_ok[k] / n[k] for k in n}}


# -- 2. known texts through images ----------------------------------------------------------
def _scan_images(w: Any, folder: Path) -> dict[str, set[tuple[str, int]]]:
    """{file name: {(signal type, entry id)}} of a scan of ``folder``."""
    from sqlalchemy import select

    from warding.db.models import ContentItem, Match
    from warding.pipeline.scan import scan_paths

    scan_paths(w, [folder], "bench")
    found: dict[str, set[tuple[str, int]]] = defaultdict(set)
    with w.engine.connect() as conn:
        for ref, st, entry in conn.execute(
                select(ContentItem.input_ref, Match.signal_type, Match.entry_id)
                .join(Match, Match.item_id == ContentItem.id)):
            found[Path(ref).name].add((st, int(entry)))
    return found


def bench_matching(n: int, unrelated: int) -> dict[str, Any]:

    rng = random.Random(7)
    unique = {p["text_b"]: p for p in _pairs() if len(p["text_b"].split()) >= 4}
    pairs = sorted(unique.values(), key=lambda p: p["id"])
    rng.shuffle(pairs)
    pairs = pairs[:n]
    tweets = [json.loads(line)["text"] for line in
              (SHARED / "everyday_tweets" / "posts.jsonl").read_text(encoding="utf-8")
              .splitlines() if line.strip()]
    rng.shuffle(tweets)
    with tempfile.TemporaryDirectory(prefix="bench-ocr-") as tmp:
        root = Path(tmp)
        w = _semantic_app(root)
        entries = bank_of_texts(w, "texts", [p["text_b"] for p in pairs])
        folder = root / "images"
        folder.mkdir()
        for k, p in enumerate(pairs):
            back = lighten(photo(k)) if k % 2 else None
            for kind, text in (("same", p["text_b"]), ("translation", p["text_a"])):
                img = render(text, size=24 + 4 * (k % 3), background=back, width=560)
                (folder / f"{kind}-{k}.jpg").write_bytes(degrade(img, 75, 5.0, k))
        for k, text in enumerate(tweets[:unrelated]):
            img = render(text, size=24, width=560, background=lighten(photo(k)) if k % 2 else None)
            (folder / f"other-{k}.jpg").write_bytes(degrade(img, 75, 5.0, k))
        t0 = time.perf_counter()
        found = _scan_images(w, folder)
        seconds = time.perf_counter() - t0
        w.close()
    exact = {"text", "text_near"}
    same = sum(1 for k, e in enumerate(entries)
               if any(st in exact and eid == e for st, eid in found.get(f"same-{k}.jpg", ())))
    same_any = sum(1 for k, e in enumerate(entries)
                   if any(eid == e for _, eid in found.get(f"same-{k}.jpg", ())))
    trans = sum(1 for k, e in enumerate(entries)
                if any(st == "text_semantic" and eid == e
                       for st, eid in found.get(f"translation-{k}.jpg", ())))
    wrong: dict[str, int] = defaultdict(int)
    for k, e in enumerate(entries):
        for name in (f"same-{k}.jpg", f"translation-{k}.jpg"):
            for st, eid in found.get(name, ()):
                wrong[st] += eid != e
    other = sum(1 for k in range(min(unrelated, len(tweets))) if found.get(f"other-{k}.jpg"))
    as_text = _translations_as_text(pairs, entries)
    return {"bank_texts": n, "same_text_images": n, "same_matched_text_or_near": same,
            "same_matched_any": same_any, "translation_images": n,
            "translations_matched_semantic": trans, "wrong_entry_matches": dict(wrong),
            "translations_matched_as_text": as_text,
            "unrelated_images": min(unrelated, len(tweets)), "unrelated_matched": other,
            "scan_seconds": seconds, "images": 2 * n + min(unrelated, len(tweets))}


def _semantic_app(root: Path) -> Any:
    from warding.app import Warding
    from warding.config import Settings

    w = Warding(Settings(database_url=f"sqlite:///{root / 'w.db'}", data_dir=root / "d",
                         semantic_matching=True))
    w.init_db()
    return w


def _translations_as_text(pairs: list[dict[str, Any]], entries: list[int]) -> int:
    """How many of the translations, typed out as text, match their bank text (the same
    bank, through ``match --text``'s semantic matching): the figure image text is held to."""
    from warding.matching.semantic import match_text

    with tempfile.TemporaryDirectory(prefix="bench-ocr-text-") as tmp:
        w = _semantic_app(Path(tmp))
        ids = bank_of_texts(w, "texts", [p["text_b"] for p in pairs])
        hits = 0
        with w.transaction() as session:
            for p, e in zip(pairs, ids, strict=True):
                hits += any(m.entry_id == e for m in match_text(w, session, p["text_a"]))
        w.close()
    return hits


# -- 3. fairness: image text vs the same text ---------------------------------------------
def bench_fairness(per_lang: int) -> dict[str, Any]:
    from warding.cases.routing import RoutingPolicy  # noqa: F401 (policy as at scan time)
    from warding.classify.training import train
    from warding.plugins import classifier_classes

    rng = random.Random(11)
    from warding.classify.data import everyday_holdout

    by_lang: dict[str, list[str]] = defaultdict(list)
    for ex in everyday_holdout(SHARED):  # the quarter the model never trains on
        by_lang[ex.lang_hint or "?"].append(ex.text)
    reader = _reader()
    out: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-ocr-model-") as tmp:
        train(SHARED, Path(tmp))
        clf = classifier_classes()["baseline"].load(Path(tmp))
        threshold = float(json.loads((Path(tmp) / "baseline" / "model.json").read_text())
                          .get("threshold", 0.5))
        for lang, texts in sorted(by_lang.items()):
            rng.shuffle(texts)
            sample = texts[:per_lang]
            as_text = clf.classify_batch(sample)
            read: list[str] = []
            for k, t in enumerate(sample):
                img = render(t, size=24, width=560,
                             background=lighten(photo(k)) if k % 2 else None)
                got = reader.read_bytes(degrade(img, 75, 5.0, k))
                read.append(got.text if got else "")
            texted = [(k, t) for k, t in enumerate(read) if t.strip()]
            as_image = clf.classify_batch([t for _, t in texted]) if texted else []

            def flagged(r: Any, text: str) -> bool:
                return bool(r.assessed and r.score >= threshold and len(text.split()) >= 4)

            out[lang] = {
                "posts": len(sample),
                "text_flagged": sum(flagged(r, t) for r, t in zip(as_text, sample,
                                                                   strict=True)) / len(sample),
                "image_flagged": sum(flagged(r, t) for r, (_, t) in zip(as_image, texted,
                                                                         strict=True))
                / len(sample),
                "image_read": len(texted) / len(sample),
                "text_mean_score": sum(r.score for r in as_text) / len(sample),
                "image_mean_score": sum(r.score for r in as_image) / max(1, len(as_image)),
            }
    return {"threshold": threshold, "languages": out}


# -- 4. speed --------------------------------------------------------------------------------
def bench_speed(n: int) -> dict[str, Any]:
    from warding.ocr.regions import likely_text
    from warding.signals.pdq import PDQSignal

    reader = _reader()
    texts = [p["text_b"] for p in _pairs()[:n]]
    with_text = [degrade(render(t, size=28, width=700, background=lighten(photo(k))), 80, 4.0, k)
                 for k, t in enumerate(texts)]
    without = [degrade(photo(k, size=(800, 600)), 80, 4.0, k) for k in range(n)]
    pdq = PDQSignal()
    result: dict[str, Any] = {}
    for name, images in (("with_text", with_text), ("without_text", without)):
        t0 = time.perf_counter()
        read = [reader.read_bytes(d) for d in images]
        secs = time.perf_counter() - t0
        t0 = time.perf_counter()
        for d in images:
            pdq.compute(d)
        pdq_secs = time.perf_counter() - t0
        import io

        from PIL import Image

        checked = sum(likely_text(Image.open(io.BytesIO(d))) for d in images)
        result[name] = {"images": len(images), "ocr_images_per_s": len(images) / secs,
                        "pdq_images_per_s": len(images) / pdq_secs,
                        "passed_text_check": checked, "text_found": sum(r is not None
                                                                        for r in read)}
    return result


# -- report -----------------------------------------------------------------------------------
def report(r: dict[str, Any]) -> tuple[str, str]:
    c = r["cer"]
    conds = [f"{bg} {size}px" for bg, size in CONDITIONS]
    lines = [
        "## Text in images (OCR, issue 21)",
        "",
        f"Generated by `make bench-ocr` (`python -m benchmarks.ocr`) on {r['started']}; "
        f"machine: {platform.machine()}, {os.cpu_count()} cores shared with other work (load "
        f"average {r['load_before']} before, {r['load_after']} after), so speeds are lower "
        "bounds. Engine: Tesseract "
        f"{r['tesseract']} (the `tesserocr` wheel) with Debian's script models (`Latin`, "
        "`Arabic`, `Cyrillic`; docs/ocr.md says why). Every image is rendered here from neutral "
        "sentences (Pillow with libraqm, DejaVu Sans; Scheherazade for Urdu), wrapped, over "
        "white or a washed-out photo, saved as JPEG quality 70 with Gaussian noise σ = 5.",
        "",
        "### Character error rate per language and condition",
        "",
        "CER = edit distance ÷ length of the sentence, whitespace normalised; an image with no "
        "text read counts as CER 1. Sentences: the Tatoeba sentences of "
        "`../shared/data/parallel`, and 12 everyday Urdu sentences written for the benchmark.",
        "",
        "| language (script) | images | " + " | ".join(conds) + " | not read | language "
        "told right |",
        "|---|---|" + "---|" * len(conds) + "---|---|",
    ]
    for lang in LANGS:
        if lang not in c:
            continue
        lines.append(f"| {lang} ({SCRIPT.get(lang, 'Latin')}) | {r['images'][lang]} | "
                     + " | ".join(f"{c[lang][k]:.3f}" for k in conds)
                     + f" | {r['unread'][lang]} | {r['language_right'][lang]:.0%} |")
    m = r["matching"]
    lines += [
        "",
        "### Known texts found through images",
        "",
        f"A bank of {m['bank_texts']} English Tatoeba sentences (each with its `text_semantic` "
        f"vector); images of the same sentences, images of their translations (Arabic, German, "
        f"French, Russian, Spanish, Turkish) and {m['unrelated_images']} images of unrelated "
        "everyday tweets, half over photos, scanned with `warding scan` (the pipeline: OCR, text "
        "signals with origin `ocr`, bank lookups, semantic matching).",
        "",
        "| images | matched their bank text |",
        "|---|---|",
        f"| the same sentence | {m['same_matched_text_or_near']} of {m['same_text_images']} "
        f"through `text`/`text_near`; {m['same_matched_any']} of {m['same_text_images']} "
        "through any signal |",
        f"| its translation | {m['translations_matched_semantic']} of "
        f"{m['translation_images']} through `text_semantic` (typed out as text: "
        f"{m['translations_matched_as_text']} of {m['translation_images']}) |",
        f"| unrelated tweets | {m['unrelated_matched']} of {m['unrelated_images']} matched "
        "something (false matches) |",
        "",
        "Matches of a sentence image to another bank entry, by signal type: "
        + (", ".join(f"`{k}` {v}" for k, v in sorted(m["wrong_entry_matches"].items()))
           or "none")
        + " (the Tatoeba sentences are short and alike — many are about Tom — and "
        "`text_semantic` at its default threshold also joins sentences of one topic: the "
        "same happens to typed text, docs/model-card.md). "
        f"The scan of {m['images']} images took {m['scan_seconds']:.0f} s.",
    ]
    s = r["speed"]
    lines += [
        "",
        "### Speed on this machine",
        "",
        "Images of 28 px text over a photo (about 700 px wide) and photos without text "
        "(800 × 600), JPEG; one thread.",
        "",
        "| images | OCR images/s (decode, text check, read) | PDQ images/s (for scale) | "
        "passed the text check | text found |",
        "|---|---|---|---|---|",
    ]
    for name, label in (("with_text", "with text"), ("without_text", "without text")):
        x = s[name]
        lines.append(f"| {label} | {x['ocr_images_per_s']:.1f} | {x['pdq_images_per_s']:.1f} | "
                     f"{x['passed_text_check']} of {x['images']} | {x['text_found']} |")
    f = r["fairness"]
    fair = [
        "## Text in images: the classifier on image text (issue 21)",
        "",
        f"Generated by `make bench-ocr`. Held-out everyday tweets of "
        "`../shared/data/everyday_tweets` "
        "(no terrorist content), per language, scored by the `baseline` model trained on the "
        "shared data (as `warding model train` does) once as text and once rendered into an "
        "image and read back by OCR. *Flagged* = a score at or above the model's threshold "
        f"({f['threshold']:.3f}) with at least 4 words, as at scan time.",
        "",
        "The tweets are drawn from the held-out quarter of the ordinary tweets, which the "
        "model never trains on; the table tests that reading a tweet out of an image does not "
        "raise its score, language by language.",
        "",
        "| language | tweets | flagged as text | flagged as image text | mean score as text | "
        "mean score as image text | images whose text was read |",
        "|---|---|---|---|---|---|---|",
    ]
    for lang, x in f["languages"].items():
        fair.append(f"| {lang} | {x['posts']} | {x['text_flagged']:.1%} | "
                    f"{x['image_flagged']:.1%} | {x.get('text_mean_score', 0):.4f} | "
                    f"{x.get('image_mean_score', 0):.4f} | {x['image_read']:.0%} |")
    return "\n".join(lines), "\n".join(fair)


def main() -> None:
    results: dict[str, Any] = {"started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                               "load_before": load_average(),
                               "tesseract": _reader().engine().version}
    parts = os.environ.get("BENCH_OCR_PARTS", "cer,matching,fairness,speed").split(",")
    if "cer" in parts:
        results.update(bench_cer(env_int("BENCH_OCR_PER_LANG", 40)))
        print(json.dumps({k: results[k] for k in ("cer", "unread")}), flush=True)
    if "matching" in parts:
        results["matching"] = bench_matching(env_int("BENCH_OCR_BANK", 100),
                                             env_int("BENCH_OCR_UNRELATED", 300))
        print(json.dumps(results["matching"]), flush=True)
    if "fairness" in parts:
        results["fairness"] = bench_fairness(env_int("BENCH_OCR_FAIR_PER_LANG", 200))
        print(json.dumps(results["fairness"]), flush=True)
    if "speed" in parts:
        results["speed"] = bench_speed(env_int("BENCH_OCR_SPEED_IMAGES", 100))
        print(json.dumps(results["speed"]), flush=True)
    results["load_after"] = load_average()
    if OUT.exists() and len(parts) < 4:  # a partial run: keep the other parts' last results
        results = {**json.loads(OUT.read_text()), **results}
    OUT.write_text(json.dumps(results, indent=2))
    if all(k in results for k in ("cer", "matching", "fairness", "speed")):
        bench, card = report(results)
        put_section(ROOT / "docs" / "benchmarks.md", "ocr", bench)
        put_section(ROOT / "docs" / "model-card.md", "ocr-fairness", card)
    print(f"raw results: {OUT}")


if __name__ == "__main__":
    main()
