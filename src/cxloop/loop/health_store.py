"""Loop health on the store: read the cases of a period (and every case open now), their
history, follow-ups and detractor answers, and hand them to the pure ``health`` and
``recovery`` modules. Reads only; the one function the CLI, the API and pages call."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict
from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from cxloop.behaviour.models import Subscription
from cxloop.config import Settings
from cxloop.customers.models import Customer
from cxloop.errors import Invalid, Problem
from cxloop.feedback.models import Feedback
from cxloop.loop import health, recovery
from cxloop.loop.calendar import BusinessCalendar
from cxloop.loop.case_reads import naive, utc
from cxloop.loop.models import Case, CaseEvent, CaseFeedback, CaseFollowup
from cxloop.loop.policy import sla_policy
from cxloop.loop.states import OPEN

DEFAULT_DAYS = 90
DETRACTOR_TO = 6
"""NPS 0–6: a detractor."""
CHUNK = 500
"""Ids per ``IN (…)`` (SQLite and PostgreSQL both take this many parameters easily)."""


class LoopHealth(BaseModel):
    """Loop health of the cases opened in [since, until), grouped ``by``, at ``now``."""

    model_config = ConfigDict(frozen=True)

    by: str | None
    since: dt.datetime
    until: dt.datetime
    now: dt.datetime
    hours: str
    """How times are measured, in words (the calendar the business hours follow)."""
    min_n: int
    rows: list[health.HealthRow]
    churn: recovery.ChurnComparison
    notes: list[str]


def loop_health(
    *,
    session: Session,
    settings: Settings,
    now: dt.datetime,
    by: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    min_n: int = 10,
    n_boot: int = 200,
) -> LoopHealth:
    """Loop health (see ``health`` for each measure and ``recovery`` for the churn question).

    Default period: the ``DEFAULT_DAYS`` days up to ``now``. ``Invalid`` names a bad ``by``,
    an empty period or a bad ``min_n``.
    """
    at = utc(now)
    end = utc(until) if until is not None else at
    start = utc(since) if since is not None else end - dt.timedelta(days=DEFAULT_DAYS)
    problems = []
    if by is not None and by not in health.BY:
        problems.append(Problem("by", by, f"is not one of {', '.join(health.BY)}"))
    if start >= end:
        problems.append(
            Problem("since", start.isoformat(), f"is not before until ({end:%Y-%m-%d})")
        )
    if min_n < 1:
        problems.append(Problem("min_n", min_n, "must be at least 1"))
    if problems:
        raise Invalid(problems)
    policy = sla_policy(settings)
    in_period = and_(Case.opened_at >= naive(start), Case.opened_at < naive(end))
    rows = list(session.scalars(select(Case).where(or_(in_period, Case.status.in_(OPEN)))))
    period_ids = [r.id for r in rows if naive(start) <= r.opened_at < naive(end)]
    resolved_once = _resolved_once(session, in_period)
    followups, answered_by = _followups(session, in_period)
    cases = [_case_row(r, r.id in resolved_once, naive(start), naive(end)) for r in rows]
    detractor = _detractor_cases(session, period_ids, rows)
    answers = _answers(session, {c for c, _ in detractor.values()}, answered_by)
    nexts = recovery.next_answers(detractor, answers)
    scores = {case_id: (a.nps if a else None) for case_id, a in nexts.items()}
    measured = health.measure(
        cases,
        by=by,
        now=at,
        calendar=policy.calendar,
        followups=followups,
        recovery=scores,
        min_n=min_n,
    )
    people = recovery.customer_rows(
        (detractor[case_id][0], a) for case_id, a in nexts.items() if a is not None
    )
    churn = recovery.churn_of_recovered(
        people,
        customers=_customers(session, people["customer_id"]),
        subscriptions=_subscriptions(session, people["customer_id"]),
        observed_until=naive(at),
        n_boot=n_boot,
    )
    return LoopHealth(
        by=by,
        since=start,
        until=end,
        now=at,
        hours=(
            f"business hours of the SLA calendar ({_calendar_words(policy.calendar)}; resolution "
            "less the time waiting on the customer) and wall-clock hours"
        ),
        min_n=min_n,
        rows=measured,
        churn=churn,
        notes=_notes(),
    )


def _calendar_words(calendar: BusinessCalendar) -> str:
    country = f"{calendar.country} holidays, " if calendar.country else ""
    return f"{country}{calendar.timezone}"


def _notes() -> list[str]:
    return [
        "cases opened in the period; backlog and ageing count every case open now",
        "SLA met when the clock stopped (first contact; resolution or close) by its due time; "
        "open and past due: missed; open and not yet due: not counted; a case waiting on the "
        "customer is judged at the moment it began to wait (its clocks stand still)",
        "reopen rate: cases reopened at least once / cases resolved at least once",
        "verification rate: follow-ups verified / (verified + reopened + closed unverified)",
        "recovery: detractor cases (an attached answer of NPS 0–6) whose customer's next NPS "
        "answer after the resolution is 7–10, of those with a next answer; cases without one "
        "are counted as no next answer and left out of the rate",
        "churn: detractors with a next answer who held a subscription then, one row per "
        "customer, churn after the next answer; too few under 30 customers in either group; "
        "observational",
    ]


def _case_row(
    row: Case, resolved_once: bool, start: dt.datetime, end: dt.datetime
) -> health.CaseRow:
    def at(value: dt.datetime | None) -> dt.datetime | None:
        """Stored naive UTC as aware UTC (inline: 10 per case, ``aware`` costs 4x more)."""
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=dt.UTC)

    return health.CaseRow(
        case_id=row.id,
        team=row.team,
        owner=row.owner,
        topic=row.topic,
        priority=row.priority,
        status=row.status,
        opened_at=at(row.opened_at) or utc(row.opened_at),
        first_responded_at=at(row.first_responded_at),
        first_response_due=at(row.first_response_due),
        resolved_at=at(row.resolved_at),
        resolution_due=at(row.resolution_due),
        closed_at=at(row.closed_at),
        reopen_count=row.reopen_count or 0,
        paused_s=row.sla_paused_s or 0.0,
        paused_at=at(row.sla_paused_at),
        ever_resolved=resolved_once,
        in_period=start <= row.opened_at < end,
    )


def _resolved_once(session: Session, in_period: ColumnElement[bool]) -> set[int]:
    """Cases of the period with a move to ``resolved`` in their history (the JSON is read
    here, not in SQL: JSON operators differ between SQLite and PostgreSQL)."""
    found = session.execute(
        select(CaseEvent.case_id, CaseEvent.data)
        .join(Case, Case.id == CaseEvent.case_id)
        .where(in_period, CaseEvent.kind == "status_changed")
    )
    return {case_id for case_id, data in found if (data or {}).get("to") == "resolved"}


def _followups(
    session: Session, in_period: ColumnElement[bool]
) -> tuple[dict[int, list[str]], set[str]]:
    """Case id → its follow-ups' outcomes, and the feedback ids their answers were stored as
    (a follow-up answer is not the customer's next NPS answer)."""
    outcomes: dict[int, list[str]] = {}
    answered: set[str] = set()
    found = session.execute(
        select(CaseFollowup.case_id, CaseFollowup.outcome, CaseFollowup.response_id)
        .join(Case, Case.id == CaseFollowup.case_id)
        .where(in_period)
        .order_by(CaseFollowup.case_id, CaseFollowup.round)
    )
    for case_id, outcome, response_id in found:
        outcomes.setdefault(case_id, []).append(outcome)
        if response_id is not None:
            answered.add(f"survey:{response_id}")
    return outcomes, answered


def _chunks(values: Sequence[object]) -> Iterable[list[object]]:
    for i in range(0, len(values), CHUNK):
        yield list(values[i : i + CHUNK])


def _detractor_cases(
    session: Session, period_ids: list[int], rows: list[Case]
) -> dict[int, tuple[str, dt.datetime]]:
    """Resolved cases of the period with a customer and an attached NPS 0–6 answer:
    case id → (customer id, resolved at, naive UTC)."""
    by_id = {r.id: r for r in rows}
    candidates = [
        i for i in period_ids if by_id[i].customer_id and by_id[i].resolved_at is not None
    ]
    found: set[int] = set()
    for part in _chunks(candidates):
        found.update(
            session.scalars(
                select(CaseFeedback.case_id)
                .join(Feedback, Feedback.feedback_id == CaseFeedback.feedback_id)
                .where(CaseFeedback.case_id.in_(part), Feedback.nps <= DETRACTOR_TO)
                .distinct()
            )
        )
    out = {}
    for case_id in sorted(found):
        row = by_id[case_id]
        assert row.customer_id is not None and row.resolved_at is not None
        out[case_id] = (row.customer_id, row.resolved_at)
    return out


def _answers(session: Session, customers: set[str], skip: set[str]) -> list[recovery.Answer]:
    """Every NPS answer of ``customers`` but the follow-up answers in ``skip``."""
    out = []
    for part in _chunks(sorted(customers)):
        found = session.execute(
            select(
                Feedback.feedback_id, Feedback.customer_id, Feedback.created_at, Feedback.nps
            ).where(Feedback.customer_id.in_(part), Feedback.nps.is_not(None))
        )
        out += [
            recovery.Answer(customer_id=str(c), at=at, nps=nps)
            for feedback_id, c, at, nps in found
            if feedback_id not in skip and nps is not None
        ]
    return out


def _customers(session: Session, ids: pd.Series) -> pd.DataFrame:
    rows: list[tuple[Any, ...]] = []
    for part in _chunks(sorted(set(ids))):
        rows += [
            tuple(r)
            for r in session.execute(
                select(Customer.customer_id, Customer.segment, Customer.signed_up_at).where(
                    Customer.customer_id.in_(part)
                )
            )
        ]
    return pd.DataFrame(rows, columns=["customer_id", "segment", "signed_up_at"])


def _subscriptions(session: Session, ids: pd.Series) -> pd.DataFrame:
    columns = ["customer_id", "started_at", "ended_at", "renewed", "plan", "amount"]
    rows: list[tuple[Any, ...]] = []
    for part in _chunks(sorted(set(ids))):
        rows += [
            tuple(r)
            for r in session.execute(
                select(*(getattr(Subscription, c) for c in columns)).where(
                    Subscription.customer_id.in_(part)
                )
            )
        ]
    return pd.DataFrame(rows, columns=columns)
