"""The alerts view as JSON: what ``/alerts`` shows, from the same service function."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query

from cxloop.dashboards.alerts import AlertsResult, alerts_view
from cxloop.web.deps import Reader, SessionDep, SettingsDep

router = APIRouter(prefix="/api/v1/dashboard", tags=["dashboard"])


@router.get("/alerts", response_model=AlertsResult)
def read_alerts_view(
    session: SessionDep,
    settings: SettingsDep,
    _user: Reader,
    status: Annotated[str, Query(max_length=16)] = "open",
    min_n: Annotated[int, Query(ge=0, le=1_000_000)] = 30,
    as_of: dt.datetime | None = None,
) -> AlertsResult:
    """Alerts of one status (``all``: every status) with the case each opened, counts per
    status, and the metric targets' status."""
    chosen = None if status == "all" else status
    return alerts_view(session=session, settings=settings, status=chosen, min_n=min_n, as_of=as_of)
