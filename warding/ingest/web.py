"""Saved web pages (``*.html`` / ``*.htm``): the article text, its metadata and outlinks.

Text and metadata come from trafilatura, run on the page's own text only (it
never fetches anything). Boilerplate lines that trafilatura sometimes keeps
(share buttons, "Read also" teasers) are then dropped, see
:data:`SHARE_PHRASES` and :data:`TEASER_PREFIXES`. Outlinks are the absolute
http(s) links of the page body, share-intent links excluded.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urldefrag, urljoin, urlsplit

import trafilatura
from lxml import etree
from lxml import html as lxml_html

from warding.ingest._common import (
    Reason,
    clean_text,
    content_id,
    dedupe,
    parse_time,
    read_limited,
    reject,
    stable_id,
)
from warding.ingest.base import Connector, Limits, RawItem, Read

#: A line made only of these (any case, separated by spaces or ``| · • / ,``) is a share bar.
SHARE_PHRASES = (
    "share on facebook", "share on twitter", "share on x", "share on linkedin",
    "share on whatsapp", "share on telegram", "share on reddit", "share via email",
    "share this article", "share this story", "share this", "share", "tweet", "whatsapp",
    "facebook", "twitter", "linkedin", "telegram", "reddit", "pinterest", "email this",
    "email", "e-mail", "print this", "print", "copy link",
    "partager", "teilen", "compartir", "condividi", "compartilhar", "مشاركة",
)

#: A line starting with one of these, then ``:``, a dash, ``»``, ``|``, ``>`` or nothing,
#: links to another article.
TEASER_PREFIXES = (
    "read also", "also read", "read more", "see also", "related", "related articles",
    "related stories", "more on this story",
    "lire aussi", "à lire aussi", "a lire aussi", "voir aussi",
    "lesen sie auch", "mehr zum thema", "siehe auch",
    "leer también", "lea también", "ver también", "leggi anche",
    "leia também", "lees ook",
    "اقرأ أيضا", "اقرأ أيضاً", "اقرأ ايضا",
    "читайте также",
)

#: Links that share the page instead of pointing somewhere: (host suffix, path prefix).
SHARE_LINKS = (
    ("facebook.com", "/sharer"), ("facebook.com", "/share.php"), ("facebook.com", "/dialog/share"),
    ("twitter.com", "/intent"), ("twitter.com", "/share"), ("x.com", "/intent"),
    ("x.com", "/share"), ("wa.me", "/"), ("api.whatsapp.com", "/send"),
    ("web.whatsapp.com", "/send"), ("linkedin.com", "/sharearticle"),
    ("linkedin.com", "/sharing"), ("t.me", "/share"), ("telegram.me", "/share"),
    ("reddit.com", "/submit"), ("pinterest.com", "/pin/create"), ("vk.com", "/share.php"),
)

#: Lines this short that repeat a link's text are menu items.
MAX_MENU_WORDS = 4

#: Share of U+FFFD replacement characters above which a page is refused.
MAX_REPLACEMENT_SHARE = 0.10

_SEP = r"[\s|·•/,]*"
_SHARE_RE = re.compile(
    r"^(?:(?:" + "|".join(re.escape(p) for p in sorted(SHARE_PHRASES, key=len, reverse=True))
    + r")" + _SEP + r")+$",
    re.IGNORECASE,
)
_TEASER_RE = re.compile(
    r"^(?:" + "|".join(re.escape(p) for p in sorted(TEASER_PREFIXES, key=len, reverse=True))
    + r")\s*(?:$|[:\-–—»|>›])",
    re.IGNORECASE,
)
_META_CHARSET_RE = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:\-]+)",
                              re.IGNORECASE)
_XML_DECL_RE = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)
#: As browsers do (WHATWG Encoding): a UTF-16/32 label in a meta tag cannot be right for
#: an ASCII-compatible document, and Latin-1/ASCII labels mean windows-1252.
_CHARSET_OVERRIDES = {
    "utf-16": "utf-8", "utf-16-le": "utf-8", "utf-16-be": "utf-8",
    "utf-32": "utf-8", "utf-32-le": "utf-8", "utf-32-be": "utf-8",
    "iso8859-1": "cp1252", "ascii": "cp1252",
}
_TIME_META = (
    "article:published_time", "og:published_time", "datePublished", "date", "pubdate",
    "dc.date", "dcterms.created",
)


def _detect(data: bytes) -> tuple[str, str] | None:
    """The page decoded with the encoding charset-normalizer finds most likely, if any."""
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or not best.encoding:
        return None
    try:
        encoding = codecs.lookup(best.encoding).name
        return data.decode(encoding), encoding
    except (LookupError, UnicodeDecodeError):
        return None


def decode_html(data: bytes) -> tuple[str, str] | Reason:
    """The page as text and the encoding used, or why it cannot be decoded.

    Order: byte-order mark, the charset declared in a ``<meta>``, UTF-8; without a
    declared charset, the encoding ``charset-normalizer`` detects (saved pages in
    windows-1256, windows-1251 and the like); then the declared charset (or UTF-8) with
    replacement characters, refused if more than 10% of the characters had to be replaced.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError:
                break
    declared = None
    match = _META_CHARSET_RE.search(data[:8192])
    if match:
        try:
            declared = codecs.lookup(match.group(1).decode("ascii")).name
        except (LookupError, UnicodeDecodeError):
            declared = None
        declared = _CHARSET_OVERRIDES.get(declared or "", declared)
    for encoding in dedupe([e for e in (declared, "utf-8") if e]):
        try:
            return data.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError):
            continue
    if declared is None:
        detected = _detect(data)
        if detected is not None:
            return detected
    encoding = declared or "utf-8"
    text = data.decode(encoding, errors="replace")
    replaced = text.count("\ufffd")
    if text and replaced / len(text) > MAX_REPLACEMENT_SHARE:
        return Reason(
            f"broken encoding: {replaced / len(text):.0%} of the characters could not be "
            f"decoded as {encoding}"
        )
    return text, encoding


