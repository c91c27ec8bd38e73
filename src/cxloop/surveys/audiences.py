"""From an audience (a target list, conditions over customers, an account's roles, named people) to
the recipients the pure ``distribution.select`` decides on, read from the customer tables.

An audience that names nobody, a list or account that does not exist, or a ``where`` field no
customer has is refused with the field, the value and the reason: a send never goes silently
to no one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from cxloop.act import service as act_service
from cxloop.customers import service as customers_service
from cxloop.errors import Invalid, NotFound, Problem
from cxloop.surveys import audience_where
from cxloop.surveys.b2b import normalise_role
from cxloop.surveys.distribution import Recipient
from cxloop.surveys.distribution_schemas import Audience, RecipientIn

CHUNK = 5_000


@dataclass
class Resolved:
    """The recipients and what the distribution records about the audience."""

    recipients: list[Recipient]
    account_id: str | None = None
    account_name: str | None = None
    milestone_id: str | None = None
    roles: list[str] = field(default_factory=list)


def _table(name: str) -> Table:
    return customers_service.TABLES[name]


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _customer(row: Any) -> Recipient:
    attributes = dict(row.attributes or {})
    context = {
        "customer": {
            "id": row.customer_id,
            "name": row.name,
            "segment": row.segment,
            "region": row.region,
            "city": row.city,
        }
    }
    return Recipient(
        customer_id=row.customer_id,
        name=row.name,
        email=row.email,
        phone=row.phone,
        attributes=attributes,
        context=context,
    )


def customers_by_id(session: Session, ids: Sequence[str]) -> dict[str, Recipient]:
    """Recipients for these customer ids (unknown ids left out)."""
    table = _table("customers")
    found: dict[str, Recipient] = {}
    unique = sorted(set(ids))
    for start in range(0, len(unique), CHUNK):
        query = select(table).where(table.c.customer_id.in_(unique[start : start + CHUNK]))
        for row in session.execute(query):
            found[row.customer_id] = _customer(row)
    return found


def _from_list(session: Session, name: str) -> list[Recipient]:
    members = act_service.members(session=session, name=name)
    ids = [str(c) for c in members["customer_id"]]
    if not ids:
        raise Invalid(
            "has no members: refresh it first (`cxloop targets refresh NAME`)", "list", name
        )
    found = customers_by_id(session, ids)
    # members named only by other exports have no customer row: keep them, reachable by id
    return [found.get(i) or Recipient(customer_id=i, context={"customer": {"id": i}}) for i in ids]


def _account(session: Session, account: str) -> Any:
    table = _table("accounts")
    row = session.execute(select(table).where(table.c.account_id == account)).first()
    if row is None:
        row = session.execute(select(table).where(table.c.name == account)).first()
    if row is None:
        raise NotFound(f"no account with id or name {account!r}")
    return row


def _milestone(session: Session, account_id: str, milestone: str) -> Any:
    """The milestone by id, or by name among the account's projects; refused when it belongs
    to another account's project or its project is not imported (its answers would be
    credited to the wrong account)."""
    milestones, projects = _table("milestones"), _table("projects")
    row = session.execute(select(milestones).where(milestones.c.milestone_id == milestone)).first()
    if row is None:
        query = (
            select(milestones)
            .join(projects, projects.c.project_id == milestones.c.project_id)
            .where(projects.c.account_id == account_id, milestones.c.name == milestone)
        )
        row = session.execute(query).first()
    if row is None:
        raise Invalid(
            f"is no milestone id, nor the name of a milestone of {account_id}'s projects "
            "(`cxloop import milestones FILE`)",
            "milestone",
            milestone,
        )
    project = session.execute(
        select(projects.c.project_id, projects.c.account_id).where(
            projects.c.project_id == row.project_id
        )
    ).first()
    if project is None:
        raise Invalid(
            f"belongs to project {row.project_id}, which is not imported, so its account is "
            "unknown (`cxloop import projects FILE`)",
            "milestone",
            row.milestone_id,
        )
    if project.account_id != account_id:
        raise Invalid(
            f"belongs to project {project.project_id} of account {project.account_id}, "
            f"not of account {account_id}",
            "milestone",
            row.milestone_id,
        )
    return row


def _held_roles(session: Session, account_id: str) -> list[str]:
    table = _table("contacts")
    query = select(table.c.role).where(table.c.account_id == account_id).distinct()
    return sorted({str(r) for (r,) in session.execute(query) if r})


def _check_roles(session: Session, account_id: str, roles: Sequence[str]) -> None:
    """Each role asked for by name must be held by a contact of the account: a misspelt or
    absent role is refused, not dropped while the others are sent."""
    held = _held_roles(session, account_id)
    have = {normalise_role(r) for r in held}
    missing = [r for r in roles if normalise_role(r) not in have]
    if missing:
        raise Invalid(
            [
                Problem(
                    "roles",
                    role,
                    f"is held by no contact of account {account_id} (its contacts' roles: "
                    f"{', '.join(held) or 'no contacts'})",
                )
                for role in missing
            ]
        )


def _from_account(session: Session, audience: Audience, required_roles: Sequence[str]) -> Resolved:
    account = _account(session, str(audience.account))
    roles = list(audience.roles) or list(required_roles)
    if audience.roles:
        _check_roles(session, account.account_id, audience.roles)
    wanted = {normalise_role(r) for r in roles}
    table = _table("contacts")
    rows = list(
        session.execute(
            select(table)
            .where(table.c.account_id == account.account_id)
            .order_by(table.c.contact_id)
        )
    )
    if wanted:
        rows = [r for r in rows if normalise_role(r.role or "") in wanted]
    milestone_row = (
        _milestone(session, account.account_id, audience.milestone) if audience.milestone else None
    )
    if not rows:
        having = _held_roles(session, account.account_id)
        raise Invalid(
            f"has no contact in roles {', '.join(roles)} (its roles: "
            f"{', '.join(having) or 'no contacts'})",
            "account",
            account.account_id,
        )
    base: dict[str, Any] = {
        "account": {"id": account.account_id, "name": account.name, "owner": account.owner},
        "customer": {
            "id": account.account_id,
            "name": account.name,
            "segment": account.segment,
            "region": account.region,
        },
    }
    if milestone_row is not None:
        base["milestone"] = {
            "id": milestone_row.milestone_id,
            "name": milestone_row.name,
            "project_id": milestone_row.project_id,
            "due_date": _text(milestone_row.due_date),
        }
    recipients = [
        Recipient(
            contact_id=r.contact_id,
            account_id=account.account_id,
            role=r.role,
            name=r.name,
            email=r.email,
            phone=r.phone,
            attributes=dict(r.attributes or {}),
            context={
                **base,
                # the person asked is the contact: {customer.name} greets them, not their company
                "customer": {**base["customer"], "name": r.name},
                "contact": {"id": r.contact_id, "name": r.name, "role": r.role, "title": r.title},
            },
        )
        for r in rows
    ]
    return Resolved(
        recipients,
        account_id=account.account_id,
        account_name=account.name,
        milestone_id=milestone_row.milestone_id if milestone_row is not None else None,
        roles=roles,
    )


def _named(session: Session, people: Iterable[RecipientIn]) -> list[Recipient]:
    people = list(people)
    customers = customers_by_id(session, [p.customer_id for p in people if p.customer_id])
    contacts_table = _table("contacts")
    contact_ids = sorted({p.contact_id for p in people if p.contact_id})
    contacts = (
        {
            r.contact_id: r
            for r in session.execute(
                select(contacts_table).where(contacts_table.c.contact_id.in_(contact_ids))
            )
        }
        if contact_ids
        else {}
    )
    out: list[Recipient] = []
    for p in people:
        stored = customers.get(p.customer_id or "")
        contact = contacts.get(p.contact_id or "")
        attributes: dict[str, Any] = {}
        context: dict[str, Any] = {}
        if stored is not None:
            attributes.update(stored.attributes)
            context.update(stored.context)
        if contact is not None:
            attributes.update(contact.attributes or {})
            context["contact"] = {
                "id": contact.contact_id,
                "name": contact.name,
                "role": contact.role,
            }
            context.setdefault("customer", {"id": contact.contact_id, "name": contact.name})
        attributes.update(p.attributes)
        if p.name:
            context["customer"] = {**context.get("customer", {}), "name": p.name}
        if p.language:
            attributes["language"] = p.language
        if p.timezone:
            attributes["timezone"] = p.timezone
        out.append(
            Recipient(
                customer_id=p.customer_id,
                contact_id=p.contact_id,
                account_id=contact.account_id if contact is not None else None,
                role=contact.role if contact is not None else None,
                name=p.name
                or (contact.name if contact is not None else None)
                or (stored.name if stored else None),
                email=p.email
                or (contact.email if contact is not None else None)
                or (stored.email if stored else None),
                phone=p.phone
                or (contact.phone if contact is not None else None)
                or (stored.phone if stored else None),
                attributes=attributes,
                context=context,
            )
        )
    return out


def resolve(
    session: Session, audience: Audience, *, required_roles: Sequence[str] = ()
) -> Resolved:
    """The recipients of ``audience`` (empty for an anonymous link); ``Invalid``/``NotFound``
    when it names nobody or something missing."""
    if audience.kind == "anonymous":
        return Resolved([])
    if audience.kind == "list":
        return Resolved(_from_list(session, str(audience.list_name)))
    if audience.kind == "where":
        return Resolved([_customer(r) for r in audience_where.from_where(session, audience.where)])
    if audience.kind == "account":
        return _from_account(session, audience, required_roles)
    return Resolved(_named(session, audience.recipients))


def attributes_of(session: Session, invitations: Sequence[Any]) -> dict[int, dict[str, Any]]:
    """Invitation id → the imported attributes of its person now (the contact's over the
    customer's), for decisions made again at delivery (consent, time zone)."""
    customers, contacts = _table("customers"), _table("contacts")
    by_customer: dict[str, dict[str, Any]] = {}
    by_contact: dict[str, dict[str, Any]] = {}
    customer_ids = sorted({i.customer_id for i in invitations if i.customer_id})
    contact_ids = sorted({i.contact_id for i in invitations if i.contact_id})
    for start in range(0, len(customer_ids), CHUNK):
        chunk = customer_ids[start : start + CHUNK]
        query = select(customers.c.customer_id, customers.c.attributes).where(
            customers.c.customer_id.in_(chunk)
        )
        by_customer.update({k: dict(v or {}) for k, v in session.execute(query)})
    for start in range(0, len(contact_ids), CHUNK):
        chunk = contact_ids[start : start + CHUNK]
        query = select(contacts.c.contact_id, contacts.c.attributes).where(
            contacts.c.contact_id.in_(chunk)
        )
        by_contact.update({k: dict(v or {}) for k, v in session.execute(query)})
    return {
        i.id: {**by_customer.get(i.customer_id or "", {}), **by_contact.get(i.contact_id or "", {})}
        for i in invitations
    }
