"""Training examples for the text classifier, and the account-level split.

The shared data folder (see ``../shared/data/README.md``) holds three sets used
here; each README there lists cautions that matter for any score:

* ``tvec_tweets/posts.jsonl`` -- tweets of pro-ISIS accounts and ``discussion`` tweets of
  ordinary users (label ``other``). Group = the posting account. The account label says
  nothing about a single tweet (most tweets of "pro-ISIS" accounts are news relays, chat or
  religious text), so a pro-ISIS tweet is used only when it has a **per-post label**
  (:func:`post_labels`): ``propaganda`` -> ``terrorist_content``, ``news_relay`` ->
  ``reporting``, ``partisan`` and ``other`` -> ``other``. The labels come from
  ``tvec_tweets/post_labels.jsonl`` (shared, two human readers) and, for the tweets that file
  does not cover, from the project's own labels under the same guide
  (``warding/classify/labels_data/tvec_post_labels.jsonl``, see its README); a label judged on
  a text applies to every identical text (retweets). Only when no per-post labels exist at
  all (a data folder without them) does every pro-ISIS tweet count as ``terrorist_content``,
  the account-level labelling of earlier versions.
* ``everyday_tweets/posts.jsonl`` (optional) -- about 51,700 ordinary tweets in eight
  languages, label ``other``. There are no accounts, so each tweet is its own group; a fixed
  quarter (:func:`everyday_part`) is held out and used for nothing but the reported flag rates
  on ordinary text per language.
* ``news_reporting/articles.jsonl`` -- journalism, label ``reporting`` (never
  terrorist content, EU Regulation 2021/784 Art. 1(3)). News items have no
  account or author field, so each item is its own group (the item id): the
  items are separate agency stories, so an item is the finest unit there is.
  Near-duplicate stories on the same event can still fall on both sides.
* ``stormfront/sentences.jsonl`` -- hate speech from a white-supremacist forum,
  label ``other``: hateful, but not terrorist content. ``idk/skip`` rows are
  skipped (not English or undecided). Group = the (anonymised) ``user_id``.

* ``parallel/tatoeba_pairs.jsonl`` (optional) -- everyday Tatoeba sentences in
  Arabic, German, French, Russian, Spanish and Turkish with their English
  translations, label ``other``. Without them the only Arabic text in the data
  is pro-ISIS, and the model learns "Arabic means terrorist content". A
  sentence and its translations form one group (keyed by the English side), so
  a translation never sits across the split from its original.

  The same pairs also measure cross-lingual matching, so they are split in two
  *before anything else* (:func:`parallel_part`): the ``train`` half may be
  used for fitting (classifier negatives, and choosing the semantic-matching
  threshold); the ``holdout`` half is used for nothing but the figures that are
  reported (translation recall and false matches, and the classifier's false
  positives on everyday sentences). The halves are cut along connected
  components of sentences (two pairs that share either side are in one
  component), by a hash of the component, so no sentence or translation of it
  is on both sides.

Groups are prefixed with the data set name (``"tvec_tweets:<account>"``) so
that ids from different sets never collide. The split is by group (account),
never by post: an account's posts are all in train or all in test.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from warding.classify.labels import OTHER, REPORTING, TAXONOMY, TERRORIST
from warding.errors import WardingError

#: The labels the public data supports (see warding.classify.labels for the full taxonomy).
LABELS: tuple[str, ...] = (TERRORIST, REPORTING, OTHER)
#: Seed of the parallel split; changing it changes which sentences are held out.
PARALLEL_SEED = "warding/parallel/20261126"

#: (folder, file, what the file must hold) -- used for loading and error messages.
SOURCES: tuple[tuple[str, str, str], ...] = (
    ("tvec_tweets", "posts.jsonl", "JSON lines with id, account, text, label"),
    ("news_reporting", "articles.jsonl", "JSON lines with id, text, label, topic"),
    ("stormfront", "sentences.jsonl", "JSON lines with id, user_id, label, text"),
)

#: Optional everyday multilingual negatives (folder, file).
PARALLEL = ("parallel", "tatoeba_pairs.jsonl")
#: Optional ordinary tweets in eight languages (folder, file).
EVERYDAY = ("everyday_tweets", "posts.jsonl")
#: Seed of the everyday split; a quarter of the tweets (by a hash of their id) is held out.
EVERYDAY_SEED = "warding/everyday/20261205"
#: Optional per-post labels of the pro-ISIS tweets (folder, file), and the project's own.
POST_LABELS = ("tvec_tweets", "post_labels.jsonl")
PROJECT_POST_LABELS = Path(__file__).resolve().parent / "labels_data" / "tvec_post_labels.jsonl"
#: Per-post label -> training label.
POST_LABEL_MAP = {"propaganda": TERRORIST, "news_relay": REPORTING, "partisan": OTHER,
                  "other": OTHER}
_PARALLEL_LANGS = {"ara": "ar", "acm": "ar", "afb": "ar", "apc": "ar", "deu": "de", "fra": "fr",
                   "rus": "ru", "spa": "es", "tur": "tr", "eng": "en"}

_TWEET_LABELS = {"pro_isis": TERRORIST, "discussion": OTHER}
_STORMFRONT_LABELS = {"hate": OTHER, "noHate": OTHER, "relation": OTHER}


class DataMissing(WardingError):
    """The training data folder or one of its files is absent or unreadable."""


@dataclass(frozen=True)
class Example:
    """One labelled text. ``group`` is the split key (account, user or item)."""

    text: str
    label: str
    group: str
    lang_hint: str | None
    origin: str
    topic: str | None = None
    #: The per-post label of a pro-ISIS account's tweet (``propaganda``, ``partisan``,
    #: ``news_relay``, ``other``), ``discussion`` for an ordinary user's tweet about terrorism.
    post_label: str | None = None
    #: How sure the reader of that per-post label was (``high``/``low``; the guide's
    #: ``low``: ambiguous, truncated, a bare link or a language read less surely). Used only to
    #: report figures by confidence, never to weigh training.
    confidence: str | None = None


def is_discussion(ex: Example) -> bool:
    """A tweet of an ordinary user about terrorism (``tvec_tweets``, ``discussion``)."""
    return ex.origin == "tvec_tweets" and ex.post_label == "discussion"


def default_data_dir() -> Path:
    """The shared data folder from the settings (``WARDING_SHARED_DATA_DIR``)."""
    from warding.config import load_settings

    return load_settings().resolved_shared_data()


def _script_hint(text: str) -> str | None:
    """``"ar"`` when most letters are Arabic script, else ``None`` (unknown)."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return None
    arabic = sum(1 for c in letters if "\u0600" <= c <= "\u06ff" or "\u0750" <= c <= "\u077f")
    return "ar" if arabic * 2 > len(letters) else None


