"""Reading cases: one case with its feedback and history, and a queue sorted the way an agent
works it (most urgent priority first, then the least SLA time left)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.orm import Session

from cxloop.errors import Invalid, NotFound
from cxloop.loop.models import Case, CaseEvent, CaseFeedback
from cxloop.loop.schemas import CaseDetail, CaseEventRead, CaseRead, QueueRead
from cxloop.loop.states import OPEN, STATUSES, allowed_actions

UTC = dt.UTC
MAX_PAGE = 500


def aware(moment: dt.datetime | None) -> dt.datetime | None:
    """A stored (naive UTC) time as an aware UTC time; aware times are converted to UTC."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def utc(moment: dt.datetime) -> dt.datetime:
    """``now`` as the service takes it: aware (any zone) or naive UTC, returned aware UTC."""
    found = aware(moment)
    assert found is not None
    return found


def naive(moment: dt.datetime) -> dt.datetime:
    """``now`` as the store keeps times: naive UTC."""
    return utc(moment).replace(tzinfo=None)


def next_due(row: Case) -> dt.datetime | None:
    """The due time the case races now: first response until the first contact, then
    resolution; none once resolved or finished."""
    if row.status not in OPEN:
        return None
    if row.first_responded_at is None and row.first_response_due is not None:
        return aware(row.first_response_due)
    return aware(row.resolution_due)


def case_read(row: Case, now: dt.datetime | None = None) -> CaseRead:
    """``row`` as a ``CaseRead`` with times in UTC and the time left at ``now`` (none while
    the case waits on the customer: its clocks stand still, ``sla_paused`` says so)."""
    read = CaseRead.model_validate(row)
    update: dict[str, object] = {
        name: aware(getattr(read, name))
        for name, field in CaseRead.model_fields.items()
        if "datetime" in str(field.annotation)
    }
    due = next_due(row)
    update["next_due"] = due
    update["sla_paused"] = paused = row.status in OPEN and row.sla_paused_at is not None
    if due is not None and now is not None and not paused:
        update["seconds_left"] = (due - utc(now)).total_seconds()
    return read.model_copy(update=update)


def load(session: Session, case_id: int) -> Case:
    """The case ``case_id`` or ``NotFound``."""
    row = session.get(Case, case_id) if 0 < case_id < 2**63 else None
    if row is None:
        raise NotFound(f"no case {case_id}")
    return row


def get_case(*, session: Session, case_id: int, now: dt.datetime | None = None) -> CaseDetail:
    """A case, the ids of the feedback attached to it (oldest first) and its full history."""
    row = load(session, case_id)
    feedback = session.scalars(
        select(CaseFeedback.feedback_id)
        .where(CaseFeedback.case_id == case_id)
        .order_by(CaseFeedback.attached_at, CaseFeedback.feedback_id)
    )
    events = session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
    )
    history = [
        CaseEventRead.model_validate(e).model_copy(update={"at": aware(e.at)}) for e in events
    ]
    return CaseDetail(
        case=case_read(row, now),
        feedback_ids=list(feedback),
        history=history,
        allowed_actions=list(allowed_actions(row.status)),
    )


def _scope(
    team: str | None,
    owner: str | None,
    teams: Collection[str] | None = None,
    priorities: Collection[str] | None = None,
    topic: str | None = None,
) -> list[ColumnElement[bool]]:
    """The conditions of a team's (or teams') and/or an owner's queue, narrowed to some
    priorities and to a topic (``配送`` also keeps ``配送/速度``)."""
    where = []
    if team is not None:
        where.append(Case.team == team)
    if teams is not None:
        where.append(Case.team.in_(sorted(teams)))
    if owner is not None:
        where.append(Case.owner == owner)
    if priorities is not None:
        where.append(Case.priority.in_(sorted(priorities)))
    if topic is not None:
        where.append(or_(Case.topic == topic, Case.topic.startswith(topic + "/", autoescape=True)))
    return where


def queue(
    *,
    session: Session,
    now: dt.datetime,
    team: str | None = None,
    owner: str | None = None,
    statuses: Collection[str] | None = None,
    limit: int = 100,
    offset: int = 0,
    teams: Collection[str] | None = None,
    priorities: Collection[str] | None = None,
    topic: str | None = None,
) -> QueueRead:
    """The cases of ``team`` and/or ``owner`` in ``statuses`` (default: the open ones), p1
    first, then the earliest due time (first response until the first contact, then
    resolution), then the oldest; counts by status cover the whole team/owner queue.
    ``teams`` narrows to cases of those teams (a caller's memberships; empty: none);
    ``priorities`` and ``topic`` narrow the counts too (a filtered queue counts itself)."""
    wanted = list(OPEN) if statuses is None else list(statuses)
    unknown = [s for s in wanted if s not in STATUSES]
    if unknown:
        raise Invalid(f"is not a case status ({', '.join(STATUSES)})", "status", unknown[0])
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise Invalid(f"must be 1–{MAX_PAGE} (offset 0 or more)", "limit", limit)
    at = naive(now)
    scope = _scope(team, owner, teams, priorities, topic)
    due = case(
        (Case.first_responded_at.is_(None), Case.first_response_due), else_=Case.resolution_due
    )
    query = select(Case.id).where(*scope).where(Case.status.in_(wanted))
    total = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    rows = session.scalars(
        select(Case)
        .where(*scope)
        .where(Case.status.in_(wanted))
        .order_by(Case.priority, due.is_(None), due, Case.opened_at, Case.id)
        .limit(limit)
        .offset(offset)
    )
    by_status = session.execute(
        select(Case.status, func.count()).where(*scope).group_by(Case.status)
    )
    counts: dict[str, int] = dict.fromkeys(STATUSES, 0)
    counts.update({str(s): int(n) for s, n in by_status})
    overdue = session.scalar(
        select(func.count(Case.id))
        .where(*scope)
        .where(Case.status.in_(OPEN), Case.sla_paused_at.is_(None), due < at)
    )
    return QueueRead(
        items=[case_read(r, now) for r in rows],
        total=total,
        counts=counts,
        overdue=int(overdue or 0),
    )
