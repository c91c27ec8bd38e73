"""Which language a text is in: zh, en or other, with mixed zh/en texts recognised.

Script counting decides Chinese (fast and exact for CJK); Latin-script texts go to py3langid
(langid.py's offline model, shipped in its wheel) unless English function words already settle
it, because the model costs ~90 µs a call and most English feedback is obvious.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from cxloop.text.clauses import CJK
from cxloop.text.schemas import Language

_KANA_HANGUL = re.compile(r"[\u3040-\u30ff\uac00-\ud7af]")
_LATIN_WORD = re.compile(r"[A-Za-z\u00c0-\u024f']+")
_LETTER = re.compile(r"[^\W\d_]")
_ENGLISH_HINTS = ENGLISH_STOP_WORDS | frozenset(
    [
        "good",
        "great",
        "bad",
        "ok",
        "okay",
        "nice",
        "love",
        "hate",
        "fast",
        "slow",
        "late",
        "rude",
        "poor",
        "terrible",
        "awesome",
        "excellent",
        "thanks",
        "thank",
        "refund",
        "delivery",
        "order",
        "service",
        "app",
        "price",
        "quality",
        "lol",
        "omg",
        "wow",
        "thx",
        "pls",
        "plz",
        "lmao",
        "wtf",
        "tbh",
        "idk",
    ]
)
_MIXED_SHARE = 0.2


@dataclass(frozen=True, slots=True)
class LanguageGuess:
    language: Language
    mixed: bool


@lru_cache(maxsize=1)
def _identifier() -> LanguageIdentifier:
    return LanguageIdentifier.from_modelpath(MODEL_DIR / MODEL_FILE, norm_probs=True)


@lru_cache(maxsize=1)
def _english_words() -> frozenset[str]:
    """Function words plus every English opinion word of the sentiment lexicon."""
    from cxloop.text.features import load_lexicon

    return _ENGLISH_HINTS | frozenset(w for w in load_lexicon().terms["en"] if w.isalpha())


def _latin_language(text: str, words: list[str]) -> Language:
    lowered = [w.lower() for w in words]
    english = _english_words()
    hinted = sum(w in english for w in lowered)
    # Emoji and curly quotes don't make "Terrible app 😡" foreign: look at the words only.
    plain = all(w.isascii() for w in words)
    if plain and hinted and hinted * 4 >= len(lowered):
        return "en"
    guess, confidence = _identifier().classify(" ".join(words))
    if guess == "en":
        return "en"
    # Short texts fool the model ("meh"); an unsure guess counts as English only when an
    # English word is there to back it ("Kein Kommentar" stays other).
    if plain and confidence < 0.7 and hinted:
        return "en"
    return "other"


def detect_language(text: object) -> LanguageGuess:
    """``none`` for empty or non-text input; mixed when both scripts carry a fair share."""
    if not isinstance(text, str) or not _LETTER.search(text):
        return LanguageGuess("none", False)
    cjk = len(CJK.findall(text))
    kana_hangul = len(_KANA_HANGUL.findall(text))
    if kana_hangul >= 2 and kana_hangul * 4 >= cjk:  # one stray の does not make it Japanese
        return LanguageGuess("other", False)
    words = _LATIN_WORD.findall(text)
    latin_letters = sum(len(w) for w in words)
    if cjk:
        # One Chinese character carries about as much as a short English word.
        latin_weight = latin_letters / 4
        mixed = latin_weight >= _MIXED_SHARE * (cjk + latin_weight) and len(words) >= 2
        if cjk >= latin_weight:
            return LanguageGuess("zh", mixed)
        return LanguageGuess(_latin_language(text, words), mixed)
    if not words:
        return LanguageGuess("other", False)
    return LanguageGuess(_latin_language(text, words), False)
