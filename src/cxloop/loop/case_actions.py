"""Working a case: take, assign, start, wait, note, log contact, root cause, resolve, verify,
reopen, close — each checked (who may, from which status) and written to the case's history.

Every function takes the ``actor`` and ``now`` (an injectable clock: aware, or naive UTC) and
only flushes. Who may act is decided by ``states.refusal`` from the actor's roles and their team
memberships in the store; which move is allowed by ``states.next_status``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from cxloop.config import get_settings
from cxloop.errors import Forbidden, Invalid, Problem
from cxloop.loop import teams, timers
from cxloop.loop.case_reads import case_read, load, naive, utc
from cxloop.loop.models import Case, CaseEvent
from cxloop.loop.policy import sla_policy
from cxloop.loop.root_causes import check_root_cause
from cxloop.loop.schemas import CaseRead
from cxloop.loop.sla import SlaPolicy
from cxloop.loop.states import Actor, CaseView, next_status, refusal


def event(
    session: Session, row: Case, kind: str, actor: Actor, now: dt.datetime, **data: Any
) -> None:
    """Append one entry to the case's history."""
    session.add(CaseEvent(case_id=row.id, at=naive(now), actor=actor.name, kind=kind, data=data))


def give(
    session: Session, row: Case, owner: str | None, actor: Actor, at: dt.datetime, **data: Any
) -> None:
    """Set the owner (status new/reopened → assigned) and write the ``assigned`` event."""
    before, previous = row.status, row.owner
    row.owner = owner
    if owner is not None:
        row.status = next_status("assign", row.status)
    event(
        session,
        row,
        "assigned",
        actor,
        at,
        owner=owner,
        previous=previous,
        team=row.team,
        **({"from": before, "to": row.status} if row.status != before else {}),
        **data,
    )


def allow(session: Session, actor: Actor, action: str, view: CaseView) -> None:
    why = refusal(actor.roles, teams.memberships(session, actor.name), action, view)
    if why is not None:
        raise Forbidden(f"{actor.name} may not {action.replace('_', ' ')} this case: {why}")


def _start(
    session: Session, case_id: int, action: str, actor: Actor, now: dt.datetime
) -> tuple[Case, str, str]:
    """Load the case, check the actor may act and the move is allowed: (case, from, to)."""
    row = load(session, case_id)
    allow(session, actor, action, CaseView(row.team, row.owner, row.status))
    return row, row.status, next_status(action, row.status)


def _finish(session: Session, row: Case, now: dt.datetime) -> CaseRead:
    row.updated_at = naive(now)
    timers.refresh_timers(row)
    session.flush()
    return case_read(row, now)


def take(*, session: Session, case_id: int, actor: Actor, now: dt.datetime) -> CaseRead:
    """The actor takes an unowned case of their team."""
    at = utc(now)
    row, _, _ = _start(session, case_id, "take", actor, at)
    give(session, row, actor.name, actor, at, action="take")
    return _finish(session, row, at)


def assign(
    *, session: Session, case_id: int, owner: str, actor: Actor, now: dt.datetime
) -> CaseRead:
    """A lead (or admin) gives the case to ``owner``, an active member of the case's team."""
    at = utc(now)
    row, _, _ = _start(session, case_id, "assign", actor, at)
    if row.team is None or not teams.active_member(session, row.team, owner):
        raise Invalid(f"is not an active member of team {row.team}", "owner", owner)
    give(session, row, owner, actor, at, action="assign")
    return _finish(session, row, at)


def _move(
    session: Session,
    case_id: int,
    action: str,
    actor: Actor,
    now: dt.datetime,
    policy: SlaPolicy | None = None,
    **data: Any,
) -> Case:
    row, before, after = _start(session, case_id, action, actor, now)
    row.status = after
    event(
        session,
        row,
        "status_changed",
        actor,
        now,
        action=action,
        **{"from": before, "to": after},
        **data,
    )
    if before == "waiting_on_customer" and after != before:
        _resume(session, row, actor, now, policy)
    return row


def _resume(
    session: Session, row: Case, actor: Actor, now: dt.datetime, policy: SlaPolicy | None
) -> None:
    """The customer's turn is over: the SLA clocks run again, due times moved by the wait."""
    calendar = (policy or sla_policy(get_settings())).calendar
    moved = timers.resume(row, now, calendar)
    if moved is not None:
        event(session, row, "sla_resumed", actor, now, **moved)


def start(
    *,
    session: Session,
    case_id: int,
    actor: Actor,
    now: dt.datetime,
    policy: SlaPolicy | None = None,
) -> CaseRead:
    """Work begins (or resumes after the customer answered: the SLA clocks run again, every
    pending due time later by the working time waited on ``policy``'s calendar — by default
    the configured policy's)."""
    at = utc(now)
    return _finish(session, _move(session, case_id, "start", actor, at, policy), at)


