"""The Warding application object.

The CLI and the web app are thin shells over this object, and tests call it in
process. It holds the settings, the database engine, the media store and lazily
built plug-ins; it builds nothing until asked.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from warding.actions.base import ActionSink
from warding.classify.base import Classifier, ModelMissing
from warding.config import Settings, load_settings
from warding.db.engine import make_engine, make_sessionmaker, transaction
from warding.ingest.base import Connector, Limits
from warding.media.store import MediaStore
from warding.signals.base import SignalType
from warding.signals.derive import DeriveLimits

if TYPE_CHECKING:
    from warding.ocr.reader import OcrReader


class Warding:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._classifier: Classifier | None = None
        self._index_cache: dict[str, Any] = {}

    @classmethod
    def from_env(cls, **overrides: object) -> Warding:
        return cls(load_settings(**overrides))

    # -- storage ---------------------------------------------------------
    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.database_url)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return make_sessionmaker(self.engine)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with transaction(self.sessions) as session:
            yield session

    @cached_property
    def media(self) -> MediaStore:
        return MediaStore(self.settings.media_dir)

    def init_db(self) -> None:
        """Create folders and bring the database schema to the latest migration."""
        from warding.db.migrate import upgrade

        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.settings.media_dir.mkdir(parents=True, exist_ok=True)
        self.settings.models_dir.mkdir(parents=True, exist_ok=True)
        upgrade(self.engine)

    @cached_property
    def ocr(self) -> OcrReader | None:
        """The reader of text in images, or None when ``WARDING_OCR`` is off."""
        if not self.settings.ocr:
            return None
        from warding.ocr.reader import OcrLimits, OcrReader

        s = self.settings
        return OcrReader(OcrLimits(s.ocr_max_pixels, s.ocr_timeout_seconds,
                                   s.ocr_min_confidence), s.ocr_tessdata)

    # -- plug-ins --------------------------------------------------------
    @cached_property
    def signal_types(self) -> dict[str, SignalType]:
        from warding.plugins import signal_types

        types = signal_types()
        for st in types.values():
            st.configure(self.settings)
        return types

    @cached_property
    def derive_limits(self) -> DeriveLimits:
        """Limits on reading documents (PDF), from the settings."""
        return DeriveLimits.from_settings(self.settings)

    @cached_property
    def connectors(self) -> list[Connector]:
        from warding.plugins import connectors

        return connectors()

    @property
    def limits(self) -> Limits:
        s = self.settings
        return Limits(
            max_file_bytes=s.max_file_bytes,
            max_text_chars=s.max_text_chars,
            max_image_pixels=s.max_image_pixels,
            max_html_bytes=s.max_html_bytes,
        )

    def classifier(self) -> Classifier:
        """The configured classifier; raises ModelMissing when it has not been trained."""
        if self._classifier is None:
            from warding.plugins import classifier_classes

            classes = classifier_classes()
            name = self.settings.classifier_name
            if name not in classes:
                raise ModelMissing(f"unknown classifier {name!r}; known: {', '.join(sorted(classes))}")
            self._classifier = classes[name].load(self.settings.models_dir)
        return self._classifier

    def reset_classifier(self) -> None:
        self._classifier = None
        self._index_cache.pop("classifier_loader", None)  # warding.pipeline.loader

    def action_sinks(self) -> list[ActionSink]:
        from warding.plugins import action_sink_classes

        classes = action_sink_classes()
        sinks = []
        for name in self.settings.action_sinks:
            if name not in classes:
                raise ValueError(f"unknown action sink {name!r}; known: {', '.join(sorted(classes))}")
            sinks.append(classes[name].create(self))
        return sinks

    @property
    def index_cache(self) -> dict[str, Any]:
        return self._index_cache

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()
