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


SHOWN = 1000
"""Alerts a view lists at most (the newest)."""


def newest_alerts(session: Session, status: str | None, limit: int = SHOWN) -> list[AlertRead]:
    """The newest ``limit`` alerts of ``status`` (all: None), newest first. ``list_alerts``
    returns the oldest first and cuts at its limit, which would drop the newest; so it is asked
    from the creation time of the ``limit``-th newest on."""
    query = select(Alert.created_at).order_by(Alert.created_at.desc(), Alert.id.desc())
    if status is not None:
        query = query.where(Alert.status == status)
    since = session.scalar(query.offset(limit - 1).limit(1))
    found = monitoring.list_alerts(session=session, status=status, since=since, limit=10 * limit)
    return sorted(found, key=lambda a: (a.created_at, a.id), reverse=True)[:limit]


def alert_counts(session: Session) -> dict[str, int]:
    """How many alerts of each status are stored (every status, 0 where none)."""
    stored = dict(session.execute(select(Alert.status, func.count()).group_by(Alert.status)).all())
    return {s.value: int(stored.get(s.value, 0)) for s in AlertStatus}


def alerts_view(
    *,
    session: Session,
    settings: Settings,
    status: str | None = "open",
    min_n: int = 30,
    as_of: dt.datetime | None = None,
) -> AlertsResult:
    """The newest ``SHOWN`` alerts of ``status`` (``Invalid`` for an unknown one) with their
    cases, counts per status, and targets judged as ``GET /api/v1/metrics/targets/status``
    judges them."""
    if status is not None and status not in AlertStatus.__members__:
        raise Invalid(f"is not one of: {', '.join(AlertStatus)}", "status", status)
    alerts = newest_alerts(session, status)
    cases = alert_cases(session, [a.id for a in alerts])
    judged = target_store.target_status(
        session=session, settings=settings, min_n=min_n, as_of=as_of
    )
    return AlertsResult(
        status=AlertStatus(status) if status else None,
        counts=alert_counts(session),
        alerts=[AlertRow(alert=a, case_id=cases.get(a.id)) for a in alerts],
        targets=judged,
        freshness=Freshness(source="store"),
    )
