"""Sentiment features shared by training (scripts/train_text_models.py) and scoring.

Hashed n-grams need no vocabulary file, so a shipped model is a weight vector plus an idf vector;
negation marking and lexicon scores are what carry a model from one review domain to another.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources

import numpy as np
import scipy.sparse as sp
import yaml
from sklearn.feature_extraction.text import HashingVectorizer
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from cxloop.text.schemas import Lang

N_FEATURES = 2**20
LEXICON_FEATURES = 4
VADER_FEATURES = 3
_EN_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|n't|[!?]|[^\w\s]{1,3}")
_EN_NEGATORS = frozenset(
    [
        "not",
        "no",
        "never",
        "nothing",
        "nobody",
        "none",
        "nor",
        "neither",
        "without",
        "hardly",
        "barely",
        "n't",
        "cannot",
        "cant",
        "dont",
        "doesnt",
        "didnt",
        "isnt",
        "wasnt",
        "wont",
        "wouldnt",
        "shouldnt",
        "couldnt",
        "arent",
        "werent",
    ]
)
_CLAUSE_BREAK = re.compile(r"[，,。.!！?？;；:：~～…\n]")
"""A negator or degree word acts within its clause: "not bad. great food" has a plain great."""
_NOT_NEGATORS = re.compile(r"无比|无敌|不得不|不但|不仅|毫无疑问|没想到")
"""Words that contain a negator character but negate nothing (无比好吃, 不得不说很好吃)."""
_EN_STOP_NEGATION = re.compile(r"^(?:[.,;:!?]|but|however|although|though)$")


@dataclass(frozen=True)
class Lexicon:
    """Opinion words, negators and degree words (``data/lexicon.yaml``) compiled for matching."""

    terms: dict[str, dict[str, float]]
    patterns: dict[str, re.Pattern[str]]
    negators: dict[str, tuple[str, ...]]
    degrees: dict[str, dict[str, float]]

    @cached_property
    def negator_sets(self) -> dict[str, frozenset[str]]:
        return {lang: frozenset(words) for lang, words in self.negators.items()}


def _alternation(words: Sequence[str], english: bool) -> re.Pattern[str]:
    ordered = sorted({w for w in words if w}, key=len, reverse=True)
    body = "|".join(re.escape(w) for w in ordered) or "(?!)"
    if english:
        return re.compile(rf"(?<![\w'])(?:{body})(?![\w'])", re.IGNORECASE)
    return re.compile(body)


@lru_cache(maxsize=1)
def load_lexicon() -> Lexicon:
    raw = yaml.safe_load(
        (resources.files("cxloop.text") / "data" / "lexicon.yaml").read_text(encoding="utf-8")
    )
    terms: dict[str, dict[str, float]] = {"zh": {}, "en": {}}
    for polarity, sign in (("positive", 1.0), ("negative", -1.0)):
        for lang in ("zh", "en"):
            for word in raw.get(polarity, {}).get(lang, []) or []:
                terms[lang][str(word).lower()] = sign
    for word, value in (raw.get("slang") or {}).items():
        for lang in ("zh", "en"):  # "yyds" and "666" turn up in Chinese reviews too
            terms[lang][str(word).lower()] = float(value)
    for symbol, value in (raw.get("emoji") or {}).items():
        for lang in ("zh", "en"):
            terms[lang][str(symbol)] = float(value)
    degrees: dict[str, dict[str, float]] = {"zh": {}, "en": {}}
    for section in ("intensifiers", "diminishers"):
        for lang in ("zh", "en"):
            for word, weight in ((raw.get(section) or {}).get(lang) or {}).items():
                degrees[lang][str(word).lower()] = float(weight)
    negators = {
        lang: tuple(str(w).lower() for w in (raw.get("negators") or {}).get(lang, []) or [])
        for lang in ("zh", "en")
    }
    patterns = {lang: _alternation(list(terms[lang]), lang == "en") for lang in ("zh", "en")}
    return Lexicon(terms, patterns, negators, degrees)


def _substrings(window: str) -> set[str]:
    return {window[i:j] for i in range(len(window)) for j in range(i + 1, len(window) + 1)}


def lexicon_score(text: str, lang: Lang, lexicon: Lexicon) -> tuple[float, float]:
    """Positive and negative evidence in a clause, after negators and degree words before a hit.

    Written here rather than taken from VADER because VADER is English-only and we need the same
    rule in Chinese; the window (4 characters or 3 words before the hit) mirrors VADER's.
    """
    positive = negative = 0.0
    lowered = text.lower()
    negators = lexicon.negator_sets[lang]
    degrees = lexicon.degrees[lang]
    for match in lexicon.patterns[lang].finditer(lowered):
        value = lexicon.terms[lang].get(match.group(0), 0.0)
        if lang == "zh":
            window = _CLAUSE_BREAK.split(lowered[max(0, match.start() - 4) : match.start()])[-1]
            before = _substrings(_NOT_NEGATORS.sub("", window))
            negated = not negators.isdisjoint(before)
        else:
            window = _CLAUSE_BREAK.split(lowered[max(0, match.start() - 40) : match.start()])[-1]
            words = window.split()[-3:]
            before = set(words)
            if len(words) >= 2:
                before.add(" ".join(words[-2:]))
            negated = not negators.isdisjoint(before) or any(w.endswith("n't") for w in words)
        for word in before & degrees.keys():
            value *= degrees[word]
        if negated:
            value *= -0.7
        if value > 0:
            positive += value
        else:
            negative -= value
    return positive, negative


def _mark_negation(text: str) -> str:
    """English tokens after a negator get a ``neg_`` prefix until punctuation or a contrast word."""
    out: list[str] = []
    negating = False
    for token in _EN_TOKEN.findall(text.lower()):
        if _EN_STOP_NEGATION.match(token):
            negating = False
            out.append(token)
        elif token in _EN_NEGATORS or token.endswith("n't"):
            negating = True
            out.append(token)
        else:
            out.append("neg_" + token if negating else token)
    return " ".join(out)


@lru_cache(maxsize=2)
def _vectorizers(lang: Lang) -> tuple[HashingVectorizer, ...]:
    common = {"n_features": N_FEATURES, "alternate_sign": False, "norm": None, "dtype": np.float32}
    if lang == "zh":
        return (HashingVectorizer(analyzer="char", ngram_range=(1, 3), lowercase=True, **common),)
    return (
        HashingVectorizer(
            analyzer="word",
            ngram_range=(1, 2),
            token_pattern=r"\S+",
            lowercase=False,
            preprocessor=_mark_negation,
            **common,
        ),
        HashingVectorizer(analyzer="char_wb", ngram_range=(2, 5), lowercase=True, **common),
    )


def hashed_counts(texts: Sequence[str], lang: Lang) -> sp.csr_matrix:
    """Raw n-gram counts, summed over the language's vectorizers (hash collisions are rare)."""
    matrices = [v.transform(texts) for v in _vectorizers(lang)]
    total = matrices[0]
    for extra in matrices[1:]:
        total = total + extra
    return sp.csr_matrix(total)


