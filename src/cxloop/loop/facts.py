"""What the loop knows about one stored feedback when it decides: scores, text features and
the customer's attributes, as plain values (pure: the case service reads them from the store).

One shape for alert rules, priority and routing, so a rule, its priority and its team are
decided from the same facts. Missing is ``None`` (an unlinked answer has no segment or value):
a condition that reads a missing value is false, never an error.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

NpsGroup = Literal["detractor", "passive", "promoter"]


def nps_group(nps: int | None) -> NpsGroup | None:
    """Detractors answer 0–6, passives 7–8, promoters 9–10 (as ``metrics.scores.nps``)."""
    if nps is None:
        return None
    return "detractor" if nps <= 6 else "passive" if nps <= 8 else "promoter"


class FeedbackFacts(BaseModel):
    """One feedback row with its stored text features and the customer's (or account's)
    attributes. ``value_percentile`` is 0–100 (92: above 92 % of customers, so in the top
    8 %); ``churn_risk`` is the latest churn score, a probability 0–1."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    feedback_id: str | None = None
    created_at: datetime | None = None
    customer_id: str | None = None
    account_id: str | None = None
    author_key: str | None = None
    """A hash of the author's normalised e-mail (else phone), never the address itself: whose
    case an answer without a customer or account is (``service.dedupe_key``)."""
    nps: int | None = Field(default=None, ge=0, le=10)
    csat: int | None = None
    ces: int | None = None
    rating: float | None = None
    nps_group: NpsGroup | None = None
    sentiment: str | None = None
    sentiment_score: float | None = None
    intent: str | None = None
    flags: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    aspects: tuple[tuple[str, str], ...] = ()
    """(topic path, sentiment) per mention, in the text's order."""
    channel: str | None = None
    touchpoint: str | None = None
    language: str | None = None
    value_percentile: float | None = Field(default=None, ge=0, le=100)
    segment: str | None = None
    tier: str | None = None
    region: str | None = None
    role: str | None = None
    churn_risk: float | None = Field(default=None, ge=0, le=1)
    account_owner: str | None = None
    """The account's owner (a user name), routed to first when present."""
    attributes: dict[str, Any] = Field(default_factory=dict)
    """The customer's own attributes (``attributes.vip`` in a condition)."""

    @model_validator(mode="before")
    @classmethod
    def _group(cls, data: Any) -> Any:
        """The NPS group follows from the score when the row does not say it."""
        if isinstance(data, dict) and data.get("nps_group") is None:
            score = data.get("nps")
            if isinstance(score, int) and not isinstance(score, bool) and 0 <= score <= 10:
                return {**data, "nps_group": nps_group(score)}
        return data

    def all_topics(self) -> list[str]:
        """The topics and the aspects' topics, each once, in order."""
        return list(dict.fromkeys([*self.topics, *(topic for topic, _ in self.aspects)]))
