"""Formulas (greetings, thanks, blessings, chat fillers) do not count as content: a post made
only of them is scored but never flagged, whichever religion or language it comes from
(:mod:`warding.classify.formulas`, issue 16). Texts written for the test: everyday formulas
only."""

from __future__ import annotations

import pytest

from warding.classify.features import clean_text
from warding.classify.formulas import FORMULA_WORDS, assessable, content_words

#: Everyday formulas, several religions and none, several languages.
FORMULAS = {
    "islam": ["JazakAllah khair akhi", "Ameen InshaAllah", "Alhamdulillah", "Allahu Akbar",
              "Ramadan Mubarak to all my friends", "Assalamu alaikum wa rahmatullahi",
              "جزاك الله خيرا", "رمضان كريم", "جزاک اللہ"],
    "christianity": ["God bless you all", "Amen", "Merry Christmas everyone",
                     "Praise the Lord, hallelujah", "Que Dios te bendiga", "Gott segne dich"],
    "judaism": ["Shalom everyone", "Mazel tov!", "Baruch Hashem"],
    "hinduism": ["जय श्री राम", "Namaste friends", "Jai Shri Krishna"],
    "sikhism": ["Sat Sri Akal", "Waheguru"],
    "none": ["thanks bro lol", "ok thank you", "haha yes", "Merci !", "Danke", "спасибо"],
}


@pytest.mark.parametrize("faith", sorted(FORMULAS))
def test_formulas_alone_are_not_assessed_whatever_the_religion(faith: str) -> None:
    texts = FORMULAS[faith]
    assert not any(assessable([clean_text(t) for t in texts])), texts


def test_a_formula_beside_content_is_still_judged() -> None:
    texts = ["JazakAllah khair, the meeting moved to the north hall",
             "God bless, the bridge reopens on Monday", "Shalom, the market closes early today",
             "pledge your spoon to the mango club"]
    assert all(assessable([clean_text(t) for t in texts]))


def test_content_words_ignore_form_and_edge_punctuation() -> None:
    assert content_words(clean_text("#Ameen!! https://example.org @someone 🙂")) == 0
    assert content_words(clean_text("(spoon) mango...")) == 2
    assert content_words("... !!") == 0
    assert all(w == w.lower() and w.strip() == w for w in FORMULA_WORDS)
