"""The metrics service for monitoring: stored alerts (targets live in ``target_store``, B2B
account health in ``account_store``; ``account_health`` is re-exported here).

Kept apart from ``metrics/service.py``, which computes metrics on request and stores nothing;
this module holds what is stored and watched. It calls ``service.compute`` for every metric
value, so the numbers are the ones the API, CLI and web show. Services only flush; the entry
point commits.

Alerts are what the closed loop consumes: ``scan_alerts`` upserts them by ``alert_key`` (kind,
subject, slice, period), so a re-run scan updates values but never adds a duplicate or reopens
an acknowledged alert; ``list_alerts`` reads them as ``AlertRead``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop import engines
from cxloop.config import Settings
from cxloop.db.base import utcnow
from cxloop.errors import Invalid, NotFound, Problem
from cxloop.metrics import service as metrics_service
from cxloop.metrics import targets as target_rules
from cxloop.metrics.account_store import account_health as account_health
from cxloop.metrics.account_store import naive_times
from cxloop.metrics.accounts import json_number
from cxloop.metrics.anomalies import DEFAULT_THRESHOLD, detect_spikes, emerging_topics
from cxloop.metrics.models import Alert
from cxloop.metrics.target_store import naive_utc, target_status
from cxloop.metrics.targets import TargetDirection, TargetStatus, TargetStatusRow

SCAN_METRICS = ("nps", "csat", "ces", "responses")
LABELS = {"nps": "NPS", "csat": "CSAT", "ces": "CES", "responses": "responses"}


class AlertKind(StrEnum):
    spike = "spike"
    drop = "drop"
    emerging_topic = "emerging_topic"
    off_target = "off_target"


class AlertStatus(StrEnum):
    open = "open"
    acknowledged = "acknowledged"
    resolved = "resolved"


# --- shapes ----------------------------------------------------------------------------------


class AlertRead(BaseModel):
    """The stable read shape of a stored alert (what the closed loop consumes).

    ``score`` is the robust z for spike / drop / emerging_topic, and the signed gap to the
    target in the metric's units for off_target (negative: on the wrong side)."""

    model_config = ConfigDict(frozen=True, from_attributes=True)

    id: int
    kind: AlertKind
    subject: str
    slice: dict[str, str]
    period_start: dt.date | None
    value: float | None
    expected: float | None
    score: float | None
    reason: str
    status: AlertStatus
    created_at: dt.datetime
    updated_at: dt.datetime


class ScanResult(BaseModel):
    """What one scan found and how many alerts it added or refreshed."""

    model_config = ConfigDict(frozen=True)

    as_of: dt.datetime
    found: int
    inserted: int
    updated: int
    method: str
    caveats: list[str]
    alerts: list[AlertRead]


# --- alerts ----------------------------------------------------------------------------------


def _weeks(first: pd.Timestamp, last: pd.Timestamp) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(pd.date_range(first, last, freq="W-MON").astype("datetime64[us]"))


