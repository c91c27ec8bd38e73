"""Stored metric targets: set, list, load and export them, and judge each on its current value.

Split from ``monitoring`` (alerts, account health). Two guards keep a target from silently
judging nothing: a slice value must be one that stored feedback has (``channel: APPP`` is
refused with the closest stored values), and without an explicit as-of date a periodic target
is judged on the last complete period *of the data* when the clock has moved past it (a store
last fed in March is judged on March, not on an empty November), and the row says so.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence

import pandas as pd
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop import engines
from cxloop.config import Settings
from cxloop.db.base import utcnow
from cxloop.errors import NotFound
from cxloop.metrics import service as metrics_service
from cxloop.metrics import targets as target_rules
from cxloop.metrics.accounts import json_number
from cxloop.metrics.models import MetricTarget
from cxloop.metrics.schemas import MetricName, Period
from cxloop.metrics.targets import TargetDirection, TargetSpec, TargetStatusRow


class TargetRead(TargetSpec):
    """A stored target."""

    id: int
    created_at: dt.datetime
    updated_at: dt.datetime


class TargetStatusResult(BaseModel):
    """Every target judged on its current value, with how and what to keep in mind."""

    model_config = ConfigDict(frozen=True)

    as_of: dt.datetime
    data_end: dt.datetime | None = None
    min_n: int
    confidence: float
    method: str
    caveats: list[str]
    rows: list[TargetStatusRow]


def naive_utc(as_of: dt.datetime | None) -> dt.datetime:
    """``as_of`` as naive UTC; now when not given."""
    if as_of is None:
        return utcnow()
    return as_of.astimezone(dt.UTC).replace(tzinfo=None) if as_of.tzinfo else as_of


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


def stored_slice_values(settings: Settings, dimensions: Sequence[str]) -> dict[str, list[str]]:
    """The distinct values stored feedback has for each dimension (segment/region through the
    customer or account, role through the contact)."""
    if not dimensions:
        return {}
    backend = engines.analytics_backend(settings)
    try:
        table = metrics_service.sliceable_feedback(backend, list(dimensions))
        return {
            d: sorted({str(v) for v in table.select(d).distinct().to_pandas()[d].dropna()})
            for d in dimensions
        }
    finally:
        backend.disconnect()


def set_targets(
    *, session: Session, targets_in: Sequence[TargetSpec], settings: Settings | None = None
) -> list[TargetRead]:
    """Create or replace each target, matched on metric and slice (idempotent).

    With ``settings`` every slice value is first checked against the store: one that no
    feedback has is refused (``Invalid`` naming ``targets[i].slice.dim``, the value and the
    closest stored values) and nothing is stored."""
    if settings is not None:
        dimensions = sorted({d for spec in targets_in for d in spec.slice})
        target_rules.check_slices(targets_in, stored_slice_values(settings, dimensions))
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


def load_targets(
    *, session: Session, yaml_text: str, settings: Settings | None = None
) -> list[TargetRead]:
    """Targets from a YAML document (every problem reported at once), checked, stored."""
    specs = target_rules.load_targets_yaml(yaml_text)
    return set_targets(session=session, targets_in=specs, settings=settings)


def export_targets(*, session: Session) -> str:
    """The stored targets as YAML that ``load_targets`` reads back."""
    specs = [
        TargetSpec(**t.model_dump(include=set(TargetSpec.model_fields)))
        for t in list_targets(session=session)
    ]
    return target_rules.dump_targets_yaml(specs)


STATUS_METHOD = (
    "Each target's metric is computed by metrics.service.compute (same numbers as the API) in its "
    "slice, on all data or, with a period, on the last complete UTC period before as_of — or, "
    "when no as_of is given and the data end before that period, on the last complete period "
    "of the data; judged on the point estimate, with the interval telling a real miss "
    "(off_target) from one that may be noise (not_significant_off). n below min_n is small_n, "
    "never judged."
)


def data_end(settings: Settings) -> dt.datetime | None:
    """When the latest stored feedback was given (naive UTC), or None for an empty store."""
    backend = engines.analytics_backend(settings)
    try:
        latest = engines.feedback_table(backend).created_at.max().execute()
    finally:
        backend.disconnect()
    if latest is None or pd.isna(latest):
        return None
    stamp = pd.Timestamp(latest)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp.to_pydatetime()


def target_status(
    *,
    session: Session,
    settings: Settings,
    as_of: dt.datetime | None = None,
    min_n: int = 30,
    confidence: float = 0.95,
) -> TargetStatusResult:
    """Every stored target judged on its current value (see ``targets`` for the labels).

    Without ``as_of`` a periodic target is judged on the last complete period before now, or
    on the last complete period of the data when the data end earlier (each row's ``note``
    says which); with ``as_of``, on the last complete period before it."""
    moment = naive_utc(as_of)
    end = data_end(settings) if as_of is None else None
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
        judged = (
            target_rules.judged_period(target.period, moment, end, explicit=as_of is not None)
            if target.period
            else None
        )
        start = judged.start if judged else None
        row = target_rules.current_row(frames[key], target, start=start)
        n = int(row["n"]) if row else 0
        estimate = json_number(row["score"]) if row else None
        low, high = (
            (json_number(row["ci_low"]), json_number(row["ci_high"])) if row else (None, None)
        )
        status, reason = target_rules.judge(
            target, n=n, estimate=estimate, ci_low=low, ci_high=high, min_n=min_n
        )
        rows.append(
            TargetStatusRow(
                target_id=target.id,
                metric=target.metric,
                slice=target.slice,
                period=target.period,
                period_start=start.date() if start is not None else None,
                period_label=judged.label if judged else None,
                note=judged.note if judged else None,
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
    caveats = [
        "on_target is judged on the point estimate: an interval that also reaches below "
        "an at_least target is not flagged.",
        "A count (responses) is a census without an interval: any miss is off_target.",
    ]
    if any(r.note and "in the data" in r.note for r in rows):
        caveats.insert(
            0,
            f"the data end on {end:%Y-%m-%d}, before the last complete period on the clock: "
            "periodic targets are judged on the last complete period of the data",
        )
    return TargetStatusResult(
        as_of=moment,
        data_end=end,
        min_n=min_n,
        confidence=confidence,
        method=STATUS_METHOD,
        caveats=caveats,
        rows=rows,
    )
