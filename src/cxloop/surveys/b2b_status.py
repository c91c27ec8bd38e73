"""B2B completeness from the store: per account and milestone, each role's invitations and
answers; and the one-time alert to the account owner when the deadline nears with roles missing.

Only account distributions (``send --account``, a reached milestone) are B2B: a survey with
``required_roles`` sent to customers (``--where``, ``--list``) is counted in the funnel and the
rates, never in completeness, and never alerts an owner.

Accounts and milestones are read by table name (their models belong to the customers domain):
only their names, owners and due dates are needed here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from email.utils import parseaddr
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import column, select, table
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.notify import mail
from cxloop.surveys.b2b import (
    alert_due,
    deadline_of,
    missing_roles,
    normalise_role,
    owner_address,
    role_label,
)
from cxloop.surveys.models import Distribution, Invitation, Survey, SurveyVersion
from cxloop.surveys.tracking import survey_exists

_accounts = table("accounts", column("account_id"), column("name"), column("owner"))
_milestones = table("milestones", column("milestone_id"), column("name"), column("due_date"))


class CompletenessRow(BaseModel):
    """One role at one account and milestone. ``complete`` is the account's (every required
    role answered), repeated on each of its rows; ``missing``: required and not answered."""

    model_config = ConfigDict(frozen=True)

    survey_id: str
    account: str | None
    account_name: str | None
    milestone: str | None
    milestone_name: str | None
    role: str
    required: bool
    invited: int
    answered: int
    missing: bool
    complete: bool
    reached: bool = True
    """False when every invitation at this account and milestone was skipped (capped, opted
    out, no address…): nobody was asked, so it is shown as not reached, not incomplete."""
    reminded: int = 0
    """Reminders sent so far to this role's invitations at this account and milestone."""


@dataclass
class _Group:
    account: str | None
    milestone: str | None
    required: list[str] = field(default_factory=list)
    invited: dict[str, int] = field(default_factory=dict)
    answered: dict[str, int] = field(default_factory=dict)
    reminded: dict[str, int] = field(default_factory=dict)
    shown: dict[str, str] = field(default_factory=dict)
    """normalised role → the spelling shown (the definition's, else the contact's)."""

    def require(self, roles: Iterable[str]) -> None:
        have = {normalise_role(r) for r in self.required}
        for role in roles:
            key = normalise_role(role)
            if key and key not in have:
                have.add(key)
                self.required.append(role)
                self.shown.setdefault(key, role)

    def count(self, role: str | None, status: str, completed: bool, reminders: int = 0) -> None:
        key = normalise_role(role or "") or "unknown"
        self.shown.setdefault(key, role or "unknown")
        if status != "skipped":
            self.invited[key] = self.invited.get(key, 0) + 1
        self.reminded[key] = self.reminded.get(key, 0) + reminders
        if completed:
            self.answered[key] = self.answered.get(key, 0) + 1

    def missing(self) -> list[str]:
        return missing_roles(self.required, [r for r, n in self.answered.items() if n])


def _required(session: Session, survey_id: str) -> dict[int, list[str]]:
    """Each version's required roles, from its definition."""
    rows = session.execute(
        select(SurveyVersion.version, SurveyVersion.definition).where(
            SurveyVersion.survey_id == survey_id
        )
    ).all()
    return {version: list((d or {}).get("required_roles") or []) for version, d in rows}


def _b2b_distributions(
    session: Session, survey_id: str, distribution_id: int | None
) -> list[tuple[Distribution, list[str]]]:
    """Account distributions with required roles (their own, else their version's), oldest
    first; customer sends are not B2B even when the survey declares roles."""
    query = select(Distribution).where(
        Distribution.survey_id == survey_id, Distribution.account_id.is_not(None)
    )
    if distribution_id is not None:
        query = query.where(Distribution.id == distribution_id)
    versions = _required(session, survey_id)
    out = []
    for d in session.scalars(query.order_by(Distribution.id)).all():
        roles = list(d.required_roles or versions.get(d.version, []))
        if roles:
            out.append((d, roles))
    return out


