"""The action sink plug-in point.

After a decision, Warding asks each configured sink to act (tell the platform
by webhook, add the item to a bank, notify the uploader). Every request carries
an idempotency key: a sink asked twice with the same key must act once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

Status = Literal["done", "failed", "skipped"]


@dataclass(frozen=True)
class ActionRequest:
    idempotency_key: str
    case_id: int
    decision_id: int
    violating: bool
    category: str | None
    reason: str
    exemption: str | None
    automated: bool
    item: dict[str, Any] = field(default_factory=dict)
    kind: str = "decision"
    supersedes_decision_id: int | None = None
    # Why the decision was taken when it was not a review: {"source": "removal_order",
    # "order_reference", "measure": "removed"|"disabled", ...} or {"source": "complaint", ...}
    # (table decision_contexts, written by warding.legal). Empty for reviews.
    context: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ActionOutcome:
    """What a sink did. ``failed`` outcomes are retried with backoff unless ``retry`` is
    False (the target refused for good, e.g. HTTP 400): those go to the dead-letter list
    at once. ``http_status`` is kept in the delivery log when the sink spoke HTTP.
    ``retry_after`` (seconds, from a 429's ``Retry-After``): the next attempt is made no
    earlier than this."""

    status: Status
    detail: str = ""
    http_status: int | None = None
    retry: bool = True
    retry_after: float | None = None


class ActionSink(ABC):
    name: ClassVar[str]
    description: ClassVar[str]

    @classmethod
    def create(cls, app: Any) -> ActionSink:
        """Build the sink for a Warding app (sinks that need settings read them here)."""
        return cls()

    @abstractmethod
    def execute(self, request: ActionRequest) -> ActionOutcome:
        """Carry out the request; return failed (not raise) when the target refuses."""


class AppSink(ActionSink):
    """A sink that works on Warding's own database (it is built with the app)."""

    def __init__(self, app: Any = None) -> None:
        self.app = app

    @classmethod
    def create(cls, app: Any) -> ActionSink:
        return cls(app)
