"""Download a piece of media from a URL, for the HMA API's ``url=`` parameters: opt-in and
guarded.

Nothing is fetched unless the operator turned it on (``WARDING_URL_FETCH``): content stays
home. When on, each download is checked:

- the scheme is ``http`` or ``https``, and the URL carries no user name or password;
- the host name is resolved here and every address must be public (not private, loopback,
  link-local, shared, reserved or multicast) unless ``WARDING_URL_FETCH_ALLOW_PRIVATE``
  allows them; the connection then goes to the checked address (the name is kept for the
  ``Host`` header and for TLS), so a second resolution cannot point elsewhere;
- redirects are followed by hand, at most :data:`MAX_REDIRECTS`, each one checked again;
- the answer must be ``image/*``, ``video/*`` or ``application/octet-stream``;
- the body is read up to ``WARDING_URL_FETCH_MAX_BYTES`` and the whole download, redirects
  included, must end within ``WARDING_URL_FETCH_TIMEOUT_SECONDS``.

Each refusal is a :class:`FetchError` carrying the HTTP status the API answers with.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from warding import __version__
from warding.config import Settings
from warding.errors import WardingError

MAX_REDIRECTS = 5
ACCEPTED_TYPES = ("image/", "video/")
OCTET_STREAM = ("application/octet-stream", "binary/octet-stream")

Resolver = Callable[[str, int], list[str]]


class FetchError(WardingError):
    """A URL that is not fetched: ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Fetched:
    url: str  # the last URL, after redirects
    data: bytes
    content_type: str  # the media type, lower case, without parameters


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (an IP literal resolves to itself)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def address_allowed(address: str, allow_private: bool) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_multicast or ip.is_unspecified:
        return False
    return allow_private or ip.is_global


class UrlFetcher:
    """Downloads with the guards above. ``resolver`` and ``transport`` are for tests."""

    def __init__(self, settings: Settings, *, resolver: Resolver | None = None,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.settings = settings
        self.resolver = resolver or resolve
        self.transport = transport

    def fetch(self, url: str) -> Fetched:
        s = self.settings
        if not s.url_fetch:
            raise FetchError("this server does not download URLs (content stays home; the "
                             "operator can turn it on with WARDING_URL_FETCH): upload the "
                             "file instead", 403)
        deadline = time.monotonic() + s.url_fetch_timeout_seconds
        with httpx.Client(transport=self.transport, follow_redirects=False,
                          headers={"User-Agent": f"warding/{__version__}"}) as client:
            for _ in range(MAX_REDIRECTS + 1):
                request = self._request(client, url)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise FetchError(f"{url}: no answer within "
                                     f"{s.url_fetch_timeout_seconds:g} s", 504)
                try:
                    response = client.send(request, stream=True)
                except httpx.TimeoutException as exc:
                    raise FetchError(f"{url}: no answer within "
                                     f"{s.url_fetch_timeout_seconds:g} s", 504) from exc
                except httpx.HTTPError as exc:
                    raise FetchError(f"{url}: cannot download ({exc})", 502) from exc
                try:
                    if response.is_redirect and "location" in response.headers:
                        url = urljoin(url, response.headers["location"])
                        continue
                    return self._body(url, response, deadline)
                finally:
                    response.close()
        raise FetchError(f"{url}: more than {MAX_REDIRECTS} redirects", 502)

    def _request(self, client: httpx.Client, url: str) -> httpx.Request:
        s = self.settings
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise FetchError(f"{url!r} is not a valid URL: {exc}", 400) from exc
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https") or not parts.hostname:
            raise FetchError(f"{url!r}: only http and https URLs with a host are fetched", 400)
        if parts.username or parts.password:
            raise FetchError(f"{url!r}: URLs with a user name or password are not fetched", 400)
        host = parts.hostname
        port = port or (443 if scheme == "https" else 80)
        try:
            addresses = self.resolver(host, port)
        except (OSError, UnicodeError) as exc:
            raise FetchError(f"{url}: cannot resolve {host} ({exc})", 400) from exc
        if not addresses:
            raise FetchError(f"{url}: {host} has no address", 400)
        for address in addresses:
            if not address_allowed(address, s.url_fetch_allow_private):
                raise FetchError(
                    f"{url}: {host} resolves to {address}, a private, loopback or reserved "
                    "address; such addresses are fetched only when "
                    "WARDING_URL_FETCH_ALLOW_PRIVATE is on", 403)
        pinned = addresses[0]
        literal = f"[{pinned}]" if ":" in pinned else pinned
        target = parts._replace(netloc=f"{literal}:{port}").geturl()
        host_header = parts.netloc.rsplit("@", 1)[-1]
        extensions = {"sni_hostname": host} if scheme == "https" else {}
        return client.build_request("GET", target, headers={"Host": host_header},
                                    extensions=extensions,
                                    timeout=httpx.Timeout(s.url_fetch_timeout_seconds))

    def _body(self, url: str, response: httpx.Response, deadline: float) -> Fetched:
        s = self.settings
        if response.status_code >= 400:
            raise FetchError(f"{url}: the server answered {response.status_code}", 502)
        ctype = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if not ctype.startswith(ACCEPTED_TYPES) and ctype not in OCTET_STREAM:
            raise FetchError(f"{url}: the content type is {ctype or 'missing'}, not an image "
                             "or a video", 415)
        limit = s.url_fetch_max_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise FetchError(f"{url}: {declared} bytes, over the {limit}-byte limit "
                             "(WARDING_URL_FETCH_MAX_BYTES)", 413)
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > limit:
                    raise FetchError(f"{url}: over the {limit}-byte limit "
                                     "(WARDING_URL_FETCH_MAX_BYTES)", 413)
                if time.monotonic() > deadline:
                    raise FetchError(f"{url}: not downloaded within "
                                     f"{s.url_fetch_timeout_seconds:g} s", 504)
                chunks.append(chunk)
        except httpx.TimeoutException as exc:
            raise FetchError(f"{url}: not downloaded within "
                             f"{s.url_fetch_timeout_seconds:g} s", 504) from exc
        except httpx.HTTPError as exc:
            raise FetchError(f"{url}: cannot download ({exc})", 502) from exc
        if not size:
            raise FetchError(f"{url}: the answer is empty", 502)
        return Fetched(url, b"".join(chunks), ctype)
