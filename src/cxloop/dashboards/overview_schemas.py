"""Shapes of the overview (``GET /api/v1/dashboard/overview`` and the page at ``/``): tiles,
trends, volume, response rate, targets and open alerts, with the scope they were computed in."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from cxloop.dashboards.freshness import Freshness
from cxloop.metrics.filters import Scope
from cxloop.metrics.monitoring import AlertRead
from cxloop.metrics.schemas import Period
from cxloop.metrics.targets import TargetStatusRow


class TileChange(BaseModel):
    """The tile's change from the previous period to the current one, tested; ``q_value`` is
    Benjamini–Hochberg over every change tested on the overview (all tiles together)."""

    model_config = ConfigDict(frozen=True)

    base: str = Field(description="The previous period, e.g. 2026-10.")
    current: str = Field(description="The period the tile shows, e.g. 2026-11.")
    n_base: int
    score_base: float | None
    difference: float | None = Field(description="current − previous, in the metric's units.")
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    q_value: float | None = Field(description="BH over the tiles' changes; null: not tested.")
    significant: bool = Field(description="q_value below alpha.")
    method: str


class Tile(BaseModel):
    """One metric or experience index in the current period: score, interval, n, change."""

    model_config = ConfigDict(frozen=True)

    metric: str = Field(description="nps, csat, ces, or the index's name.")
    kind: Literal["metric", "index"]
    label: str = Field(description="NPS, CSAT, CES or the index name, for the tile's heading.")
    scale: str
    period: str | None = Field(description="The period shown (label); null: no answers.")
    n: int
    score: float | None
    ci_low: float | None
    ci_high: float | None
    small_n: bool = Field(description="n below min_n: a range, not a conclusion.")
    change: TileChange | None = Field(description="null: no previous period to compare with.")
    note: str | None = Field(None, description="Why a value or a change is missing, in words.")


class TrendPoint(BaseModel):
    """One period of a trend (score with its interval)."""

    model_config = ConfigDict(frozen=True)

    period: dt.date
    label: str
    n: int
    score: float | None
    ci_low: float | None
    ci_high: float | None
    small_n: bool


class Trend(BaseModel):
    """A metric's or index's score by period over the scope."""

    model_config = ConfigDict(frozen=True)

    metric: str
    label: str
    scale: str
    points: list[TrendPoint]


class VolumePoint(BaseModel):
    """Responses (feedback of every channel) in one period."""

    model_config = ConfigDict(frozen=True)

    period: dt.date
    label: str
    n: int


class ResponseRate(BaseModel):
    """Survey invitations delivered and answered (completed), all surveys; ``sent`` counts
    invitations that left (delivered or bounced). ``surveys_sent`` False: none was sent."""

    model_config = ConfigDict(frozen=True)

    surveys_sent: bool
    invited: int
    sent: int
    delivered: int
    completed: int
    score: float | None = Field(description="completed / delivered (0…1), Wilson interval.")
    ci_low: float | None
    ci_high: float | None
    small_n: bool
    note: str


class OverviewResult(BaseModel):
    """Everything the overview shows, computed once for the page and the API."""

    model_config = ConfigDict(frozen=True)

    scope: Scope = Field(description="The window and where conditions (both sides of a change).")
    period: Period = Field(description="Granularity of trends and of the tiles' periods.")
    current: str | None = Field(description="The period the tiles show (last complete in scope).")
    previous: str | None = Field(description="The period the tiles compare with.")
    confidence: float
    alpha: float
    min_n: int
    empty: bool = Field(description="No feedback in the scope: the page says so.")
    tiles: list[Tile]
    trends: list[Trend]
    volume: list[VolumePoint]
    response_rate: ResponseRate
    targets: list[TargetStatusRow] = Field(description="Every stored target, judged now.")
    alerts: list[AlertRead] = Field(description="Open alerts, newest first (at most 20).")
    open_alerts: int = Field(description="How many alerts are open in all.")
    notes: list[str] = Field(description="How the numbers are chosen and what they do not say.")
    freshness: Freshness
