"""Case notices: a mail to the person who must act and signed webhooks to the configured URLs,
queued in the one outbox (``notify.deliveries``) for every new event in the cases' history.

The history is read from a watermark kept in ``loop_state`` (key ``notices``) in the same
transaction that queues the notices, so a crash queues nothing or everything, and each notice's
outbox key names its event (``case:12:event:345:warning:mail``): a restarted or doubled run
queues nothing twice. Who gets a mail: the new owner when a case is assigned to them (not when
they take it themselves), the owner at an SLA warning (no owner: the team lead), the team lead
at an escalation, the owner (else the lead) when a case is reopened; a mail that falls to the
lead of a team without one is counted (``no_lead``), not dropped unseen. Webhooks carry every event
named in ``loop_webhook_events``; a status change is named by the status it reaches.

Event ids a transaction took but had not committed when the watermark passed them (PostgreSQL
commits out of order) are kept as gaps and looked at again for an hour. The first run on a store
passes over events older than a day, however many runs that history takes: a store that had
cases before its ticker ran does not mail its past.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.loop import notice_texts
from cxloop.loop.case_reads import aware, naive
from cxloop.loop.models import Case, CaseEvent, LoopState, Team, TeamMember
from cxloop.loop.notice_texts import Kind, Lang
from cxloop.loop.policy import sla_policy
from cxloop.loop.sla import SlaPolicy
from cxloop.loop.states import SYSTEM
from cxloop.notify import deliveries

STATE_KEY = "notices"
BATCH = 1000
"""Events per run: a run that finds more leaves the rest to the next (the watermark says where)."""
FIRST_RUN_HORIZON = dt.timedelta(days=1)
GAP_KEEP = dt.timedelta(hours=1)
MAX_GAPS = 1000
COUNTS = ("events", "mails", "webhooks", "no_address", "no_lead", "no_mail_server")


def webhook_event(event: CaseEvent) -> str:
    """The name a webhook gives ``event``: its kind, or for a status change the status reached."""
    if event.kind == "status_changed":
        return str(event.data.get("to") or event.kind)
    return event.kind


def send_notices(
    *, session: Session, settings: Settings, now: dt.datetime, limit: int = BATCH
) -> dict[str, int]:
    """Queue the notices of every case event since the last run; only flushes.

    Counts: ``events`` looked at, ``mails`` and ``webhooks`` queued, ``no_address`` (a mail was
    due to someone without an e-mail address on a team roster), ``no_lead`` (a mail was due to
    the team lead — an escalation, or a warning or reopening of a case without an owner — and
    the team has none, so nobody hears of it), ``no_mail_server`` (a mail was due but
    ``CXLOOP_SMTP_HOST`` is unset, so none is queued).
    """
    at = naive(now)
    state = session.get(LoopState, STATE_KEY)
    value: dict[str, Any] = dict(state.value) if state is not None else {}
    watermark = int(value.get("event_id", 0))
    gaps = {int(k): str(v) for k, v in dict(value.get("gaps", {})).items()}
    query = select(CaseEvent).where(
        or_(CaseEvent.id > watermark, CaseEvent.id.in_(sorted(gaps)))
        if gaps
        else CaseEvent.id > watermark
    )
    events = list(session.scalars(query.order_by(CaseEvent.id).limit(limit)))
    past = _past(session, value if state is not None else None, at)
    counts = dict.fromkeys(COUNTS, 0)
    if events:
        fresh = [e for e in events if not _in_past(e, past)]
        _queue(session, settings, fresh, at, counts)
    value = {"event_id": max([watermark, *(e.id for e in events)]), "gaps": {}}
    value["gaps"] = _gaps(gaps, watermark, value["event_id"], {e.id for e in events}, at)
    if past is not None and value["event_id"] < past["through_id"]:
        value["past"] = past  # the first run's batch did not reach the newest of the past
    if state is None:
        session.add(LoopState(key=STATE_KEY, value=value, updated_at=at))
    elif state.value != value:  # an idle run writes nothing (no SQLite write lock every 30 s)
        state.value, state.updated_at = value, at
    session.flush()
    return counts


def _past(session: Session, value: dict[str, Any] | None, at: dt.datetime) -> dict[str, Any] | None:
    """The store's past that no run mails: events up to the newest one when the first run
    looked (``through_id``) that are older than ``FIRST_RUN_HORIZON`` then (``before``). Kept
    in the state until the watermark passes it, so a past longer than one batch stays unmailed.
    ``value``: the stored state, None on the first run."""
    if value is not None:
        return value.get("past")
    newest = session.scalar(select(func.max(CaseEvent.id)))
    return {"through_id": int(newest or 0), "before": (at - FIRST_RUN_HORIZON).isoformat()}


def _in_past(event: CaseEvent, past: dict[str, Any] | None) -> bool:
    return (
        past is not None
        and event.id <= int(past["through_id"])
        and event.at < dt.datetime.fromisoformat(str(past["before"]))
    )


def _gaps(
    old: dict[int, str], watermark: int, reached: int, seen: set[int], at: dt.datetime
) -> dict[str, str]:
    """Ids skipped between the old and the new watermark, and older gaps still unseen, each
    kept for ``GAP_KEEP`` from when it was first noticed."""
    keep = {i: first for i, first in old.items() if i not in seen}
    for missing in range(watermark + 1, reached):
        if missing not in seen:
            keep.setdefault(missing, at.isoformat())
    cutoff = (at - GAP_KEEP).isoformat()
    alive = sorted((i, first) for i, first in keep.items() if first >= cutoff)
    return {str(i): first for i, first in alive[-MAX_GAPS:]}


def _queue(
    session: Session,
    settings: Settings,
    events: Sequence[CaseEvent],
    at: dt.datetime,
    counts: dict[str, int],
) -> None:
    cases = _by_id(session, {e.case_id for e in events})
    names = sorted({c.team for c in cases.values() if c.team})
    leads = {
        str(name): lead
        for name, lead in session.execute(select(Team.name, Team.lead).where(Team.name.in_(names)))
    }
    plans = [(e, cases[e.case_id], _mail_for(e, cases[e.case_id], leads)) for e in events]
    addresses = _addresses(session, {p[1] for _, _, p in plans if p is not None and p[1]})
    policy = sla_policy(settings)
    wanted = set(settings.loop_webhook_events)
    for event, case, plan in plans:
        counts["events"] += 1
        if plan is not None and plan[1] is None:
            counts["no_lead"] += 1  # it falls to the team lead, and the team has none
        elif plan is not None and plan[1]:
            _mail(session, settings, policy, event, case, (plan[0], plan[1]), addresses, at, counts)
        if webhook_event(event) in wanted:
            for url in settings.loop_webhooks:
                deliveries.enqueue(
                    session=session,
                    channel="webhook",
                    target=url,
                    payload=_webhook_body(event, case, settings),
                    key=f"case:{case.id}:event:{event.id}:webhook:{_digest(url)}",
                    now=at,
                )
                counts["webhooks"] += 1


def _by_id(session: Session, ids: Iterable[int]) -> dict[int, Case]:
    return {c.id: c for c in session.scalars(select(Case).where(Case.id.in_(sorted(ids))))}


def _mail_for(
    event: CaseEvent, case: Case, leads: dict[str, str | None]
) -> tuple[Kind, str | None] | None:
    """Which notice ``event`` mails, and to whom (a user name; None: it falls to the team lead
    and the team has none), or None when it mails nobody."""
    lead = leads.get(case.team or "")
    if event.kind == "assigned":
        owner = event.data.get("owner")
        return ("assigned", str(owner)) if owner and owner != event.actor else None
    if event.kind == "warned":
        return ("warning", case.owner or lead)
    if event.kind == "escalated":
        return ("escalated", str(event.data.get("to") or lead or "") or None)
    if event.kind == "status_changed" and event.data.get("to") == "reopened":
        return ("reopened", case.owner or lead)
    return None


def _addresses(session: Session, people: set[str]) -> dict[tuple[str | None, str], str]:
    """(team, user) → e-mail, and (None, user) → the first address found in any team."""
    found: dict[tuple[str | None, str], str] = {}
    if not people:
        return found
    rows = session.execute(
        select(Team.name, TeamMember.user_name, TeamMember.email)
        .join(TeamMember, TeamMember.team_id == Team.id)
        .where(TeamMember.user_name.in_(sorted(people)), TeamMember.email.is_not(None))
        .order_by(Team.name, TeamMember.position)
    )
    for team, user, email in rows:
        if email:
            found.setdefault((team, user), email)
            found.setdefault((None, user), email)
    for person in people:
        if "@" in person:  # a user named by their e-mail address
            found.setdefault((None, person), person)
    return found


def _mail(
    session: Session,
    settings: Settings,
    policy: SlaPolicy,
    event: CaseEvent,
    case: Case,
    plan: tuple[Kind, str],
    addresses: dict[tuple[str | None, str], str],
    at: dt.datetime,
    counts: dict[str, int],
) -> None:
    kind, person = plan
    address = addresses.get((case.team, person)) or addresses.get((None, person))
    if address is None:
        counts["no_address"] += 1
        return
    if not settings.smtp_host:
        counts["no_mail_server"] += 1
        return
    lang: Lang = settings.loop_notify_languages.get(person, settings.loop_notify_language)
    subject, text = notice_texts.render(
        kind, lang, _values(event, case, person, policy, settings, lang)
    )
    deliveries.enqueue(
        session=session,
        channel="email",
        target=address,
        payload={"subject": subject, "text": text, "to_name": person},
        key=f"case:{case.id}:event:{event.id}:{kind}:mail",
        now=at,
    )
    counts["mails"] += 1


def _values(
    event: CaseEvent,
    case: Case,
    person: str,
    policy: SlaPolicy,
    settings: Settings,
    lang: Lang,
) -> dict[str, object]:
    """What the notice templates fill in, on the SLA calendar's wall clock."""
    zone = policy.calendar.timezone
    target = str(event.data.get("target", "resolution"))
    due_at = case.first_response_due if target == "first_response" else case.resolution_due
    by = notice_texts.ROUTING[lang] if event.actor == SYSTEM.name else event.actor
    return {
        "case_id": case.id,
        "title": case.title,
        "name": person,
        "by": by,
        "target": notice_texts.target_name(target, lang),
        "due": notice_texts.when(due_at, zone, lang),
        "due_short": notice_texts.when(due_at, zone, lang, with_zone=False),
        "share": f"{round(policy.warn_at * 100)} %",
        "owner": case.owner,
        "reason": event.data.get("reason"),
        "priority": case.priority,
        "team": case.team,
        "customer": case.customer_id or case.account_id,
        "first_response_due": notice_texts.when(case.first_response_due, zone, lang),
        "resolution_due": notice_texts.when(case.resolution_due, zone, lang),
        "url": f"{settings.public_url.rstrip('/')}/cases/{case.id}",
    }


def _webhook_body(event: CaseEvent, case: Case, settings: Settings) -> dict[str, Any]:
    """The JSON a receiver gets: the event, and the case as it stands when the notice is queued."""

    def iso(moment: dt.datetime | None) -> str | None:
        found = aware(moment)
        return found.isoformat().replace("+00:00", "Z") if found else None

    return {
        "event": webhook_event(event),
        "event_id": event.id,
        "at": iso(event.at),
        "actor": event.actor,
        "case": {
            "id": case.id,
            "title": case.title,
            "status": case.status,
            "priority": case.priority,
            "severity": case.severity,
            "team": case.team,
            "owner": case.owner,
            "topic": case.topic,
            "customer_id": case.customer_id,
            "account_id": case.account_id,
            "opened_at": iso(case.opened_at),
            "first_response_due": iso(case.first_response_due),
            "resolution_due": iso(case.resolution_due),
            "reopen_count": case.reopen_count,
            "url": f"{settings.public_url.rstrip('/')}/cases/{case.id}",
        },
        "details": event.data,
    }


def _digest(url: str) -> str:
    """A short stable name of a webhook URL for the outbox key (the URL may carry a token)."""
    return hashlib.sha256(url.encode()).hexdigest()[:16]
