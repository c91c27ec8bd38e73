"""Handing invitations (and reminders) to their channel: mail through ``notify.mail``, one signed
JSON per recipient through ``notify.webhooks``, or links for a CSV file — and recording what each
recipient's send did (sent and delivered, bounced, or left scheduled to be retried by the tick).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.notify import mail, webhooks
from cxloop.surveys import preferences_io, tokens
from cxloop.surveys.definitions import SurveyDefinition
from cxloop.surveys.distribution_schemas import LinkRow
from cxloop.surveys.models import Distribution, Invitation

BOUNCE_REASON_LENGTH = 256


@dataclass
class Delivered:
    """Counts of one delivery batch; ``errors`` are sentences for the caller to show."""

    sent: int = 0
    bounced: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: Delivered) -> None:
        self.sent += other.sent
        self.bounced += other.bounced
        self.failed += other.failed
        self.errors += [e for e in other.errors if e not in self.errors]

    def fail(self, error: str | None) -> None:
        """Count one failed send; its error is kept once, however many share it."""
        self.failed += 1
        if error and error not in self.errors:
            self.errors.append(error)


def links_of(
    settings: Settings, key: bytes, invitation: Invitation, now: dt.datetime
) -> tuple[str, str]:
    """The personal survey link and the unsubscribe link of an invitation."""
    expires = invitation.expires_at or now + dt.timedelta(days=settings.survey_link_days)
    survey = tokens.survey_url(settings, tokens.make_link(invitation.public_id, expires, key))
    unsubscribe_token = tokens.make_link(
        invitation.public_id,
        max(expires, now) + dt.timedelta(days=tokens.UNSUBSCRIBE_DAYS),
        key,
        purpose="unsubscribe",
    )
    return survey, tokens.unsubscribe_url(settings, unsubscribe_token)


def address(invitation: Invitation, channel: str | None = None) -> str | None:
    """Where an invitation reaches its person: on ``email`` its e-mail alone, on any other
    channel its phone or ``contact:``/``customer:`` id; with no channel the e-mail first."""
    if channel == "email" or (channel is None and invitation.email):
        return invitation.email
    if invitation.phone:
        return invitation.phone
    if invitation.contact_id:
        return f"contact:{invitation.contact_id}"
    return f"customer:{invitation.customer_id}" if invitation.customer_id else None


def link_row(settings: Settings, key: bytes, invitation: Invitation, now: dt.datetime) -> LinkRow:
    survey, unsubscribe = links_of(settings, key, invitation, now)
    return LinkRow(
        invitation_id=invitation.id,
        customer_id=invitation.customer_id,
        contact_id=invitation.contact_id,
        account_id=invitation.account_id,
        role=invitation.role,
        name=_name(invitation),
        address=address(invitation),
        language=invitation.language,
        link=survey,
        unsubscribe=unsubscribe,
        expires_at=invitation.expires_at,
        status=invitation.status,
    )


def _name(invitation: Invitation) -> str | None:
    context = invitation.context or {}
    for root in ("contact", "customer"):
        value = context.get(root)
        if (
            isinstance(value, dict)
            and value.get("name")
            and (root == "contact" or not invitation.contact_id)
        ):
            return str(value["name"])
    return None


def _mark_sent(invitation: Invitation, now: dt.datetime, *, reminder: bool) -> None:
    if reminder:
        invitation.reminders_sent = (invitation.reminders_sent or 0) + 1
        invitation.last_reminded_at = now
        return
    invitation.status = "sent"
    invitation.sent_at = now
    invitation.scheduled_at = invitation.scheduled_at or now


def _delivered(invitation: Invitation, now: dt.datetime, *, reminder: bool) -> None:
    """Sent (or reminded) and handed over: the first hand-over time is kept."""
    _mark_sent(invitation, now, reminder=reminder)
    invitation.delivered_at = invitation.delivered_at or now


def _title(definition: SurveyDefinition, lang: str) -> str:
    return definition.title.get(lang)


def _mail(
    session: Session,
    settings: Settings,
    definition: SurveyDefinition,
    invitations: Sequence[Invitation],
    now: dt.datetime,
    *,
    reminder: bool,
) -> Delivered:
    key = tokens.link_key(session, settings)
    template = "survey_reminder" if reminder else "survey_invitation"
    messages: list[mail.MailMessage] = []
    for invitation in invitations:
        survey, unsubscribe = links_of(settings, key, invitation, now)
        lang = invitation.language if invitation.language in mail.LANGS else "zh"
        name = _name(invitation)
        subject, text, html = mail.render(
            template,
            lang,
            {
                "survey_title": _title(definition, lang),
                "survey_url": survey,
                "unsubscribe_url": unsubscribe,
                "recipient_name": name,
                "expires_at": invitation.expires_at.replace(tzinfo=dt.UTC)
                if invitation.expires_at
                else None,
            },
            tz=invitation.timezone or settings.timezone,
        )
        messages.append(
            mail.MailMessage(
                to=str(invitation.email),
                subject=subject,
                text=text,
                html=html,
                to_name=name,
                unsubscribe_url=unsubscribe,
                headers={"X-Cxloop-Invitation": invitation.public_id},
            )
        )
    result = Delivered()
    try:
        outcomes = mail.send(settings, messages, now=now.replace(tzinfo=dt.UTC))
    except mail.MailUnavailable as exc:
        result.failed = len(invitations)
        result.errors.append(f"mail server {exc.server}: {exc.reason}")
        return result
    for invitation, outcome in zip(invitations, outcomes, strict=True):
        if outcome.accepted:
            _delivered(invitation, now, reminder=reminder)
            result.sent += 1
        elif outcome.bounced:
            invitation.status = "bounced"
            invitation.bounced_at = now
            invitation.bounce_reason = (outcome.error or "refused")[:BOUNCE_REASON_LENGTH]
            preferences_io.mark_bounced(
                session, str(invitation.email), "email", invitation.bounce_reason
            )
            result.bounced += 1
        else:
            result.fail(outcome.error)
    return result


def webhook_payload(
    settings: Settings,
    key: bytes,
    definition: SurveyDefinition,
    distribution: Distribution,
    invitation: Invitation,
    now: dt.datetime,
    *,
    reminder: bool,
) -> dict[str, Any]:
    """What the customer's SMS/WeChat/app sender receives for one recipient."""
    row = link_row(settings, key, invitation, now)
    return {
        "event": "survey.reminder" if reminder else "survey.invitation",
        "survey_id": distribution.survey_id,
        "survey_title": _title(definition, invitation.language),
        "distribution_id": distribution.id,
        "invitation_id": invitation.id,
        "customer_id": invitation.customer_id,
        "contact_id": invitation.contact_id,
        "account_id": invitation.account_id,
        "role": invitation.role,
        "name": row.name,
        "email": invitation.email,
        "phone": invitation.phone,
        "language": invitation.language,
        "link": row.link,
        "unsubscribe_link": row.unsubscribe,
        "expires_at": invitation.expires_at.isoformat() + "Z" if invitation.expires_at else None,
    }