def weighted(counts: sp.csr_matrix, idf: np.ndarray) -> sp.csr_matrix:
    """Sublinear tf × idf, then unit length: the TF-IDF the model was trained on."""
    x = counts.copy().astype(np.float32)
    x.data = 1.0 + np.log(x.data)
    x = sp.csr_matrix(x.multiply(idf.reshape(1, -1)))
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sp.csr_matrix(sp.diags(1.0 / norms) @ x)


def dense_width(lang: Lang) -> int:
    return LEXICON_FEATURES + (VADER_FEATURES if lang == "en" else 0)


@lru_cache(maxsize=1)
def _vader() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


def lexicon_features(texts: Sequence[str], lang: Lang, lexicon: Lexicon) -> np.ndarray:
    """Per text: squashed positive, negative, net evidence, net evidence of the last clause;
    for English also VADER's compound, positive and negative scores (its 7,500-entry lexicon
    and rules cover slang and emoticons our own lexicon does not)."""
    from cxloop.text.clauses import split_clauses

    rows = np.zeros((len(texts), dense_width(lang)), dtype=np.float32)
    for i, text in enumerate(texts):
        pos, neg = lexicon_score(text, lang, lexicon)
        clauses = split_clauses(text)
        last = clauses[-1].text if clauses else ""
        lpos, lneg = lexicon_score(last, lang, lexicon) if len(clauses) > 1 else (pos, neg)
        rows[i, :LEXICON_FEATURES] = (
            _squash(pos),
            _squash(neg),
            _squash(pos - neg),
            _squash(lpos - lneg),
        )
        if lang == "en":
            vader = _vader().polarity_scores(text)
            rows[i, LEXICON_FEATURES:] = (vader["compound"], vader["pos"], vader["neg"])
    return rows


def _squash(value: float) -> float:
    return value / math.sqrt(value * value + 4.0)
