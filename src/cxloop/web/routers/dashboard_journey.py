"""``GET /api/v1/dashboard/journey``: the journey map the ``/journey`` page shows (one
computation). Every reader may call it: it holds scores, counts and topic names, no personal
data."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from cxloop.dashboards.journey import journey_map
from cxloop.dashboards.schemas_journey import JourneyResult
from cxloop.web.deps import Reader, ScopeDep, SessionDep, SettingsDep

router = APIRouter(prefix="/api/v1/dashboard", tags=["dashboard"])

Metric = Annotated[str, Query(max_length=16, description="nps, csat, ces or sentiment.")]
MinN = Annotated[int, Query(ge=1, le=100_000, description="Cells under it are marked small.")]
Confidence = Annotated[float, Query(gt=0.5, lt=1, description="Of every interval.")]


@router.get("/journey", response_model=JourneyResult)
def read_journey(
    session: SessionDep,
    settings: SettingsDep,
    user: Reader,
    scope: ScopeDep,
    metric: Metric = "nps",
    min_n: MinN = 30,
    confidence: Confidence = 0.95,
) -> JourneyResult:
    """Journey stages × touchpoints: the metric with its interval and n, the volume and the
    top negative aspects of every cell, for the feedback in the window and where conditions."""
    return journey_map(
        session=session, settings=settings, metric=metric, scope=scope, min_n=min_n,
        confidence=confidence,
    )  # fmt: skip
