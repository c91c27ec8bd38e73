"""The customer's whole story beside a case: one read the agent's page, the API
(``GET /api/v1/cases/{id}/story``) and, later, the customer/account view share.

A handful of bounded queries (newest first, ``limit`` rows per list); voice is read through
``feedback.service.list_feedback`` so topics, aspect sentiment and PII masking are the search's
own. Personal data is masked unless ``reveal_pii`` (the case access rules decide who).
Nothing here writes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from cxloop.behaviour.models import Order as OrderRow
from cxloop.behaviour.models import Subscription as SubscriptionRow
from cxloop.customers.models import Account, Customer
from cxloop.customers.models import Contact as ContactRow
from cxloop.customers.models import Milestone as MilestoneRow
from cxloop.customers.models import Project as ProjectRow
from cxloop.feedback import service as feedback_service
from cxloop.feedback.pii_masking import mask_text
from cxloop.feedback.schemas import FeedbackFilter
from cxloop.insights.models import ChurnScore
from cxloop.loop.case_reads import aware
from cxloop.loop.facts_store import (
    NOT_COUNTED_ORDER_STATUSES,
    SPEND_DAYS,
    ValueRanks,
    account_ranks,
    spend_ranks,
)
from cxloop.loop.models import Case
from cxloop.loop.states import OPEN
from cxloop.loop.story_schemas import (
    AccountStory,
    CaseLine,
    ChurnReason,
    ChurnRisk,
    Contact,
    CustomerStory,
    Milestone,
    Order,
    Profile,
    Project,
    Subscription,
    Value,
)
from cxloop.privacy.masking import mask_record

LIMIT = 20
"""Rows per list by default: enough to read the customer at a glance, bounded for the page."""
ROLE_ORDER = (
    "decision_maker",
    "purchaser",
    "recommender",
    "influencer",
    "project_lead",
    "user",
    "employee",
)
"""B2B contacts are listed by role in this order (others after, by name)."""


def customer_story(
    *,
    session: Session,
    customer_id: str | None,
    account_id: str | None = None,
    reveal_pii: bool = False,
    exclude_case: int | None = None,
    limit: int = LIMIT,
    now: dt.datetime | None = None,
) -> CustomerStory:
    """Everything stored about ``customer_id`` (and the B2B ``account_id``), newest first;
    ``exclude_case`` leaves the case being read out of the case lists."""
    notes: list[str] = []
    if customer_id is None and account_id is None:
        return CustomerStory(masked=not reveal_pii, notes=["no customer or account is linked"])
    owner = _owner(customer_id, account_id)
    profile = _profile(session, customer_id, reveal_pii, notes)
    orders, orders_total = _orders(session, owner, limit)
    story = CustomerStory(
        customer_id=customer_id,
        account_id=account_id,
        profile=profile,
        value=_customer_value(session, customer_id, now or utc_now()) if customer_id else None,
        orders=orders,
        orders_total=orders_total,
        subscriptions=_subscriptions(session, owner, limit),
        churn=_churn(session, customer_id, notes) if customer_id else None,
        account=_account(session, account_id, reveal_pii, notes) if account_id else None,
        masked=not reveal_pii,
        notes=notes,
    )
    voice = feedback_service.list_feedback(
        session=session,
        filters=FeedbackFilter(
            customer_id=(customer_id,) if customer_id else (),
            account_id=(account_id,) if account_id and not customer_id else (),
        ),
        limit=limit,
        reveal_pii=reveal_pii,
    )
    open_cases, past_cases = _cases(session, owner, exclude_case, reveal_pii, limit)
    return story.model_copy(
        update={
            "voice": voice.items,
            "voice_total": voice.total,
            "open_cases": open_cases,
            "past_cases": past_cases,
        }
    )


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _owner(customer_id: str | None, account_id: str | None) -> tuple[str, str]:
    """Whose orders, subscriptions and cases to read: the customer's, else the account's."""
    return ("customer_id", customer_id) if customer_id else ("account_id", str(account_id))


def _where(model: Any, owner: tuple[str, str]) -> ColumnElement[bool]:
    column, value = owner
    return getattr(model, column) == value


def _profile(
    session: Session, customer_id: str | None, reveal_pii: bool, notes: list[str]
) -> Profile | None:
    if customer_id is None:
        return None
    row = session.get(Customer, customer_id)
    if row is None:
        notes.append(f"customer {customer_id} is not stored (no customer file names them yet)")
        return None
    record = {name: getattr(row, name) for name in Profile.model_fields}
    record["signed_up_at"] = aware(row.signed_up_at)
    if not reveal_pii:
        record = mask_record("customers", record)
    return Profile.model_validate(record)


def _counted() -> ColumnElement[bool]:
    """Orders that count as spend: not cancelled or refunded (the one definition the value rank
    and target lists use too)."""
    return func.coalesce(OrderRow.status, "").not_in(NOT_COUNTED_ORDER_STATUSES)


def _customer_value(session: Session, customer_id: str, now: dt.datetime) -> Value:
    """Spend over the customer's counted orders; its percentile is the one the alert rules and
    the priority read (``facts_store``: 365-day spend among stored customers), not a second
    definition that could disagree with the priority shown beside it."""
    ranks: ValueRanks = spend_ranks(session, now)
    return _value_of(session, ("customer_id", customer_id)).model_copy(
        update={
            "percentile": ranks.percentile(customer_id),
            "ranked": len(ranks.ordered),
            "basis": f"order spend in the {SPEND_DAYS} days before now, among stored customers",
        }
    )


def _value_of(session: Session, owner: tuple[str, str]) -> Value:
    """Counted orders and their spend, first and last order, and the currency if only one."""
    found = session.execute(
        select(
            func.count(OrderRow.order_id),
            func.coalesce(func.sum(OrderRow.amount), 0.0),
            func.min(OrderRow.ordered_at),
            func.max(OrderRow.ordered_at),
            func.count(func.distinct(OrderRow.currency)),
            func.max(OrderRow.currency),
        ).where(_where(OrderRow, owner), _counted())
    ).one()
    orders, spend, first, last, currencies, currency = found
    return Value(
        orders=int(orders),
        spend=round(float(spend), 2),
        currency=currency if currencies == 1 else None,
        first_order_at=aware(first),
        last_order_at=aware(last),
        basis="",
    )


def _orders(session: Session, owner: tuple[str, str], limit: int) -> tuple[list[Order], int]:
    where = _where(OrderRow, owner)
    total = int(session.scalar(select(func.count(OrderRow.order_id)).where(where)) or 0)
    rows = session.scalars(
        select(OrderRow)
        .where(where)
        .order_by(OrderRow.ordered_at.desc(), OrderRow.order_id)
        .limit(limit)
    )
    orders = [
        Order(
            order_id=r.order_id,
            ordered_at=aware(r.ordered_at) or r.ordered_at,
            amount=r.amount,
            currency=r.currency,
            status=r.status,
            channel=r.channel,
            product=r.product,
            quantity=r.quantity,
        )
        for r in rows
    ]
    return orders, total


def _subscriptions(session: Session, owner: tuple[str, str], limit: int) -> list[Subscription]:
    rows = session.scalars(
        select(SubscriptionRow)
        .where(_where(SubscriptionRow, owner))
        .order_by(SubscriptionRow.started_at.desc(), SubscriptionRow.subscription_id)
        .limit(limit)
    )
    return [
        Subscription(
            subscription_id=r.subscription_id,
            plan=r.plan,
            started_at=aware(r.started_at) or r.started_at,
            ended_at=aware(r.ended_at),
            renewed=r.renewed,
            amount=r.amount,
            status=r.status,
        )
        for r in rows
    ]


def _cases(
    session: Session,
    owner: tuple[str, str],
    exclude: int | None,
    reveal_pii: bool,
    limit: int,
) -> tuple[list[CaseLine], list[CaseLine]]:
    """The customer's (account's) other cases: open ones, then the most recent past ones."""
    query = select(Case).where(_where(Case, owner))
    if exclude is not None:
        query = query.where(Case.id != exclude)
    found = []
    for is_open in (True, False):
        status = Case.status.in_(OPEN) if is_open else Case.status.not_in(OPEN)
        rows = session.scalars(
            query.where(status).order_by(Case.opened_at.desc(), Case.id.desc()).limit(limit)
        )
        found.append([_case_line(r, reveal_pii) for r in rows])
    return found[0], found[1]


def _case_line(row: Case, reveal_pii: bool) -> CaseLine:
    return CaseLine(
        id=row.id,
        status=row.status,
        priority=row.priority,
        title=row.title if reveal_pii else mask_text(row.title),
        topic=row.topic,
        team=row.team,
        owner=row.owner,
        opened_at=aware(row.opened_at) or row.opened_at,
        closed_at=aware(row.closed_at),
        root_cause=row.root_cause,
    )


def _churn(session: Session, customer_id: str, notes: list[str]) -> ChurnRisk | None:
    """The newest stored score (any model version), with its reasons."""
    row = session.scalars(
        select(ChurnScore)
        .where(ChurnScore.customer_id == customer_id)
        .order_by(ChurnScore.scored_at.desc(), ChurnScore.model_version)
        .limit(1)
    ).first()
    if row is None:
        notes.append("no churn score is stored for this customer (cxloop insights churn)")
        return None
    reasons = [
        ChurnReason(
            feature=str(r.get("feature")),
            value=r.get("value"),
            contribution=float(r.get("contribution") or 0.0),
        )
        for r in (row.reasons or [])
        if isinstance(r, dict)
    ]
    return ChurnRisk(
        probability=row.probability,
        model_version=row.model_version,
        scored_at=aware(row.scored_at) or row.scored_at,
        reasons=reasons,
    )


def _account(
    session: Session, account_id: str, reveal_pii: bool, notes: list[str]
) -> AccountStory | None:
    row = session.get(Account, account_id)
    if row is None:
        notes.append(f"account {account_id} is not stored")
        return None
    projects = list(
        session.scalars(
            select(ProjectRow)
            .where(ProjectRow.account_id == account_id)
            .order_by(ProjectRow.start_date.desc(), ProjectRow.project_id)
        )
    )
    milestones: dict[str, list[Milestone]] = {}
    if projects:
        for m in session.scalars(
            select(MilestoneRow)
            .where(MilestoneRow.project_id.in_([p.project_id for p in projects]))
            .order_by(MilestoneRow.due_date, MilestoneRow.milestone_id)
        ):
            milestones.setdefault(m.project_id, []).append(
                Milestone(
                    milestone_id=m.milestone_id,
                    name=m.name,
                    due_date=m.due_date,
                    completed_at=aware(m.completed_at),
                    status=m.status,
                )
            )
    return AccountStory(
        account_id=row.account_id,
        name=row.name,
        industry=row.industry,
        region=row.region,
        segment=row.segment,
        tier=row.tier,
        owner=row.owner,
        annual_value=row.annual_value,
        value=_account_value(session, row),
        projects=[
            Project(
                project_id=p.project_id,
                name=p.name,
                status=p.status,
                start_date=p.start_date,
                end_date=p.end_date,
                milestones=milestones.get(p.project_id, []),
            )
            for p in projects
        ],
        contacts=_contacts(session, account_id, reveal_pii),
    )


def _account_value(session: Session, row: Account) -> Value:
    """The account's orders, ranked by annual value among accounts (as ``facts_store``)."""
    ranks: ValueRanks = account_ranks(session)
    return _value_of(session, ("account_id", row.account_id)).model_copy(
        update={
            "percentile": ranks.percentile(row.account_id),
            "ranked": len(ranks.ordered),
            "basis": "annual value, among accounts with one",
        }
    )


def _contacts(session: Session, account_id: str, reveal_pii: bool) -> list[Contact]:
    """The account's people, decision makers first (``ROLE_ORDER``), then by name."""
    rows = session.scalars(select(ContactRow).where(ContactRow.account_id == account_id))
    found = []
    for r in rows:
        record: dict[str, Any] = {name: getattr(r, name) for name in Contact.model_fields}
        if not reveal_pii:
            record = mask_record("contacts", record)
        found.append(Contact.model_validate(record))

    def order(contact: Contact) -> tuple[int, str, str]:
        rank = ROLE_ORDER.index(contact.role) if contact.role in ROLE_ORDER else len(ROLE_ORDER)
        return rank, contact.name or "", contact.contact_id

    return sorted(found, key=order)