def wait_on_customer(
    *, session: Session, case_id: int, actor: Actor, now: dt.datetime, reason: str | None = None
) -> CaseRead:
    """The next step is the customer's: the SLA clocks stand still until the case moves on."""
    at = utc(now)
    row = _move(session, case_id, "wait_on_customer", actor, at, reason=reason)
    timers.pause(row, at)
    event(session, row, "sla_paused", actor, at)
    return _finish(session, row, at)


def resolve(
    *,
    session: Session,
    case_id: int,
    actor: Actor,
    now: dt.datetime,
    summary: str | None = None,
    policy: SlaPolicy | None = None,
) -> CaseRead:
    """The team thinks it is fixed; the customer's follow-up verifies it (or reopens it)."""
    at = utc(now)
    row = _move(session, case_id, "resolve", actor, at, policy, summary=summary)
    row.resolved_at = naive(at)
    return _finish(session, row, at)


def verify(
    *, session: Session, case_id: int, actor: Actor, now: dt.datetime, evidence: str | None = None
) -> CaseRead:
    """The customer says it is solved."""
    at = utc(now)
    row = _move(session, case_id, "verify", actor, at, evidence=evidence)
    row.verified_at = row.closed_at = naive(at)
    return _finish(session, row, at)


def reopen(
    *,
    session: Session,
    case_id: int,
    actor: Actor,
    now: dt.datetime,
    reason: str | None = None,
    policy: SlaPolicy | None = None,
) -> CaseRead:
    """It is not solved after all: the case counts one more reopen and, with ``policy``, its
    resolution clock starts again from now (a new breach escalates once again)."""
    at = utc(now)
    row = _move(session, case_id, "reopen", actor, at, reason=reason)
    row.reopen_count += 1
    row.resolved_at = row.closed_at = row.verified_at = None
    if policy is not None:
        deadlines = policy.deadlines(at, row.priority)
        row.resolution_warn_at = naive(deadlines.resolution_warn_at)
        row.resolution_due = naive(deadlines.resolution_due)
        row.resolution_warned_at = row.resolution_escalated_at = None
    return _finish(session, row, at)


def close_unverified(*, session: Session, case_id: int, actor: Actor, now: dt.datetime) -> CaseRead:
    """The follow-up window passed without an answer."""
    at = utc(now)
    row = _move(session, case_id, "close_unverified", actor, at)
    row.closed_at = naive(at)
    return _finish(session, row, at)


def close(
    *,
    session: Session,
    case_id: int,
    actor: Actor,
    now: dt.datetime,
    reason: str | None = None,
    policy: SlaPolicy | None = None,
) -> CaseRead:
    """A lead closes the case by hand (a duplicate, spam, nothing to do)."""
    at = utc(now)
    row = _move(session, case_id, "close", actor, at, policy, reason=reason)
    row.closed_at = naive(at)
    return _finish(session, row, at)


def note(*, session: Session, case_id: int, text: str, actor: Actor, now: dt.datetime) -> CaseRead:
    """A note in the case's history."""
    at = utc(now)
    if not text.strip():
        raise Invalid("is empty", "text", text)
    row, _, _ = _start(session, case_id, "note", actor, at)
    event(session, row, "note", actor, at, text=text.strip())
    return _finish(session, row, at)


def log_contact(
    *,
    session: Session,
    case_id: int,
    channel: str,
    summary: str,
    actor: Actor,
    now: dt.datetime,
) -> CaseRead:
    """A call, mail or chat with the customer; the first one is the first response."""
    at = utc(now)
    problems = [
        Problem(n, v, "is empty")
        for n, v in (("channel", channel), ("summary", summary))
        if not v.strip()
    ]
    if problems:
        raise Invalid(problems)
    row, _, _ = _start(session, case_id, "log_contact", actor, at)
    first = row.first_responded_at is None
    if first:
        row.first_responded_at = naive(at)
    event(
        session,
        row,
        "contact_logged",
        actor,
        at,
        channel=channel.strip(),
        summary=summary.strip(),
        first_response=first,
    )
    return _finish(session, row, at)


def set_root_cause(
    *,
    session: Session,
    case_id: int,
    code: str,
    actor: Actor,
    now: dt.datetime,
    codes: Mapping[str, Any] | None = None,
) -> CaseRead:
    """File the case under a root-cause code from ``codes`` (default ``ROOT_CAUSES``)."""
    at = utc(now)
    code = check_root_cause(code, codes)
    row, _, _ = _start(session, case_id, "set_root_cause", actor, at)
    event(session, row, "root_cause_set", actor, at, code=code, previous=row.root_cause)
    row.root_cause = code
    return _finish(session, row, at)
