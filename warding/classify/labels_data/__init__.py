"""The project's own per-post labels of the pro-ISIS accounts' tweets (see README.md here).

``tvec_post_labels.jsonl``: one JSON object a line, ``id`` (as in
``../shared/data/tvec_tweets/posts.jsonl``), ``label``, ``art2_7``, ``confidence`` and
``batch`` (the batch it was labelled in). Ids and labels only: no tweet text is in the project.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from warding.classify.data import POST_LABELS, PROJECT_POST_LABELS, read_post_labels


def label_summary(data_dir: Path) -> dict[str, Any]:
    """How many project labels there are, and how far they agree with the shared labels on
    the tweets both labelled (the blind re-labelling check)."""
    ours = read_post_labels(PROJECT_POST_LABELS)
    shared = read_post_labels(Path(data_dir) / POST_LABELS[0] / POST_LABELS[1])
    both = [i for i in ours if i in shared]
    agree = sum(ours[i] == shared[i] for i in both)
    agree_prop = sum((ours[i] == "propaganda") == (shared[i] == "propaganda") for i in both)
    return {
        "n": sum(1 for i in ours if i not in shared),
        "check_n": len(both),
        "check_agree": agree / len(both) if both else None,
        "check_agree_propaganda": agree_prop / len(both) if both else None,
    }
