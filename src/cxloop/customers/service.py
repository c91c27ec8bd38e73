"""Customers and identities: registering identities without silent merges, and reads."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Table, select, tuple_
from sqlalchemy.orm import Session

from cxloop.customers.models import (
    Account,
    Contact,
    Customer,
    Identity,
    IdentityConflict,
    Milestone,
    Project,
)
from cxloop.db.bulk import select_in

TABLES: dict[str, Table] = {
    "customers": Customer.__table__,  # type: ignore[dict-item]
    "accounts": Account.__table__,  # type: ignore[dict-item]
    "contacts": Contact.__table__,  # type: ignore[dict-item]
    "projects": Project.__table__,  # type: ignore[dict-item]
    "milestones": Milestone.__table__,  # type: ignore[dict-item]
}
IDENTITIES: Table = Identity.__table__  # type: ignore[assignment]
CONFLICTS: Table = IdentityConflict.__table__  # type: ignore[assignment]
LOOKUP_CHUNK = 5_000


@dataclass(frozen=True)
class IdentityClaim:
    """``kind``/``value`` (already normalised) claimed by a customer or a contact."""

    kind: str
    value: str
    customer_id: str | None = None
    contact_id: str | None = None

    @property
    def owner(self) -> str:
        return _owner(self.customer_id, self.contact_id)


def _owner(customer_id: str | None, contact_id: str | None) -> str:
    return f"customer:{customer_id}" if customer_id else f"contact:{contact_id}"


def lookup_identities(
    *, session: Session, pairs: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], tuple[str | None, str | None]]:
    """Owners of the given (kind, value) pairs: ``{(kind, value): (customer_id, contact_id)}``."""
    by_kind: dict[str, set[str]] = {}
    for kind, value in pairs:
        by_kind.setdefault(kind, set()).add(value)
    found: dict[tuple[str, str], tuple[str | None, str | None]] = {}
    connection = session.connection()
    for kind, values in by_kind.items():
        rows = select_in(
            connection,
            IDENTITIES,
            ["value", "customer_id", "contact_id"],
            "value",
            sorted(values),
            where={"kind": kind},
        )
        for value, customer_id, contact_id in rows:
            found[(kind, value)] = (customer_id, contact_id)
    return found


def existing_customers(*, session: Session, customer_ids: Iterable[str]) -> set[str]:
    """Which of ``customer_ids`` are stored customers (an imported survey response links to a
    customer id it carries only when that customer exists)."""
    wanted = sorted({c for c in customer_ids if c})
    rows = select_in(
        session.connection(), TABLES["customers"], ["customer_id"], "customer_id", wanted
    )
    return {row[0] for row in rows}


def has_identities(*, session: Session) -> bool:
    """Whether any identity is stored (a store's first feedback import can skip lookups)."""
    return session.execute(select(IDENTITIES.c.id).limit(1)).first() is not None


def register_identities(
    *, session: Session, claims: list[IdentityClaim], source: str, run_id: int | None = None
) -> int:
    """Store new identities; a value already owned by someone else becomes a reported conflict.
    ``run_id`` (the import run) is kept on what this call creates, so the run can be undone.

    Returns the number of conflicts found. Nothing is ever re-pointed or merged here: deciding
    that two customers are one person is a human's call.
    """
    if not claims:
        return 0
    owners = lookup_identities(session=session, pairs=((c.kind, c.value) for c in claims))
    new_rows: list[dict[str, str | int | None]] = []
    conflicts: dict[tuple[str, str, str], dict[str, str | int | None]] = {}
    for claim in claims:
        key = (claim.kind, claim.value)
        if key not in owners:
            owners[key] = (claim.customer_id, claim.contact_id)
            new_rows.append(
                {
                    "kind": claim.kind,
                    "value": claim.value,
                    "source": source,
                    "customer_id": claim.customer_id,
                    "contact_id": claim.contact_id,
                    "import_run_id": run_id,
                }
            )
            continue
        owner = _owner(*owners[key])
        if owner != claim.owner:
            conflicts[(claim.kind, claim.value, claim.owner)] = {
                "kind": claim.kind,
                "value": claim.value,
                "owner": owner,
                "claimed_by": claim.owner,
                "source": source,
                "detail": f"{claim.kind} already belongs to {owner}; not merged",
                "import_run_id": run_id,
            }
    if new_rows:
        session.execute(IDENTITIES.insert(), new_rows)
    if conflicts:
        known = set(
            session.execute(
                select(CONFLICTS.c.kind, CONFLICTS.c.value, CONFLICTS.c.claimed_by).where(
                    tuple_(CONFLICTS.c.kind, CONFLICTS.c.value).in_(
                        [(k, v) for k, v, _ in conflicts]
                    )
                )
            )
        )
        fresh = [row for key, row in conflicts.items() if key not in known]
        if fresh:
            session.execute(CONFLICTS.insert(), fresh)
    return len(conflicts)


def list_conflicts(
    *, session: Session, limit: int = 100, offset: int = 0
) -> list[IdentityConflict]:
    statement = select(IdentityConflict).order_by(IdentityConflict.id).limit(limit).offset(offset)
    return list(session.scalars(statement))


def account_of_contacts(*, session: Session, contact_ids: Iterable[str]) -> dict[str, str]:
    ids = sorted(set(contact_ids))
    table = TABLES["contacts"]
    result: dict[str, str] = {}
    for start in range(0, len(ids), LOOKUP_CHUNK):
        rows = session.execute(
            select(table.c.contact_id, table.c.account_id).where(
                table.c.contact_id.in_(ids[start : start + LOOKUP_CHUNK])
            )
        )
        result.update({contact_id: account_id for contact_id, account_id in rows})
    return result
