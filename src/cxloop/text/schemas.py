"""The shapes the text engine returns: what a text is about, how it feels, what it asks for."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Lang = Literal["zh", "en"]
"""The two languages the engine reads."""
Language = Literal["zh", "en", "other", "none"]
"""``none``: nothing to read (empty, whitespace, or not a string); ``other``: neither zh nor en."""

SentimentLabel = Literal["positive", "neutral", "negative"]
Intent = Literal["complaint", "praise", "suggestion", "question", "none"]
FlagName = Literal["churn_intent", "escalation", "safety"]
EmotionName = Literal["anger", "disappointment", "worry", "joy", "surprise"]
PiiKind = Literal["email", "phone", "cn_id", "bank_card"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Span(_Frozen):
    """Character offsets into the analysed text, ``text[start:end]``."""

    start: int = Field(ge=0)
    end: int = Field(ge=0)


class Aspect(Span):
    """One topic mentioned in one clause, with that clause's sentiment."""

    topic: str
    """Taxonomy path, levels joined by ``/`` (e.g. ``delivery/speed``)."""
    term: str
    """The taxonomy term that matched (the evidence)."""
    clause: str
    sentiment: SentimentLabel
    score: float = Field(ge=-1.0, le=1.0)


class Flag(Span):
    """An urgent signal (churn intent, escalation threat, safety issue) and its evidence."""

    name: FlagName
    evidence: str


class Emotion(Span):
    name: EmotionName
    evidence: str


class PiiSpan(Span):
    """Where personal data sits in the text; the value itself is not repeated here."""

    kind: PiiKind


class TextAnalysis(_Frozen):
    """Everything the engine reads from one text."""

    language: Language
    mixed: bool = False
    """True when the text mixes Chinese and English clauses (each clause is read in its own)."""
    sentiment: SentimentLabel
    sentiment_score: float = Field(ge=-1.0, le=1.0)
    aspects: list[Aspect] = Field(default_factory=list)
    topics: list[str] = Field(default_factory=list)
    intent: Intent = "none"
    flags: list[Flag] = Field(default_factory=list)
    emotions: list[Emotion] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    pii: list[PiiSpan] = Field(default_factory=list)
