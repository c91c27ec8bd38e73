"""Sending a survey: resolve the audience, decide each recipient (caps, consent, quiet hours —
``distribution.select``), record one invitation per recipient (skipped ones with their reason),
and hand the due ones to their channel. Scheduled ones go out with the tick (``send_scheduled``).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.db.base import utcnow
from cxloop.errors import Invalid, NotFound
from cxloop.surveys import audiences, delivery, distribution, preferences_io, tokens
from cxloop.surveys.definitions import SurveyDefinition
from cxloop.surveys.distribution_schemas import Audience, DistributionCreate, SendResult
from cxloop.surveys.models import Distribution, Invitation, Survey, SurveyVersion

COUNTED = ("scheduled", "sent", "opened", "started", "completed", "expired")
"""Invitation statuses that count toward the fatigue caps (skipped and bounced never reached)."""
CHUNK = 5_000
SCHEDULED_BATCH = 500


def definition_of(
    session: Session, survey_id: str, version: int | None = None
) -> tuple[Survey, int, SurveyDefinition]:
    """The survey, the version a send uses (its current one unless given) and its definition."""
    survey = session.get(Survey, survey_id)
    if survey is None:
        raise NotFound(f"no survey {survey_id!r}: create it first (`cxloop surveys create FILE`)")
    number = version or survey.current_version
    row = session.get(SurveyVersion, (survey_id, number))
    if row is None:
        raise NotFound(f"survey {survey_id!r} has no version {number}")
    return survey, number, SurveyDefinition.model_validate(row.definition)


def policy(settings: Settings) -> distribution.Policy:
    return distribution.Policy(
        cap_contact_days=settings.survey_cap_contact_days,
        cap_account_days=settings.survey_cap_account_days,
        quiet_hours=settings.survey_quiet_hours,
        consent=settings.survey_consent,
        timezone=settings.timezone,
    )


def _latest(
    session: Session,
    column: str,
    values: Sequence[str],
    *,
    sent_only: bool,
    other_than: int | None = None,
) -> dict[str, dt.datetime]:
    """Latest counted invitation per ``column`` value (contact_id, customer_id, account_id):
    sent ones, plus scheduled ones unless ``sent_only``; ``other_than`` leaves out one
    distribution."""
    col = getattr(Invitation, column)
    when = func.max(
        Invitation.sent_at
        if sent_only
        else func.coalesce(Invitation.sent_at, Invitation.scheduled_at)
    )
    found: dict[str, dt.datetime] = {}
    unique = sorted(set(values))
    for start in range(0, len(unique), CHUNK):
        query = (
            select(col, when)
            .where(col.in_(unique[start : start + CHUNK]), Invitation.status.in_(COUNTED))
            .group_by(col)
        )
        if other_than is not None:
            query = query.where(Invitation.distribution_id != other_than)
        found.update({k: v for k, v in session.execute(query) if v is not None})
    return found


def history(
    session: Session,
    recipients: Sequence[distribution.Recipient],
    channel: str,
    *,
    delivering: int | None = None,
) -> distribution.History:
    """What the store knows about these people across every survey: their latest invitation,
    their account's latest from another distribution, and the preferences of their addresses
    on ``channel``. ``delivering``: the distribution whose scheduled invitations are being
    sent now — then only invitations already sent count (theirs are scheduled themselves)."""
    sent_only = delivering is not None
    contacts = _latest(
        session,
        "contact_id",
        [r.contact_id for r in recipients if r.contact_id],
        sent_only=sent_only,
    )
    customers = _latest(
        session,
        "customer_id",
        [r.customer_id for r in recipients if r.customer_id and not r.contact_id],
        sent_only=sent_only,
    )
    person_last = {f"contact:{k}": v for k, v in contacts.items()}
    person_last.update({f"customer:{k}": v for k, v in customers.items()})
    account_last = _latest(
        session,
        "account_id",
        [r.account_id for r in recipients if r.account_id],
        sent_only=sent_only,
        other_than=delivering,
    )
    addresses = {a for r in recipients for a in distribution.preference_addresses(r, channel)}
    kinds = preferences_io.kinds(session, sorted(addresses), channel)
    return distribution.History(person_last, account_last, kinds)


def _invitation(
    decision: distribution.Decision,
    dist: Distribution,
    survey_id: str,
    link_days: int,
) -> Invitation:
    r = decision.recipient
    send_at = decision.send_at
    return Invitation(
        distribution_id=dist.id,
        survey_id=survey_id,
        public_id=tokens.new_public_id(),
        customer_id=r.customer_id,
        contact_id=r.contact_id,
        account_id=r.account_id,
        role=r.role,
        email=distribution.normalise_email(r.email),
        phone=(r.phone or "").strip() or None,
        language=decision.language,
        timezone=decision.timezone,
        context=dict(r.context),
        status="skipped" if decision.skipped else "scheduled",
        skip_reason=decision.skip_reason,
        scheduled_at=send_at,
        expires_at=send_at + dt.timedelta(days=link_days) if send_at else None,
        reminders_sent=0,
    )


def invite(
    *,
    session: Session,
    settings: Settings,
    dist: Distribution,
    definition: SurveyDefinition,
    recipients: Sequence[distribution.Recipient],
    now: dt.datetime,
) -> list[Invitation]:
    """Decide and record one invitation per recipient of a stored distribution (skipped ones
    with their reason, the rest scheduled for now or the end of the quiet hours); delivering
    is the caller's (``send``) or the tick's (``send_scheduled``). Event triggers call this too.
    """
    decisions = distribution.select(
        recipients,
        channel=dist.channel,
        policy=policy(settings),
        history=history(session, recipients, dist.channel),
        now=now,
        languages=definition.languages,
        default_language=definition.default_language,
    )
    rows = [_invitation(d, dist, dist.survey_id, dist.link_days) for d in decisions]
    session.add_all(rows)
    session.flush()
    return rows


def _check_channel(settings: Settings, request: DistributionCreate) -> None:
    if request.audience.kind == "anonymous":
        return
    if request.channel == "email" and not settings.smtp_host and not request.dry_run:
        raise Invalid(
            "needs a mail server: set CXLOOP_SMTP_HOST (and CXLOOP_SMTP_PORT, CXLOOP_SMTP_FROM…), "
            "or hand the links out another way with --channel csv or webhook",
            "channel",
            "email",
        )
    if request.channel == "webhook" and not settings.webhook_secret:
        raise Invalid(
            "needs a signing secret the receiver shares: set CXLOOP_WEBHOOK_SECRET "
            "(16 characters or more)",
            "channel",
            "webhook",
        )


def send(
    *,
    session: Session,
    settings: Settings,
    survey_id: str,
    request: DistributionCreate,
    now: dt.datetime | None = None,
    created_by: str | None = None,
) -> SendResult:
    """Send ``survey_id`` to ``request.audience``; with ``dry_run`` only count who would get it
    and who would be skipped, and why (nothing is stored)."""
    now = now or utcnow()
    survey, version, definition = definition_of(session, survey_id)
    if survey.status != "active":
        raise Invalid("is archived: it sends nothing", "survey", survey_id)
    _check_channel(settings, request)
    audience = request.audience
    resolved = audiences.resolve(session, audience, required_roles=definition.required_roles)
    link_days = request.expires_days or definition.link_days or settings.survey_link_days
    result = SendResult(
        distribution_id=None,
        survey_id=survey_id,
        version=version,
        channel="link" if audience.kind == "anonymous" else request.channel,
        audience=audience.describe(),
        recipients=len(resolved.recipients),
        dry_run=request.dry_run,
        expires_at=now + dt.timedelta(days=link_days),
    )
    if request.dry_run:
        decisions = distribution.select(
            resolved.recipients,
            channel=request.channel,
            policy=policy(settings),
            history=history(session, resolved.recipients, request.channel),
            now=now,
            languages=definition.languages,
            default_language=definition.default_language,
        )
        chosen = [d for d in decisions if not d.skipped]
        result.sent = sum(1 for d in chosen if d.send_at and d.send_at <= now)
        result.scheduled = len(chosen) - result.sent
        result.skipped = distribution.skip_counts(decisions)
        return result
    dist = _distribution(request, survey_id, version, definition, resolved, link_days, now)
    dist.created_by = created_by
    session.add(dist)
    session.flush()
    if audience.kind == "anonymous":
        result.distribution_id = dist.id
        result.anonymous_link = tokens.anonymous_url(settings, str(dist.anonymous_public_id))
        return result
    rows = invite(
        session=session,
        settings=settings,
        dist=dist,
        definition=definition,
        recipients=resolved.recipients,
        now=now,
    )
    result.distribution_id = dist.id
    result.skipped = distribution.skip_counts_of(r.skip_reason for r in rows)
    due = [r for r in rows if r.status == "scheduled" and r.scheduled_at and r.scheduled_at <= now]
    outcome = delivery.deliver(session, settings, definition, dist, due, now)
    result.sent, result.bounced, result.failed = outcome.sent, outcome.bounced, outcome.failed
    result.errors = outcome.errors
    result.scheduled = sum(1 for r in rows if r.status == "scheduled")
    if dist.channel == "csv":
        key = tokens.link_key(session, settings)
        result.links = [
            delivery.link_row(settings, key, r, now) for r in rows if r.status == "sent"
        ]
    session.flush()
    return result


def _stored_audience(audience: Audience) -> dict[str, object]:
    """The audience as the distribution keeps it: named recipients counted, not listed (their
    addresses are on their invitations, where erasure finds them)."""
    stored: dict[str, object] = audience.model_dump(
        mode="json", exclude_defaults=True, exclude={"recipients"}
    )
    stored["kind"] = audience.kind
    if audience.recipients:
        stored["recipients"] = len(audience.recipients)
    return stored


def _distribution(
    request: DistributionCreate,
    survey_id: str,
    version: int,
    definition: SurveyDefinition,
    resolved: audiences.Resolved,
    link_days: int,
    now: dt.datetime,
) -> Distribution:
    audience = request.audience
    anonymous = audience.kind == "anonymous"
    reminders = definition.reminders
    required = list(definition.required_roles) or (
        list(audience.roles) if audience.kind == "account" else []
    )
    return Distribution(
        survey_id=survey_id,
        version=version,
        name=request.name,
        audience_kind=audience.kind,
        audience=_stored_audience(audience),
        channel="link" if anonymous else request.channel,
        webhook_url=request.webhook_url if request.channel == "webhook" else None,
        account_id=resolved.account_id,
        milestone_id=resolved.milestone_id,
        required_roles=required or None,
        deadline=now + dt.timedelta(days=link_days),
        link_days=link_days,
        allow_edits=definition.allow_edits,
        reminder_after_hours=None
        if anonymous
        else (request.remind_after_hours or reminders.after_hours),
        max_reminders=0
        if anonymous
        else (request.reminders if request.reminders is not None else reminders.max),
        anonymous_public_id=secrets.token_urlsafe(16) if anonymous else None,
        status="active",
        created_at=now,
    )


def _recipient(row: Invitation, attributes: dict[str, Any]) -> distribution.Recipient:
    return distribution.Recipient(
        customer_id=row.customer_id,
        contact_id=row.contact_id,
        account_id=row.account_id,
        role=row.role,
        email=row.email,
        phone=row.phone,
        attributes={**attributes, "timezone": row.timezone or attributes.get("timezone")},
    )


def _recheck(
    session: Session,
    settings: Settings,
    dist: Distribution,
    rows: list[Invitation],
    now: dt.datetime,
) -> list[Invitation]:
    """Decide scheduled invitations again at delivery (caps, opt-outs and consent may have
    changed; event triggers decide nothing when they schedule): the ones to send now; the
    others are skipped with their reason or moved to the end of the quiet hours."""
    attributes = audiences.attributes_of(session, rows)
    recipients = [_recipient(r, attributes.get(r.id, {})) for r in rows]
    decisions = distribution.select(
        recipients,
        channel=dist.channel,
        policy=policy(settings),
        history=history(session, recipients, dist.channel, delivering=dist.id),
        now=now,
    )
    ready: list[Invitation] = []
    for row, decision in zip(rows, decisions, strict=True):
        if decision.skip_reason:
            row.status, row.skip_reason = "skipped", decision.skip_reason
        elif decision.send_at and decision.send_at > now:
            row.scheduled_at = decision.send_at
        else:
            ready.append(row)
    return ready


def send_scheduled(*, session: Session, settings: Settings, now: dt.datetime) -> dict[str, int]:
    """Deliver invitations whose time has come (quiet hours over, event delays passed, a mail
    server that was down) in active distributions of active surveys — so closed ones never
    fill the batch — deciding each again first: an opt-out or another survey's
    invitation since they were scheduled skips them."""
    due = list(
        session.scalars(
            select(Invitation)
            .join(Distribution, Distribution.id == Invitation.distribution_id)
            .join(Survey, Survey.survey_id == Distribution.survey_id)
            .where(
                Invitation.status == "scheduled",
                Invitation.scheduled_at <= now,
                Distribution.status == "active",
                Survey.status == "active",
            )
            .order_by(Invitation.distribution_id, Invitation.scheduled_at, Invitation.id)
            .limit(SCHEDULED_BATCH * 10)
        )
    )
    counts: Counter[str] = Counter()
    by_distribution: dict[int, list[Invitation]] = {}
    for row in due:
        by_distribution.setdefault(row.distribution_id, []).append(row)
    for distribution_id, rows in by_distribution.items():
        dist = session.get(Distribution, distribution_id)
        if dist is None:  # joined above; for the type checker
            continue
        _, _, definition = definition_of(session, dist.survey_id, dist.version)
        ready = _recheck(session, settings, dist, rows, now)
        counts["skipped"] += sum(1 for r in rows if r.status == "skipped")
        counts["waiting"] += sum(1 for r in rows if r.status == "scheduled" and r not in ready)
        for start in range(0, len(ready), SCHEDULED_BATCH):
            outcome = delivery.deliver(
                session, settings, definition, dist, ready[start : start + SCHEDULED_BATCH], now
            )
            counts["sent"] += outcome.sent
            counts["bounced"] += outcome.bounced
            counts["failed"] += outcome.failed
    session.flush()
    return {k: counts[k] for k in ("sent", "bounced", "failed", "skipped", "waiting")}
