"""Reading trigger events out of the behaviour and project tables the imports fill.

Each source pages through rows the store wrote after a time (``updated_at``: when an import
inserted or changed the row), so a status that turns ``已签收`` in tomorrow's export is seen
tomorrow, and yields :class:`Found` events with a stable key: the same order, ticket closure,
renewal or milestone always gets the same key, whatever re-imports do.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Table, and_, or_, select
from sqlalchemy.orm import Session

from cxloop.behaviour import service as behaviour_service
from cxloop.customers import service as customers_service
from cxloop.surveys import trigger_rules as rules

PAGE = 2_000
IN_CHUNK = 500
ORDER_LOOKBACK = dt.timedelta(days=30)
"""An order placed this long before its trigger existed is history (a first import of years
of orders must not survey them), even when the store learns of its delivery only now."""


@dataclass(frozen=True)
class Found:
    """One event: who, when it happened, when the store learned it, and what to pipe."""

    key: str
    seen_at: dt.datetime
    occurred_at: dt.datetime
    customer_id: str | None = None
    account_id: str | None = None
    contact_id: str | None = None
    email: str | None = None
    milestone_id: str | None = None
    context: dict[str, Any] = field(default_factory=dict)
    history: bool = False
    """Known to predate the trigger whatever ``occurred_at`` says (see ORDER_LOOKBACK)."""


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def pages(
    session: Session, table: Table, key: str, since: dt.datetime, columns: Sequence[str]
) -> Iterator[list[Any]]:
    """Rows written after ``since``, oldest first, in pages (keyset on ``updated_at``, key)."""
    cols = [table.c[c] for c in dict.fromkeys([key, "updated_at", *columns])]
    stamp, last = table.c.updated_at, table.c[key]
    after: tuple[dt.datetime, str] | None = None
    while True:
        query = select(*cols).where(stamp > since)
        if after is not None:
            query = query.where(or_(stamp > after[0], and_(stamp == after[0], last > after[1])))
        rows = list(session.execute(query.order_by(stamp, last).limit(PAGE)))
        if not rows:
            return
        yield rows
        after = (rows[-1].updated_at, getattr(rows[-1], key))


def orders(
    session: Session, since: dt.datetime, zone: ZoneInfo, created_at: dt.datetime
) -> Iterator[list[Found]]:
    """Orders whose status says the goods arrived (``delivered``, ``已签收``, ``交易成功``…)."""
    table = behaviour_service.TABLES["orders"]
    columns = ("customer_id", "account_id", "ordered_at", "amount", "currency", "status")
    for page in pages(session, table, "order_id", since, (*columns, "product", "attributes")):
        found = []
        for r in page:
            if r.status is None or rules.normal(r.status) not in rules.DELIVERED:
                continue
            occurred = rules.delivery_time(r.attributes, zone) or r.updated_at
            context = {
                "order_id": r.order_id,
                "product": r.product,
                "amount": r.amount,
                "currency": r.currency,
                "ordered_at": _iso(r.ordered_at),
                "status": r.status,
            }
            found.append(
                Found(
                    key=f"order:{r.order_id}",
                    seen_at=r.updated_at,
                    occurred_at=occurred,
                    customer_id=r.customer_id,
                    account_id=r.account_id,
                    context={"order": context},
                    history=r.ordered_at < created_at - ORDER_LOOKBACK,
                )
            )
        yield found


def tickets(session: Session, since: dt.datetime) -> Iterator[list[Found]]:
    """Events whose type says a ticket was closed (``ticket_closed``, ``工单关闭``…); one per
    customer and moment, so the same closure exported twice (with or without an id) is one."""
    table = behaviour_service.TABLES["events"]
    columns = ("customer_id", "event_type", "occurred_at", "product", "session_id", "attributes")
    for page in pages(session, table, "event_id", since, columns):
        found = []
        for r in page:
            if rules.normal(r.event_type) not in rules.TICKET_CLOSED:
                continue
            ticket = rules.attribute(r.attributes, ("ticket_id", "工单号", "工单id", "case_id"))
            context = {"event_id": r.event_id, "ticket_id": ticket, "product": r.product}
            found.append(
                Found(
                    key=f"ticket:{r.customer_id}:{r.occurred_at.isoformat()}",
                    seen_at=r.updated_at,
                    occurred_at=r.occurred_at,
                    customer_id=r.customer_id,
                    context={"ticket": context},
                )
            )
        yield found


def renewals(session: Session, since: dt.datetime) -> Iterator[list[Found]]:
    """Renewed plans: ``renewed`` true (or a renewed status), or a later subscription of the
    same customer or account after one not marked unrenewed. Both name the renewed period, so a
    renewal told both ways is one event."""
    table = behaviour_service.TABLES["subscriptions"]
    columns = ("customer_id", "account_id", "plan", "started_at", "ended_at", "renewed", "status")
    for page in pages(session, table, "subscription_id", since, columns):
        found: dict[str, Found] = {}
        earlier = _owners_subscriptions(session, table, page)
        for r in page:
            if r.renewed is True or (r.status and rules.normal(r.status) in rules.RENEWED):
                _keep(found, _renewal(r, r, r.ended_at or r.updated_at, r.updated_at))
            owner = ("c", r.customer_id) if r.customer_id else ("a", r.account_id)
            before = [
                s
                for s in earlier.get(owner, [])
                if s.started_at < r.started_at and s.subscription_id != r.subscription_id
            ]
            if before:
                previous = max(before, key=lambda s: s.started_at)
                if previous.renewed is not False:
                    _keep(found, _renewal(previous, r, r.started_at, r.updated_at))
        yield list(found.values())


def _keep(found: dict[str, Found], event: Found) -> None:
    if event.key not in found or event.occurred_at < found[event.key].occurred_at:
        found[event.key] = event


def _renewal(renewed: Any, new: Any, occurred: dt.datetime, seen: dt.datetime) -> Found:
    context = {
        "subscription_id": renewed.subscription_id,
        "plan": new.plan,
        "renewed_until": _iso(new.ended_at) if new is not renewed else None,
    }
    return Found(
        key=f"subscription:{renewed.subscription_id}",
        seen_at=seen,
        occurred_at=occurred,
        customer_id=renewed.customer_id,
        account_id=renewed.account_id,
        context={"subscription": context},
    )


def _owners_subscriptions(
    session: Session, table: Table, page: Sequence[Any]
) -> dict[tuple[str, str], list[Any]]:
    """Every subscription of the page's customers and accounts, by owner."""
    customers = sorted({r.customer_id for r in page if r.customer_id})
    accounts = sorted({r.account_id for r in page if not r.customer_id and r.account_id})
    cols = [table.c[c] for c in ("subscription_id", "customer_id", "account_id", "started_at")]
    cols.append(table.c.renewed)
    by_owner: dict[tuple[str, str], list[Any]] = {}
    for column, ids, tag in (("customer_id", customers, "c"), ("account_id", accounts, "a")):
        for start in range(0, len(ids), IN_CHUNK):
            chunk = ids[start : start + IN_CHUNK]
            for s in session.execute(select(*cols).where(table.c[column].in_(chunk))):
                by_owner.setdefault((tag, getattr(s, column)), []).append(s)
    return by_owner


