"""The classifier plug-in point.

A classifier scores text. ``score`` is the calibrated probability that the
content is violating (terrorist content); ``label`` is the most likely class.
Classifiers score content, never people.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

#: Score at or above which a classifier without a threshold of its own flags a text.
DEFAULT_THRESHOLD = 0.8


@dataclass(frozen=True)
class ClassifierResult:
    label: str
    score: float
    violating: bool
    model: str
    explanation: dict[str, Any] = field(default_factory=dict)
    #: False when the text had too little left to judge (see the classifier); such a result
    #: is never ``violating`` and opens no case.
    assessed: bool = True


class ModelMissing(Exception):
    """No trained model is available; the message says how to train one."""


class Classifier(ABC):
    name: ClassVar[str]
    labels: ClassVar[tuple[str, ...]]
    violating_labels: ClassVar[frozenset[str]]

    @classmethod
    @abstractmethod
    def load(cls, models_dir: Path) -> Classifier:
        """Load the trained model from ``models_dir``; raise ModelMissing if there is none."""

    @abstractmethod
    def classify(self, texts: Sequence[str]) -> list[ClassifierResult]:
        """One result per text, in order."""

    def classify_batch(self, texts: Sequence[str]) -> list[ClassifierResult]:
        """As :meth:`classify`, but explanations may be left out (batch mode); by default
        the same as :meth:`classify`."""
        return self.classify(texts)
