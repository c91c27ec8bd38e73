"""Response tracking: each distribution's funnel (invited → completed) and the response rate
as a metric with an interval, sliced by segment, role, account, channel, survey, distribution.

One query reads every invitation in scope with the facts a slice needs; the funnel sums its
step flags and the rate runs ``surveys.rates.response_rate`` over the same rows, so the CLI, the
API and the pages count from one place.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Any, cast

import ibis
import pandas as pd
from pydantic import BaseModel, ConfigDict
from sqlalchemy import column, func, select, table
from sqlalchemy.orm import Session

from cxloop.errors import Invalid, NotFound, Problem
from cxloop.surveys.models import Distribution, Invitation, Survey, SurveyResponse
from cxloop.surveys.rates import response_rate

DIMENSIONS = ("segment", "role", "account", "channel", "survey", "distribution")
"""What response rates slice by (``--by`` / ``?by=``)."""
STEPS = (
    "invited",
    "skipped",
    "scheduled",
    "sent",
    "delivered",
    "bounced",
    "opened",
    "started",
    "completed",
    "expired",
)
"""The funnel's counts in order; every later step is counted even when the status moved on
(a completed invitation was also sent, delivered, opened and started)."""

# Customers' and accounts' segments are read by table name (as metrics' Ibis slices do):
# the models belong to the customers domain, and only its tables are needed here.
_customers = table("customers", column("customer_id"), column("segment"))
_accounts = table("accounts", column("account_id"), column("segment"))


class RateRow(BaseModel):
    """Response rate of one slice: ``score`` = completed / ``n`` delivered (0…1), Wilson
    interval; ``None`` where nothing was delivered."""

    model_config = ConfigDict(frozen=True)

    slice: dict[str, str | None]
    n: int
    completed: int
    score: float | None
    ci_low: float | None
    ci_high: float | None
    small_n: bool


class FunnelRow(BaseModel):
    """One distribution's funnel (or a survey's, over all its distributions: ``distribution_id``
    None). ``partial``: responses saved but not submitted; ``anonymous``: completed responses
    through an anonymous link (no invitation, so outside the rate)."""

    model_config = ConfigDict(frozen=True)

    distribution_id: int | None
    name: str | None
    channel: str | None
    audience_kind: str | None
    status: str | None
    invited: int
    skipped: int
    skip_reasons: dict[str, int]
    scheduled: int
    sent: int
    delivered: int
    bounced: int
    opened: int
    started: int
    completed: int
    expired: int
    partial: int
    anonymous: int
    rate: RateRow


class Funnel(BaseModel):
    """A survey's funnel in total and per distribution."""

    model_config = ConfigDict(frozen=True)

    survey_id: str
    total: FunnelRow
    distributions: list[FunnelRow]


def _flags(frame: pd.DataFrame) -> pd.DataFrame:
    """Each step as a 0/1 column, from the timestamps and the status (whichever says more)."""
    status = frame["status"]

    def stamped(*names: str) -> pd.Series:
        mask = pd.Series(False, index=frame.index)
        for name in names:
            mask |= frame[name].notna()
        return mask

    completed = stamped("completed_at") | (status == "completed")
    started = completed | stamped("started_at") | (status == "started")
    opened = started | stamped("opened_at") | (status == "opened")
    bounced = stamped("bounced_at") | (status == "bounced")
    sent = opened | bounced | stamped("sent_at") | (status == "sent")
    # SMTP accepted (or a link handed over by CSV/webhook) and not bounced since
    delivered = (stamped("delivered_at") | sent) & ~bounced
    out = pd.DataFrame(
        {
            "invited": 1,
            "skipped": status == "skipped",
            "scheduled": status == "scheduled",
            "sent": sent,
            "delivered": delivered | opened,
            "bounced": bounced,
            "opened": opened,
            "started": started,
            "completed": completed,
            "expired": status == "expired",
        },
        index=frame.index,
    )
    return out.astype("int64")


