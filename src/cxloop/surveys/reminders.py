"""Reminders to those who have not answered, and expiry of links nobody used.

``due`` is the rule (pure, over invitation values): a reminder goes to a recipient who was sent
an invitation, has not completed, bounced or expired, after ``reminder_after_hours`` since the
last send, at most ``max_reminders`` times; for a B2B distribution (sent to an account) with
required roles, only to the roles of the account that no one has answered for yet
(``b2b.missing_roles``). Required roles mean nothing to a customer send (``--where``,
``--list``): its invitations carry no role and are reminded like any other.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.surveys import delivery, preferences_io, sending
from cxloop.surveys.b2b import missing_roles, normalise_role
from cxloop.surveys.models import Distribution, Invitation, Survey

WAITING = ("sent", "opened", "started")
"""Invitations still waiting for an answer (a reminder may go to them; expiry may end them)."""
OPEN = ("scheduled", *WAITING)


@dataclass(frozen=True)
class Policy:
    """A distribution's reminder rule."""

    after_hours: int
    max_reminders: int
    required_roles: Sequence[str] = ()


def due(
    invitation: Invitation,
    policy: Policy,
    now: dt.datetime,
    missing: Mapping[str | None, Sequence[str]] | None = None,
) -> bool:
    """Whether ``invitation`` gets a reminder at ``now``. ``missing``: account → roles not yet
    answered (only consulted when the policy has required roles)."""
    if invitation.status not in WAITING or invitation.sent_at is None:
        return False
    if (invitation.reminders_sent or 0) >= policy.max_reminders:
        return False
    if invitation.expires_at is not None and invitation.expires_at <= now:
        return False
    last = invitation.last_reminded_at or invitation.sent_at
    if now < last + dt.timedelta(hours=policy.after_hours):
        return False
    if policy.required_roles:
        still = {normalise_role(r) for r in (missing or {}).get(invitation.account_id, ())}
        return normalise_role(invitation.role or "") in still
    return True


def missing_by_account(
    required: Sequence[str], answered: Iterable[tuple[str | None, str | None]]
) -> dict[str | None, list[str]]:
    """Account → the required roles no completed answer covers yet, for every account seen."""
    roles: dict[str | None, list[str]] = {}
    for account, role in answered:
        roles.setdefault(account, [])
        if role:
            roles[account].append(role)
    return {account: missing_roles(required, have) for account, have in roles.items()}


def _missing(session: Session, dist: Distribution) -> dict[str | None, list[str]]:
    """For a B2B distribution: per account, the required roles nobody completed for — in this
    distribution or another of the same survey at the same milestone."""
    required = list(dist.required_roles or [])
    same = select(Distribution.id).where(Distribution.survey_id == dist.survey_id)
    if dist.milestone_id:
        same = same.where(Distribution.milestone_id == dist.milestone_id)
    else:
        same = same.where(Distribution.id == dist.id)
    accounts = select(Invitation.account_id).where(Invitation.distribution_id == dist.id)
    rows = session.execute(
        select(Invitation.account_id, Invitation.role, Invitation.status).where(
            Invitation.distribution_id.in_(same), Invitation.account_id.in_(accounts)
        )
    ).all()
    pairs = [(a, r if s == "completed" else None) for a, r, s in rows]
    return missing_by_account(required, pairs)


def remind(*, session: Session, settings: Settings, now: dt.datetime) -> dict[str, int]:
    """Send every reminder that is due now, distribution by distribution; counts of reminders
    sent, bounced, failed, and skipped because the person opted out since."""
    counts: Counter[str] = Counter()
    dists = session.scalars(
        select(Distribution)
        .join(Survey, Survey.survey_id == Distribution.survey_id)
        .where(
            Distribution.status == "active",
            Survey.status == "active",  # an archived survey sends nothing, reminders neither
            Distribution.max_reminders > 0,
            Distribution.reminder_after_hours.is_not(None),
        )
    ).all()
    for dist in dists:
        roles = (dist.required_roles or ()) if dist.account_id is not None else ()
        rule = Policy(int(dist.reminder_after_hours or 0), dist.max_reminders, roles)
        if dist.channel not in ("email", "webhook"):
            continue
        waiting = list(
            session.scalars(
                select(Invitation)
                .where(Invitation.distribution_id == dist.id, Invitation.status.in_(WAITING))
                .order_by(Invitation.id)
            )
        )
        missing = _missing(session, dist) if rule.required_roles else None
        chosen = [i for i in waiting if due(i, rule, now, missing)]
        if not chosen:
            continue
        stopped = preferences_io.opted_out(session, chosen, dist.channel)
        counts["skipped"] += len(stopped)
        ready = [i for i in chosen if i.id not in stopped]
        _, _, definition = sending.definition_of(session, dist.survey_id, dist.version)
        outcome = delivery.deliver(session, settings, definition, dist, ready, now, reminder=True)
        counts["sent"] += outcome.sent
        counts["bounced"] += outcome.bounced
        counts["failed"] += outcome.failed
    session.flush()
    return {k: counts[k] for k in ("sent", "bounced", "failed", "skipped")}


def expire(*, session: Session, now: dt.datetime) -> int:
    """Mark every unanswered invitation past its link's expiry as expired; how many."""
    result = session.execute(
        update(Invitation)
        .where(
            Invitation.status.in_(OPEN),
            Invitation.expires_at.is_not(None),
            Invitation.expires_at <= now,
        )
        .values(status="expired")
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