def _webhook(
    session: Session,
    settings: Settings,
    definition: SurveyDefinition,
    distribution: Distribution,
    invitations: Sequence[Invitation],
    now: dt.datetime,
    *,
    reminder: bool,
) -> Delivered:
    key = tokens.link_key(session, settings)
    # its own secret: whoever verifies the webhook must not hold the key that signs links
    signing = (settings.webhook_secret or "").encode("utf-8")
    result = Delivered()
    for invitation in invitations:
        payload = webhook_payload(
            settings, key, definition, distribution, invitation, now, reminder=reminder
        )
        outcome = webhooks.post(str(distribution.webhook_url), payload, secret=signing)
        if outcome.ok:
            _delivered(invitation, now, reminder=reminder)
            result.sent += 1
        else:
            result.fail(outcome.error)
    return result


def deliver(
    session: Session,
    settings: Settings,
    definition: SurveyDefinition,
    distribution: Distribution,
    invitations: Sequence[Invitation],
    now: dt.datetime,
    *,
    reminder: bool = False,
) -> Delivered:
    """Send these invitations (or reminders to them) on the distribution's channel; CSV links are
    handed over by the caller, so they count as sent here. Failures leave an invitation as it
    was (scheduled ones are retried by the next tick)."""
    if not invitations:
        return Delivered()
    if distribution.channel == "email":
        return _mail(session, settings, definition, invitations, now, reminder=reminder)
    if distribution.channel == "webhook":
        return _webhook(
            session, settings, definition, distribution, invitations, now, reminder=reminder
        )
    for invitation in invitations:  # csv: the links are in the caller's file now
        _delivered(invitation, now, reminder=reminder)
    return Delivered(sent=len(invitations))
