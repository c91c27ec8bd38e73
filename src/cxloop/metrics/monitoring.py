"""The metrics service for monitoring: targets, stored alerts and B2B account health.

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
from cxloop.metrics import accounts as account_analysis
from cxloop.metrics import service as metrics_service
from cxloop.metrics import targets as target_rules
from cxloop.metrics.accounts import AccountHealthReport, json_number
from cxloop.metrics.anomalies import DEFAULT_THRESHOLD, detect_spikes, emerging_topics
from cxloop.metrics.models import Alert, MetricTarget
from cxloop.metrics.schemas import MetricName, Period
from cxloop.metrics.targets import TargetDirection, TargetSpec, TargetStatus, TargetStatusRow

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


class TargetRead(TargetSpec):
    """A stored target."""

    id: int
    created_at: dt.datetime
    updated_at: dt.datetime


class TargetStatusResult(BaseModel):
    """Every target judged on its current value, with how and what to keep in mind."""

    model_config = ConfigDict(frozen=True)

    as_of: dt.datetime
    min_n: int
    confidence: float
    method: str
    caveats: list[str]
    rows: list[TargetStatusRow]


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


# --- targets ---------------------------------------------------------------------------------


def _target_read(row: MetricTarget) -> TargetRead:
    return TargetRead(
        id=row.id,
        metric=MetricName(row.metric),
        slice=json.loads(row.slice_key),
        period=Period(row.period) if row.period else None,
        target=row.target,
        direction=TargetDirection(row.direction),
        label=row.label,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def set_targets(*, session: Session, targets_in: Sequence[TargetSpec]) -> list[TargetRead]:
    """Create or replace each target, matched on metric and slice (idempotent)."""
    stored = []
    for spec in targets_in:
        row = session.scalars(
            select(MetricTarget).where(
                MetricTarget.metric == spec.metric.value,
                MetricTarget.slice_key == spec.slice_key,
            )
        ).one_or_none()
        if row is None:
            row = MetricTarget(metric=spec.metric.value, slice_key=spec.slice_key)
            session.add(row)
        row.period = spec.period.value if spec.period else None
        row.target = spec.target
        row.direction = spec.direction.value
        row.label = spec.label
        row.updated_at = utcnow()
        stored.append(row)
    session.flush()
    return [_target_read(row) for row in stored]


def list_targets(*, session: Session) -> list[TargetRead]:
    rows = session.scalars(select(MetricTarget).order_by(MetricTarget.id))
    return [_target_read(row) for row in rows]


def delete_target(*, session: Session, target_id: int) -> None:
    row = session.get(MetricTarget, target_id)
    if row is None:
        raise NotFound(f"no target with id {target_id}")
    session.delete(row)
    session.flush()


def load_targets(*, session: Session, yaml_text: str) -> list[TargetRead]:
    """Targets from a YAML document (every problem reported at once), stored."""
    return set_targets(session=session, targets_in=target_rules.load_targets_yaml(yaml_text))


def export_targets(*, session: Session) -> str:
    """The stored targets as YAML that ``load_targets`` reads back."""
    specs = [
        TargetSpec(**t.model_dump(include=set(TargetSpec.model_fields)))
        for t in list_targets(session=session)
    ]
    return target_rules.dump_targets_yaml(specs)


def _as_of(as_of: dt.datetime | None) -> dt.datetime:
    if as_of is None:
        return utcnow()
    return as_of.astimezone(dt.UTC).replace(tzinfo=None) if as_of.tzinfo else as_of


STATUS_METHOD = (
    "Each target's metric is computed by metrics.service.compute (same numbers as the API) in its "
    "slice, on all data or, with a period, on the last complete UTC period before as_of; "
    "judged on the point estimate, with the interval telling a real miss (off_target) from one "
    "that may be noise (not_significant_off). n below min_n is small_n, never judged."
)


def target_status(
    *,
    session: Session,
    settings: Settings,
    as_of: dt.datetime | None = None,
    min_n: int = 30,
    confidence: float = 0.95,
) -> TargetStatusResult:
    """Every stored target judged on its current value (see ``targets`` for the labels)."""
    moment = _as_of(as_of)
    targets = list_targets(session=session)
    frames: dict[tuple[str, tuple[str, ...], str | None], pd.DataFrame] = {}
    rows = []
    for target in targets:
        dims = tuple(sorted(target.slice))
        period = target.period.value if target.period else None
        key = (target.metric.value, dims, period)
        if key not in frames:
            frames[key] = metrics_service.compute(
                settings=settings,
                name=target.metric.value,
                by=dims,
                period=period,
                min_n=min_n,
                confidence=confidence,
            )
        row = target_rules.current_row(frames[key], target, as_of=pd.Timestamp(moment))
        n = int(row["n"]) if row else 0
        estimate = json_number(row["score"]) if row else None
        low, high = (
            (json_number(row["ci_low"]), json_number(row["ci_high"])) if row else (None, None)
        )
        status, reason = target_rules.judge(
            target, n=n, estimate=estimate, ci_low=low, ci_high=high, min_n=min_n
        )
        start = (
            target_rules.last_complete_period(target.period, pd.Timestamp(moment)).date()
            if target.period
            else None
        )
        rows.append(
            TargetStatusRow(
                target_id=target.id,
                metric=target.metric,
                slice=target.slice,
                period=target.period,
                period_start=start,
                target=target.target,
                direction=target.direction,
                label=target.label,
                n=n,
                estimate=estimate,
                ci_low=low,
                ci_high=high,
                status=status,
                reason=reason,
            )
        )
    return TargetStatusResult(
        as_of=moment,
        min_n=min_n,
        confidence=confidence,
        method=STATUS_METHOD,
        caveats=[
            "on_target is judged on the point estimate: an interval that also reaches below "
            "an at_least target is not flagged.",
            "A count (responses) is a census without an interval: any miss is off_target.",
        ],
        rows=rows,
    )


# --- alerts ----------------------------------------------------------------------------------


def _naive(values: pd.Series) -> pd.Series:
    stamps = pd.to_datetime(values)
    if stamps.dt.tz is not None:
        stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
    return stamps.astype("datetime64[us]")


def _weeks(first: pd.Timestamp, last: pd.Timestamp) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(pd.date_range(first, last, freq="W-MON").astype("datetime64[us]"))


def _topic_series(settings: Settings) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Weekly (UTC Monday) counts of feedback with a negative mention, per topic, and weekly
    totals of all feedback, from the store through Ibis."""
    backend = engines.store_backend(settings)
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
    counts["period"], totals["period"] = _naive(counts["period"]), _naive(totals["period"])
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
    moment = _as_of(as_of)
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
    status = target_status(session=session, settings=settings, as_of=moment, min_n=min_n)
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
        query = query.where(Alert.created_at >= _as_of(since))
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


