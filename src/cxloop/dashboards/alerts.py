"""The alerts view: stored metric alerts with the case each one opened (the loop's alert rules
key that case on the alert), and every metric target judged now — one computation for
``/alerts`` and ``GET /api/v1/dashboard/alerts``."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.dashboards.freshness import Freshness
from cxloop.errors import Invalid
from cxloop.loop.alert_rules import PREFIX
from cxloop.loop.models import Case
from cxloop.metrics import monitoring, target_store
from cxloop.metrics.models import Alert
from cxloop.metrics.monitoring import AlertRead, AlertStatus
from cxloop.metrics.target_store import TargetStatusResult


class AlertRow(BaseModel):
    """One alert and the case the alert rules opened for it (None: no rule held for it)."""

    model_config = ConfigDict(frozen=True)

    alert: AlertRead
    case_id: int | None


class AlertsResult(BaseModel):
    """Alerts of one status (all with ``status`` None), how many of each status are stored,
    and the metric targets' status."""

    model_config = ConfigDict(frozen=True)

    status: AlertStatus | None
    counts: dict[str, int]
    alerts: list[AlertRow]
    targets: TargetStatusResult
    freshness: Freshness


def alert_cases(session: Session, alert_ids: list[int]) -> dict[int, int]:
    """Alert id → id of the first case opened for it (``alert:<alert_key>``), for those with one."""
    if not alert_ids:
        return {}
    rows = session.execute(select(Alert.id, Alert.alert_key).where(Alert.id.in_(alert_ids))).all()
    keys = {alert_id: key for alert_id, key in rows}
    wanted = {PREFIX + key: alert_id for alert_id, key in keys.items()}
    found = session.execute(
        select(Case.dedupe_key, func.min(Case.id))
        .where(Case.dedupe_key.in_(list(wanted)))
        .group_by(Case.dedupe_key)
    )
    return {wanted[key]: case_id for key, case_id in found}


def alerts_view(
    *,
    session: Session,
    settings: Settings,
    status: str | None = "open",
    min_n: int = 30,
    as_of: dt.datetime | None = None,
) -> AlertsResult:
    """Alerts of ``status`` (``Invalid`` for an unknown one) with their cases, counts per
    status, and targets judged as ``GET /api/v1/metrics/targets/status`` judges them."""
    if status is not None and status not in AlertStatus.__members__:
        raise Invalid(f"is not one of: {', '.join(AlertStatus)}", "status", status)
    alerts = monitoring.list_alerts(session=session, status=status)
    cases = alert_cases(session, [a.id for a in alerts])
    stored = dict(session.execute(select(Alert.status, func.count()).group_by(Alert.status)).all())
    counts = {s.value: int(stored.get(s.value, 0)) for s in AlertStatus}
    judged = target_store.target_status(
        session=session, settings=settings, min_n=min_n, as_of=as_of
    )
    return AlertsResult(
        status=AlertStatus(status) if status else None,
        counts=counts,
        alerts=[AlertRow(alert=a, case_id=cases.get(a.id)) for a in reversed(alerts)],
        targets=judged,
        freshness=Freshness(source="store"),
    )
