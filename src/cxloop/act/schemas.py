"""Shapes of target lists: the saved query, and what the API and CLI read back."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator, model_validator

Sentiment = Literal["negative", "positive", "neutral", "any"]
NAME_PATTERN = re.compile(r"[^\W_](?:[\w .-]{0,62}[\w.-])?")
"""A list name: 1–64 letters (any script), digits, spaces, ``_ - .``; starts with a letter or
digit, ends without a space. It appears in URLs, file names and Excel sheet names."""
NpsGroup = Literal["detractor", "passive", "promoter"]


class TopicMention(BaseModel):
    """The customer mentioned ``topic`` (or a topic under it) with this sentiment, recently."""

    model_config = ConfigDict(extra="forbid")

    topic: str = Field(
        min_length=1,
        max_length=200,
        description="a topic path (service/speed), id (speed) or zh/en name (客服, Service)",
    )
    sentiment: Sentiment = "any"
    within_days: int = Field(default=90, ge=1, le=3650)


class TargetQuery(BaseModel):
    """Who belongs on a list: every condition that is set must hold (AND); unset means any.

    Value is the customer's order spend over the 365 days before the as-of date; churn risk is
    the latest stored churn score (``cxloop insights churn``); churned means their last
    subscription ended without renewal.
    """

    model_config = ConfigDict(extra="forbid")

    value_top_share: float | None = Field(
        default=None, gt=0, le=1, description="0.2 = the top 20 % of customers by value"
    )
    min_value: float | None = Field(default=None, ge=0)
    churned: bool | None = None
    min_churn_risk: float | None = Field(default=None, ge=0, le=1)
    max_churn_risk: float | None = Field(default=None, ge=0, le=1)
    segments: list[str] | None = Field(default=None, min_length=1)
    regions: list[str] | None = Field(default=None, min_length=1)
    nps_groups: list[NpsGroup] | None = Field(
        default=None, min_length=1, description="group of the customer's latest NPS answer"
    )
    mentioned: list[TopicMention] | None = Field(default=None, min_length=1)
    ordered_within_days: int | None = Field(default=None, ge=1, le=3650)
    no_order_within_days: int | None = Field(default=None, ge=1, le=3650)

    @model_validator(mode="after")
    def _consistent(self) -> TargetQuery:
        low, high = self.min_churn_risk, self.max_churn_risk
        if low is not None and high is not None and low > high:
            raise ValueError("min_churn_risk is above max_churn_risk: no customer can match")
        ordered, quiet = self.ordered_within_days, self.no_order_within_days
        if ordered is not None and quiet is not None and quiet >= ordered:
            raise ValueError(
                "ordered_within_days must be longer than no_order_within_days "
                "(e.g. ordered in the last 365 days but not in the last 90)"
            )
        return self


class TargetListCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="1–64 letters, digits, spaces, _ - . (see NAME_PATTERN)")
    description: str | None = Field(default=None, max_length=2000)
    query: TargetQuery
    refresh_hours: int | None = Field(
        default=None, ge=1, le=24 * 366, description="refresh when older than this"
    )
    webhook_url: HttpUrl | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        if len(value) > 64:
            raise ValueError(f"is {len(value)} characters long; at most 64")
        if not NAME_PATTERN.fullmatch(value):
            raise ValueError(
                "may hold letters (Chinese too), digits, spaces, _ - and . only, start with a "
                "letter or digit and not end with a space (it is used in URLs and file names)"
            )
        return value


class TargetListRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str | None
    query: TargetQuery
    refresh_hours: int | None
    webhook_url: str | None
    created_by: str | None
    created_at: dt.datetime
    refreshed_at: dt.datetime | None
    member_count: int | None


class ChurnBasis(BaseModel):
    """The churn model a list's risks rest on, and how well it predicted (cross-validated)."""

    model_version: str
    scored_at: dt.datetime | None
    cv_roc_auc: float | None
    cv_auc_low: float | None
    cv_auc_high: float | None
    accepted_weak: bool = Field(description="stored below the bar with --accept-weak-model")
    summary: str


class PreviewStep(BaseModel):
    """How many customers are left after each condition, in the order they are applied."""

    condition: str
    remaining: int


class TargetPreview(BaseModel):
    as_of: dt.datetime
    customers: int
    matched: int
    steps: list[PreviewStep]
    sample: list[dict[str, Any]]
    churn_models: list[ChurnBasis] = Field(
        default_factory=list, description="the models behind the churn risks shown"
    )
    caveats: list[str]


class RefreshResult(BaseModel):
    name: str
    as_of: dt.datetime
    members: int
    added: int
    removed: int
    pushed: bool
    push_error: str | None = None
    churn_models: list[ChurnBasis] = Field(default_factory=list)
    error: str | None = Field(default=None, description="why a scheduled refresh failed")


class TargetListSchedule(BaseModel):
    """When a saved list refreshes itself and where its members go (None clears either)."""

    model_config = ConfigDict(extra="forbid")

    refresh_hours: int | None = Field(default=None, ge=1, le=24 * 366)
    webhook_url: HttpUrl | None = None


class PushResult(BaseModel):
    """One delivery of a list's stored members to its webhook; a failure is said in words."""

    name: str
    members: int
    pushed: bool
    push_error: str | None = None


class MemberPage(BaseModel):
    """One page of a list's stored members (highest churn risk first), with each customer's
    name masked unless the reader may see personal data."""

    name: str
    total: int
    offset: int
    limit: int
    rows: list[dict[str, Any]]
