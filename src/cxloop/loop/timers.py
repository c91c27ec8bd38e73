"""SLA timers of stored cases: which warning or breach is still pending, the one moment a ticker
must look at a case again (``next_check_at``), and recording a timer that fired exactly once.

A first-response timer runs until the first contact; a resolution timer until the case is
resolved or closed. Each warning and each escalation has its own column, set when it fires, so
running the ticker twice (after a restart, or two at once) fires nothing twice.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from cxloop.loop.calendar import BusinessCalendar
from cxloop.loop.case_reads import naive, utc
from cxloop.loop.models import Case, CaseEvent, Team
from cxloop.loop.sla import Target
from cxloop.loop.states import OPEN, SYSTEM

Stage = Literal["warning", "breach"]
TIMERS: tuple[tuple[Target, Stage, str, str], ...] = (
    ("first_response", "warning", "first_response_warn_at", "first_response_warned_at"),
    ("first_response", "breach", "first_response_due", "first_response_escalated_at"),
    ("resolution", "warning", "resolution_warn_at", "resolution_warned_at"),
    ("resolution", "breach", "resolution_due", "resolution_escalated_at"),
)
"""(target, stage, the moment's column, the column set when it fired)."""


def pending(row: Case) -> list[tuple[Target, Stage, dt.datetime]]:
    """The timers of ``row`` that have not fired and still run, earliest first (none while the
    case waits on the customer: its clocks stand still)."""
    if row.status not in OPEN or row.sla_paused_at is not None:
        return []
    out = []
    for target, stage, moment_column, fired_column in TIMERS:
        if target == "first_response" and row.first_responded_at is not None:
            continue
        moment = getattr(row, moment_column)
        if moment is not None and getattr(row, fired_column) is None:
            out.append((target, stage, moment))
    return sorted(out, key=lambda timer: timer[2])


def pause(row: Case, at: dt.datetime) -> None:
    """Stop the case's SLA clocks at ``at`` (it waits on the customer)."""
    row.sla_paused_at = naive(at)
    refresh_timers(row)


def resume(row: Case, at: dt.datetime, calendar: BusinessCalendar) -> dict[str, Any] | None:
    """Start the clocks again at ``at``: every warning and due time not fired yet moves later by
    the working time the case waited (on ``calendar``), which ``sla_paused_s`` adds up.
    Returns what moved (for the case's history), or None when the clocks were not paused."""
    if row.sla_paused_at is None:
        return None
    since = row.sla_paused_at.replace(tzinfo=dt.UTC)
    waited = max(calendar.business_time_between(since, utc(at)), dt.timedelta(0))
    moved: dict[str, str] = {}
    for target, _, moment_column, fired_column in TIMERS:
        moment = getattr(row, moment_column)
        if moment is None or getattr(row, fired_column) is not None or not waited:
            continue
        if target == "first_response" and row.first_responded_at is not None:
            continue  # answered before the wait: that due time is history, kept as it was
        later = naive(calendar.add_business_time(moment.replace(tzinfo=dt.UTC), waited))
        setattr(row, moment_column, later)
        moved[moment_column] = later.isoformat() + "Z"
    row.sla_paused_at = None
    row.sla_paused_s = (row.sla_paused_s or 0.0) + waited.total_seconds()
    refresh_timers(row)
    return {
        "paused_since": since.replace(tzinfo=None).isoformat() + "Z",
        "business_seconds": waited.total_seconds(),
        "moved": moved,
    }


def refresh_timers(row: Case) -> None:
    """Set ``next_check_at`` to the earliest pending timer (NULL: no clock runs)."""
    timers = pending(row)
    row.next_check_at = timers[0][2] if timers else None


def due_case_ids(*, session: Session, now: dt.datetime, limit: int = 1000) -> list[int]:
    """Cases with a warning or breach due at ``now`` and not yet fired (one indexed query)."""
    at = naive(now)
    return list(
        session.scalars(
            select(Case.id)
            .where(Case.next_check_at.is_not(None), Case.next_check_at <= at)
            .order_by(Case.next_check_at, Case.id)
            .limit(limit)
        )
    )


def fire_due(*, session: Session, case_id: int, now: dt.datetime) -> list[tuple[Target, Stage]]:
    """Record every timer of the case due at ``now``: a ``warned`` event, or an ``escalated``
    one naming the team lead; each fires once (its column is set). Returns what fired.

    A late tick (the server was down, or ``--now`` replays days later) that finds a target's
    warning and its breach both due fires only the escalation: the warning's column is set all
    the same (it never fires later), but no ``warned`` event is written, so no "due soon" notice
    goes out for a due time long passed."""
    row = session.get(Case, case_id)
    if row is None:
        return []
    at = naive(now)
    fired: list[tuple[Target, Stage]] = []
    lead = session.scalar(select(Team.lead).where(Team.name == row.team)) if row.team else None
    timers = pending(row)
    breached = {target for target, stage, moment in timers if stage == "breach" and moment <= at}
    for target, stage, moment in timers:
        if moment > at:
            break
        column = next(f for t, s, _, f in TIMERS if (t, s) == (target, stage))
        if not _claim(session, row, column, at):
            continue  # another ticker (cron beside ``serve``) fired it since the row was read
        if stage == "warning" and target in breached:
            continue  # overtaken by its own escalation: done, but nobody is warned
        kind = "warned" if stage == "warning" else "escalated"
        data = {"target": target, "due": moment.isoformat() + "Z"}
        if stage == "breach":
            data["to"] = lead or ""
        session.add(CaseEvent(case_id=row.id, at=at, actor=SYSTEM.name, kind=kind, data=data))
        fired.append((target, stage))
    refresh_timers(row)
    session.flush()
    return fired


def _claim(session: Session, row: Case, column: str, at: dt.datetime) -> bool:
    """Set ``column`` to ``at`` only where the store still has it unset: of two tickers that read
    the case at once, one fires the timer and the other changes nothing."""
    fired = cast(
        CursorResult[Any],
        session.execute(
            update(Case)
            .where(Case.id == row.id, getattr(Case, column).is_(None))
            .values({column: at})
            .execution_options(synchronize_session="evaluate")
        ),
    )
    return fired.rowcount == 1
