"""Customer and account 360: the customer search, one customer's story and one B2B account's
story with its role-weighted health — the one computation ``/customers…``, ``/accounts/{id}``
and ``GET /api/v1/dashboard/customers…`` / ``…/accounts/{id}`` share.

The story is the agent's case screen's own (``loop.story.customer_story``), the health is
``GET /api/v1/metrics/accounts``'s own (``metrics.account_store.account_health``, single
answers hidden from viewers as there), so no number here can disagree with either.

Who sees personal data (the case screen's rule, carried over): every reader may open any
customer's or account's 360 (read_data); admins see personal data; an agent sees it only for a
customer (account) of a case they own — an agent is not shown the personal data of customers
outside their cases, as on the case screen, where only the owner reads it; analysts and
viewers always see it masked. Name and e-mail search is for roles with read_pii only.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from cxloop.behaviour.models import Order
from cxloop.config import Settings
from cxloop.customers.models import Account, Customer
from cxloop.customers.models import Contact as ContactRow
from cxloop.dashboards.freshness import Freshness
from cxloop.dashboards.people_schemas import (
    Account360Result,
    AccountHealth,
    AccountHit,
    CaseAccess,
    ContactAnswers,
    Customer360Result,
    CustomerHit,
    CustomerSearchResult,
    SearchField,
)
from cxloop.errors import NotFound
from cxloop.feedback.models import Feedback
from cxloop.loop import case_access, teams
from cxloop.loop.case_reads import aware
from cxloop.loop.models import Case
from cxloop.loop.states import Actor, CaseView, may
from cxloop.loop.story import LIMIT, customer_story
from cxloop.loop.story_schemas import CaseLine
from cxloop.metrics.account_store import account_health
from cxloop.metrics.accounts import hide_single_answers
from cxloop.privacy.masking import mask_record
from cxloop.privacy.roles import Permission, allows

LIVE = Freshness(source="store")
"""The 360s read the store itself (a few bounded queries per page), never the snapshot."""
PII_SHOWN = "personal data shown: the reader may see it for this customer"
PII_NO_ROLE = "personal data masked: this role does not read personal data"
PII_NOT_THEIRS = "personal data masked: an agent sees it only for customers of cases they own"


def _roles_read_pii(actor: Actor) -> bool:
    return any(allows(role, Permission.read_pii) for role in actor.roles)


def _sees_all_pii(actor: Actor) -> bool:
    return "admin" in actor.roles


def _owned(session: Session, actor: Actor, column: str, ids: list[str]) -> set[str]:
    """Which of ``ids`` (customer or account ids) name a case ``actor`` owns."""
    if not ids:
        return set()
    field = getattr(Case, column)
    rows = session.scalars(select(field).where(Case.owner == actor.name, field.in_(ids)).distinct())
    return {str(r) for r in rows}


def pii_rule(
    session: Session, actor: Actor, *, customer_id: str | None = None, account_id: str | None = None
) -> tuple[bool, str]:
    """(reveal, why in words) for one customer or account and this reader (see the module)."""
    if not _roles_read_pii(actor):
        return False, PII_NO_ROLE
    if _sees_all_pii(actor):
        return True, PII_SHOWN
    column, key = ("customer_id", customer_id) if customer_id else ("account_id", account_id)
    if key and _owned(session, actor, column, [key]):
        return True, PII_SHOWN
    return False, PII_NOT_THEIRS


def _like(text: str) -> str:
    """``text`` as a LIKE pattern matching it anywhere, its wildcards taken literally."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_customers(
    *, session: Session, actor: Actor, q: str | None, limit: int = 20, offset: int = 0
) -> CustomerSearchResult:
    """Customers whose id (and, for readers of personal data, name or e-mail) contains ``q``,
    case-insensitively, ordered by id; and the accounts whose id or name contains it."""
    text = (q or "").strip()
    searched: list[SearchField] = ["id", "name", "email"] if _roles_read_pii(actor) else ["id"]
    pattern = _like(text)
    columns = {"id": Customer.customer_id, "name": Customer.name, "email": Customer.email}
    match: ColumnElement[bool] = or_(
        *(func.lower(columns[f]).like(pattern, escape="\\") for f in searched)
    )
    query = select(Customer).where(match) if text else select(Customer)
    total = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    rows = list(session.scalars(query.order_by(Customer.customer_id).limit(limit).offset(offset)))
    shown = _shown_customers(session, actor, [r.customer_id for r in rows])
    hits = []
    for row in rows:
        record = {name: getattr(row, name) for name in CustomerHit.model_fields if name != "masked"}
        reveal = row.customer_id in shown
        hits.append(
            CustomerHit(
                **(record if reveal else mask_record("customers", record)), masked=not reveal
            )
        )
    accounts, accounts_total = _accounts(session, text, limit)
    notes = []
    if text and not total and searched == ["id"]:
        notes.append(
            f"no customer id contains {text!r}; this role searches customers by id only "
            "(name and e-mail search needs the right to read personal data)"
        )
    elif text and not total:
        notes.append(f"no customer's id, name or e-mail contains {text!r}")
    return CustomerSearchResult(
        q=text,
        searched=searched,
        customers=hits,
        total=total,
        accounts=accounts,
        accounts_total=accounts_total,
        limit=limit,
        offset=offset,
        notes=notes,
        freshness=LIVE,
    )


def _shown_customers(session: Session, actor: Actor, ids: list[str]) -> set[str]:
    """Of ``ids``, the customers whose personal data ``actor`` may read."""
    if not _roles_read_pii(actor):
        return set()
    if _sees_all_pii(actor):
        return set(ids)
    return _owned(session, actor, "customer_id", ids)


