"""Shapes that leave the feedback domain: what an enrichment run or a taxonomy change did, and
the filter, items and pages of the verbatims behind every number."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from cxloop.text.schemas import FlagName, Intent, SentimentLabel


class EnrichSummary(BaseModel):
    """One enrichment run: every candidate row is either analysed or refreshed."""

    model_config = ConfigDict(frozen=True)

    candidates: int = Field(0, description="Feedback rows whose features were missing or stale.")
    analysed: int = Field(0, description="Texts run through the text engine.")
    refreshed: int = Field(
        0,
        description="Rows whose stored features still hold (same text, no changed taxonomy term "
        "in it): only their version marks were updated.",
    )
    topics: int = Field(0, description="Topic rows written for the analysed texts.")
    seconds: float = 0.0


class TaxonomyApplyResult(BaseModel):
    """What applying a taxonomy did to the store."""

    model_config = ConfigDict(frozen=True)

    version: str = Field(description="sha256 of the taxonomy now active.")
    previous_version: str
    changed: bool = Field(description="False when this taxonomy was already the active one.")
    changed_terms: int = Field(description="Terms added, removed or moved to another topic.")
    enrichment: EnrichSummary


class TopicCandidate(BaseModel):
    """A cluster of stored feedback that no taxonomy topic covers (examples masked)."""

    model_config = ConfigDict(frozen=True)

    size: int
    keywords: list[str]
    examples: list[str]


# ---------------------------------------------------------------- reading the verbatims

ScoreField = Literal["nps", "csat", "ces", "rating"]
Word = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
"""A filter value: trimmed, not empty, at most 200 characters."""


class FeedbackFilter(BaseModel):
    """Which stored feedback to read. Values of one field are alternatives (any of them);
    different fields must all hold. ``since`` is inclusive and ``until`` exclusive, naive UTC
    (the CLI and API parse ``--since/--until/--last`` with the metrics' rules)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    since: dt.datetime | None = None
    until: dt.datetime | None = None
    channel: tuple[Word, ...] = ()
    touchpoint: tuple[Word, ...] = ()
    journey_stage: tuple[Word, ...] = ()
    source: tuple[Word, ...] = ()
    segment: tuple[Word, ...] = Field((), description="The customer's segment, else its account's.")
    region: tuple[Word, ...] = Field((), description="The customer's region, else its account's.")
    role: tuple[Word, ...] = Field((), description="The B2B contact's role.")
    account_id: tuple[Word, ...] = ()
    customer_id: tuple[Word, ...] = ()
    contact_id: tuple[Word, ...] = ()
    feedback_id: tuple[Word, ...] = Field((), description="These feedback ids only.")
    language: tuple[Word, ...] = Field(
        (), description="As the text engine read it (zh, en, other, none), else the source's."
    )
    linked: bool | None = Field(None, description="Linked to a customer or contact, or not.")
    topic: tuple[Word, ...] = Field(
        (), description="A topic path (delivery/speed), its zh/en name or a term; subtopics count."
    )
    aspect: tuple[Word, ...] = Field(
        (), description="topic:sentiment, e.g. delivery:negative (the topic's majority sentiment)."
    )
    sentiment: tuple[SentimentLabel, ...] = ()
    intent: tuple[Intent, ...] = ()
    flag: tuple[FlagName, ...] = ()
    score_field: ScoreField = Field("nps", description="The score min_score/max_score bound.")
    min_score: float | None = None
    max_score: float | None = None
    search: Word | None = Field(None, description="Substring of the text or title, any case.")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any, info: ValidationInfo) -> Any:
        """A NUL cannot be stored, so a filter holding one can only be a mistake."""
        values = value if isinstance(value, tuple) else (value,)
        if any(isinstance(v, str) and "\x00" in v for v in values):
            raise ValueError("contains a NUL character")
        return value

    @field_validator("until", "max_score", mode="after")
    @classmethod
    def _after_start(cls, value: Any, info: ValidationInfo) -> Any:
        """An empty window or score range is a mistake, said on the bound that ends it."""
        start_name = "since" if info.field_name == "until" else "min_score"
        start, end = info.data.get(start_name), value
        if isinstance(end, dt.datetime) and isinstance(start, dt.datetime):
            end, start = _naive_utc(end), _naive_utc(start)  # aware and naive compare
        if end is not None and start is not None and end < start:
            raise ValueError(f"is below {start_name} ({start}): nothing can match")
        if info.field_name == "until" and end is not None and end == start:
            raise ValueError(f"equals since ({start}): the window is empty")
        return value


def _naive_utc(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        return moment
    try:
        return moment.astimezone(dt.UTC).replace(tzinfo=None)
    except OverflowError:
        raise ValueError("is out of range once converted to UTC") from None


class AspectRead(BaseModel):
    """One topic mentioned in one clause of the text, with that clause's sentiment."""

    topic: str
    term: str
    sentiment: str
    score: float
    clause: str = Field(description="The clause that mentions it (personal data masked).")


class TopicRead(BaseModel):
    """A topic the feedback mentions, with the majority sentiment of its mentions."""

    topic: str
    sentiment: str
    score: float
    mentions: int


class FeedbackFeatures(BaseModel):
    """What the text engine stored for one feedback (read back, never recomputed)."""

    language: str
    mixed: bool
    sentiment: str
    sentiment_score: float
    intent: str
    flags: list[str]
    emotions: list[str]
    keywords: list[str]
    topics: list[TopicRead]
    aspects: list[AspectRead]
    current: bool = Field(
        description="False when the text changed since it was analysed (`cxloop text reenrich`)."
    )


class FeedbackItem(BaseModel):
    """One stored feedback with its profile slice and its text features."""

    feedback_id: str
    created_at: dt.datetime
    channel: str
    source: str | None = None
    touchpoint: str | None = None
    journey_stage: str | None = None
    product: str | None = None
    customer_id: str | None = None
    account_id: str | None = None
    contact_id: str | None = None
    link_method: str | None = None
    segment: str | None = None
    region: str | None = None
    author: str | None = None
    author_email: str | None = None
    author_phone: str | None = None
    author_member_id: str | None = None
    author_handle: str | None = None
    nps: int | None = None
    csat: int | None = None
    ces: int | None = None
    rating: float | None = None
    title: str | None = None
    text: str | None = None
    attributes: dict[str, Any] | None = None
    features: FeedbackFeatures | None = Field(
        None, description="None when the text was not analysed yet."
    )


class FeedbackPage(BaseModel):
    """A page of feedback, newest first, with the total that match the filter."""

    items: list[FeedbackItem]
    total: int
    limit: int
    offset: int
    notes: list[str] = Field(
        default_factory=list,
        description="Why a page may be empty: a filter value no stored feedback has.",
    )


class ChannelCount(BaseModel):
    """A channel value as stored, with how many feedback rows carry it."""

    model_config = ConfigDict(frozen=True)

    channel: str
    n: int
    share: float
