"""Helpers for the browser tests: Debian's Chromium driven by Playwright, the app served
by uvicorn in a background thread, and a webhook receiver on 127.0.0.1.

Nothing is downloaded: Playwright launches the system Chromium (``/usr/bin/chromium``,
or ``WARDING_CHROMIUM``) through ``executable_path``; ``playwright install`` is never
needed. Outside CI the browser tests skip when Chromium or Playwright is missing; in
CI (``CI`` set) they fail instead, so they cannot silently stop running.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from warding.app import Warding

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


def chromium_path() -> str:
    """The system Chromium, or skip (fail in CI) when there is none."""
    configured = os.environ.get("WARDING_CHROMIUM")
    candidates = [configured] if configured else ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
    for path in candidates:
        if path and Path(path).is_file() and os.access(path, os.X_OK):
            return path
    found = shutil.which("chromium")
    if found:
        return found
    message = "Chromium is not installed (run scripts/ensure-chromium.sh, or apt-get install chromium)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def screenshot_dir() -> Path | None:
    """``WARDING_SCREENSHOTS=docs/console`` (``make screenshots``) saves the console's pictures."""
    value = os.environ.get("WARDING_SCREENSHOTS")
    if not value:
        return None
    path = Path(value)
    path.mkdir(parents=True, exist_ok=True)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(w: Warding) -> Iterator[str]:
    """Serve the console and API with uvicorn on 127.0.0.1 in a thread (lifespan on, so
    the action retry worker runs as in production)."""
    import uvicorn

    from warding.web.factory import create_app

    port = free_port()
    config = uvicorn.Config(create_app(w), host="127.0.0.1", port=port, log_level="warning",
                            lifespan="on", ws="none", http="h11", loop="asyncio",
                            access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(20)


class WebhookReceiver:
    """The platform's side: verifies each signature and acts once per Idempotency-Key.
    The first request for every key is refused with 503, to exercise the retries."""

    def __init__(self, secret: str, fail_first: int = 1) -> None:
        self.verifier = Webhook(secret)
        self.fail_first = fail_first
        self.lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []  # every request, refused or not
        self.acted: dict[str, dict[str, Any]] = {}  # key -> payload, once each
        self.duplicates = 0
        self.bad_signatures = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                key = self.headers.get("Idempotency-Key", "")
                with receiver.lock:
                    seen = sum(1 for r in receiver.requests if r["key"] == key)
                    receiver.requests.append({"key": key, "at": time.time()})
                    try:  # the Standard Webhooks library, as a platform would use it
                        receiver.verifier.verify(body, dict(self.headers), json_parse=False)
                        verified = True
                    except WebhookVerificationError:
                        verified = False
                    if not verified:
                        receiver.bad_signatures += 1
                        status = 401
                    elif seen < receiver.fail_first:
                        status = 503
                    elif key in receiver.acted:
                        receiver.duplicates += 1  # already acted: answer 200, act not again
                        status = 200
                    else:
                        receiver.acted[key] = json.loads(body)
                        status = 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if predicate():
                    return
            time.sleep(0.1)
        raise AssertionError(f"the webhook receiver did not get what was expected in {timeout}s:"
                             f" acted on {sorted(self.acted)}, {len(self.requests)} request(s)")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
