"""Event triggers: standing distributions that ask a person a while after something happened.

A trigger is a distribution with ``audience_kind="event"``. :func:`run_triggers` (the
``surveys.run_triggers`` job) reads behaviour rows stored since the trigger's watermark and
turns each event into invitations *scheduled* at the event's time plus the delay; sending
(``surveys.sending``) delivers them when their time comes and applies caps, quiet hours,
consent and opt-outs then, not here. Every invitation carries its event's key in
``context["event_key"]``: an event already invited for is never invited for again, so runs may
repeat and overlap. Events that happened before the trigger existed are not surveyed.
A reached milestone becomes its own B2B distribution for the project's account (``account_id``,
``milestone_id``, required roles), like ``surveys send --account --milestone`` makes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Iterator, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.errors import Invalid, NotFound
from cxloop.surveys import b2b, trigger_people
from cxloop.surveys import trigger_rules as rules
from cxloop.surveys import trigger_sources as sources
from cxloop.surveys.models import Distribution, Invitation, Survey, SurveyVersion
from cxloop.surveys.trigger_schemas import (
    EventOutcome,
    EventResult,
    SurveyEventIn,
    TriggerCreate,
    TriggerRead,
)

OVERLAP = dt.timedelta(minutes=15)
"""Each run re-reads the quarter hour before its watermark: rows an import was still
committing during the previous run (stamped before, visible after) are seen now; their keys
keep them from being invited for twice."""
COUNTS = ("distributions", "events", "scheduled", "invitations", "duplicate", "before_trigger")


def _naive_utc(value: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    try:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    except OverflowError:
        raise Invalid("is out of range once converted to UTC", "occurred_at", str(value)) from None


def _survey(session: Session, survey_id: str) -> tuple[Survey, dict[str, Any]]:
    survey = session.get(Survey, survey_id)
    if survey is None:
        raise NotFound(f"survey {survey_id!r} does not exist (create it: cxloop surveys create)")
    version = session.get(SurveyVersion, (survey_id, survey.current_version))
    return survey, dict(version.definition) if version else {}


def create(
    *,
    session: Session,
    trigger_in: TriggerCreate,
    created_by: str | None,
    settings: Settings,
    now: dt.datetime | None = None,
) -> TriggerRead:
    """A standing distribution for an active survey; it surveys events from ``now`` on."""
    survey, definition = _survey(session, trigger_in.survey_id)
    if survey.status != "active":
        raise Invalid(f"is {survey.status}; only active surveys send", "survey", survey.survey_id)
    if trigger_in.channel == "webhook" and not settings.webhook_secret:
        raise Invalid(
            "needs a signing secret the receiver shares: set CXLOOP_WEBHOOK_SECRET",
            "channel",
            "webhook",
        )
    asked = trigger_in.roles or list(definition.get("required_roles") or [])
    roles = list(dict.fromkeys(b2b.normalise_role(r) for r in asked))
    reminders = definition.get("reminders") or {}
    row = Distribution(
        survey_id=survey.survey_id,
        version=survey.current_version,
        name=trigger_in.name or f"{survey.survey_id} on {trigger_in.event}",
        audience_kind="event",
        audience={"event": trigger_in.event, "delay_hours": trigger_in.delay_hours},
        channel=trigger_in.channel,
        webhook_url=trigger_in.webhook_url,
        required_roles=roles or None,
        link_days=trigger_in.link_days
        or int(definition.get("link_days") or settings.survey_link_days),
        allow_edits=bool(definition.get("allow_edits", False)),
        reminder_after_hours=reminders.get("after_hours", 72),
        max_reminders=int(reminders.get("max", 0)),
        trigger_event=trigger_in.event,
        trigger_delay_hours=trigger_in.delay_hours,
        status="active",
        created_by=created_by,
        created_at=now or _now(),
    )
    session.add(row)
    session.flush()
    return _read(session, row)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _children(session: Session, ids: Sequence[int]) -> dict[int, list[int]]:
    """Milestone distributions a trigger made, by trigger."""
    if not ids:
        return {}
    parent = Distribution.audience["trigger"].as_integer()
    rows = session.execute(
        select(parent, Distribution.id).where(
            Distribution.audience_kind == "account", parent.in_(list(ids))
        )
    )
    out: dict[int, list[int]] = {}
    for trigger, child in rows:
        out.setdefault(int(trigger), []).append(int(child))
    return out


def _read(session: Session, row: Distribution) -> TriggerRead:
    ids = [row.id, *_children(session, [row.id]).get(row.id, [])]
    by_status = dict(
        session.execute(
            select(Invitation.status, func.count())
            .where(Invitation.distribution_id.in_(ids))
            .group_by(Invitation.status)
        ).all()
    )
    events = session.scalar(
        select(func.count(func.distinct(Invitation.context["event_key"].as_string()))).where(
            Invitation.distribution_id.in_(ids)
        )
    )
    return TriggerRead(
        distribution_id=row.id,
        survey_id=row.survey_id,
        name=row.name,
        event=row.trigger_event or "",
        delay_hours=row.trigger_delay_hours or 0,
        channel=row.channel,
        roles=list(row.required_roles or []),
        status=row.status,
        created_at=row.created_at,
        watermark=row.trigger_watermark,
        events=int(events or 0),
        invitations={str(k): int(v) for k, v in sorted(by_status.items())},
    )


def list_all(*, session: Session, survey_id: str | None = None) -> list[TriggerRead]:
    """Every trigger (newest first) with its events and invitations by status."""
    query = select(Distribution).where(Distribution.audience_kind == "event")
    if survey_id and "\x00" in survey_id:
        raise Invalid("contains a NUL character", "survey", survey_id)
    if survey_id:
        query = query.where(Distribution.survey_id == survey_id)
    rows = session.scalars(query.order_by(Distribution.id.desc())).all()
    return [_read(session, r) for r in rows]


def _known_keys(session: Session, distribution_ids: Sequence[int], keys: Sequence[str]) -> set[str]:
    key = Invitation.context["event_key"].as_string()
    found: set[str] = set()
    unique = sorted(set(keys))
    for start in range(0, len(unique), sources.IN_CHUNK):
        chunk = unique[start : start + sources.IN_CHUNK]
        found.update(
            session.scalars(
                select(key).where(
                    Invitation.distribution_id.in_(list(distribution_ids)), key.in_(chunk)
                )
            )
        )
    return found


def _invite(
    session: Session,
    distribution: Distribution,
    person: trigger_people.Person,
    event: sources.Found,
    when: dt.datetime,
    default_language: str,
) -> None:
    context = {
        **event.context,
        "event_key": event.key,
        "event": {"key": event.key, "occurred_at": event.occurred_at.isoformat()},
    }
    if person.name:  # {customer.name} greets the person asked, a contact too (not the company)
        for root in ("customer", "contact") if person.contact_id else ("customer",):
            known = context.get(root)
            context[root] = {**(known if isinstance(known, dict) else {}), "name": person.name}
    session.add(
        Invitation(
            distribution_id=distribution.id,
            survey_id=distribution.survey_id,
            public_id=secrets.token_urlsafe(18),
            customer_id=person.customer_id,
            contact_id=person.contact_id,
            account_id=person.account_id,
            role=person.role,
            email=person.email,
            phone=person.phone,
            language=rules.language(person.attributes, default_language),
            timezone=rules.attribute(person.attributes, rules.TIMEZONE_KEYS),
            context=context,
            status="scheduled",
            scheduled_at=when,
            expires_at=when + dt.timedelta(days=distribution.link_days),
        )
    )


def _milestone_distribution(
    session: Session, trigger: Distribution, event: sources.Found, when: dt.datetime
) -> Distribution:
    milestone = event.context.get("milestone", {})
    child = Distribution(
        survey_id=trigger.survey_id,
        version=trigger.version,
        name=f"{trigger.name or trigger.survey_id} · {milestone.get('name') or event.milestone_id}",
        audience_kind="account",
        audience={
            "trigger": trigger.id,
            "event_key": event.key,
            "account": event.account_id,
            "roles": list(trigger.required_roles or []),
            "milestone": event.milestone_id,
        },
        channel=trigger.channel,
        webhook_url=trigger.webhook_url,
        account_id=event.account_id,
        milestone_id=event.milestone_id,
        required_roles=trigger.required_roles,
        deadline=when + dt.timedelta(days=trigger.link_days),
        link_days=trigger.link_days,
        allow_edits=trigger.allow_edits,
        reminder_after_hours=trigger.reminder_after_hours,
        max_reminders=trigger.max_reminders,
        status="active",
        created_by=f"trigger:{trigger.id}",
    )
    session.add(child)
    session.flush()
    return child


def _handle(
    session: Session,
    trigger: Distribution,
    events: Sequence[sources.Found],
    default_language: str,
) -> list[EventOutcome]:
    """Invitations for each event not invited for before and not older than the trigger."""
    ids = [trigger.id, *_children(session, [trigger.id]).get(trigger.id, [])]
    known = _known_keys(session, ids, [e.key for e in events])
    resolve = trigger_people.resolver(session, events, trigger.required_roles or [])
    outcomes = []
    for event in events:
        outcome = EventOutcome(
            distribution_id=trigger.id, survey_id=trigger.survey_id, outcome="duplicate"
        )
        if event.key in known:
            outcomes.append(outcome)
            continue
        if event.history or event.occurred_at < trigger.created_at:
            outcomes.append(outcome.model_copy(update={"outcome": "before_trigger"}))
            continue
        people = resolve(event)
        if not people:
            outcomes.append(outcome.model_copy(update={"outcome": "no_recipient"}))
            continue
        when = event.occurred_at + dt.timedelta(hours=trigger.trigger_delay_hours or 0)
        target = trigger
        if event.milestone_id is not None:
            target = _milestone_distribution(session, trigger, event, when)
        for person in people:
            _invite(session, target, person, event, when, default_language)
        known.add(event.key)
        outcomes.append(
            outcome.model_copy(
                update={"outcome": "scheduled", "invitations": len(people), "scheduled_at": when}
            )
        )
    session.flush()
    return outcomes


def _source(
    trigger: Distribution, session: Session, since: dt.datetime, zone: ZoneInfo
) -> Iterator[list[sources.Found]]:
    event = trigger.trigger_event
    if event == "order_delivered":
        return sources.orders(session, since, zone, trigger.created_at)
    if event == "ticket_closed":
        return sources.tickets(session, since)
    if event == "subscription_renewed":
        return sources.renewals(session, since)
    if event == "milestone_completed":
        return sources.milestones(session, since)
    return iter(())  # api:<name>: events arrive through post_event


def run_triggers(*, session: Session, settings: Settings, now: dt.datetime) -> dict[str, int]:
    """Scan behaviour rows for every active trigger; schedule invitations for new events.

    Counts: ``events`` newly seen, ``scheduled`` events invited for (``invitations`` made),
    ``duplicate`` already invited for, ``before_trigger`` older than the trigger (not surveyed),
    ``no_recipient`` (an account event whose account has no contact in the roles)."""
    zone = ZoneInfo(settings.timezone)
    counts = dict.fromkeys((*COUNTS, "no_recipient"), 0)
    triggers = session.scalars(
        select(Distribution)
        .where(
            Distribution.audience_kind == "event",
            Distribution.status == "active",
            Distribution.trigger_event.not_like("api:%"),
        )
        .order_by(Distribution.id)
        .with_for_update()  # PostgreSQL: a second tick waits, then sees this one's invitations
    ).all()
    for trigger in triggers:
        if trigger.created_at > now:
            continue
        counts["distributions"] += 1
        _, definition = _survey(session, trigger.survey_id)
        language = str(definition.get("default_language") or "zh")
        watermark = start = trigger.trigger_watermark or trigger.created_at
        for page in _source(trigger, session, start - OVERLAP, zone):
            for outcome, event in zip(_handle(session, trigger, page, language), page, strict=True):
                if event.seen_at <= start and outcome.outcome != "scheduled":
                    continue  # re-read from the overlap: already counted
                counts["events"] += 1
                counts[outcome.outcome] += 1
                counts["invitations"] += outcome.invitations
            if page:
                watermark = max(watermark, max(e.seen_at for e in page))
        trigger.trigger_watermark = watermark
    session.flush()
    return counts


def event_key(event_in: SurveyEventIn, occurred_at: dt.datetime) -> str:
    """``api:<event>:<sender's id>``, else a hash of who, when and what."""
    if event_in.event_id:
        return f"api:{event_in.event}:{event_in.event_id}"
    content = json.dumps(
        [
            event_in.customer_id,
            event_in.contact_id,
            (event_in.email or "").strip().lower(),
            occurred_at.isoformat(),
            event_in.context,
        ],
        sort_keys=True,
        ensure_ascii=False,
        default=str,
    )
    return f"api:{event_in.event}:#{hashlib.sha256(content.encode()).hexdigest()[:24]}"