def _groups(
    session: Session, distributions: Sequence[tuple[Distribution, list[str]]]
) -> dict[tuple[str | None, str | None], _Group]:
    groups: dict[tuple[str | None, str | None], _Group] = {}
    by_id = {d.id: (d, roles) for d, roles in distributions}
    for d, roles in distributions:
        key = (d.account_id, d.milestone_id)
        groups.setdefault(key, _Group(*key)).require(roles)
    if not by_id:
        return groups
    invitations = session.execute(
        select(
            Invitation.distribution_id,
            Invitation.role,
            Invitation.status,
            Invitation.completed_at,
            Invitation.reminders_sent,
        )
        .where(Invitation.distribution_id.in_(list(by_id)))
        .order_by(Invitation.id)
    ).all()
    for distribution_id, role, status, completed_at, reminders in invitations:
        d, _ = by_id[distribution_id]
        group = groups[(d.account_id, d.milestone_id)]
        group.count(role, status, completed_at is not None or status == "completed", reminders or 0)
    return groups


def _names(session: Session, table_: Any, key: str, ids: set[str]) -> dict[str, Any]:
    if not ids:
        return {}
    rows = session.execute(select(table_).where(table_.c[key].in_(sorted(ids)))).all()
    return {row._mapping[key]: row for row in rows}


def completeness(
    *, session: Session, survey_id: str, distribution_id: int | None = None
) -> list[CompletenessRow]:
    """Per account and milestone of the survey's B2B distributions (account sends with
    required roles), one row per role: required roles first in their declared order, then any
    other role that was invited. Accounts sorted by id, milestones by id. An account and
    milestone whose every invitation was skipped has ``reached=False``."""
    survey_exists(session=session, survey_id=survey_id)
    groups = _groups(session, _b2b_distributions(session, survey_id, distribution_id))
    accounts = _names(session, _accounts, "account_id", {a for a, _ in groups if a})
    milestones = _names(session, _milestones, "milestone_id", {m for _, m in groups if m})
    rows = []
    for key in sorted(groups, key=lambda k: (k[0] or "\uffff", k[1] or "\uffff")):
        group = groups[key]
        missing = {normalise_role(r) for r in group.missing()}
        required = [normalise_role(r) for r in group.required]
        extra = [r for r in group.shown if r not in required]
        account, milestone = accounts.get(key[0] or ""), milestones.get(key[1] or "")
        reached = any(group.invited.values())
        for role in [*required, *extra]:
            rows.append(
                CompletenessRow(
                    survey_id=survey_id,
                    account=group.account,
                    account_name=account.name if account else None,
                    milestone=group.milestone,
                    milestone_name=milestone.name if milestone else None,
                    role=group.shown.get(role, role),
                    required=role in required,
                    invited=group.invited.get(role, 0),
                    answered=group.answered.get(role, 0),
                    missing=role in missing,
                    complete=not missing,
                    reached=reached,
                    reminded=group.reminded.get(role, 0),
                )
            )
    return rows


@dataclass(frozen=True)
class OwnerAlert:
    """One alert decided for one account: ``outcome`` sent, no_owner_address or refused."""

    distribution_id: int
    survey_id: str
    account: str | None
    owner: str | None
    missing: tuple[str, ...]
    outcome: str
    error: str | None = None


def _lang(definition: dict[str, Any]) -> str:
    lang = definition.get("default_language") or "zh"
    return lang if lang in mail.LANGS else "zh"


def _title(definition: dict[str, Any], survey: Survey | None, lang: str) -> str:
    title = definition.get("title") or (survey.title if survey else None) or {}
    if isinstance(title, str):
        return title
    return str(title.get(lang) or next(iter(title.values()), "") or definition.get("id", ""))


ALREADY = "already_alerted"
"""The outcome stored on a distribution whose account and milestone had their alert already."""


def _due(session: Session, now: dt.datetime) -> list[tuple[Distribution, dt.datetime]]:
    """Active account distributions not yet alerted whose deadline (or milestone's due date)
    is near."""
    candidates = session.scalars(
        select(Distribution)
        .where(
            Distribution.status == "active",
            Distribution.owner_alerted_at.is_(None),
            Distribution.account_id.is_not(None),
        )
        .order_by(Distribution.id)
    ).all()
    milestones = _names(
        session, _milestones, "milestone_id", {d.milestone_id for d in candidates if d.milestone_id}
    )
    out = []
    for d in candidates:
        milestone = milestones.get(d.milestone_id or "")
        deadline = deadline_of(d.deadline, milestone.due_date if milestone else None)
        if deadline is not None and alert_due(deadline, now):
            out.append((d, deadline))
    return out


