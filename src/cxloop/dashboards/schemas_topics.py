"""Shapes of the topic explorer (``/topics``, ``GET /api/v1/dashboard/topics``) and of naming a
discovery candidate into the taxonomy (``POST /api/v1/dashboard/topics/candidates``)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from cxloop.dashboards.freshness import Freshness
from cxloop.feedback.schemas import TaxonomyApplyResult, TopicCandidate

Period = Literal["week", "month", "quarter"]


class Mark(BaseModel):
    """A stretch of a verbatim's (masked) text; ``sentiment`` set where an aspect was read."""

    model_config = ConfigDict(frozen=True)

    text: str
    topics: list[str] = Field(default_factory=list, description="Topic paths of the aspect.")
    sentiment: str | None = Field(None, description="positive, neutral or negative.")


class Verbatim(BaseModel):
    """One example feedback, masked for roles without read_pii, cut into marks."""

    model_config = ConfigDict(frozen=True)

    feedback_id: str
    created_at: dt.datetime
    channel: str
    text: str
    marks: list[Mark]


class TrendPoint(BaseModel):
    model_config = ConfigDict(frozen=True)

    period: dt.date
    mentions: int = Field(description="Feedback mentioning the topic (or a subtopic).")
    share: float | None = Field(description="mentions / feedback with text in the period.")


class TopicRow(BaseModel):
    """One topic of the tree with its numbers in the scope."""

    model_config = ConfigDict(frozen=True)

    path: str
    parent: str | None
    depth: int = Field(description="1 for a first-level topic.")
    name: str = Field(description="In the language asked for.")
    name_zh: str
    name_en: str
    in_taxonomy: bool = Field(description="False: stored by an older taxonomy only.")
    volume: int = Field(description="Feedback mentioning the topic or a subtopic.")
    share: float | None = Field(description="volume / feedback with text in the scope.")
    mentions: int = Field(description="Topic rows (per feedback and topic) behind net sentiment.")
    positive: int
    negative: int
    net_sentiment: float | None = Field(description="(positive − negative) / mentions, −1…1.")
    net_ci_low: float | None
    net_ci_high: float | None
    trend: list[TrendPoint]
    emerging: str | None = Field(None, description="Why it is flagged emerging, in words.")
    spiking: str | None = Field(None, description="Why it is flagged spiking, in words.")
    examples: list[Verbatim]


class TopicsResult(BaseModel):
    """The topic explorer: the active taxonomy as a tree with volume, net sentiment, trend,
    flags and examples, and the rules it was computed with."""

    model_config = ConfigDict(frozen=True)

    taxonomy_version: str
    scope: str
    period: Period
    feedback: int = Field(description="Feedback with text in the scope (the shares' base).")
    periods: list[dt.date]
    topics: list[TopicRow]
    flag_rule: str
    method: str
    freshness: Freshness


class CandidatesResult(BaseModel):
    """Clusters of stored feedback no topic covers (``feedback.discovery``, examples masked),
    and the parents a new topic may go under."""

    model_config = ConfigDict(frozen=True)

    candidates: list[TopicCandidate]
    parents: list[str] = Field(description="Topic paths that may take a child (levels 1–2).")
    method: str


class TopicNameRequest(BaseModel):
    """Name a discovery candidate into the taxonomy: under ``parent`` (None: first level),
    with its zh and en names (one may be left empty: it takes the other) and its terms."""

    model_config = ConfigDict(extra="forbid")

    parent: str | None = Field(None, max_length=200, description="Path of the parent topic.")
    name_zh: str = Field("", max_length=64)
    name_en: str = Field("", max_length=64)
    terms: list[str] = Field(max_length=50, description="Words that mean this topic.")


class TopicNameResult(BaseModel):
    """The new topic and the taxonomy version it made active."""

    model_config = ConfigDict(frozen=True)

    path: str
    applied: TaxonomyApplyResult