def milestones(session: Session, since: dt.datetime) -> Iterator[list[Found]]:
    """Milestones reached: a completion time, or a status such as ``done`` or ``已验收``."""
    table = customers_service.TABLES["milestones"]
    projects = customers_service.TABLES["projects"]
    columns = ("project_id", "name", "completed_at", "status", "due_date")
    for page in pages(session, table, "milestone_id", since, columns):
        done = [
            r
            for r in page
            if r.completed_at is not None
            or (r.status and rules.normal(r.status) in rules.MILESTONE_DONE)
        ]
        ids = sorted({r.project_id for r in done})
        project = {
            p.project_id: p
            for p in session.execute(
                select(projects.c.project_id, projects.c.account_id, projects.c.name).where(
                    projects.c.project_id.in_(ids)
                )
            )
        }
        found = []
        for r in done:
            p = project.get(r.project_id)
            context = {
                "milestone": {
                    "milestone_id": r.milestone_id,
                    "name": r.name,
                    "due_date": r.due_date.isoformat() if r.due_date else None,
                    "project": p.name if p else None,
                    "project_id": r.project_id,
                }
            }
            found.append(
                Found(
                    key=f"milestone:{r.milestone_id}",
                    seen_at=r.updated_at,
                    occurred_at=r.completed_at or r.updated_at,
                    account_id=p.account_id if p else None,
                    milestone_id=r.milestone_id,
                    context=context,
                )
            )
        yield found
