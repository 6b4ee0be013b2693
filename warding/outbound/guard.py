"""The outbound-request guard: every fetch of a URL that came from content or from an API
client (liveness re-checks, the HMA API's ``url=`` downloads) goes through it.

For each hop (the first URL and every redirect, which are followed by hand):

- the scheme must be ``http`` or ``https``, with a host and without a user name or password;
- the host name is resolved here and **every** address it resolves to must be public (not
  private, loopback, link-local, shared, reserved, documentation, multicast or unspecified)
  unless the policy allows private addresses (multicast and unspecified never are);
- the connection then goes to the checked address: the request URL carries the address, the
  name is kept for the ``Host`` header and for TLS (SNI and certificate check), so a second
  DNS answer (DNS rebinding) cannot send the request elsewhere;
- proxies from the environment are ignored (``trust_env=False``): a proxy would resolve the
  name again, out of the guard's sight.

The whole fetch, redirects included, must end within ``timeout`` seconds, at most
``max_redirects`` redirects are followed, and a body is read only up to ``max_bytes``.

Each refusal is an :class:`OutboundRefused` carrying the HTTP status an API answers with
(400 bad URL, 403 refused address, 413 too large, 502 upstream failure, 504 too slow).
Webhooks are not fetched through this guard: their URLs are set by the operator (often an
internal address on purpose), see docs/operations.md.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import SplitResult, urljoin, urlsplit

import httpx

from warding import __version__
from warding.errors import WardingError

Resolver = Callable[[str, int], list[str]]
#: Checks the final answer before its body is read; raises OutboundRefused to refuse it.
Accept = Callable[[str, httpx.Response], None]


class OutboundRefused(WardingError):
    """A URL that is not fetched (or whose answer is refused): ``status`` is the HTTP
    status to answer with."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Policy:
    allow_private: bool = False
    timeout: float = 10.0  # seconds for the whole fetch, redirects included
    max_redirects: int = 5
    max_bytes: int = 20 * 1024 * 1024
    user_agent: str = f"warding/{__version__}"
    #: What the operator sets to allow private addresses (named in refusals).
    allow_hint: str = "WARDING_URL_FETCH_ALLOW_PRIVATE"


