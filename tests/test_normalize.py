"""Text normalisation, entity extraction and URL canonicalisation."""

from __future__ import annotations

import pytest

from warding.signals.normalize import extract_urls, normalize_text, split_entities
from warding.signals.url import URLSignal, canonical_url

# --- normalize_text ----------------------------------------------------------


def test_nfkc_fullwidth_and_case() -> None:
    assert normalize_text("Ｔｈｅ ＱＵＩＣＫ ｂｒｏｗｎ ｆｏｘ") == "the quick brown fox"
    assert normalize_text("ﬁne Straße") == "fine strasse"  # ligature, casefold


def test_zero_width_and_format_characters() -> None:
    text = "qu\u200bick\u200c bro\u200dwn\ufeff f\u00adox\u2066"
    assert normalize_text(text) == "quick brown fox"


def test_arabic_diacritics_and_tatweel() -> None:
    plain = normalize_text("كتاب")
    assert plain == "كتاب"
    assert normalize_text("كِتَاب") == plain
    assert normalize_text("كتـــاب") == plain
    assert normalize_text("كِتَـــابٌ") == plain


def test_homoglyphs_in_mixed_script_tokens() -> None:
    assert normalize_text("p\u0430per") == "paper"  # Cyrillic а in a Latin word
    assert normalize_text("\u0440\u0430per \u0435xample") == "paper example"
    assert normalize_text("ν\u03bfice") == "voice"  # Greek ν, ο


def test_all_cyrillic_word_is_not_folded() -> None:
    assert normalize_text("Привет мир") == "привет мир"


def test_leetspeak_only_in_tokens_with_letters() -> None:
    assert normalize_text("h3ll0 w0rld") == "hello world"
    assert normalize_text("$h@re 7his") == "share this"
    assert normalize_text("in 2024 at 10:30") == "in 2024 at 10 30"


def test_punctuation_and_whitespace() -> None:
    text = "  Don't  stop -- the... fox!!\n\tjumps 🙂 "
    assert normalize_text(text) == "dont stop the fox jumps"
    assert normalize_text("...!!!") == ""
    assert normalize_text("") == ""


def test_entities_removed_from_fingerprint_text() -> None:
    text = "The quick brown fox https://example.com/a @SomeOne #Tag"
    assert normalize_text(text) == "the quick brown fox"


def test_obfuscated_copies_share_normal_form() -> None:
    base = "The quick brown fox jumps over the lazy dog"
    variants = [
        "THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG!!!",
        "The qu\u200bick br0wn f\u043ex jumps over the lazy dog #news https://t.me/x",
        "Ｔｈｅ quick brown fox, jumps over the lazy dog. @channel",
    ]
    for variant in variants:
        assert normalize_text(variant) == normalize_text(base)


# --- split_entities / extract_urls -------------------------------------------


def test_split_entities() -> None:
    clean, urls, mentions, hashtags = split_entities(
        "See https://example.com/a?b=1, and (www.example.org/x). Ask @Alice and @alice "
        "about #Weather #1 #weather, mail bob@example.net; t.me/somechannel"
    )
    assert urls == ["https://example.com/a?b=1", "www.example.org/x", "t.me/somechannel"]
    assert mentions == ["alice"]
    assert hashtags == ["weather"]
    assert "example" not in clean.replace("bob@example.net", "")
    assert "bob@example.net" in clean
    assert "#1" in clean


def test_urls_with_obfuscation_and_brackets() -> None:
    assert extract_urls("link: https://exa\u200bmple.com/path_(x) ok") == [
        "https://example.com/path_(x)"
    ]
    assert extract_urls("(see https://example.com/page)") == ["https://example.com/page"]
    assert extract_urls("e.g. file.txt and a.b") == []


def test_arabic_hashtag() -> None:
    _, _, _, hashtags = split_entities("نص #كِتَاب")
    assert hashtags == ["كتاب"]


# --- canonical_url -------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("HTTP://Example.COM/Path", "http://example.com/Path"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("https://example.com/a?utm_source=x&utm_medium=y&id=3", "https://example.com/a?id=3"),
        (
            "https://example.com/a?fbclid=1&gclid=2&igshid=3&si=4&mc_cid=5&mc_eid=6&ref_src=7",
            "https://example.com/a",
        ),
        ("https://example.com/a?b=2&a=1&c", "https://example.com/a?a=1&b=2&c"),
        ("https://example.com/a#section-2", "https://example.com/a"),
        ("https://example.com/a/b/", "https://example.com/a/b"),
        ("https://example.com/", "https://example.com/"),
        ("https://example.com", "https://example.com/"),
        ("example.com/page", "http://example.com/page"),
        ("//example.com/page", "http://example.com/page"),
        ("https://bücher.example/", "https://xn--bcher-kva.example/"),
        ("https://EXAMPLE.com./%7euser/caf%c3%a9", "https://example.com/~user/caf%C3%A9"),
        ("https://example.com/café", "https://example.com/caf%C3%A9"),
        ("https://user:secret@example.com/", "https://example.com/"),
        ("http://[::1]:80/x", "http://[::1]/x"),
        ("  https://example.com/x  ", "https://example.com/x"),
    ],
)
def test_canonical_url(raw: str, canonical: str) -> None:
    assert canonical_url(raw) == canonical
    assert canonical_url(canonical) == canonical  # idempotent


@pytest.mark.parametrize(
    "bad",
    ["", "   ", "http://", "mailto:someone@example.com", "http://exa mple.com/", "http://h:99999/"],
)
def test_invalid_urls(bad: str) -> None:
    with pytest.raises(ValueError):
        canonical_url(bad)
    with pytest.raises(ValueError):
        URLSignal().validate(bad)


def test_url_signal() -> None:
    url = URLSignal()
    assert url.compute("https://Example.com/a/?utm_campaign=z") == "https://example.com/a"
    assert url.compute(b"https://example.com/a") == "https://example.com/a"
    assert url.validate("EXAMPLE.com/a/") == "http://example.com/a"