def strip_boilerplate(text: str, link_texts: frozenset[str] = frozenset()) -> str:
    """The text without share-bar lines, "Read also" lines and menu items.

    A menu item is a short line (at most :data:`MAX_MENU_WORDS` words) that is
    exactly the text of one of the page's links (``link_texts``): trafilatura's
    fallback keeps a navigation bar when a page has nothing else.
    """
    kept = []
    for line in text.split("\n"):
        bare = line.strip()
        if bare and (_SHARE_RE.match(bare) or _TEASER_RE.match(bare)):
            continue
        if bare and len(bare.split()) <= MAX_MENU_WORDS and _squash(bare) in link_texts:
            continue
        kept.append(line)
    return "\n".join(kept).strip()


def _squash(text: str) -> str:
    return " ".join(text.split()).casefold()


def link_texts(tree: Any) -> frozenset[str]:
    """The texts of the page's links, whitespace-squashed and case-folded."""
    if tree is None:
        return frozenset()
    return frozenset(_squash(a.text_content()) for a in tree.iter("a") if a.text_content())


def is_share_link(url: str) -> bool:
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:  # e.g. an unclosed "[" of an IPv6 address: not a share link
        return False
    path = parts.path.lower()
    for suffix, prefix in SHARE_LINKS:
        if (host == suffix or host.endswith("." + suffix)) and path.startswith(prefix):
            return True
    return False


def _http_url(value: Any) -> str | None:
    if isinstance(value, str):
        value = value.strip()
        if re.match(r"https?://[^/\s]", value, re.IGNORECASE) and not re.search(r"\s", value):
            return value
    return None


def _parse_tree(text: str) -> Any | None:
    try:
        return lxml_html.document_fromstring(_XML_DECL_RE.sub("", text, count=1))
    except (etree.ParserError, ValueError, TypeError):
        return None


def _page_url(tree: Any, meta_url: Any) -> str | None:
    """The canonical link, else og:url, else trafilatura's url (absolute http(s) only)."""
    candidates: list[Any] = []
    if tree is not None:
        candidates += tree.xpath('//link[translate(@rel, "CANONIL", "canonil")="canonical"]/@href')
        candidates += tree.xpath('//meta[@property="og:url" or @name="og:url"]/@content')
    candidates.append(meta_url)
    for candidate in candidates:
        url = _http_url(candidate)
        if url:
            return url
    return None


