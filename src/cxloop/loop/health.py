"""Loop health: how fast, how reliably and how well cases are worked, by team, owner, topic or
priority.

Pure: plain rows in, result shapes out (``health_store`` reads the rows). Times are given twice:
in **business hours** of the SLA calendar (what the SLA promises; the resolution time less the
business time the case waited on the customer) and in wall-clock hours (what the customer lived).
Every share carries its n; under ``min_n`` it says "too few" and no share is computed from
nothing (n 0 gives no value, never a division by zero).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
from pydantic import BaseModel, ConfigDict

from cxloop.loop.calendar import BusinessCalendar
from cxloop.loop.states import OPEN

By = Literal["team", "owner", "topic", "priority"]
BY: tuple[By, ...] = get_args(By)
ALL = "(all)"
NONE = "(none)"
"""The group of cases with no team or owner."""
AGEING: tuple[tuple[str, float], ...] = (("<1d", 1), ("1-3d", 3), ("3-7d", 7), (">7d", np.inf))
"""Backlog age buckets (wall-clock days since the case opened, upper bound excluded)."""
SOLVED_FROM = 7
"""A next answer of 7 or more (passive or promoter) recovers a detractor."""
FOLLOWUP_ENDS = ("verified", "reopened", "closed_unverified")
"""Follow-up outcomes the verification rate counts (pending and not_sent are not an answer)."""


@dataclass(frozen=True)
class CaseRow:
    """What health reads of one case (times aware UTC)."""

    case_id: int
    team: str | None
    owner: str | None
    topic: str
    priority: str
    status: str
    opened_at: dt.datetime
    first_responded_at: dt.datetime | None = None
    first_response_due: dt.datetime | None = None
    resolved_at: dt.datetime | None = None
    resolution_due: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    reopen_count: int = 0
    paused_s: float = 0.0
    paused_at: dt.datetime | None = None
    """Waiting on the customer since (its SLA clocks stand still), None while they run."""
    ever_resolved: bool = False
    """Resolved at least once (a reopened case's ``resolved_at`` is cleared)."""
    in_period: bool = True
    """Opened in the period asked; cases outside it count only in the backlog."""


class Spread(BaseModel):
    """Median and 90th percentile (numpy's linear interpolation) of ``n`` durations, hours."""

    model_config = ConfigDict(frozen=True)

    n: int
    median: float | None
    p90: float | None
    too_few: bool


class Rate(BaseModel):
    """``hits`` of ``n``; ``rate`` is None when n is 0; ``too_few`` under the threshold."""

    model_config = ConfigDict(frozen=True)

    hits: int
    n: int
    rate: float | None
    too_few: bool


class HealthRow(BaseModel):
    """Every measure for one group of cases (``group`` is ``(all)`` for the whole period)."""

    model_config = ConfigDict(frozen=True)

    group: str
    cases: int
    first_response_hours: Spread
    first_response_wall_hours: Spread
    resolution_hours: Spread
    resolution_wall_hours: Spread
    first_response_sla: Rate
    resolution_sla: Rate
    backlog: int
    ageing: dict[str, int]
    reopen: Rate
    verification: Rate
    recovery: Rate
    no_next_answer: int
    """Detractor cases resolved whose customer has not answered since (not in ``recovery``)."""


def spread(hours: Sequence[float], min_n: int) -> Spread:
    """Median and p90 of ``hours`` (None for none)."""
    if not hours:
        return Spread(n=0, median=None, p90=None, too_few=min_n > 0)
    values = np.asarray(hours, dtype="float64")
    return Spread(
        n=len(values),
        median=round(float(np.median(values)), 4),
        p90=round(float(np.percentile(values, 90)), 4),
        too_few=len(values) < min_n,
    )


def rate(hits: int, n: int, min_n: int) -> Rate:
    """``hits / n``, or None when n is 0."""
    return Rate(hits=hits, n=n, rate=round(hits / n, 4) if n else None, too_few=n < min_n)


def _hours(a: dt.datetime, b: dt.datetime) -> float:
    return (b - a).total_seconds() / 3600


def sla_outcome(
    due: dt.datetime | None, stopped: dt.datetime | None, now: dt.datetime
) -> bool | None:
    """Met (True), missed (False) or not judged yet (None) for one SLA clock.

    The clock stops at ``stopped`` (the first contact; the resolution; a close by hand): met
    when that was by ``due``. A clock still running has missed once ``now`` reached ``due``
    (when the ticker escalates) and is not judged before; a clock that stands still (the case
    waits on the customer; pass the moment it paused as ``now``) is judged at that moment, since
    its due time moves later when it runs again. No due time: not judged.
    """
    if due is None:
        return None
    if stopped is not None:
        return stopped <= due
    return False if now >= due else None


def _stops(case: CaseRow) -> tuple[dt.datetime | None, dt.datetime | None]:
    """When the first-response and the resolution clocks stopped (None: still running)."""
    finished = case.status not in OPEN
    end = case.resolved_at or (case.closed_at if finished else None)
    first = case.first_responded_at or (end if finished else None)
    return first, end


def _group_of(case: CaseRow, by: str | None) -> str:
    if by is None:
        return ALL
    value = getattr(case, by)
    return str(value) if value not in (None, "") else NONE


def measure_group(
    group: str,
    cases: Sequence[CaseRow],
    *,
    now: dt.datetime,
    calendar: BusinessCalendar,
    followups: dict[int, list[str]],
    recovery: dict[int, int | None],
    min_n: int,
) -> HealthRow:
    """Every measure over ``cases`` (those of one group, in the period or open now).

    ``followups``: case id → the outcomes of its follow-ups; ``recovery``: detractor case id
    (resolved) → the NPS of the customer's next answer after the resolution, None for none yet.
    """
    period = [c for c in cases if c.in_period]
    first_b, first_w, res_b, res_w = [], [], [], []
    first_sla, res_sla = [], []
    for case in period:
        if case.first_responded_at is not None:
            first_w.append(_hours(case.opened_at, case.first_responded_at))
            used = calendar.business_time_between(case.opened_at, case.first_responded_at)
            first_b.append(used.total_seconds() / 3600)
        if case.resolved_at is not None:
            res_w.append(_hours(case.opened_at, case.resolved_at))
            used = calendar.business_time_between(case.opened_at, case.resolved_at)
            res_b.append(max(used.total_seconds() - case.paused_s, 0.0) / 3600)
        first_stop, res_stop = _stops(case)
        clock = min(now, case.paused_at) if case.paused_at is not None else now
        first_sla.append(sla_outcome(case.first_response_due, first_stop, clock))
        res_sla.append(sla_outcome(case.resolution_due, res_stop, clock))
    open_now = [c for c in cases if c.status in OPEN]
    ages = [_hours(c.opened_at, now) / 24 for c in open_now]
    ageing = dict.fromkeys((name for name, _ in AGEING), 0)
    for age in ages:
        ageing[next(name for name, upper in AGEING if age < upper)] += 1
    resolved = [c for c in period if c.ever_resolved or c.resolved_at is not None]
    ends = [o for c in period for o in followups.get(c.case_id, []) if o in FOLLOWUP_ENDS]
    answers = [recovery[c.case_id] for c in period if c.case_id in recovery]
    answered = [score for score in answers if score is not None]
    return HealthRow(
        group=group,
        cases=len(period),
        first_response_hours=spread(first_b, min_n),
        first_response_wall_hours=spread(first_w, min_n),
        resolution_hours=spread(res_b, min_n),
        resolution_wall_hours=spread(res_w, min_n),
        first_response_sla=_judged(first_sla, min_n),
        resolution_sla=_judged(res_sla, min_n),
        backlog=len(open_now),
        ageing=ageing,
        reopen=rate(sum(c.reopen_count > 0 for c in resolved), len(resolved), min_n),
        verification=rate(ends.count("verified"), len(ends), min_n),
        recovery=rate(sum(s >= SOLVED_FROM for s in answered), len(answered), min_n),
        no_next_answer=len(answers) - len(answered),
    )


def _judged(outcomes: Iterable[bool | None], min_n: int) -> Rate:
    judged = [o for o in outcomes if o is not None]
    return rate(sum(judged), len(judged), min_n)


def measure(
    cases: Sequence[CaseRow],
    *,
    by: str | None,
    now: dt.datetime,
    calendar: BusinessCalendar,
    followups: dict[int, list[str]] | None = None,
    recovery: dict[int, int | None] | None = None,
    min_n: int = 10,
) -> list[HealthRow]:
    """The ``(all)`` row, then one row per group of ``by`` (sorted; ``(none)`` last)."""
    one = functools.partial(
        measure_group,
        now=now,
        calendar=calendar,
        followups=followups or {},
        recovery=recovery or {},
        min_n=min_n,
    )
    rows = [one(ALL, cases)]
    if by is None:
        return rows
    groups: dict[str, list[CaseRow]] = {}
    for case in cases:
        groups.setdefault(_group_of(case, by), []).append(case)
    order = sorted(groups, key=lambda g: (g == NONE, g))
    return rows + [one(g, groups[g]) for g in order]
