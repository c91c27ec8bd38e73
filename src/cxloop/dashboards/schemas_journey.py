"""Shapes of the journey map (``GET /api/v1/dashboard/journey`` and the ``/journey`` page): one
cell per journey stage × touchpoint that holds feedback, with the chosen metric, its interval,
n, the cell's volume and its most frequent negative aspects."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from cxloop.dashboards.freshness import Freshness
from cxloop.metrics.filters import Scope

JourneyMetric = Literal["nps", "csat", "ces", "sentiment"]
JOURNEY_METRICS: tuple[JourneyMetric, ...] = ("nps", "csat", "ces", "sentiment")
StageOrder = Literal["journey", "first_seen", "none"]


class JourneyAspect(BaseModel):
    """A topic the cell's feedback mentions with a negative majority sentiment."""

    model_config = ConfigDict(frozen=True)

    topic: str = Field(description="Taxonomy path (delivery/speed).")
    name_zh: str = Field(
        description="Chinese names of the topic and its parents (物流配送 › 速度)."
    )
    name_en: str = Field(
        description="English names of the topic and its parents (Delivery › Speed)."
    )
    negative: int = Field(description="Feedback in the cell whose mentions of it are negative.")
    share: float = Field(description="negative / the cell's volume (0…1).")


class JourneyCell(BaseModel):
    """One stage × touchpoint; ``None`` is feedback that gave no stage (or touchpoint)."""

    model_config = ConfigDict(frozen=True)

    journey_stage: str | None
    touchpoint: str | None
    volume: int = Field(description="Feedback in the cell (any answer or text).")
    n: int = Field(description="Answers the metric counts (0: the metric is not asked here).")
    score: float | None
    ci_low: float | None
    ci_high: float | None
    small_n: bool = Field(description="0 < n < min_n: shown greyed, with its n.")
    aspects: list[JourneyAspect] = Field(description="Top negative aspects, most first (≤ 3).")


class JourneyOverall(BaseModel):
    """The metric over the whole view (every cell together): what cells are coloured against."""

    model_config = ConfigDict(frozen=True)

    n: int
    score: float | None
    ci_low: float | None
    ci_high: float | None
    small_n: bool


class JourneyResult(BaseModel):
    """The journey map of the feedback in ``scope``."""

    model_config = ConfigDict(frozen=True)

    metric: JourneyMetric
    scale: str = Field(description="nps: -100…100; csat: share 0…1; ces: mean 1…7; sentiment -1…1.")
    method: str
    caveats: str
    confidence: float
    min_n: int
    scope: Scope
    volume: int = Field(description="Feedback in the view.")
    overall: JourneyOverall
    stages: list[str | None] = Field(description="Row order; null: no stage given.")
    touchpoints: list[str | None] = Field(description="Column order; null: no touchpoint given.")
    stage_order: StageOrder = Field(
        description="journey: known stage names in journey order, others after by first "
        "answer; first_seen: no stage name is known, ordered by first answer; none: no stage."
    )
    has_stages: bool = Field(description="Some feedback in the view gives a journey stage.")
    has_touchpoints: bool = Field(description="Some feedback in the view gives a touchpoint.")
    cells: list[JourneyCell] = Field(description="Cells holding feedback, row by row.")
    freshness: Freshness