def _published(tree: Any, meta_date: Any) -> Any:
    """The full publication timestamp from the page's meta tags, else trafilatura's date."""
    if tree is not None:
        for key in _TIME_META:
            values = tree.xpath(
                "//meta[@property=$k or @name=$k or @itemprop=$k]/@content", k=key
            )
            for value in values:
                parsed = parse_time(value)
                if parsed is not None:
                    return parsed
    return parse_time(meta_date)


def outlinks(tree: Any, page_url: str | None) -> list[str]:
    """Absolute http(s) links in the body, resolved against the page URL, share links out."""
    if tree is None:
        return []
    body = tree.find("body")
    anchors = (body if body is not None else tree).iter("a")
    found = []
    for anchor in anchors:
        href = (anchor.get("href") or "").strip()
        if not href or href.startswith("#"):
            continue
        try:
            url = urljoin(page_url, href) if page_url else href
            url = urldefrag(url).url
        except ValueError:  # an unclosed "[" of an IPv6 address: not a usable link
            continue
        if _http_url(url) and not is_share_link(url) and url != page_url:
            found.append(url)
    return dedupe(found)


class WebPageConnector(Connector):
    """A saved article page: main text, title, date, canonical URL, author, outlinks."""

    name: ClassVar[str] = "web"
    description: ClassVar[str] = (
        "Saved web pages (*.html, *.htm): the article text without navigation, share bars or "
        "scripts, with title, date, canonical URL, author and outlinks."
    )
    suffixes: ClassVar[tuple[str, ...]] = (".html", ".htm")

    def can_read(self, path: Path) -> bool:
        return path.suffix.lower() in self.suffixes and path.is_file()

    def read(self, path: Path, source: str, limits: Limits) -> Iterator[Read]:
        yield self._read_page(path, source, limits)

    def _read_page(self, path: Path, source: str, limits: Limits) -> Read:
        ref = str(path)
        data = read_limited(path, limits.max_html_bytes, "max_html_bytes")
        if isinstance(data, Reason):
            return reject(ref, data)
        decoded = decode_html(data)
        if isinstance(decoded, Reason):
            return reject(ref, decoded)
        page, encoding = decoded
        try:
            doc = trafilatura.bare_extraction(
                page,
                include_comments=False,
                include_tables=False,
                favor_precision=True,
                with_metadata=True,
            )
        except Exception as exc:  # noqa: BLE001 - trafilatura/lxml may fail on odd markup
            return reject(ref, f"could not parse the page: {exc}")
        tree = _parse_tree(page)
        raw_text = getattr(doc, "text", None) if doc is not None else None
        text = strip_boilerplate(raw_text or "", link_texts(tree))
        if not text:
            return reject(ref, "no article text found")
        cleaned = clean_text(text, limits)
        if isinstance(cleaned, Reason):
            return reject(ref, cleaned)

        url = _page_url(tree, getattr(doc, "url", None))
        metadata: dict[str, Any] = {"encoding": encoding}
        for key in ("sitename", "hostname", "description", "language"):
            value = getattr(doc, key, None)
            if isinstance(value, str) and value.strip():
                metadata[key] = value.strip()
        language = metadata.pop("language", None)
        if language is None and tree is not None:
            language = (tree.get("lang") or tree.get("xml:lang") or "").strip() or None
        if language:
            metadata["lang"] = language[:16]
        author = getattr(doc, "author", None)
        title = getattr(doc, "title", None)
        return RawItem(
            source=source,
            external_id=stable_id(url) if url else content_id(data),
            input_ref=ref,
            kind="article",
            url=url,
            account=author.strip() if isinstance(author, str) and author.strip() else None,
            posted_at=_published(tree, getattr(doc, "date", None)),
            title=title.strip() if isinstance(title, str) and title.strip() else None,
            text=cleaned,
            outlinks=outlinks(tree, url),
            metadata=metadata,
        )
