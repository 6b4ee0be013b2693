"""Formulaic words: greetings, thanks, blessings, prayers' closings and chat fillers.

A post made only of these ("JazakAllah khair akhi", "Ameen", "God bless you", "Shalom",
"Ramadan Mubarak", "thanks bro", "lol") says nothing a content classifier can judge: it is
``other`` under the labelling guide whatever account wrote it. :func:`content_words` counts the
words of a cleaned text (:func:`warding.classify.features.clean_text`) that are *not* in this
list, and :func:`assessable` requires
:data:`MIN_ASSESSABLE_WORDS` of them: such posts are scored but
never flagged (``assessed: false``), like a bare link.

Why (issue 16): the default model flagged about one in twelve chat posts of the pro-ISIS
accounts, many of them a formula alone; the same formula from anyone else is ordinary speech.
The words are scored as before (nothing is removed from what the model reads: removing one
religion's words from the features is itself unequal treatment); they only do not count as
content. The list holds the formulas of several religions and languages alike, and secular
ones, so that the rule treats them equally; ``tests/test_classifier_formulas.py`` checks that
each religion's everyday formulas are unassessed and that a formula beside real content is
still judged.

Tokens are matched after cleaning (lower case, Arabic diacritics and tatweel removed).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

import numpy as np

_LATIN = """
allah allahu akbar alhamdulillah alhamdulillahi alhamdulilah alhamdulillaah hamdulillah
hamdolilah hamdulilah ameen aameen amin amen inshallah insha inshaa inshaallah insh shaa sha
mashallah masha mashaallah maashallah subhanallah subhan jazakallah jazakallahu jazakillah
jazakumullah jazakumullahu jzakallah jazakkallah jazzakallah jazzakumullahu jazak jazaki
jazahoum khair khayr khairan khayran kheir kheyr ghir barakallah barakallahu baarakallahu
barak fik feek fiik fikum assalamu asalamu assalamualaikum salaamu salam salaam alaikum
alaykum aleikum alaikom walaikum wasalam wassalam rahmatullah rahmatullahi wabarakatuh
barakatuh wa taqabbal minna minkum rabbil alamin mubarak eid ramadan ramadhan kareem karim
jummah juma jumuah akhi akhy akh akhee ukhti ukhty ukht
god bless blessed blessings hallelujah praise lord jesus christ merry christmas easter
shalom mazel tov baruch hashem shabbat namaste jai shri krishna waheguru sat sri akal
shanti namo buddhaya
thanks thank thankyou thx ty tnx welcome please pls plz hi hello hey bye congrats
congratulations lol haha hahaha hahahaha lmao ok okay yes no yeah yep
brother brothers sister sisters bro sis dear friend friends everyone all you u your ya
to and the for my same too
merci dieu beni bénisse vous gracias dios bendiga que te danke gott segne dich euch grazie dio
benedica obrigado
deus abençoe teşekkürler spasibo спасибо бог благослови аминь
"""

_OTHER_SCRIPTS = """
الله اللهم الحمد لله سبحان جزاك جزاكم جزاكي خيرا خير امين آمين ان إن شاء ما ماشاء بارك فيك
فيكم السلام سلام عليكم وعليكم ورحمه ورحمة وبركاته اخي أخي اختي أختي شكرا رمضان كريم مبارك عيد
जय श्री राम नमस्ते धन्यवाद शुक्रिया
شکریہ جزاک اللہ ان شاء ماشاءاللہ
"""

#: Every formula token, lower case.
FORMULA_WORDS: frozenset[str] = frozenset((_LATIN + _OTHER_SCRIPTS).lower().split())


def _strip_edges(word: str) -> str:
    """``word`` without punctuation and symbols at either end (letters and marks kept)."""
    start, end = 0, len(word)
    while start < end and unicodedata.category(word[start])[0] in "PS":
        start += 1
    while end > start and unicodedata.category(word[end - 1])[0] in "PS":
        end -= 1
    return word[start:end]


def content_words(cleaned: str) -> int:
    """How many words of an already cleaned text are not formulas (punctuation at a word's
    edges ignored; a word of punctuation only is not counted)."""
    words = (_strip_edges(w) for w in cleaned.split())
    return sum(1 for w in words if w and w not in FORMULA_WORDS)


#: Texts with fewer words than this once links, mentions, hashtag signs and ``RT`` are cleaned
#: away, not counting formulas (greetings, thanks, blessings, chat fillers of any religion or
#: none: :data:`FORMULA_WORDS`), carry nothing a text classifier can judge (a bare
#: link, "2/2", "lol", "JazakAllah khair akhi", "God bless you"): they are scored, but never
#: flagged, and their result says ``assessed: false``.
MIN_ASSESSABLE_WORDS = 2


def assessable(cleaned: Sequence[str]) -> np.ndarray:
    """Which already cleaned texts have enough words, formulas not counted, to be judged (see
    MIN_ASSESSABLE_WORDS)."""
    # content words are a subset of the words, so this also bounds the plain word count
    return np.array([content_words(t) >= MIN_ASSESSABLE_WORDS for t in cleaned], dtype=bool)