def _read_jsonl(path: Path) -> Iterator[dict[str, object]]:
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataMissing(f"{path}: line {n} is not valid JSON ({exc.msg})") from exc
            if not isinstance(row, dict):
                raise DataMissing(f"{path}: line {n} is not a JSON object")
            yield row


def _field(row: dict[str, object], key: str, path: Path) -> str:
    value = row.get(key)
    if not isinstance(value, str):
        raise DataMissing(f"{path}: a row lacks the string field {key!r}")
    return value


def source_files(data_dir: Path) -> list[Path]:
    """The files :func:`load_examples` reads; raise DataMissing if any is absent."""
    data_dir = Path(data_dir)
    expected = "; ".join(f"{folder}/{name} ({what})" for folder, name, what in SOURCES)
    if not data_dir.is_dir():
        raise DataMissing(
            f"training data folder {data_dir} does not exist; it must contain {expected}"
        )
    paths = [data_dir / folder / name for folder, name, _ in SOURCES]
    missing = [p for p in paths if not p.is_file()]
    if missing:
        raise DataMissing(
            f"training data folder {data_dir} lacks {', '.join(str(p) for p in missing)}; "
            f"it must contain {expected}"
        )
    return paths


def load_examples(data_dir: Path | None = None) -> list[Example]:
    """All labelled training examples from ``data_dir`` (default: the shared data folder).

    Only the ``train`` half of the parallel sentences is included (see :func:`parallel_part`).
    """
    data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
    tweets, news, forum = source_files(data_dir)
    rows = list(_read_jsonl(tweets))  # read once: for the labels' texts and the examples
    out = _tweet_examples(tweets, rows, post_labels(data_dir, rows))
    for row in _read_jsonl(news):
        topic = row.get("topic")
        out.append(
            Example(
                text=_field(row, "text", news),
                label=REPORTING,
                group="news_reporting:" + _field(row, "id", news),
                lang_hint="en",
                origin="news_reporting",
                topic=topic if isinstance(topic, str) else None,
            )
        )
    parallel = data_dir / PARALLEL[0] / PARALLEL[1]
    if parallel.is_file():
        out += _parallel_examples(parallel, "train")
    everyday = everyday_file(data_dir)
    if everyday is not None:
        out += _everyday_examples(everyday, "train")
    for row in _read_jsonl(forum):
        raw = _field(row, "label", forum)
        if raw not in _STORMFRONT_LABELS:  # idk/skip: not English or undecided
            continue
        out.append(
            Example(
                text=_field(row, "text", forum),
                label=_STORMFRONT_LABELS[raw],
                group="stormfront:" + _field(row, "user_id", forum),
                lang_hint="en",
                origin="stormfront",
            )
        )
    return out


