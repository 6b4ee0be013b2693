"""Train the configured classifier and record it in the audit log."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from warding.audit.log import record
from warding.events import ModelTrained


def train_model(app: Any, data_dir: Path | None, *, actor: str) -> dict[str, Any]:
    from warding.classify.training import train

    data = data_dir or app.settings.resolved_shared_data()
    report = train(data, app.settings.models_dir)
    app.reset_classifier()
    out = dataclasses.asdict(report)
    out = {k: (str(v) if isinstance(v, Path) else v) for k, v in out.items()}
    with app.transaction() as session:
        record(session, ModelTrained("baseline", int(out.get("n_train", 0)), str(data)), actor)
    return out