def invitation_frame(
    *, session: Session, survey_id: str | None = None, distribution_id: int | None = None
) -> pd.DataFrame:
    """One row per invitation in scope: the slice columns, ``skip_reason`` and the step flags."""
    query = (
        select(
            Invitation.id,
            Invitation.survey_id.label("survey"),
            Invitation.distribution_id,
            Distribution.channel,
            Invitation.account_id.label("account"),
            Invitation.role,
            func.coalesce(_customers.c.segment, _accounts.c.segment).label("segment"),
            Invitation.status,
            Invitation.skip_reason,
            Invitation.sent_at,
            Invitation.delivered_at,
            Invitation.bounced_at,
            Invitation.opened_at,
            Invitation.started_at,
            Invitation.completed_at,
        )
        .join(Distribution, Distribution.id == Invitation.distribution_id)
        .outerjoin(_customers, _customers.c.customer_id == Invitation.customer_id)
        .outerjoin(_accounts, _accounts.c.account_id == Invitation.account_id)
        .order_by(Invitation.id)
    )
    if survey_id is not None:
        query = query.where(Invitation.survey_id == survey_id)
    if distribution_id is not None:
        query = query.where(Invitation.distribution_id == distribution_id)
    rows = session.execute(query).all()
    names = [
        "id", "survey", "distribution_id", "channel", "account", "role", "segment", "status",
        "skip_reason", "sent_at", "delivered_at", "bounced_at", "opened_at", "started_at",
        "completed_at",
    ]  # fmt: skip
    frame = pd.DataFrame([tuple(r) for r in rows], columns=names, dtype="object")
    frame["distribution"] = frame["distribution_id"].map(str)
    flags = _flags(frame)
    keep = ["id", "survey", "distribution_id", "distribution", "channel", "account", "role"]
    return pd.concat([frame[[*keep, "segment", "skip_reason"]], flags], axis=1)


