"""Contract that every classifier plug-in passes (trained behaviour is tested per model)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from warding.classify.base import Classifier, ModelMissing
from warding.plugins import classifier_classes

CLASSES = classifier_classes()


@pytest.mark.parametrize("cls", list(CLASSES.values()), ids=list(CLASSES))
def test_classifier_contract(cls: type[Classifier], tmp_path: Path) -> None:
    assert re.fullmatch(r"[a-z][a-z0-9_]*", cls.name)
    assert cls.labels and len(set(cls.labels)) == len(cls.labels)
    assert cls.violating_labels and cls.violating_labels <= set(cls.labels)
    assert set(cls.labels) - cls.violating_labels, "a classifier needs non-violating labels"
    with pytest.raises(ModelMissing) as exc:
        cls.load(tmp_path / "empty")
    assert "warding model train" in str(exc.value)
