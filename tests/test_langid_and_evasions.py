"""Language identification (offline) and normalisation evasions.

Every text here is a neutral placeholder written for the tests.
"""

from __future__ import annotations

import pytest

from tests.offline import no_network
from warding.classify.features import clean_text
from warding.signals import langid
from warding.signals.normalize import normalize_text, semantic_text
from warding.signals.text import TextNearSignal, TextSignal

SENTENCES = {
    "en": "The library opens at nine and closes at six on weekdays.",
    "fr": "La bibliothèque ouvre à neuf heures et ferme à dix-huit heures en semaine.",
    "de": "Die Bibliothek öffnet werktags um neun Uhr und schließt um achtzehn Uhr.",
    "es": "La biblioteca abre a las nueve y cierra a las seis entre semana.",
    "ru": "Библиотека открывается в девять и закрывается в шесть по будним дням.",
    "tr": "Kütüphane hafta içi saat dokuzda açılır ve altıda kapanır.",
    "ar": "تفتح المكتبة في التاسعة وتغلق في السادسة في أيام الأسبوع.",
}


def test_model_loads_and_detects_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    langid._model = None  # load again, with the network blocked
    with no_network(monkeypatch):
        got = langid.detect_many(list(SENTENCES.values()))
    assert got == list(SENTENCES)
    assert langid.model_path().name == "lid.176.ftz"


def test_no_letters_or_empty_is_unknown() -> None:
    assert langid.detect_many(["", "   ", "12345 678", "!!! ???"]) == [None] * 4


def test_multiline_and_long_texts() -> None:
    assert langid.detect("Erste Zeile hier.\nZweite Zeile dort.\n" * 500) == "de"


def test_evasions_in_arabic_do_not_change_language() -> None:
    text = SENTENCES["ar"]
    evaded = text.replace("ا", "\u0640ا").replace("ت", "تَ")
    assert langid.detect(evaded) == "ar"


# ----------------------------------------------------------------- evasions

PLAIN = "join the garden club this saturday"
EVASIONS = {
    "full-width letters": "ｊｏｉｎ ｔｈｅ ｇａｒｄｅｎ ｃｌｕｂ ｔｈｉｓ ｓａｔｕｒｄａｙ",
    "mathematical bold letters": "𝐣𝐨𝐢𝐧 𝐭𝐡𝐞 𝐠𝐚𝐫𝐝𝐞𝐧 𝐜𝐥𝐮𝐛 𝐭𝐡𝐢𝐬 𝐬𝐚𝐭𝐮𝐫𝐝𝐚𝐲",
    "zero-width characters": "jo\u200bin the gar\u200cden cl\u200dub th\ufeffis satur\u00adday",
    "bidi controls": "\u202ejoin\u202c the garden \u2066club\u2069 this saturday",
    "Cyrillic look-alikes": "jоin thе gаrdеn club this sаturdаy",  # о е а are Cyrillic
    "Greek look-alikes": "jοin the gαrden club this saturday",  # ο α are Greek
    "leetspeak": "j01n th3 g4rd3n club th15 547urd4y",
    "strike-through marks": "j\u0336o\u0336i\u0336n\u0336 the garden club this saturday",
    # Marks that do not combine into an accented letter. (A mark that does, o + U+0301 = ó,
    # is kept: genuine accents are part of the text; see warding.signals.normalize.)
    "Zalgo marks": "jo\u0316\u0317\u0489in the ga\u0350\u0351\u035crden club this saturday",
    "case and punctuation": "JOIN... the Garden-Club, this SATURDAY!!!",
    "links, mentions, hashtags": "@someone join the garden club this saturday "
                                 "https://example.org/x #club",
}


@pytest.mark.parametrize("name", list(EVASIONS))
def test_evasion_gives_same_fingerprints(name: str) -> None:
    evaded = EVASIONS[name]
    assert normalize_text(evaded) == normalize_text(PLAIN)
    assert TextSignal().compute(evaded) == TextSignal().compute(PLAIN)
    assert TextNearSignal().compute(evaded) == TextNearSignal().compute(PLAIN)


@pytest.mark.parametrize("name", [n for n in EVASIONS
                                  if n not in ("case and punctuation", "links, mentions, hashtags")])
def test_evasion_gives_same_classifier_input(name: str) -> None:
    assert clean_text(EVASIONS[name]).replace("-", " ") == clean_text(PLAIN)


def test_classifier_drops_links_and_mentions_but_reads_hashtags_as_words() -> None:
    # Fingerprints drop a hashtag; the classifier keeps its words (a tag is content), only
    # the sign goes: "#GardenClub" reads as "garden club".
    assert clean_text(EVASIONS["links, mentions, hashtags"]) == clean_text(PLAIN) + " club"
    assert clean_text("@a join the #GardenClub this saturday http://x.org") == clean_text(PLAIN)


@pytest.mark.parametrize("name", [n for n in EVASIONS if n != "case and punctuation"])
def test_evasion_gives_same_embedding_input(name: str) -> None:
    assert semantic_text(EVASIONS[name]).casefold() == PLAIN


def test_arabic_diacritics_and_tatweel() -> None:
    plain = "تفتح المكتبة في التاسعة"
    evaded = "تَفْتَحُ المـــكتبة فِي التّاسعة"
    assert normalize_text(evaded) == normalize_text(plain)
    assert clean_text(evaded) == clean_text(plain)
    assert semantic_text(evaded) == semantic_text(plain)


def test_genuine_accents_and_other_scripts_are_kept() -> None:
    assert normalize_text("Café crème") == "café crème"
    assert normalize_text("Ёлка и йогурт") == "ёлка и йогурт"
    assert semantic_text("Ёлка и йогурт") == "Ёлка и йогурт"
