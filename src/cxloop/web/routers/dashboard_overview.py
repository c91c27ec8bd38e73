"""The overview's numbers over the API: what the page at ``/`` shows, from the one service
function (``dashboards.overview.overview``); the page's query string gives the same view here.

Every reader may call it: scores, counts, targets and alerts, no customer's personal data.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from cxloop.dashboards.overview import overview
from cxloop.dashboards.overview_schemas import OverviewResult
from cxloop.privacy.roles import Role
from cxloop.web.deps import Reader, ScopeDep, SessionDep, SettingsDep

router = APIRouter(prefix="/api/v1/dashboard", tags=["dashboard"])


@router.get("/overview", response_model=OverviewResult)
def read_overview(
    session: SessionDep,
    settings: SettingsDep,
    user: Reader,
    scope: ScopeDep,
    period: Annotated[str, Query(max_length=16, description="week, month or quarter.")] = "month",
) -> OverviewResult:
    """NPS, CSAT, CES and each experience index in the last complete period of the scope, with
    interval, n and the change against the period before (BH q-values over the tiles); trends
    by period; response volume and survey response rate; targets and open alerts."""
    return overview(
        session=session, settings=settings, scope=scope, period=period,
        hide_singletons=user.role == Role.viewer,
    )  # fmt: skip