@dataclass(frozen=True)
class Answer:
    url: str  # the last URL, after redirects
    status_code: int
    headers: httpx.Headers
    body: bytes  # empty unless the body was read


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (an IP literal resolves to itself)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def address_allowed(address: str, allow_private: bool) -> bool:
    """Whether a request may go to ``address``: public addresses always, private,
    loopback, link-local, shared and reserved ones only with ``allow_private``; multicast
    and unspecified addresses never."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_multicast or ip.is_unspecified:
        return False
    return allow_private or ip.is_global


@dataclass(frozen=True)
class _Hop:
    parts: SplitResult
    host: str
    port: int


class OutboundGuard:
    """Fetches with the guards above. ``resolver`` and the transports are for tests."""

    def __init__(self, policy: Policy, *, resolver: Resolver | None = None,
                 transport: httpx.BaseTransport | None = None,
                 async_transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.policy = policy
        self.resolver = resolver or resolve
        self.transport = transport
        self.async_transport = async_transport

    # -- clients -----------------------------------------------------------------------
    def client(self) -> httpx.Client:
        return httpx.Client(transport=self.transport, follow_redirects=False, trust_env=False,
                            headers={"User-Agent": self.policy.user_agent})

    def async_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=self.async_transport, follow_redirects=False,
                                 trust_env=False, headers={"User-Agent": self.policy.user_agent})

    # -- checks ------------------------------------------------------------------------
    def parse(self, url: str) -> _Hop:
        """The URL's parts, or a 400 refusal when it is not a fetchable http(s) URL."""
        try:
            parts = urlsplit(url)
            port = parts.port
            host = parts.hostname
        except ValueError as exc:
            raise OutboundRefused(f"{url!r} is not a valid URL: {exc}", 400) from exc
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https") or not host:
            raise OutboundRefused(f"{url!r}: only http and https URLs with a host are fetched",
                                  400)
        if parts.username is not None or parts.password is not None:
            raise OutboundRefused(f"{url!r}: URLs with a user name or password are not "
                                  "fetched", 400)
        return _Hop(parts._replace(scheme=scheme), host, port or (443 if scheme == "https"
                                                                   else 80))

    def check_addresses(self, url: str, host: str, addresses: list[str]) -> str:
        """The address to connect to, once every one ``host`` resolves to is allowed."""
        if not addresses:
            raise OutboundRefused(f"{url}: {host} has no address", 400)
        for address in addresses:
            if not address_allowed(address, self.policy.allow_private):
                raise OutboundRefused(
                    f"{url}: {host} resolves to {address}, a private, loopback, link-local "
                    f"or reserved address; refused (allowed only by {self.policy.allow_hint})",
                    403)
        return addresses[0]

    def _lookup(self, url: str, hop: _Hop) -> list[str]:
        try:
            return self.resolver(hop.host, hop.port)
        except (OSError, UnicodeError) as exc:
            raise OutboundRefused(f"{url}: cannot resolve {hop.host} ({exc})", 400) from exc

    def _build(self, client: httpx.Client | httpx.AsyncClient, hop: _Hop, address: str,
               remaining: float) -> httpx.Request:
        literal = f"[{address}]" if ":" in address else address
        target = hop.parts._replace(netloc=f"{literal}:{hop.port}").geturl()
        host_header = hop.parts.netloc.rsplit("@", 1)[-1]
        extensions = {"sni_hostname": hop.host} if hop.parts.scheme == "https" else {}
        return client.build_request("GET", target, headers={"Host": host_header},
                                    extensions=extensions,
                                    timeout=httpx.Timeout(max(remaining, 0.001)))

    def _next(self, url: str, response: httpx.Response) -> str | None:
        if response.is_redirect and "location" in response.headers:
            return urljoin(url, response.headers["location"])
        return None

    def _slow(self, url: str) -> OutboundRefused:
        return OutboundRefused(f"{url}: no complete answer within {self.policy.timeout:g} s",
                               504)

    def _too_many(self, url: str) -> OutboundRefused:
        return OutboundRefused(f"{url}: more than {self.policy.max_redirects} redirects", 502)

    def _declared_size(self, url: str, response: httpx.Response) -> None:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.policy.max_bytes:
            raise OutboundRefused(f"{url}: {declared} bytes, over the "
                                  f"{self.policy.max_bytes}-byte limit", 413)

    def _add_chunk(self, url: str, size: int, deadline: float) -> None:
        if size > self.policy.max_bytes:
            raise OutboundRefused(f"{url}: over the {self.policy.max_bytes}-byte limit", 413)
        if time.monotonic() > deadline:
            raise self._slow(url)

    # -- fetching ----------------------------------------------------------------------
    def get(self, client: httpx.Client, url: str, *, read_body: bool = True,
            accept: Accept | None = None) -> Answer:
        """GET ``url`` (a client from :meth:`client`), following redirects by hand."""
        deadline = time.monotonic() + self.policy.timeout
        for _ in range(self.policy.max_redirects + 1):
            hop = self.parse(url)
            address = self.check_addresses(url, hop.host, self._lookup(url, hop))
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._slow(url)
            request = self._build(client, hop, address, remaining)
            try:
                response = client.send(request, stream=True)
            except httpx.TimeoutException as exc:
                raise self._slow(url) from exc
            except httpx.HTTPError as exc:
                raise OutboundRefused(f"{url}: cannot connect ({exc or type(exc).__name__})",
                                      502) from exc
            try:
                following = self._next(url, response)
                if following is not None:
                    url = following
                    continue
                if accept is not None:
                    accept(url, response)
                body = self._read(url, response, deadline) if read_body else b""
                return Answer(url, response.status_code, response.headers, body)
            finally:
                response.close()
        raise self._too_many(url)

    def _read(self, url: str, response: httpx.Response, deadline: float) -> bytes:
        self._declared_size(url, response)
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_bytes():
                size += len(chunk)
                self._add_chunk(url, size, deadline)
                chunks.append(chunk)
        except httpx.TimeoutException as exc:
            raise self._slow(url) from exc
        except httpx.HTTPError as exc:
            raise OutboundRefused(f"{url}: cannot download ({exc})", 502) from exc
        return b"".join(chunks)

    async def aget(self, client: httpx.AsyncClient, url: str, *,
                   read_body: bool = False) -> Answer:
        """The asynchronous :meth:`get` (a client from :meth:`async_client`)."""
        deadline = time.monotonic() + self.policy.timeout
        for _ in range(self.policy.max_redirects + 1):
            hop = self.parse(url)
            addresses = await asyncio.get_running_loop().run_in_executor(
                None, self._lookup, url, hop)
            address = self.check_addresses(url, hop.host, addresses)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._slow(url)
            request = self._build(client, hop, address, remaining)
            try:
                response = await asyncio.wait_for(client.send(request, stream=True),
                                                  timeout=remaining)
            except (TimeoutError, httpx.TimeoutException) as exc:
                raise self._slow(url) from exc
            except httpx.HTTPError as exc:
                raise OutboundRefused(f"{url}: cannot connect ({exc or type(exc).__name__})",
                                      502) from exc
            try:
                following = self._next(url, response)
                if following is not None:
                    url = following
                    continue
                body = b""
                if read_body:
                    self._declared_size(url, response)
                    size = 0
                    parts: list[bytes] = []
                    async for chunk in response.aiter_bytes():
                        size += len(chunk)
                        self._add_chunk(url, size, deadline)
                        parts.append(chunk)
                    body = b"".join(parts)
                return Answer(url, response.status_code, response.headers, body)
            finally:
                await response.aclose()
        raise self._too_many(url)