def _clean(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def _rate_rows(frame: pd.DataFrame, by: Sequence[str], confidence: float, min_n: int) -> list:
    """``response_rate`` over the invitation rows, as ``RateRow``s (NaN → None)."""
    columns = {name: frame[name].astype("object") for name in by}
    data = pd.DataFrame(
        {
            **columns,
            "delivered": frame["delivered"].astype("int64"),
            "completed": frame["completed"].astype("int64"),
        }
    )
    if data.empty:
        return []
    data = data.astype({name: "string" for name in by})
    result = response_rate(ibis.memtable(data), by=list(by), confidence=confidence, min_n=min_n)
    return [
        RateRow(
            slice={name: (None if pd.isna(row[name]) else str(row[name])) for name in by},
            n=int(row["n"]),
            completed=int(row["completed"]),
            score=_clean(row["score"]),
            ci_low=_clean(row["ci_low"]),
            ci_high=_clean(row["ci_high"]),
            small_n=bool(row["small_n"]),
        )
        for _, row in result.iterrows()
    ]


def _overall(frame: pd.DataFrame, confidence: float, min_n: int) -> RateRow:
    rows = _rate_rows(frame, (), confidence, min_n)
    if rows:
        return rows[0]
    return RateRow(
        slice={}, n=0, completed=0, score=None, ci_low=None, ci_high=None, small_n=min_n > 0
    )


def _responses(session: Session, survey_id: str) -> dict[int | None, Counter[str]]:
    """Per distribution: partial responses, and completed ones without an invitation."""
    query = (
        select(
            SurveyResponse.distribution_id,
            SurveyResponse.status,
            SurveyResponse.invitation_id.is_(None),
            func.count(),
        )
        .where(SurveyResponse.survey_id == survey_id)
        .group_by(
            SurveyResponse.distribution_id,
            SurveyResponse.status,
            SurveyResponse.invitation_id.is_(None),
        )
    )
    out: dict[int | None, Counter[str]] = {}
    for distribution, state, anonymous, count in session.execute(query).all():
        counts = out.setdefault(distribution, Counter())
        if state == "partial":
            counts["partial"] += count
        elif state == "completed" and anonymous:
            counts["anonymous"] += count
    return out


def _funnel_row(
    counts: dict[str, int],
    skip_reasons: dict[str, int],
    responses: Counter[str],
    distribution: Distribution | None,
    rate: RateRow,
) -> FunnelRow:
    return FunnelRow(
        distribution_id=distribution.id if distribution else None,
        name=distribution.name if distribution else None,
        channel=distribution.channel if distribution else None,
        audience_kind=distribution.audience_kind if distribution else None,
        status=distribution.status if distribution else None,
        **{step: int(counts.get(step, 0)) for step in STEPS},
        skip_reasons=dict(sorted(skip_reasons.items())),
        partial=responses["partial"],
        anonymous=responses["anonymous"],
        rate=rate,
    )


def _step_counts(
    frame: pd.DataFrame,
) -> tuple[dict[Any, dict[str, int]], dict[Any, dict[str, int]]]:
    """Step sums and skip reasons per distribution id, each in one pass over the rows."""
    counts: dict[Any, dict[str, int]] = {}
    for key, row in frame.groupby("distribution_id")[list(STEPS)].sum().iterrows():
        counts[key] = {str(k): int(v) for k, v in row.items()}
    skipped = frame[frame["skipped"] == 1]
    reasons: dict[Any, dict[str, int]] = {}
    labels = skipped["skip_reason"].fillna("unknown")
    for pair, n in skipped.groupby(["distribution_id", labels]).size().items():
        distribution, reason = cast(tuple[Any, Any], pair)  # a two-level group key
        reasons.setdefault(distribution, {})[str(reason)] = int(n)
    return counts, reasons


def survey_exists(*, session: Session, survey_id: str) -> Survey:
    row = session.get(Survey, survey_id)
    if row is None:
        raise NotFound(f"no survey {survey_id!r} (see `cxloop surveys list`)")
    return row


def funnel(
    *, session: Session, survey_id: str, confidence: float = 0.95, min_n: int = 30
) -> Funnel:
    """The survey's funnel in total and per distribution (oldest first)."""
    survey_exists(session=session, survey_id=survey_id)
    frame = invitation_frame(session=session, survey_id=survey_id)
    responses = _responses(session, survey_id)
    distributions = session.scalars(
        select(Distribution).where(Distribution.survey_id == survey_id).order_by(Distribution.id)
    ).all()
    # one rate query for all distributions and one for the total, however many were sent
    by_distribution = {
        r.slice["distribution"]: r.model_copy(update={"slice": {}})
        for r in _rate_rows(frame, ["distribution"], confidence, min_n)
    }
    nothing = _overall(frame.iloc[0:0], confidence, min_n)
    counts, reasons = _step_counts(frame)
    rows = [
        _funnel_row(
            counts.get(d.id, {}),
            reasons.get(d.id, {}),
            responses.get(d.id, Counter()),
            d,
            by_distribution.get(str(d.id), nothing),
        )
        for d in distributions
    ]
    everything = sum(responses.values(), Counter())
    all_reasons: Counter[str] = Counter()
    for found in reasons.values():
        all_reasons.update(found)
    total_counts = {step: int(frame[step].sum()) for step in STEPS}
    rate = _overall(frame, confidence, min_n)
    total = _funnel_row(total_counts, dict(all_reasons), everything, None, rate)
    return Funnel(survey_id=survey_id, total=total, distributions=rows)


def survey_totals(
    *, session: Session, confidence: float = 0.95, min_n: int = 30
) -> dict[str, tuple[int, RateRow]]:
    """Every survey's distribution count and total response rate (as its ``funnel`` gives them),
    in one frame and one count: the survey list shows these, not a whole funnel per survey."""
    frame = invitation_frame(session=session)
    rates = {
        str(row.slice["survey"]): row.model_copy(update={"slice": {}})
        for row in _rate_rows(frame, ["survey"], confidence, min_n)
    }
    counts = dict(
        session.execute(
            select(Distribution.survey_id, func.count()).group_by(Distribution.survey_id)
        ).all()
    )
    empty = _overall(frame.iloc[0:0], confidence, min_n)
    return {
        survey_id: (int(counts.get(survey_id, 0)), rates.get(survey_id, empty))
        for survey_id in session.scalars(select(Survey.survey_id))
    }


def response_rates(
    *,
    session: Session,
    by: Sequence[str] = (),
    survey_id: str | None = None,
    distribution_id: int | None = None,
    confidence: float = 0.95,
    min_n: int = 30,
) -> list[RateRow]:
    """Response rate per slice of ``by`` (any of ``DIMENSIONS``), over every survey or one;
    no ``by``: one row for all. Unknown dimensions are refused, each named."""
    by = list(by)
    problems = [
        Problem("by", name, f"is not one of: {', '.join(DIMENSIONS)}")
        for name in by
        if name not in DIMENSIONS
    ]
    if problems:
        raise Invalid(problems)
    if len(set(by)) != len(by):
        raise Invalid("names a dimension twice", "by", ",".join(by))
    if survey_id is not None:
        survey_exists(session=session, survey_id=survey_id)
    frame = invitation_frame(session=session, survey_id=survey_id, distribution_id=distribution_id)
    if not by:
        return [_overall(frame, confidence, min_n)]
    return _rate_rows(frame, by, confidence, min_n)
