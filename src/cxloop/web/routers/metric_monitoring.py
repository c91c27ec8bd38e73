"""Metric targets, stored alerts and B2B account health: analysts and admins write, every
reader reads. Mount with ``app.include_router(router)`` before ``metrics.router``, whose
``/{name}`` route would otherwise catch ``/targets``, ``/alerts`` and ``/accounts``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict

from cxloop.loop import alert_rules
from cxloop.loop.alert_rules import ScanWithCases
from cxloop.metrics import monitoring, target_store
from cxloop.metrics.accounts import AccountHealthReport, hide_single_answers, parse_weights
from cxloop.metrics.monitoring import AlertRead, AlertStatus
from cxloop.metrics.target_store import TargetRead, TargetStatusResult
from cxloop.metrics.targets import TargetsFile
from cxloop.privacy.roles import Role
from cxloop.web.deps import ListManager, Reader, SessionDep, SettingsDep

router = APIRouter(prefix="/api/v1/metrics", tags=["metric monitoring"])
Writer = ListManager
"""Analysts and admins (the roles that may import data) change targets and alerts."""


RowId = Annotated[int, Path(ge=1, le=2**63 - 1, description="a stored row's id")]
"""Ids beyond a 64-bit integer cannot exist and would overflow the database driver."""


class AlertUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: AlertStatus


@router.get("/targets", response_model=list[TargetRead])
def read_targets(session: SessionDep, _user: Reader) -> list[TargetRead]:
    return target_store.list_targets(session=session)


@router.put("/targets", response_model=list[TargetRead])
def put_targets(
    body: TargetsFile, session: SessionDep, settings: SettingsDep, _user: Writer
) -> list[TargetRead]:
    """Create or replace each target, matched on metric and slice; a slice value no stored
    feedback has is refused (422) with the closest stored values."""
    return target_store.set_targets(session=session, targets_in=body.targets, settings=settings)


@router.delete("/targets/{target_id}", status_code=204)
def delete_target(target_id: RowId, session: SessionDep, _user: Writer) -> None:
    target_store.delete_target(session=session, target_id=target_id)


@router.get("/targets/status", response_model=TargetStatusResult)
def read_target_status(
    session: SessionDep,
    settings: SettingsDep,
    _user: Reader,
    min_n: Annotated[int, Query(ge=0, le=1_000_000)] = 30,
    as_of: dt.datetime | None = None,
) -> TargetStatusResult:
    """Each target judged on its last complete period (the data's, when the data end before
    the clock's; each row's ``note`` says which)."""
    return target_store.target_status(session=session, settings=settings, min_n=min_n, as_of=as_of)


@router.post("/alerts/scan", response_model=ScanWithCases)
def scan_alerts(
    session: SessionDep,
    settings: SettingsDep,
    _user: Writer,
    threshold: Annotated[float, Query(gt=0, le=100)] = 4.0,
    min_n: Annotated[int, Query(ge=0, le=1_000_000)] = 30,
) -> ScanWithCases:
    """Scan and store alerts; the alert rules' ``metric_alerts`` open a case per matching
    alert before the response (``cases``)."""
    return alert_rules.scan(
        session=session, settings=settings, now=dt.datetime.now(dt.UTC), threshold=threshold,
        min_n=min_n,
    )  # fmt: skip


@router.get("/alerts", response_model=list[AlertRead])
def read_alerts(
    session: SessionDep,
    _user: Reader,
    status: AlertStatus | None = None,
    since: dt.datetime | None = None,
) -> list[AlertRead]:
    return monitoring.list_alerts(session=session, status=status, since=since)


@router.patch("/alerts/{alert_id}", response_model=AlertRead)
def update_alert(
    alert_id: RowId, body: AlertUpdate, session: SessionDep, _user: Writer
) -> AlertRead:
    return monitoring.set_alert_status(session=session, alert_id=alert_id, status=body.status)


@router.get("/accounts", response_model=AccountHealthReport)
def read_accounts(
    settings: SettingsDep,
    user: Reader,
    account: str | None = None,
    weights: str | None = None,
    days: Annotated[int | None, Query(ge=1, le=36_500)] = 365,
    coverage_days: Annotated[int, Query(ge=1, le=36_500)] = 180,
) -> AccountHealthReport:
    """Role-weighted NPS, role coverage and project/milestone NPS per account."""
    report = monitoring.account_health(
        settings=settings,
        account_id=account,
        weights=parse_weights(weights) if weights else None,
        days=days,
        coverage_days=coverage_days,
    )
    return hide_single_answers(report) if user.role == Role.viewer else report
