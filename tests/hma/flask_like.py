"""The Flask test client's interface over Starlette's TestClient, so that HMA's test bodies
(written against ``flask.testing.FlaskClient``) speak HTTP to a Warding app unchanged."""

from __future__ import annotations

import json as jsonlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient


class FlaskLikeResponse:
    """What HMA's tests read of a Flask response."""

    def __init__(self, status_code: int, data: bytes, headers: Mapping[str, str]) -> None:
        self.status_code = status_code
        self.data = data
        self.headers = headers

    @property
    def is_json(self) -> bool:
        return "json" in self.headers.get("content-type", "")

    @property
    def json(self) -> Any:
        return self.get_json()

    def get_json(self) -> Any:
        return jsonlib.loads(self.data) if self.is_json and self.data else None

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", "replace")

    def __repr__(self) -> str:
        return f"<FlaskLikeResponse {self.status_code} {self.data[:200]!r}>"


def _file_part(value: tuple[Any, ...]) -> tuple[str, bytes, str]:
    """Werkzeug's ``(file, filename[, content_type])``: file is a path, bytes or a stream."""
    source, filename = value[0], value[1]
    ctype = value[2] if len(value) > 2 else "application/octet-stream"
    if isinstance(source, str | Path):
        payload = Path(source).read_bytes()
    elif isinstance(source, bytes):
        payload = source
    else:
        payload = source.read()
    return str(filename), payload, str(ctype)


class FlaskLikeClient:
    """``get/post/put/delete(path, json=, data=, query_string=, headers=)``."""

    def __init__(self, client: TestClient, application: Any) -> None:
        self._client = client
        self.application = application

    def open(self, method: str, path: str, *, json: Any = None,
             data: Mapping[str, Any] | None = None,
             query_string: Mapping[str, Any] | None = None,
             headers: Mapping[str, str] | None = None) -> FlaskLikeResponse:
        kwargs: dict[str, Any] = {"headers": dict(headers or {})}
        if query_string:
            kwargs["params"] = {k: str(v) for k, v in query_string.items()}
        if json is not None:
            kwargs["content"] = jsonlib.dumps(json).encode()
            kwargs["headers"].setdefault("Content-Type", "application/json")
        elif data:
            files = {k: _file_part(v) for k, v in data.items() if isinstance(v, tuple)}
            fields = {k: v for k, v in data.items() if not isinstance(v, tuple)}
            if files:
                kwargs["files"] = files
            if fields:
                kwargs["data"] = fields
        r = self._client.request(method, path, **kwargs)
        return FlaskLikeResponse(r.status_code, r.content, r.headers)

    def get(self, path: str, **kw: Any) -> FlaskLikeResponse:
        return self.open("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> FlaskLikeResponse:
        return self.open("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> FlaskLikeResponse:
        return self.open("PUT", path, **kw)

    def delete(self, path: str, **kw: Any) -> FlaskLikeResponse:
        return self.open("DELETE", path, **kw)
