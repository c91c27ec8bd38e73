"""Loop health over the API: the numbers ``cxloop loop health`` prints (one computation).

Every reader may call it (viewers, analysts, agents, admins): it holds counts, times and rates,
no customer's personal data.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query

from cxloop.loop.health import By
from cxloop.loop.health_store import LoopHealth, loop_health
from cxloop.metrics.filters import parse_scope
from cxloop.web.deps import Reader, SessionDep, SettingsDep

router = APIRouter(prefix="/api/v1/loop", tags=["loop"])


@router.get("/health", response_model=LoopHealth)
def read_health(
    session: SessionDep,
    settings: SettingsDep,
    user: Reader,
    by: Annotated[By | None, Query()] = None,
    since: Annotated[str | None, Query(max_length=40, description="2026-10-01, 2026-Q4…")] = None,
    until: Annotated[str | None, Query(max_length=40, description="Through this date.")] = None,
    last: Annotated[str | None, Query(max_length=16, description="30d, 12w, 6m…")] = None,
    min_n: Annotated[int, Query(ge=1, le=100_000, description="'too few' under it.")] = 10,
) -> LoopHealth:
    """Times to first response and resolution, SLA compliance, backlog and ageing, reopen,
    verification and recovery rates, and churn of recovered vs unrecovered detractors, for the
    cases opened in the period (default: the last 90 days), optionally by one dimension."""
    now = dt.datetime.now(dt.UTC)
    scope = parse_scope(since, until, last, (), now=now.replace(tzinfo=None))
    return loop_health(
        session=session, settings=settings, now=now, by=by, since=scope.since,
        until=scope.until, min_n=min_n,
    )  # fmt: skip
