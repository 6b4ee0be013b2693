"""Load the classifier in the background, so that storing items need not wait for it.

Loading the classifier means importing its numerical libraries and reading the model
(about 2 s on the project's machine). A scan starts storing items at once and
classifies them as soon as the model is there (see :mod:`warding.pipeline.bulk`).
"""

from __future__ import annotations

import threading
from typing import Any

from warding.cases.routing import RoutingPolicy
from warding.classify.base import DEFAULT_THRESHOLD, Classifier, ModelMissing


class ClassifierLoader:
    """Calls ``app.classifier()`` once, on a thread started by :meth:`start`."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.note: str | None = None
        self._classifier: Classifier | None = None
        self._error: BaseException | None = None
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="warding-classifier-load",
                                                daemon=True)
                self._thread.start()

    def _run(self) -> None:
        try:
            self._classifier = self.app.classifier()
        except ModelMissing as exc:
            self.note = f"classifier skipped: {exc}"
        except BaseException as exc:  # noqa: BLE001 - re-raised by wait() in the caller
            self._error = exc
        finally:
            self._done.set()

    def ready(self) -> bool:
        return self._done.is_set()

    def missing(self) -> bool:
        """Loaded, and there was no trained model (one may have been trained since)."""
        return self.ready() and self._classifier is None and self._error is None

    def wait(self) -> Classifier | None:
        """The classifier (None without a trained model); waits for the load. A model
        that exists but cannot be read raises here, in the caller's thread."""
        self.start()
        self._done.wait()
        if self._error is not None:
            raise self._error
        return self._classifier

    def policy(self) -> RoutingPolicy:
        """Routing thresholds: the setting, else the loaded model's own threshold."""
        threshold = self.app.settings.classifier_threshold
        if threshold is None:
            threshold = float(getattr(self._classifier, "threshold", DEFAULT_THRESHOLD))
        return RoutingPolicy(threshold, self.app.settings.classifier_min_words)


_SHARED_KEY = "classifier_loader"
_shared_lock = threading.Lock()


def shared_loader(app: Any) -> ClassifierLoader:
    """The app's one loader (the web server's requests share it), started."""
    with _shared_lock:
        loader = app.index_cache.get(_SHARED_KEY)
        if not isinstance(loader, ClassifierLoader) or loader.missing():
            loader = ClassifierLoader(app)
            app.index_cache[_SHARED_KEY] = loader
    loader.start()
    return loader