# --- B2B account health ----------------------------------------------------------------------


def _b2b_frames(settings: Settings) -> dict[str, pd.DataFrame]:
    """Answers linked to an account or contact, and the contact/project/milestone tables, with
    only the columns the analysis needs (no names or addresses of people)."""
    backend = engines.store_backend(settings)
    try:
        feedback = engines.feedback_table(backend)
        answers = feedback.filter(feedback.account_id.notnull() | feedback.contact_id.notnull())
        columns = {
            "responses": answers.select("account_id", "contact_id", "created_at", "nps"),
            "contacts": backend.table("contacts").select("contact_id", "account_id", "role"),
            "accounts": backend.table("accounts").select("account_id", "name"),
            "projects": backend.table("projects").select(
                "project_id", "account_id", "name", "status", "start_date", "end_date"
            ),
            "milestones": backend.table("milestones").select(
                "milestone_id", "project_id", "name", "status", "due_date", "completed_at"
            ),
        }
        frames = {name: table.execute() for name, table in columns.items()}
    finally:
        backend.disconnect()
    frames["responses"]["created_at"] = _naive(frames["responses"]["created_at"])
    frames["responses"]["nps"] = frames["responses"]["nps"].astype("Float64").astype("float64")
    frames["milestones"]["completed_at"] = _naive(frames["milestones"]["completed_at"])
    return frames


