"""Outlink ecology: which domains and platforms the content links to, and how often.

A link is reduced to its *registered domain* with the Public Suffix List shipped inside
the ``publicsuffixlist`` package (offline by design: it never fetches a list at run
time). Only the ICANN section is used, so a blog on a platform counts for the platform
(``x.blogspot.com`` → ``blogspot.com``, ``x.github.io`` → ``github.io``).

Known short-link services and mirrors are then grouped (the lists below, also in
docs/analytics.md): a platform's own short domain counts for the platform
(``youtu.be`` → ``youtube.com``), the archive.today mirrors count as ``archive.today``,
and generic shorteners, whose destination is unknown without following them (which
Warding never does here), count together as ``short-link services``.

``count`` is the number of *items* linking to a domain (an item with three links to one
domain counts once); ``share`` is ``count`` over the sum of all counts, so shares add up
to 1 over the full list.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from warding.analytics.common import (
    PERIODS,
    ItemFacts,
    StatsFilter,
    check_choice,
    period_start,
    stream_items,
)

SHORT_LINKS = "short-link services"

# Generic URL shorteners: the destination is unknown until followed.
SHORTENERS = frozenset({
    "bit.ly", "bitly.com", "bitly.is", "tinyurl.com", "ow.ly", "is.gd", "v.gd", "buff.ly",
    "goo.gl", "tiny.cc", "shorturl.at", "cutt.ly", "rebrand.ly", "t.ly", "rb.gy", "s.id",
    "dlvr.it", "ift.tt", "trib.al", "t.co", "lnkd.in", "shorte.st", "adf.ly", "bc.vc",
    "po.st", "su.pr", "qr.ae", "x.co", "tr.im", "soo.gd", "clck.ru", "u.to", "lnk.to",
})  # fmt: skip

# A platform's own short or alternative domains, and mirrors, mapped to one name.
ALIASES: dict[str, str] = {
    "youtu.be": "youtube.com",
    "youtube-nocookie.com": "youtube.com",
    "x.com": "twitter.com",
    "twimg.com": "twitter.com",
    "fb.me": "facebook.com",
    "fb.com": "facebook.com",
    "fb.watch": "facebook.com",
    "instagr.am": "instagram.com",
    "t.me": "telegram.org",
    "telegram.me": "telegram.org",
    "telegram.dog": "telegram.org",
    "telesco.pe": "telegram.org",
    "wp.me": "wordpress.com",
    "redd.it": "reddit.com",
    "dai.ly": "dailymotion.com",
    "amzn.to": "amazon.com",
    "vk.cc": "vk.com",
    "vkontakte.ru": "vk.com",
    "jpst.it": "justpaste.it",
    "archive.ph": "archive.today",
    "archive.is": "archive.today",
    "archive.li": "archive.today",
    "archive.vn": "archive.today",
    "archive.md": "archive.today",
    "archive.fo": "archive.today",
    "archive.today": "archive.today",
    "db.tt": "dropbox.com",
    "1drv.ms": "onedrive.live.com",
    "goo.gle": "google.com",
    "g.co": "google.com",
    "bbc.in": "bbc.co.uk",
    "nyti.ms": "nytimes.com",
}


@lru_cache(maxsize=1)
def _psl() -> Any:
    from publicsuffixlist import PublicSuffixList

    # The list shipped in the package (no fetch); unknown TLDs are not domains, so a link the
    # platform cut short (``https://t.c``) counts for nothing rather than for ``t.c``.
    return PublicSuffixList(only_icann=True, accept_unknown=False)


def host_of(url: str) -> str | None:
    """The lower-case host of a URL (a scheme-less ``example.org/x`` is read as http)."""
    text = url.strip()
    if not text:
        return None
    if "://" not in text[:12]:
        text = "http://" + text
    try:
        host = urlsplit(text).hostname
    except ValueError:
        return None
    if not host:
        return None
    host = host.strip(".").lower()
    try:
        host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        pass
    return host or None


@lru_cache(maxsize=65536)
def registered_domain(host: str) -> str | None:
    """``news.bbc.co.uk`` → ``bbc.co.uk``; None when the host has no known public suffix
    (``localhost``, a bare ``com``, or a link cut short by the platform: ``https://t.c``)."""
    domain = _psl().privatesuffix(host)
    return domain if isinstance(domain, str) else None


def _registered(host: str) -> str | None:
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        return registered_domain(host)


def domain_group(url: str, *, group: bool = True) -> str | None:
    """The (grouped) registered domain a link counts for; None for a link without one."""
    host = host_of(url)
    if host is None:
        return None
    domain = _registered(host)
    if domain is None:
        return None
    if not group:
        return domain
    if domain in SHORTENERS or host in SHORTENERS:
        return SHORT_LINKS
    return ALIASES.get(host) or ALIASES.get(domain) or domain


@dataclass(frozen=True)
class DomainCount:
    domain: str
    count: int
    share: float

    def as_json(self) -> dict[str, Any]:
        return {"domain": self.domain, "count": self.count, "share": self.share}


@dataclass(frozen=True)
class Outlinks:
    domains: list[DomainCount]
    items: int
    items_with_links: int
    grouped: bool
    by: str | None
    over_time: dict[str, list[tuple[date, int]]]
    filter: StatsFilter

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "domains": [d.as_json() for d in self.domains],
            "items": self.items,
            "items_with_links": self.items_with_links,
            "grouped": self.grouped,
            "filter": self.filter.as_json(),
        }
        if self.by:
            out["by"] = self.by
            out["series"] = [
                {"key": key, "points": [{"period": p.isoformat(), "count": c} for p, c in pts]}
                for key, pts in self.over_time.items()]
        return out

    def rows(self) -> list[dict[str, Any]]:
        return [d.as_json() for d in self.domains]


def outlinks(session: Session, *, f: StatsFilter | None = None, group: bool = True,
             limit: int | None = None, by: str | None = None, top_series: int = 8,
             facts: ItemFacts | None = None) -> Outlinks:
    """Items linking to each domain, largest first (ties by name); ``limit`` keeps the top
    ones (shares stay relative to all). ``by`` adds per-period series for the
    ``top_series`` largest domains."""
    if by is not None:
        check_choice(by, PERIODS, "--by")
    f = f or StatsFilter()
    if facts is None and f.labels:
        facts = ItemFacts.load(session)
    counts: Counter[str] = Counter()
    timeline: Counter[tuple[str, date]] = Counter()
    items = with_links = 0
    for item in stream_items(session, f, with_links=True, facts=facts):
        items += 1
        item_domains = {d for d in (domain_group(str(u), group=group) for u in item.outlinks
                                    if isinstance(u, str)) if d}
        if not item_domains:
            continue
        with_links += 1
        counts.update(item_domains)
        if by is not None:
            start = period_start(item.time.date(), by)
            for d in item_domains:
                timeline[(d, start)] += 1
    total = sum(counts.values())
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    domains = [DomainCount(d, c, round(c / total, 6) if total else 0.0) for d, c in ranked]
    over_time: dict[str, list[tuple[date, int]]] = {}
    if by is not None:
        for d, _ in ranked[:top_series]:
            over_time[d] = sorted((p, c) for (dom, p), c in timeline.items() if dom == d)
    return Outlinks(domains=domains[:limit] if limit else domains, items=items,
                    items_with_links=with_links, grouped=group, by=by, over_time=over_time,
                    filter=f)
