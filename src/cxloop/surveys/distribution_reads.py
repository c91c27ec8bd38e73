"""Reading distributions back: their invitations counted by status and skip reason, their
links printed again from the stored public ids, and the audience the CLI's options name."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.csv_cells import safe_cell
from cxloop.db.base import utcnow
from cxloop.errors import Invalid, NotFound
from cxloop.surveys import delivery, distribution, tokens
from cxloop.surveys.distribution_schemas import Audience, DistributionRead, LinkRow
from cxloop.surveys.models import Distribution, Invitation, Survey


def links(
    *, session: Session, settings: Settings, distribution_id: int, now: dt.datetime | None = None
) -> list[LinkRow]:
    """Every personal link of a distribution (skipped recipients left out), printed again from
    the stored public ids: the links are never stored themselves."""
    now = now or utcnow()
    dist = session.get(Distribution, distribution_id)
    if dist is None:
        raise NotFound(f"no distribution {distribution_id}")
    if dist.anonymous_public_id:
        link = tokens.anonymous_url(settings, dist.anonymous_public_id)
        return [
            LinkRow(
                invitation_id=None,
                customer_id=None,
                contact_id=None,
                account_id=None,
                role=None,
                name=None,
                address=None,
                language="",
                link=link,
                unsubscribe=None,
                expires_at=None,
                status=dist.status,
            )
        ]
    key = tokens.link_key(session, settings)
    rows = session.scalars(
        select(Invitation)
        .where(Invitation.distribution_id == distribution_id, Invitation.status != "skipped")
        .order_by(Invitation.id)
    )
    return [delivery.link_row(settings, key, r, now) for r in rows]


def _read(session: Session, settings: Settings, dist: Distribution) -> DistributionRead:
    counted = session.execute(
        select(Invitation.status, Invitation.skip_reason, func.count())
        .where(Invitation.distribution_id == dist.id)
        .group_by(Invitation.status, Invitation.skip_reason)
    ).all()
    by_status: dict[str, int] = {}
    skipped: dict[str | None, int] = {}
    for state, reason, n in counted:
        by_status[state] = by_status.get(state, 0) + n
        if state == "skipped":
            skipped[reason] = skipped.get(reason, 0) + n
    return DistributionRead(
        id=dist.id,
        survey_id=dist.survey_id,
        version=dist.version,
        name=dist.name,
        audience_kind=dist.audience_kind,
        audience=dist.audience,
        channel=dist.channel,
        account_id=dist.account_id,
        milestone_id=dist.milestone_id,
        required_roles=dist.required_roles,
        deadline=dist.deadline,
        link_days=dist.link_days,
        reminder_after_hours=dist.reminder_after_hours,
        max_reminders=dist.max_reminders,
        status=dist.status,
        created_by=dist.created_by,
        created_at=dist.created_at,
        invitations=sum(by_status.values()),
        by_status=by_status,
        skipped=distribution.skip_counts_of(
            reason for reason, n in skipped.items() for _ in range(n)
        ),
        anonymous_link=tokens.anonymous_url(settings, dist.anonymous_public_id)
        if dist.anonymous_public_id
        else None,
    )


def get(*, session: Session, settings: Settings, distribution_id: int) -> DistributionRead:
    dist = session.get(Distribution, distribution_id)
    if dist is None:
        raise NotFound(f"no distribution {distribution_id}")
    return _read(session, settings, dist)


def list_for(*, session: Session, settings: Settings, survey_id: str) -> list[DistributionRead]:
    """The survey's distributions, newest first."""
    if session.get(Survey, survey_id) is None:
        raise NotFound(f"no survey {survey_id!r}")
    rows = session.scalars(
        select(Distribution)
        .where(Distribution.survey_id == survey_id)
        .order_by(Distribution.id.desc())
    )
    return [_read(session, settings, d) for d in rows]


def audience_from_options(
    *,
    list_name: str | None,
    where: Sequence[str],
    account: str | None,
    roles: Sequence[str],
    milestone: str | None,
    anonymous: bool,
) -> Audience:
    """The one audience the CLI's options name; ``Invalid`` when none or several are given."""
    given = [
        name
        for name, present in (
            ("--list", bool(list_name)),
            ("--where", bool(where)),
            ("--account", bool(account)),
            ("--anonymous", anonymous),
        )
        if present
    ]
    if len(given) != 1:
        raise Invalid(
            "give exactly one audience: --list NAME, --where FIELD=VALUE…, --account A "
            "[--roles R…] [--milestone M], or --anonymous",
            "audience",
            " ".join(given) or None,
        )
    if (roles or milestone) and not account:
        raise Invalid("go with --account", "roles" if roles else "milestone", None)
    if list_name:
        return Audience(kind="list", list_name=list_name)
    if where:
        return Audience(kind="where", where=list(where))
    if account:
        return Audience(kind="account", account=account, roles=list(roles), milestone=milestone)
    return Audience(kind="anonymous")


LINK_COLUMNS = (
    "invitation_id",
    "customer_id",
    "contact_id",
    "account_id",
    "role",
    "name",
    "address",
    "language",
    "link",
    "unsubscribe",
    "expires_at",
)


def write_links(path: Path, rows: Sequence[LinkRow]) -> int:
    """The links as a CSV file for the customer's own sender (UTF-8 with a BOM, so Excel reads
    Chinese names); how many rows were written."""
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(LINK_COLUMNS)
        for row in rows:
            values = row.model_dump()
            expires = values["expires_at"]
            values["expires_at"] = f"{expires:%Y-%m-%dT%H:%M}Z" if expires else ""
            writer.writerow(
                ["" if values[c] is None else safe_cell(values[c]) for c in LINK_COLUMNS]
            )
    return len(rows)