def _text_key(text: str) -> str:
    return " ".join(text.split())


def read_post_labels(path: Path) -> dict[str, str]:
    """``{tweet id: per-post label}`` of a label file (empty when there is none); raise
    DataMissing on a row without an id or with an unknown label."""
    return {tweet_id: label for tweet_id, (label, _) in read_post_label_rows(path).items()}


def read_post_label_rows(path: Path) -> dict[str, tuple[str, str | None]]:
    """``{tweet id: (per-post label, the reader's confidence)}`` of a label file (confidence
    ``high``/``low``, None where the file gives none); see :func:`read_post_labels`."""
    out: dict[str, tuple[str, str | None]] = {}
    if path.is_file():
        for row in _read_jsonl(path):
            label = _field(row, "label", path)
            if label not in POST_LABEL_MAP:
                raise DataMissing(f"{path}: unknown post label {label!r}")
            confidence = row.get("confidence")
            out.setdefault(_field(row, "id", path), (
                label, confidence if confidence in ("high", "low") else None))
    return out


def post_labels(data_dir: Path, tweets: Sequence[dict[str, object]]
                ) -> dict[str, tuple[str, str | None]]:
    """Per-post label and the reader's confidence by (whitespace-folded) text of the
    ``tweets`` rows: the shared labels first, then the project's own for texts the shared file
    does not cover. Empty when neither exists."""
    path = Path(data_dir) / SOURCES[0][0] / SOURCES[0][1]
    ids = {_field(r, "id", path): _field(r, "text", path) for r in tweets}
    out: dict[str, tuple[str, str | None]] = {}
    for labels in (Path(data_dir) / POST_LABELS[0] / POST_LABELS[1], PROJECT_POST_LABELS):
        for tweet_id, labelled in read_post_label_rows(labels).items():
            text = ids.get(tweet_id)
            if text is not None:
                out.setdefault(_text_key(text), labelled)
    return out


def _tweet_examples(tweets: Path, rows: Sequence[dict[str, object]],
                    labels: dict[str, tuple[str, str | None]]) -> list[Example]:
    out: list[Example] = []
    for row in rows:
        raw = _field(row, "label", tweets)
        if raw not in _TWEET_LABELS:
            raise DataMissing(f"{tweets}: unknown label {raw!r}")
        text = _field(row, "text", tweets)
        post_label: str | None = "discussion" if raw == "discussion" else None
        confidence: str | None = None
        label = _TWEET_LABELS[raw]
        if raw == "pro_isis" and labels:
            labelled = labels.get(_text_key(text))
            if labelled is None:
                continue  # no per-post label: the account label says nothing about it
            post_label, confidence = labelled
            label = POST_LABEL_MAP[post_label]
        out.append(Example(text=text, label=label,
                           group="tvec_tweets:" + _field(row, "account", tweets),
                           lang_hint=_script_hint(text), origin="tvec_tweets",
                           post_label=post_label, confidence=confidence))
    return out


def everyday_file(data_dir: Path) -> Path | None:
    path = Path(data_dir) / EVERYDAY[0] / EVERYDAY[1]
    return path if path.is_file() else None


def everyday_part(tweet_id: str) -> str:
    """``holdout`` for a fixed quarter of the everyday tweets (by a hash of the id), else
    ``train``."""
    digest = hashlib.sha256(f"{EVERYDAY_SEED}:{tweet_id}".encode()).hexdigest()
    return "holdout" if int(digest[0], 16) < 4 else "train"


@cache
def _everyday_rows(path: Path, mtime: float) -> tuple[tuple[str, str, str], ...]:
    return tuple((_field(r, "id", path), _field(r, "text", path), str(r.get("lang") or "?"))
                 for r in _read_jsonl(path))


def _everyday_examples(path: Path, part: str) -> list[Example]:
    return [Example(text, OTHER, "everyday_tweets:" + tweet_id, lang, "everyday_tweets")
            for tweet_id, text, lang in _everyday_rows(path, path.stat().st_mtime)
            if everyday_part(tweet_id) == part]


def everyday_holdout(data_dir: Path) -> list[Example]:
    """The held-out quarter of the ordinary tweets (``other``), for flag rates only."""
    path = everyday_file(data_dir)
    return _everyday_examples(path, "holdout") if path is not None else []


@dataclass(frozen=True)
class ParallelPair:
    """One record of the parallel set: ``text_a`` in ``lang`` and its English ``text_b``."""

    pair: str  # the language pair of the source file, e.g. "ara-eng"
    lang: str  # ISO 639-1 code of text_a
    text_a: str
    text_b: str
    part: str  # "train" or "holdout"


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


