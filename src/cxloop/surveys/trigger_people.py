"""Who a trigger event's survey goes to: its contact, its customer, the owner of its e-mail, or
an account's contacts in the trigger's roles (resolved for a page of events at once)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.customers import service as customers_service
from cxloop.surveys import b2b, trigger_sources
from cxloop.surveys.distribution import Recipient as Person

__all__ = ["Person", "resolver", "rows"]


def resolver(
    session: Session, events: Iterable[trigger_sources.Found], roles: Sequence[str]
) -> Callable[[trigger_sources.Found], list[Person]]:
    """Who each event's survey goes to: its contact, its customer, the owner of its e-mail,
    or (account-only events) the account's contacts with ``roles`` (all when none)."""
    customers = customers_service.TABLES["customers"]
    contacts = customers_service.TABLES["contacts"]
    events = list(events)
    emails = {e.email.strip().lower() for e in events if e.email and not e.customer_id}
    owners = customers_service.lookup_identities(
        session=session, pairs=(("email", e) for e in emails)
    )
    person_cols = ("email", "phone", "name")
    wanted_customers = {e.customer_id for e in events if e.customer_id}
    wanted_customers |= {c for c, _ in owners.values() if c}
    wanted_contacts = {e.contact_id for e in events if e.contact_id}
    wanted_contacts |= {k for _, k in owners.values() if k}
    by_customer = {
        r.customer_id: r for r in rows(session, customers, "customer_id", wanted_customers)
    }
    by_contact = {r.contact_id: r for r in rows(session, contacts, "contact_id", wanted_contacts)}
    accounts = {e.account_id for e in events if e.account_id and not e.customer_id}
    by_account: dict[str, list[Any]] = {}
    for r in rows(session, contacts, "account_id", accounts):
        by_account.setdefault(r.account_id, []).append(r)
    wanted_roles = {b2b.normalise_role(r) for r in roles}

    def contact(r: Any) -> Person:
        return Person(
            contact_id=r.contact_id,
            account_id=r.account_id,
            role=r.role,
            attributes=r.attributes or {},
            **{c: getattr(r, c) for c in person_cols},
        )

    def resolve(event: trigger_sources.Found) -> list[Person]:
        if event.contact_id:
            row = by_contact.get(event.contact_id)
            return [contact(row) if row else Person(contact_id=event.contact_id)]
        customer_id = event.customer_id
        if not customer_id and event.email:
            customer_id, contact_id = owners.get(
                ("email", event.email.strip().lower()), (None, None)
            )
            if contact_id and contact_id in by_contact:
                return [contact(by_contact[contact_id])]
            if not customer_id:
                return [Person(email=event.email.strip().lower())]
        if customer_id:
            row = by_customer.get(customer_id)
            if row is None:
                return [Person(customer_id=customer_id, account_id=event.account_id)]
            cols = {c: getattr(row, c) for c in person_cols}
            attributes = row.attributes or {}
            return [
                Person(
                    customer_id=customer_id,
                    account_id=event.account_id,
                    attributes=attributes,
                    **cols,
                )
            ]
        members = by_account.get(event.account_id or "", [])
        if wanted_roles:
            members = [m for m in members if b2b.normalise_role(m.role) in wanted_roles]
        return [contact(m) for m in sorted(members, key=lambda m: m.contact_id)]

    return resolve


def rows(session: Session, table: Any, column: str, values: set[str]) -> Iterator[Any]:
    ordered = sorted(values)
    for start in range(0, len(ordered), trigger_sources.IN_CHUNK):
        chunk = ordered[start : start + trigger_sources.IN_CHUNK]
        yield from session.execute(select(table).where(table.c[column].in_(chunk)))
