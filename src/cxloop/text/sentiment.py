"""Sentiment of texts and clauses from the shipped linear models (``models/sentiment_*.npz``).

A linear model over hashed n-grams plus lexicon evidence: ~0.2 ms a short review on one core,
no GPU, no download; ``scripts/train_text_models.py`` rebuilds the files from public data.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from cxloop.text.features import (
    hashed_counts,
    lexicon_features,
    load_lexicon,
    weighted,
)
from cxloop.text.schemas import Lang, SentimentLabel

NEUTRAL_BAND = 0.2
"""|score| below this is labelled neutral; the sign still decides binary accuracy."""
_MODELS = resources.files("cxloop.text") / "models"


@dataclass(frozen=True)
class SentimentModel:
    """Weights over [TF-IDF n-grams | lexicon features]; ``score`` maps to [-1, 1]."""

    lang: Lang
    coef: np.ndarray
    intercept: float
    idf: np.ndarray
    lexicon_weight: float

    def design(self, texts: Sequence[str]) -> sp.csr_matrix:
        ngrams = weighted(hashed_counts(texts, self.lang), self.idf)
        lexical = lexicon_features(texts, self.lang, load_lexicon()) * self.lexicon_weight
        return sp.csr_matrix(sp.hstack([ngrams, sp.csr_matrix(lexical)]))

    def score(self, texts: Sequence[str]) -> np.ndarray:
        """2·P(positive) − 1 for each text."""
        if not texts:
            return np.zeros(0)
        margin = self.design(texts) @ self.coef + self.intercept
        return np.tanh(np.asarray(margin, dtype=np.float64).ravel() / 2.0)

    def save(self, path: Path) -> None:
        np.savez_compressed(
            path,
            coef=self.coef.astype(np.float32),
            intercept=np.array([self.intercept]),
            idf=self.idf.astype(np.float32),
            lexicon_weight=np.array([self.lexicon_weight]),
        )


def read_model(lang: Lang, path: Path | None = None) -> SentimentModel:
    """Load a model saved by ``SentimentModel.save`` (arrays only, never pickles)."""
    if path is None:
        with resources.as_file(_MODELS / f"sentiment_{lang}.npz") as shipped:
            return _from_npz(lang, Path(shipped))
    return _from_npz(lang, path)


def _from_npz(lang: Lang, path: Path) -> SentimentModel:
    with np.load(path, allow_pickle=False) as arrays:
        return SentimentModel(
            lang=lang,
            coef=arrays["coef"].astype(np.float32),
            intercept=float(arrays["intercept"][0]),
            idf=arrays["idf"].astype(np.float32),
            lexicon_weight=float(arrays["lexicon_weight"][0]),
        )


@lru_cache(maxsize=2)
def shipped_model(lang: Lang) -> SentimentModel:
    return read_model(lang)


def model_card() -> dict[str, object]:
    """What the shipped models were trained on and how they scored (written by the script)."""
    data: dict[str, object] = json.loads((_MODELS / "sentiment.json").read_text(encoding="utf-8"))
    return data


def label_for(score: float) -> SentimentLabel:
    if score >= NEUTRAL_BAND:
        return "positive"
    if score <= -NEUTRAL_BAND:
        return "negative"
    return "neutral"