def parallel_pairs(path: Path) -> list[ParallelPair]:
    """Every record of ``tatoeba_pairs.jsonl`` with the half it belongs to.

    Components: pairs are joined when they share their non-English or their
    English sentence (compared after whitespace folding and casefolding). A
    component is ``holdout`` when the first hex digit of sha256(seed, smallest
    English sentence of the component) is below 8, else ``train``: about half
    of the sentences of every language pair on each side.
    """
    rows = [row for row in _read_jsonl(path)]
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    recs = []
    for row in rows:
        a, b = _field(row, "text_a", path), _field(row, "text_b", path)
        ka, kb = "a:" + _key(a), "b:" + _key(b)
        root_a, root_b = find(ka), find(kb)
        if root_a != root_b:
            parent[max(root_a, root_b)] = min(root_a, root_b)
        recs.append((row, a, b, kb))
    smallest: dict[str, str] = {}
    for _, _, _, kb in recs:
        root = find(kb)
        smallest[root] = min(smallest.get(root, kb), kb)
    out = []
    for row, a, b, kb in recs:
        digest = hashlib.sha256(f"{PARALLEL_SEED}:{smallest[find(kb)]}".encode()).hexdigest()
        part = "holdout" if int(digest[0], 16) < 8 else "train"
        lang = _PARALLEL_LANGS.get(_field(row, "lang_a", path), "?")
        source = str(row.get("id", "")).split(":")[0]
        out.append(ParallelPair(source, lang, a, b, part))
    return out


def _parallel_examples(path: Path, part: str) -> list[Example]:
    out: list[Example] = []
    for pair in parallel_pairs(path):
        if pair.part != part:
            continue
        english = pair.text_b
        group = "parallel:" + english.strip().casefold()
        out.append(Example(pair.text_a, OTHER, group, pair.lang, "parallel"))
        out.append(Example(english, OTHER, group, "en", "parallel"))
    return out


def holdout_examples(data_dir: Path) -> list[Example]:
    """The held-out half of the parallel sentences (both sides), as ``other`` examples."""
    path = parallel_file(data_dir)
    return _parallel_examples(path, "holdout") if path is not None else []


def parallel_file(data_dir: Path) -> Path | None:
    path = Path(data_dir) / PARALLEL[0] / PARALLEL[1]
    return path if path.is_file() else None


def _group_labels(examples: Sequence[Example]) -> dict[str, str]:
    """Each group's stratum: its most frequent label (ties: first in TAXONOMY order)."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for ex in examples:
        counts[ex.group][ex.label] += 1
    order = {lab: i for i, lab in enumerate(TAXONOMY)}
    return {
        g: min(c, key=lambda lab: (-c[lab], order.get(lab, len(order)), lab))
        for g, c in counts.items()
    }


def account_split(
    examples: Sequence[Example], test_fraction: float = 0.3, seed: int = 20261126
) -> tuple[list[Example], list[Example]]:
    """Split by group, stratified by label: every group lies wholly on one side.

    Within each label, the sorted groups are shuffled with ``random.Random(seed)``
    and ``round(test_fraction * n)`` of them (at least 1 and at most n - 1, when
    the label has two groups or more) go to the test side. A label with a single
    group stays on the train side. Example order is kept within each side.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError("test_fraction must be between 0 and 1")
    strata: dict[str, list[str]] = defaultdict(list)
    for group, label in _group_labels(examples).items():
        strata[label].append(group)
    test_groups: set[str] = set()
    for label in sorted(strata):
        groups = sorted(strata[label])
        random.Random(f"{seed}:{label}").shuffle(groups)
        if len(groups) < 2:
            continue
        n_test = min(max(round(test_fraction * len(groups)), 1), len(groups) - 1)
        test_groups.update(groups[:n_test])
    train = [ex for ex in examples if ex.group not in test_groups]
    test = [ex for ex in examples if ex.group in test_groups]
    return train, test


def fold_of_groups(examples: Sequence[Example], k: int, seed: str) -> dict[str, int]:
    """Each group's fold: within each label's groups (sorted, then shuffled with a fixed
    seed), round-robin over the ``k`` folds."""
    strata: dict[str, list[str]] = defaultdict(list)
    for group, label in _group_labels(examples).items():
        strata[label].append(group)
    out: dict[str, int] = {}
    for label in sorted(strata):
        groups = sorted(strata[label])
        random.Random(f"{seed}:{label}").shuffle(groups)
        for i, group in enumerate(groups):
            out[group] = i % k
    return out