def _alerted(session: Session) -> set[tuple[str, str | None, str | None]]:
    """(survey, account, milestone) whose owner was already alerted by some distribution."""
    rows = session.execute(
        select(Distribution.survey_id, Distribution.account_id, Distribution.milestone_id).where(
            Distribution.owner_alerted_at.is_not(None),
            Distribution.account_id.is_not(None),
        )
    ).all()
    return {(s, a, m) for s, a, m in rows}


def _context(
    rows: list[CompletenessRow], lang: str, missing: tuple[str, ...]
) -> list[dict[str, Any]]:
    """Each missing role as the mail states it: label, people invited, reminders sent."""
    by_role = {r.role: r for r in rows}
    return [
        {
            "role": role_label(role, lang),
            "invited": by_role[role].invited if role in by_role else 0,
            "reminded": by_role[role].reminded if role in by_role else 0,
        }
        for role in missing
    ]


def owner_alerts(*, session: Session, settings: Settings, now: dt.datetime) -> list[OwnerAlert]:
    """Alert the account owner once per survey, account and milestone when a B2B
    distribution's deadline (its links' expiry, else the milestone's due date) is within 48 h
    (or past) and required roles of that account and milestone have not answered: mailed when
    the owner is an e-mail address, else recorded as ``no_owner_address``. Another distribution
    of the same account and milestone is marked ``already_alerted`` and mails nothing. Raises
    ``MailUnavailable`` (nothing marked) when mail cannot go out, so the next tick tries
    again. The deadline is written in ``settings.timezone``, named."""
    plans: list[tuple[Distribution, OwnerAlert | None, mail.MailMessage | None]] = []
    alerted = _alerted(session)
    by_survey: dict[str, list[CompletenessRow]] = {}
    for d, deadline in _due(session, now):
        key = (d.survey_id, d.account_id, d.milestone_id)
        if key in alerted:
            plans.append((d, None, None))
            continue
        if d.survey_id not in by_survey:
            by_survey[d.survey_id] = completeness(session=session, survey_id=d.survey_id)
        rows = [
            r
            for r in by_survey[d.survey_id]
            if (r.account, r.milestone) == (d.account_id, d.milestone_id)
        ]
        missing = tuple(r.role for r in rows if r.missing)
        if not missing:
            continue
        alerted.add(key)
        account = _names(session, _accounts, "account_id", {d.account_id or ""}).get(
            d.account_id or ""
        )
        version = session.get(SurveyVersion, (d.survey_id, d.version))
        definition = dict(version.definition) if version else {}
        lang = _lang(definition)
        owner = account.owner if account else None
        address = owner_address(owner)
        alert = OwnerAlert(
            d.id, d.survey_id, d.account_id, owner, missing,
            "sent" if address else "no_owner_address",
        )  # fmt: skip
        message = None
        if address:
            context = {
                "owner_name": parseaddr(owner or "")[0] or None,  # "赵经理 <a@b.cn>"
                "account_name": (account.name if account else None) or d.account_id or "",
                "milestone_name": rows[0].milestone_name or d.milestone_id or "",
                "missing_roles": [role_label(r, lang) for r in missing],
                "role_status": _context(rows, lang, missing),
                "deadline": deadline,
                "survey_title": _title(definition, session.get(Survey, d.survey_id), lang),
                "status_url": f"{settings.public_url.rstrip('/')}/surveys/"
                f"{d.survey_id}/completeness",
            }
            subject, text, html = mail.render(
                "survey_owner_alert", lang, context, tz=settings.timezone
            )
            message = mail.MailMessage(to=address, subject=subject, text=text, html=html)
        plans.append((d, alert, message))
    messages = [m for _, _, m in plans if m is not None]
    outcomes = iter(mail.send(settings, messages, now=now) if messages else [])
    done = []
    for d, planned, message in plans:
        d.owner_alerted_at = now
        if planned is None:
            d.owner_alert_outcome = ALREADY
            continue
        if message is not None:
            outcome = next(outcomes)
            if not outcome.accepted:
                planned = replace(planned, outcome="refused", error=outcome.error)
        d.owner_alert_outcome = planned.outcome
        done.append(planned)
    session.flush()
    return done


def alert_owners(*, session: Session, settings: Settings, now: dt.datetime) -> int:
    """The job ``surveys.alert_owners``: how many owner alerts were made (mailed, or recorded
    as skipped for want of an owner address)."""
    return len(owner_alerts(session=session, settings=settings, now=now))
