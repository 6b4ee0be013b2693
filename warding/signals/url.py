"""URLs, canonicalised so that trivially different links to the same resource
compare equal. The value stored is the canonical URL itself (not a hash) so
that analysts can read bank entries and matches.
"""

from __future__ import annotations

import re
import unicodedata
from typing import ClassVar
from urllib.parse import quote, unquote_plus, urlsplit

from warding.signals.base import ContentKind, SignalError, SignalType

DEFAULT_PORTS = {"http": 80, "https": 443}

TRACKING_PARAMS = frozenset(
    {
        "fbclid",  # Facebook click id
        "gclid", "dclid", "gbraid", "wbraid", "gclsrc",  # Google Ads
        "msclkid",  # Microsoft Ads
        "yclid",  # Yandex
        "twclid", "ttclid", "li_fat_id", "epik",  # X/Twitter, TikTok, LinkedIn, Pinterest
        "igshid", "igsh",  # Instagram share id
        "si",  # YouTube / Spotify share id
        "mc_cid", "mc_eid",  # Mailchimp
        "_hsenc", "_hsmi", "__hssc", "__hstc", "__hsfp", "hsctatracking",  # HubSpot
        "mkt_tok",  # Marketo
        "oly_anon_id", "oly_enc_id", "vero_id", "rb_clickid", "s_cid", "ncid",
        "ref_src", "ref_url",  # X/Twitter embeds
    }
)  # fmt: skip
"""Query parameters (case-insensitive) that only track the click, never select content."""

TRACKING_PREFIXES = ("utm_", "pk_", "mtm_")
"""Parameter-name prefixes of campaign tracking (Google Analytics, Piwik, Matomo)."""

_SCHEME_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
# "mailto:x@y", "javascript:..." - a scheme without "//" (but not "host:8080").
_OPAQUE_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:(?!//)(?![0-9])")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_ESCAPE_RE = re.compile(r"%([0-9A-Fa-f]{2})")
_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})


def _is_tracking(name: str) -> bool:
    key = unquote_plus(name).strip().lower()
    return key in TRACKING_PARAMS or key.startswith(TRACKING_PREFIXES)


def _norm_escapes(part: str, safe: str) -> str:
    """Decode escapes of unreserved characters, upper-case the others and
    percent-encode anything that is not URL-safe ASCII (IRI -> URI)."""

    def fix(m: re.Match[str]) -> str:
        char = chr(int(m.group(1), 16))
        return char if char in _UNRESERVED else "%" + m.group(1).upper()

    return quote(_ESCAPE_RE.sub(fix, part), safe=safe + "%")


def _idna_host(host: str) -> str:
    host = unicodedata.normalize("NFKC", host).translate(_DOTS).lower().rstrip(".")
    if not host:
        raise ValueError("URL has no host")
    if host.startswith("[") or ":" in host:  # IPv6 literal
        return host if host.startswith("[") else f"[{host}]"
    labels = []
    for label in host.split("."):
        if not label:
            raise ValueError(f"invalid host {host!r}: empty label")
        if label.isascii():
            labels.append(label)
            continue
        try:
            import idna  # IDNA 2008 + UTS #46, as browsers do

            labels.append(idna.encode(label, uts46=True).decode("ascii"))
        except Exception:  # noqa: BLE001 - fall back to Python's IDNA 2003 codec
            try:
                labels.append(label.encode("idna").decode("ascii"))
            except UnicodeError as exc:
                raise ValueError(f"invalid host {host!r}: {exc}") from exc
    result = ".".join(labels)
    if any(ch.isspace() or ch in "<>\"'{}|\\^`" for ch in result):
        raise ValueError(f"invalid host {host!r}")
    return result


def canonical_url(url: str) -> str:
    """The canonical form of ``url``.

    - "http://" is added when there is no scheme; scheme and host are
      lower-cased, the host is IDNA-encoded (punycode) and a trailing dot
      dropped;
    - user name/password are dropped; default ports (80 for http, 443 for
      https) are removed;
    - the fragment is removed (note: this also drops "#!" single-page-app
      routes);
    - tracking parameters (``TRACKING_PARAMS``, ``TRACKING_PREFIXES``) are
      removed, the others sorted (order of repeated keys kept stable by value);
    - a trailing "/" is removed from the path except for the root ("/");
    - percent-escapes of unreserved characters are decoded, others
      upper-cased, non-ASCII characters percent-encoded (UTF-8).

    http and https are kept distinct. Raises ValueError when there is no host
    or the host or port is invalid.
    """
    if not isinstance(url, str):
        raise ValueError(  # noqa: TRY004 - documented: raises ValueError on bad input
            f"URL must be a string, got {type(url).__name__}")
    raw = url.strip()
    if not raw:
        raise ValueError("empty URL")
    if _OPAQUE_RE.match(raw):
        raise ValueError(f"invalid URL {url!r}: no host")
    if raw.startswith("//"):
        raw = "http:" + raw
    elif not _SCHEME_RE.match(raw):
        raw = "http://" + raw
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"invalid URL {url!r}: {exc}") from exc
    scheme = parts.scheme.lower()
    if not parts.hostname:
        raise ValueError(f"invalid URL {url!r}: no host")
    host = _idna_host(parts.hostname)
    netloc = host if port is None or DEFAULT_PORTS.get(scheme) == port else f"{host}:{port}"

    path = _norm_escapes(parts.path, safe="/:@!$&'()*+,;=")
    path = path.rstrip("/") or "/"
    params = [
        _norm_escapes(p, safe="=:@!$'()*+,;/?")
        for p in parts.query.split("&")
        if p and not _is_tracking(p.split("=", 1)[0])
    ]
    query = "&".join(sorted(params, key=lambda p: (p.split("=", 1)[0], p)))
    return f"{scheme}://{netloc}{path}" + (f"?{query}" if query else "")


class URLSignal(SignalType):
    """The canonical URL (see ``canonical_url``), stored as readable text."""

    name: ClassVar[str] = "url"
    content: ClassVar[ContentKind] = "url"
    description: ClassVar[str] = "canonical URL (exact match)"

    def compute(self, content: bytes | str) -> str | None:
        try:
            if isinstance(content, bytes):
                content = content.decode("utf-8")
            return canonical_url(content)
        except ValueError as exc:
            raise SignalError(str(exc)) from exc

    def validate(self, value: str) -> str:
        return canonical_url(value)