def post_event(
    *, session: Session, settings: Settings, event_in: SurveyEventIn, now: dt.datetime
) -> EventResult:
    """An event from another system: invitations from every active trigger listening to it
    (``api:<event>``, and the built-in trigger of the same name)."""
    occurred = (
        _naive_utc(event_in.occurred_at, ZoneInfo(settings.timezone))
        if event_in.occurred_at
        else now
    )
    if occurred > now + dt.timedelta(days=1):
        raise Invalid("is in the future", "occurred_at", occurred.isoformat())
    key = event_key(event_in, occurred)
    names = [f"api:{event_in.event}", event_in.event]
    triggers = session.scalars(
        select(Distribution)
        .where(
            Distribution.audience_kind == "event",
            Distribution.status == "active",
            Distribution.trigger_event.in_(names),
        )
        .order_by(Distribution.id)
        .with_for_update()
    ).all()
    context = dict(event_in.context)
    if event_in.event == "order_delivered" and "order" not in context:
        context = {"order": context}
    found = sources.Found(
        key=key,
        seen_at=now,
        occurred_at=occurred,
        customer_id=event_in.customer_id,
        contact_id=event_in.contact_id,
        email=event_in.email,
        context=context,
    )
    outcomes = []
    for trigger in triggers:
        if trigger.trigger_event == "milestone_completed":
            continue  # milestones come from the projects import, with their account
        _, definition = _survey(session, trigger.survey_id)
        language = str(definition.get("default_language") or "zh")
        outcomes.extend(_handle(session, trigger, [found], language))
    return EventResult(
        event=event_in.event, event_key=key, occurred_at=occurred, distributions=outcomes
    )