ACCOUNT_METHOD = (
    "Role-weighted NPS per account: each answer counts with its contact's role weight; interval: "
    "Rocks' adjusted Wald on the weighted promoter/detractor shares with the Kish effective n "
    "(Σw)²/Σw². Coverage: per role, contacts who answered in the last coverage_days. Projects "
    "and milestones: plain NPS of the account's answers in the date window."
)


def account_health(
    *,
    settings: Settings,
    account_id: str | None = None,
    weights: Mapping[str, float] | None = None,
    default_weight: float = 1.0,
    as_of: dt.datetime | None = None,
    days: int | None = 365,
    coverage_days: int = 180,
    follow_days: int = 14,
    min_n: int = 5,
    confidence: float = 0.95,
) -> AccountHealthReport:
    """Health, role coverage and project/milestone NPS of every account (or one)."""
    weights = dict(account_analysis.DEFAULT_WEIGHTS if weights is None else weights)
    moment = _as_of(as_of)
    frames = _b2b_frames(settings)
    if account_id is not None:
        if account_id not in set(frames["accounts"]["account_id"]):
            raise NotFound(f"no account with id {account_id}")
        for name in ("responses", "contacts", "accounts", "projects"):
            frames[name] = frames[name][frames[name]["account_id"] == account_id]
        frames["milestones"] = frames["milestones"][
            frames["milestones"]["project_id"].isin(frames["projects"]["project_id"])
        ]
    ids = sorted(frames["accounts"]["account_id"])
    health = account_analysis.account_health(
        frames["responses"],
        frames["contacts"],
        as_of=moment,
        days=days,
        min_n=min_n,
        confidence=confidence,
        weights=weights,
        default_weight=default_weight,
    )
    coverage = account_analysis.role_coverage(
        frames["responses"],
        frames["contacts"],
        as_of=moment,
        coverage_days=coverage_days,
        accounts=ids,
        weights=weights,
        default_weight=default_weight,
    )
    window = {"follow_days": follow_days, "min_n": min_n}
    projects = account_analysis.project_health(
        frames["responses"], frames["projects"], confidence=confidence, **window
    )
    milestones = account_analysis.milestone_health(
        frames["responses"],
        frames["milestones"],
        frames["projects"],
        confidence=confidence,
        **window,
    )
    names = dict(zip(frames["accounts"]["account_id"], frames["accounts"]["name"], strict=True))
    scored = {r["account_id"]: r for r in health.to_dict("records")}
    gaps = coverage[coverage["gap"].notna()].groupby("account_id")["gap"].apply(list).to_dict()
    rows = [
        account_analysis.account_row(a, names.get(a), scored.get(a), gaps.get(a, [])) for a in ids
    ]
    return AccountHealthReport(
        as_of=moment,
        days=days,
        coverage_days=coverage_days,
        weights=weights,
        default_weight=default_weight,
        min_n=min_n,
        method=ACCOUNT_METHOD,
        caveats=[
            "A contact who answered more than once counts once per answer.",
            "Feedback has no project id: answers are attributed to projects and milestones by "
            "account and date window, and overlapping windows share answers.",
            f"Accounts with n < {min_n} answers are small_n: show them greyed, never ranked.",
        ],
        accounts=rows,
        coverage=[account_analysis.coverage_row(r) for r in coverage.to_dict("records")],
        projects=[account_analysis.window_row(r, "project") for r in projects.to_dict("records")],
        milestones=[
            account_analysis.window_row(r, "milestone") for r in milestones.to_dict("records")
        ],
    )
