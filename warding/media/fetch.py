"""Download a piece of media from a URL, for the HMA API's ``url=`` parameters: opt-in and
guarded.

Nothing is fetched unless the operator turned it on (``WARDING_URL_FETCH``): content stays
home. When on, each download goes through the outbound guard
(:mod:`warding.outbound.guard`: http(s) only, every address of every hop checked and
pinned, redirects followed by hand, at most :data:`MAX_REDIRECTS`), and:

- private, loopback and link-local addresses are reached only when
  ``WARDING_URL_FETCH_ALLOW_PRIVATE`` allows them;
- the answer must be ``image/*``, ``video/*`` or ``application/octet-stream``;
- the body is read up to ``WARDING_URL_FETCH_MAX_BYTES`` and the whole download, redirects
  included, must end within ``WARDING_URL_FETCH_TIMEOUT_SECONDS``.

Each refusal is a :class:`FetchError` carrying the HTTP status the API answers with.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from warding import __version__
from warding.config import Settings
from warding.outbound.guard import (
    OutboundGuard,
    OutboundRefused,
    Policy,
    Resolver,
    address_allowed,
    resolve,
)

MAX_REDIRECTS = 5
ACCEPTED_TYPES = ("image/", "video/")
OCTET_STREAM = ("application/octet-stream", "binary/octet-stream")

__all__ = ["FetchError", "Fetched", "UrlFetcher", "address_allowed", "resolve"]

#: A refused download: ``status`` is the HTTP status to answer with.
FetchError = OutboundRefused


@dataclass(frozen=True)
class Fetched:
    url: str  # the last URL, after redirects
    data: bytes
    content_type: str  # the media type, lower case, without parameters


def _media_type(response: httpx.Response) -> str:
    return str(response.headers.get("content-type", "")).split(";", 1)[0].strip().lower()


def _accept(url: str, response: httpx.Response) -> None:
    if response.status_code >= 400:
        raise FetchError(f"{url}: the server answered {response.status_code}", 502)
    ctype = _media_type(response)
    if not ctype.startswith(ACCEPTED_TYPES) and ctype not in OCTET_STREAM:
        raise FetchError(f"{url}: the content type is {ctype or 'missing'}, not an image "
                         "or a video", 415)


class UrlFetcher:
    """Downloads with the guards above. ``resolver`` and ``transport`` are for tests."""

    def __init__(self, settings: Settings, *, resolver: Resolver | None = None,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.settings = settings
        self.guard = OutboundGuard(Policy(
            allow_private=settings.url_fetch_allow_private,
            timeout=settings.url_fetch_timeout_seconds, max_redirects=MAX_REDIRECTS,
            max_bytes=settings.url_fetch_max_bytes, user_agent=f"warding/{__version__}",
            allow_hint="WARDING_URL_FETCH_ALLOW_PRIVATE"), resolver=resolver,
            transport=transport)

    def fetch(self, url: str) -> Fetched:
        if not self.settings.url_fetch:
            raise FetchError("this server does not download URLs (content stays home; the "
                             "operator can turn it on with WARDING_URL_FETCH): upload the "
                             "file instead", 403)
        try:
            with self.guard.client() as client:
                answer = self.guard.get(client, url, accept=_accept)
        except OutboundRefused as exc:
            if exc.status == 413:
                raise FetchError(f"{exc} (WARDING_URL_FETCH_MAX_BYTES)", 413) from None
            raise
        if not answer.body:
            raise FetchError(f"{answer.url}: the answer is empty", 502)
        ctype = answer.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        return Fetched(answer.url, answer.body, ctype)
