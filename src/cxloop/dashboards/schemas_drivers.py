"""Shapes of the drivers and outcomes view (``/drivers`` and ``GET /api/v1/dashboard/drivers``):
the importance × performance quadrant, the say × do table, and the customers behind a cell."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from cxloop.act.schemas import TargetListRead, TargetQuery
from cxloop.dashboards.freshness import Freshness
from cxloop.dashboards.stored import Computed

Score = Literal["nps", "csat", "ces", "rating"]
Outcome = Literal["churn", "repurchase", "orders", "spend"]
Part = Literal["all", "quadrant", "say_do", "none"]


class DrillKey(BaseModel):
    """What a cell says about its customers, in target-list words: they mentioned ``topic``
    with ``sentiment``, or their latest NPS answer is in ``nps_group``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    topic: str | None = Field(None, min_length=1, max_length=200)
    sentiment: Literal["negative", "positive"] | None = None
    nps_group: Literal["detractor", "passive", "promoter"] | None = None


class DriverPoint(BaseModel):
    """One driver of the quadrant: a first-level topic mentioned negatively."""

    model_config = ConfigDict(frozen=True)

    driver: str
    topic: str
    n: int
    importance: float | None
    ci_low: float | None
    ci_high: float | None
    share: float | None
    coefficient: float | None
    performance: float | None = Field(
        description="share of scored answers WITHOUT a negative mention of the topic"
    )
    quadrant: str
    rank: int
    vif: float | None
    drill: DrillKey


class QuadrantSection(BaseModel):
    """Key drivers of one score (``insights.analyses.drivers``), or why there are none."""

    model_config = ConfigDict(frozen=True)

    score: Score
    available: bool
    reason: str | None = Field(None, description="why the quadrant cannot be drawn, in words")
    n: int = 0
    r_squared: float | None = None
    r_squared_ci: list[float | None] = Field(default_factory=list)
    importance_line: float | None = Field(None, description="median importance (quadrant line)")
    performance_line: float | None = Field(None, description="median performance (quadrant line)")
    method: str | None = None
    caveats: list[str] = Field(default_factory=list)
    rows: list[DriverPoint] = Field(default_factory=list)
    computed: Computed | None = Field(
        None, description="when the fit ran and how long it took; stored: read, not refitted"
    )


class SayDoRow(BaseModel):
    """One exposure of the say × do table (``insights.voice_reports.outcomes``)."""

    model_config = ConfigDict(frozen=True)

    exposure: str
    exposure_kind: str
    n: int
    n_exposed: int
    n_unexposed: int
    mean_exposed: float | None
    mean_unexposed: float | None
    crude: float | None
    crude_ci_low: float | None
    crude_ci_high: float | None
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    q_value: float | None
    significant: bool | None
    value_at_stake: float | None
    value_ci_low: float | None
    value_ci_high: float | None
    caveats: str | None
    drill: DrillKey | None
    drill_note: str | None = Field(None, description="why this row has no customer list")


class SayDoSection(BaseModel):
    """What saying something does to an outcome afterwards, or why it cannot be estimated."""

    model_config = ConfigDict(frozen=True)

    outcome: Outcome
    available: bool
    reason: str | None = None
    n: int = 0
    method: str | None = None
    caveats: list[str] = Field(default_factory=list)
    details: dict[str, Any] = Field(default_factory=dict)
    rows: list[SayDoRow] = Field(default_factory=list)
    computed: Computed | None = Field(
        None, description="when the fits ran and how long they took; stored: read, not refitted"
    )


class DriversOutcomesResult(BaseModel):
    """The drivers and outcomes view: one computation for the page and the API."""

    model_config = ConfigDict(frozen=True)

    scope: str
    has_feedback: bool
    quadrant: QuadrantSection | None
    say_do: SayDoSection | None
    freshness: Freshness


class DrillCustomer(BaseModel):
    """A customer behind a cell: ids and facts, the name masked unless the reader sees PII."""

    model_config = ConfigDict(frozen=True)

    customer_id: str
    name: str | None
    segment: str | None
    region: str | None
    value: float | None
    churn_risk: float | None
    last_nps: float | None
    topics: list[str]
    feedback_ids: list[str]


class DrillResult(BaseModel):
    """The customers behind a cell: exactly those the target list ``query`` selects now."""

    model_config = ConfigDict(frozen=True)

    key: DrillKey
    query: TargetQuery
    conditions: list[str] = Field(description="each condition in words, with customers left")
    as_of: dt.datetime
    matched: int
    shown: int
    customers: list[DrillCustomer]
    not_carried: list[str] = Field(
        description="filters of the view a target list cannot express (so not applied)"
    )
    caveats: list[str]
    freshness: Freshness


class DrillSave(BaseModel):
    """Save the customers behind a cell as a target list under ``name``."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64)
    description: str | None = Field(None, max_length=2000)


class DrillSaved(BaseModel):
    """The list saved from a drill, refreshed once: its members are the drill's customers."""

    model_config = ConfigDict(frozen=True)

    target_list: TargetListRead
    members: int
    query: TargetQuery
