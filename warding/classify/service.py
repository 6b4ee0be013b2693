"""Train a classifier and record it in the audit log."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from warding.audit.log import record
from warding.events import ModelTrained

#: The flag rates a training report leads with (recall for ``propaganda``).
SUMMARY_SETS = ("propaganda", "news_relay", "partisan", "other_posts", "discussion", "news",
                "everyday", "parallel", "stance")


def train_model(app: Any, data_dir: Path | None, *, actor: str, classifier: str = "baseline",
                from_decisions: bool = False, hold_out: bool = False) -> dict[str, Any]:
    """Train ``classifier`` on the shared data (plus, with ``from_decisions``, every decided
    case's text and label) and save it in the app's models folder; with ``hold_out``, 30% of
    the accounts are kept out of training and the figures are measured on them."""
    from warding.classify.training import train

    data = data_dir or app.settings.resolved_shared_data()
    extra = None
    if from_decisions:
        from warding.classify.decisions import decision_examples

        extra = decision_examples(app)
    report = train(data, app.settings.models_dir, extra=extra, classifier=classifier,
                   hold_out=hold_out)
    app.reset_classifier()
    out = dataclasses.asdict(report)
    out = {k: (str(v) if isinstance(v, Path) else v) for k, v in out.items()}
    out["summary"] = {key: report.rate(key) for key in SUMMARY_SETS if key in report.flags}
    with app.transaction() as session:
        source = str(data) + (" + decisions" if from_decisions else "")
        record(session, ModelTrained(report.classifier, int(out.get("n_train", 0)), source), actor)
    return out
