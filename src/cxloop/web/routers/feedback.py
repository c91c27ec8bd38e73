"""``/api/v1/feedback``: the verbatims behind every number, filtered, paged, with their stored
text features; personal data masked for roles without ``read_pii``. Registered before the
generic record reads, whose ``/api/v1/{kind}`` it replaces for feedback."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from cxloop.errors import Invalid, Problem
from cxloop.feedback import service as feedback_service
from cxloop.feedback.schemas import (
    ChannelCount,
    FeedbackFilter,
    FeedbackItem,
    FeedbackPage,
    ScoreField,
    Word,
)
from cxloop.metrics.filters import WHERE_COLUMNS, parse_moment, parse_scope
from cxloop.privacy.roles import Permission, allows
from cxloop.text.schemas import FlagName, Intent, SentimentLabel
from cxloop.web.deps import Reader, SessionDep

router = APIRouter(prefix="/api/v1/feedback", tags=["feedback"])


class WindowQuery(BaseModel):
    """The time window and ``where`` conditions, read by the metrics' rules."""

    model_config = ConfigDict(extra="forbid")

    since: Word | None = Field(
        None, description="Inclusive: 2026-03-01, 2026-03-01T08:00+08:00 or 2026-03 (UTC)."
    )
    until: Word | None = Field(
        None, description="Through this date or period; a time is exclusive."
    )
    last: Word | None = Field(None, description="30d, 12w, 6m or 1y before now (or until).")
    where: list[Word] = Field(
        [], description="field=value, repeatable: segment, region, channel, touchpoint, …"
    )

    def to_filter(self, **fields: Any) -> FeedbackFilter:
        """The request as a ``FeedbackFilter``; ``Invalid`` names each bad value."""
        for name, text, end in (("since", self.since, False), ("until", self.until, True)):
            if text is not None:
                try:
                    parse_moment(text, field=name, end=end)
                except OverflowError:
                    raise Invalid("is out of range once converted to UTC", name, text) from None
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        scope = parse_scope(self.since, self.until, self.last, self.where, now=now)
        values: dict[str, Any] = {
            k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()
        }
        for column, chosen in scope.columns().items():
            name = WHERE_COLUMNS.get(column, column)
            values[name] = (*values.get(name, ()), *chosen)
        try:
            return FeedbackFilter.model_validate(
                {**values, "since": scope.since, "until": scope.until}
            )
        except ValidationError as error:
            raise Invalid(
                [
                    Problem(".".join(str(p) for p in e["loc"]) or "query", None, e["msg"])
                    for e in error.errors()
                ]
            ) from None


class FeedbackQuery(WindowQuery):
    """Paging and every filter; one field repeated keeps any of its values."""

    limit: int = Field(50, ge=1, le=1000)
    offset: int = Field(0, ge=0, le=2**62)
    channel: list[Word] = []
    touchpoint: list[Word] = []
    journey_stage: list[Word] = []
    source: list[Word] = []
    segment: list[Word] = Field([], description="The customer's segment, else its account's.")
    region: list[Word] = []
    role: list[Word] = []
    language: list[Word] = []
    customer_id: list[Word] = []
    account_id: list[Word] = []
    contact_id: list[Word] = []
    linked: bool | None = None
    topic: list[Word] = Field([], description="Path (delivery/speed) or zh/en name (物流).")
    aspect: list[Word] = Field([], description="topic:sentiment, e.g. delivery:negative.")
    sentiment: list[SentimentLabel] = []
    intent: list[Intent] = []
    flag: list[FlagName] = []
    score_field: ScoreField = "nps"
    min_score: float | None = None
    max_score: float | None = None
    search: Word | None = Field(None, description="Substring of text or title, any case.")

    @field_validator("max_score", mode="after")
    @classmethod
    def _above_min(cls, value: float | None, info: ValidationInfo) -> float | None:
        low = info.data.get("min_score")
        if value is not None and low is not None and value < low:
            raise ValueError(f"is below min_score ({low:g}): nothing can match")
        return value

    def filters(self) -> FeedbackFilter:
        return self.to_filter(
            **self.model_dump(exclude={"since", "until", "last", "where", "limit", "offset"})
        )


@router.get("", response_model=FeedbackPage)
def list_feedback(
    query: Annotated[FeedbackQuery, Query()], session: SessionDep, user: Reader
) -> FeedbackPage:
    """Feedback matching every filter, newest first, each with its stored text features."""
    return feedback_service.list_feedback(
        session=session,
        filters=query.filters(),
        limit=query.limit,
        offset=query.offset,
        reveal_pii=allows(user.role, Permission.read_pii),
    )


@router.get("/channels", response_model=list[ChannelCount])
def channels(
    query: Annotated[WindowQuery, Query()], session: SessionDep, user: Reader
) -> list[ChannelCount]:
    """Channel values as stored, with their counts (most first), in the window."""
    return feedback_service.channel_counts(session=session, filters=query.to_filter())


@router.get("/{feedback_id}", response_model=FeedbackItem)
def get_feedback(feedback_id: str, session: SessionDep, user: Reader) -> FeedbackItem:
    """One feedback with its features (``#`` in a hash id is sent as ``%23``)."""
    reveal = allows(user.role, Permission.read_pii)
    return feedback_service.get_feedback(
        session=session, feedback_id=feedback_id, reveal_pii=reveal
    )
