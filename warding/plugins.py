"""Registries of the four plug-in points: signal types, ingest connectors,
classifiers and action sinks.

Built-in implementations are listed here; third-party packages add theirs
through entry points (``warding.signal_types``, ``warding.connectors``,
``warding.classifiers``, ``warding.action_sinks``). Nothing is instantiated at
import time: each function builds fresh objects when called.
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import entry_points
from typing import Any, TypeVar

from warding.actions.base import ActionSink
from warding.classify.base import Classifier
from warding.ingest.base import Connector
from warding.signals.base import SignalType

T = TypeVar("T")

BUILTIN_SIGNAL_TYPES = (
    "warding.signals.hashes:MD5Signal",
    "warding.signals.hashes:SHA256Signal",
    "warding.signals.hashes:SHA512Signal",
    "warding.signals.pdq:PDQSignal",
    "warding.signals.vpdq:VPDQSignal",
    "warding.signals.text:TextSignal",
    "warding.signals.text:TextNearSignal",
    "warding.signals.url:URLSignal",
)

# Order matters: the first connector whose can_read() accepts a path reads it.
BUILTIN_CONNECTORS = (
    "warding.ingest.telegram:TelegramExportConnector",
    "warding.ingest.posts:JSONLPostsConnector",
    "warding.ingest.posts:CSVPostsConnector",
    "warding.ingest.web:WebPageConnector",
    "warding.ingest.files:MediaFileConnector",
)

BUILTIN_CLASSIFIERS = (
    "warding.classify.baseline:BaselineClassifier",
    "warding.classify.baseline:HybridClassifier",
)

BUILTIN_ACTION_SINKS = (
    "warding.actions.sinks:LogSink",
    "warding.actions.sinks:WebhookSink",
    "warding.actions.sinks:AddToBankSink",
    "warding.actions.notice:NotifyUploaderSink",
    "warding.legal.tdb_sink:TransparencyDbSink",  # issue 14: DSA Transparency Database
)


def load_class(spec: str) -> type[Any]:
    module, _, attr = spec.partition(":")
    return getattr(import_module(module), attr)  # type: ignore[no-any-return]


def _classes(builtins: tuple[str, ...], group: str) -> list[type[Any]]:
    classes = [load_class(spec) for spec in builtins]
    for ep in entry_points(group=group):
        classes.append(ep.load())
    return classes


def signal_type_classes() -> dict[str, type[SignalType]]:
    return {cls.name: cls for cls in _classes(BUILTIN_SIGNAL_TYPES, "warding.signal_types")}


def signal_types() -> dict[str, SignalType]:
    return {name: cls() for name, cls in signal_type_classes().items()}


def connector_classes() -> list[type[Connector]]:
    return _classes(BUILTIN_CONNECTORS, "warding.connectors")


def connectors() -> list[Connector]:
    return [cls() for cls in connector_classes()]


def classifier_classes() -> dict[str, type[Classifier]]:
    return {cls.name: cls for cls in _classes(BUILTIN_CLASSIFIERS, "warding.classifiers")}


def action_sink_classes() -> dict[str, type[ActionSink]]:
    return {cls.name: cls for cls in _classes(BUILTIN_ACTION_SINKS, "warding.action_sinks")}