def _accounts(session: Session, text: str, limit: int) -> tuple[list[AccountHit], int]:
    pattern = _like(text)
    match = or_(
        func.lower(Account.account_id).like(pattern, escape="\\"),
        func.lower(Account.name).like(pattern, escape="\\"),
    )
    query = select(Account).where(match) if text else select(Account)
    total = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    rows = session.scalars(query.order_by(Account.account_id).limit(limit))
    hits = [
        AccountHit(
            account_id=r.account_id, name=r.name, segment=r.segment, region=r.region, tier=r.tier
        )
        for r in rows
    ]
    return hits, total


def readable_cases(session: Session, actor: Actor, lines: list[CaseLine]) -> CaseAccess:
    """The listed cases ``actor`` may open, by the case screen's rules (``case_access``)."""
    if case_access.reads_only(actor) or "admin" in actor.roles:
        return CaseAccess(readable=[c.id for c in lines])
    mine = teams.memberships(session, actor.name)
    return CaseAccess(
        readable=[
            c.id
            for c in lines
            if may(actor.roles, mine, "read", CaseView(c.team, c.owner, c.status))
        ]
    )


def _customer_known(session: Session, customer_id: str) -> bool:
    """Stored as a customer, or named by a stored feedback row, order or case."""
    if session.get(Customer, customer_id) is not None:
        return True
    return any(
        session.scalar(select(column).where(column == customer_id).limit(1)) is not None
        for column in (Feedback.customer_id, Order.customer_id, Case.customer_id)
    )


def customer_360(
    *,
    session: Session,
    actor: Actor,
    customer_id: str,
    limit: int = LIMIT,
    now: dt.datetime | None = None,
) -> Customer360Result:
    """One customer's 360 for ``actor``: ``NotFound`` when nothing stored names the id."""
    if not customer_id or not _customer_known(session, customer_id):
        raise NotFound(
            f"no customer with id {customer_id!r}: no customer, feedback, order or case names it"
        )
    reveal, why = pii_rule(session, actor, customer_id=customer_id)
    story = customer_story(
        session=session, customer_id=customer_id, reveal_pii=reveal, limit=limit, now=now
    )
    return Customer360Result(
        customer_id=customer_id,
        story=story,
        cases=readable_cases(session, actor, story.open_cases + story.past_cases),
        pii_rule=why,
        freshness=LIVE,
    )


def account_360(
    *,
    session: Session,
    settings: Settings,
    actor: Actor,
    account_id: str,
    limit: int = LIMIT,
    now: dt.datetime | None = None,
) -> Account360Result:
    """One account's 360 for ``actor``: ``NotFound`` for an account that is not stored."""
    if not account_id or session.get(Account, account_id) is None:
        raise NotFound(f"no account with id {account_id!r}")
    reveal, why = pii_rule(session, actor, account_id=account_id)
    story = customer_story(
        session=session, customer_id=None, account_id=account_id, reveal_pii=reveal, limit=limit,
        now=now,
    )  # fmt: skip
    report = account_health(settings=settings, account_id=account_id, as_of=now)
    viewer = actor.roles == {"viewer"}
    if viewer:
        report = hide_single_answers(report)  # as GET /api/v1/metrics/accounts does for viewers
    health = AccountHealth(
        row=report.accounts[0],
        coverage=report.coverage,
        projects=report.projects,
        milestones=report.milestones,
        as_of=report.as_of,
        days=report.days,
        coverage_days=report.coverage_days,
        min_n=report.min_n,
        weights=report.weights,
        default_weight=report.default_weight,
        method=report.method,
        caveats=report.caveats,
    )
    return Account360Result(
        account_id=account_id,
        story=story,
        health=health,
        contacts=_contact_answers(session, account_id, hide_scores=viewer),
        cases=readable_cases(session, actor, story.open_cases + story.past_cases),
        pii_rule=why,
        freshness=LIVE,
    )


def _contact_answers(
    session: Session, account_id: str, *, hide_scores: bool = False
) -> list[ContactAnswers]:
    """Every contact of the account with their number of answers, newest answer and its NPS
    (one grouped query, one for the newest scores); ``hide_scores`` leaves one person's NPS
    out, as the health hides single answers from viewers."""
    contacts = list(
        session.execute(
            select(ContactRow.contact_id, ContactRow.role)
            .where(ContactRow.account_id == account_id)
            .order_by(ContactRow.contact_id)
        )
    )
    ids = [c for c, _ in contacts]
    counts: dict[str, tuple[int, dt.datetime | None]] = {}
    last_nps: dict[str, int] = {}
    if ids:
        for contact, n, last in session.execute(
            select(Feedback.contact_id, func.count(), func.max(Feedback.created_at))
            .where(Feedback.contact_id.in_(ids))
            .group_by(Feedback.contact_id)
        ):
            counts[str(contact)] = (int(n), last)
    if ids and not hide_scores:
        for contact, nps in session.execute(
            select(Feedback.contact_id, Feedback.nps)
            .where(Feedback.contact_id.in_(ids), Feedback.nps.is_not(None))
            .order_by(Feedback.contact_id, Feedback.created_at)
        ):
            last_nps[str(contact)] = int(nps or 0)  # ordered oldest first: the newest wins
    found = []
    for contact_id, role in contacts:
        n, newest = counts.get(contact_id, (0, None))
        found.append(
            ContactAnswers(
                contact_id=contact_id,
                role=role or "",
                answers=n,
                last_answered_at=aware(newest),
                last_nps=last_nps.get(contact_id),
            )
        )
    return found