def _topic_series(settings: Settings) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Weekly (UTC Monday) counts of feedback with a negative mention, per topic, and weekly
    totals of all feedback, from the store through Ibis."""
    backend = engines.analytics_backend(settings)
    try:
        feedback = engines.feedback_table(backend)
        topics = backend.table("feedback_topic")
        negative = topics.filter(topics.sentiment == "negative").select("feedback_id", "topic")
        joined = negative.join(feedback.select("feedback_id", "created_at"), "feedback_id")
        counts = (
            joined.group_by(
                topic=joined.topic, period=joined.created_at.truncate("D").truncate("W")
            )
            .aggregate(n=joined.count())
            .execute()
        )
        totals = (
            feedback.group_by(period=feedback.created_at.truncate("D").truncate("W"))
            .aggregate(n=feedback.count())
            .execute()
        )
    finally:
        backend.disconnect()
    counts["period"], totals["period"] = (
        naive_times(counts["period"]),
        naive_times(totals["period"]),
    )
    return counts, totals


def _complete(
    frame: pd.DataFrame, weeks: pd.DatetimeIndex, value: str, fill: float
) -> pd.DataFrame:
    series = frame.set_index("period")[value].reindex(weeks, fill_value=fill)
    return pd.DataFrame({"period": weeks, value: series.to_numpy()})


def _metric_alerts(
    settings: Settings, weeks: pd.DatetimeIndex, metrics: Sequence[str], **rule: Any
) -> list[pd.DataFrame]:
    found = []
    for name in metrics:
        frame = metrics_service.compute(
            settings=settings, name=name, period="week", min_n=rule["min_n"]
        )
        if name == "responses":
            series = _complete(frame.rename(columns={"n": "value"}), weeks, "value", 0)
            counts = True
            noise = None
        else:  # a week with n < min_n is left out of the scoring (NaN), not judged on noise
            # each week's sampling standard error, from its interval, floors its scale
            se = (frame["ci_high"] - frame["ci_low"]) / (2 * NormalDist().inv_cdf(0.975))
            frame = frame.assign(value=frame["score"].where(~frame["small_n"]), se=se)
            series = _complete(frame, weeks, "value", np.nan)
            series["se"] = _complete(frame, weeks, "se", np.nan)["se"]
            counts, noise = False, "se"
        alerts = detect_spikes(
            series,
            value_column="value",
            counts=counts,
            noise_column=noise,
            label=LABELS[name],
            window=rule["window"],
            threshold=rule["threshold"],
        )
        found.append(alerts.assign(subject=name, slice="{}"))
    return found


SCAN_METHOD = (
    "Weekly (UTC, Monday) series from the store: NPS, CSAT and CES scores (weeks with n < min_n "
    "left out) and response counts via metrics.service.compute, and per topic the count of "
    "feedback with a negative mention; each week is scored by anomalies.detect_spikes against "
    "the median and MAD of its previous `window` weeks (robust z ≥ threshold). Topic shares go "
    "through anomalies.emerging_topics. Targets judged off_target by target_status become "
    "off_target alerts. Only weeks that ended on or before as_of are scanned."
)


def scan_alerts(
    *,
    session: Session,
    settings: Settings,
    as_of: dt.datetime | None = None,
    metrics: Sequence[str] = SCAN_METRICS,
    window: int = 8,
    threshold: float = DEFAULT_THRESHOLD,
    min_n: int = 30,
) -> ScanResult:
    """Find spikes, drops, emerging topics and missed targets, and upsert them as alerts."""
    unknown = [m for m in metrics if m not in SCAN_METRICS]
    if unknown:
        raise Invalid(
            [Problem("metrics", m, f"is not one of: {', '.join(SCAN_METRICS)}") for m in unknown]
        )
    moment = naive_utc(as_of)
    counts, totals = _topic_series(settings)
    closed = totals[totals["period"] + pd.Timedelta(days=7) <= pd.Timestamp(moment)]
    records: list[dict[str, Any]] = []
    if not closed.empty:
        weeks = _weeks(closed["period"].min(), closed["period"].max())
        rule = {"window": window, "threshold": threshold, "min_n": min_n}
        frames = _metric_alerts(settings, weeks, metrics, **rule)
        totals_full = _complete(closed, weeks, "n", 0)
        counts = counts[counts["period"].isin(weeks)]
        grid = pd.MultiIndex.from_product([sorted(counts["topic"].unique()), weeks])
        by_topic = (
            counts.set_index(["topic", "period"])["n"]
            .reindex(grid, fill_value=0)
            .rename_axis(["topic", "period"])
            .reset_index()
        )
        complaints = detect_spikes(
            by_topic,
            by=["topic"],
            direction="spike",
            label="{topic} complaints",
            window=window,
            threshold=threshold,
        )
        frames.append(complaints.rename(columns={"topic": "subject"}).assign(slice="{}"))
        emerging = emerging_topics(by_topic, totals_full, window=window, threshold=threshold)
        frames.append(emerging.rename(columns={"topic": "subject"}).assign(slice="{}"))
        for frame in frames:
            records += [_anomaly_record(r) for r in frame.to_dict("records")]
    # no as_of given: targets are judged on the data's last complete period when it ended
    status = target_status(session=session, settings=settings, as_of=as_of, min_n=min_n)
    records += [_target_record(r) for r in status.rows if r.status is TargetStatus.off_target]
    inserted, updated, rows = _upsert(session, records)
    return ScanResult(
        as_of=moment,
        found=len(records),
        inserted=inserted,
        updated=updated,
        method=SCAN_METHOD,
        caveats=[
            "Weeks are UTC weeks; a spike that straddles a local-time week boundary is split.",
            "Alerts of one scan are not corrected for multiple testing: expect about one false "
            "alarm per hundred series a year at threshold 4.",
            "A re-run scan refreshes values of existing alerts but keeps their status.",
        ],
        alerts=[AlertRead.model_validate(_read(row)) for row in rows],
    )


def _anomaly_record(row: Mapping[Any, Any]) -> dict[str, Any]:
    kind = AlertKind.emerging_topic if row["kind"] == "emerging_topic" else row["direction"]
    return {
        "kind": AlertKind(kind).value,
        "subject": str(row["subject"]),
        "slice_key": row["slice"],
        "period_start": pd.Timestamp(row["period"]).date(),
        "value": json_number(row["value"]),
        "expected": json_number(row["expected"]),
        "score": json_number(row["score"]),
        "reason": row["reason"],
    }


def _target_record(row: TargetStatusRow) -> dict[str, Any]:
    sign = 1 if row.direction is TargetDirection.at_least else -1
    gap = None if row.estimate is None else sign * (row.estimate - row.target)
    return {
        "kind": AlertKind.off_target.value,
        "subject": row.metric.value,
        "slice_key": target_rules.canonical_slice(row.slice),
        "period_start": row.period_start,
        "value": row.estimate,
        "expected": row.target,
        "score": gap,
        "reason": row.reason,
    }


def alert_key(kind: str, subject: str, slice_key: str, period_start: dt.date | None) -> str:
    """The identity of an alert across scans."""
    period = period_start.isoformat() if period_start else "all"
    return hashlib.sha256(f"{kind}|{subject}|{slice_key}|{period}".encode()).hexdigest()


def _chunks(items: list[str], size: int = 500) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _upsert(session: Session, records: list[dict[str, Any]]) -> tuple[int, int, list[Alert]]:
    """Insert new alerts and refresh changed ones by ``alert_key``; status is left alone."""
    keyed = {
        alert_key(r["kind"], r["subject"], r["slice_key"], r["period_start"]): r for r in records
    }
    existing: dict[str, Alert] = {}
    for chunk in _chunks(list(keyed)):
        for alert in session.scalars(select(Alert).where(Alert.alert_key.in_(chunk))):
            existing[alert.alert_key] = alert
    inserted = updated = 0
    rows = []
    fields = ("value", "expected", "score", "reason")
    for key, record in keyed.items():
        found = existing.get(key)
        if found is None:
            now = utcnow()
            alert = Alert(
                alert_key=key, status=AlertStatus.open.value, created_at=now, updated_at=now
            )
            for name, value in record.items():
                setattr(alert, name, value)
            session.add(alert)
            inserted += 1
        else:
            alert = found
            if all(getattr(alert, f) == record[f] for f in fields):
                rows.append(alert)
                continue
            for name in fields:
                setattr(alert, name, record[name])
            alert.updated_at = utcnow()
            updated += 1
        rows.append(alert)
    session.flush()
    return inserted, updated, rows


def _read(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.id,
        "kind": alert.kind,
        "subject": alert.subject,
        "slice": json.loads(alert.slice_key),
        "period_start": alert.period_start,
        "value": alert.value,
        "expected": alert.expected,
        "score": alert.score,
        "reason": alert.reason,
        "status": alert.status,
        "created_at": alert.created_at,
        "updated_at": alert.updated_at,
    }


def list_alerts(
    *,
    session: Session,
    status: AlertStatus | str | None = None,
    since: dt.datetime | None = None,
    kind: AlertKind | str | None = None,
    limit: int = 1000,
) -> list[AlertRead]:
    """Stored alerts, oldest first; ``since`` keeps those created at or after it."""
    problems = []
    if status is not None and status not in AlertStatus.__members__:
        problems.append(Problem("status", status, f"is not one of: {', '.join(AlertStatus)}"))
    if kind is not None and kind not in AlertKind.__members__:
        problems.append(Problem("kind", kind, f"is not one of: {', '.join(AlertKind)}"))
    if problems:
        raise Invalid(problems)
    query = select(Alert).order_by(Alert.created_at, Alert.id).limit(limit)
    if status is not None:
        query = query.where(Alert.status == str(status))
    if kind is not None:
        query = query.where(Alert.kind == str(kind))
    if since is not None:
        query = query.where(Alert.created_at >= naive_utc(since))
    return [AlertRead.model_validate(_read(a)) for a in session.scalars(query)]


def set_alert_status(*, session: Session, alert_id: int, status: AlertStatus | str) -> AlertRead:
    """Acknowledge or resolve (or reopen) one alert."""
    if status not in AlertStatus.__members__:
        raise Invalid(f"is not one of: {', '.join(AlertStatus)}", "status", status)
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise NotFound(f"no alert with id {alert_id}")
    alert.status = str(status)
    alert.updated_at = utcnow()
    session.flush()
    return AlertRead.model_validate(_read(alert))
