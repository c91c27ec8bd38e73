"""Customer search, customer 360 and account 360 as JSON: the numbers the ``/customers…`` and
``/accounts/{id}`` pages show, from the same service (``dashboards.people``). Every reader may
read them; personal data follows the case screen's rule (``dashboards.people`` says it).
Ids may hold slashes and any Unicode (``{id:path}``: ``/customers/a%2Fb`` is customer ``a/b``).
Mount before ``records.router``, whose ``/api/v1/{kind}/{id}`` would catch these paths."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from cxloop.dashboards import people
from cxloop.dashboards.people_schemas import (
    Account360Result,
    Customer360Result,
    CustomerSearchResult,
)
from cxloop.loop.case_access import actor_of
from cxloop.web.deps import Reader, SessionDep, SettingsDep

router = APIRouter(prefix="/api/v1/dashboard", tags=["dashboard"])

Limit = Annotated[int, Query(ge=1, le=100, description="Rows per list.")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="Customers to skip (paging).")]
Search = Annotated[
    str | None,
    Query(max_length=200, description="Part of a customer id (name or e-mail too for roles "
          "that read personal data), or of an account's id or name; empty lists everyone."),
]  # fmt: skip


@router.get("/customers", response_model=CustomerSearchResult)
def search_customers(
    session: SessionDep, user: Reader, q: Search = None, limit: Limit = 20, offset: Offset = 0
) -> CustomerSearchResult:
    """Customers (and accounts) matching ``q``, by id, paged."""
    actor = actor_of(user.username, user.role)
    return people.search_customers(session=session, actor=actor, q=q, limit=limit, offset=offset)


@router.get("/customers/{customer_id:path}", response_model=Customer360Result)
def customer_360(
    customer_id: str, session: SessionDep, user: Reader, limit: Limit = 20
) -> Customer360Result:
    """One customer's profile, value, orders, subscriptions, voice, cases and churn risk."""
    actor = actor_of(user.username, user.role)
    return people.customer_360(session=session, actor=actor, customer_id=customer_id, limit=limit)


@router.get("/accounts/{account_id:path}", response_model=Account360Result)
def account_360(
    account_id: str, session: SessionDep, settings: SettingsDep, user: Reader, limit: Limit = 20
) -> Account360Result:
    """One B2B account: projects, milestones, contacts by role, answers, role-weighted health."""
    actor = actor_of(user.username, user.role)
    return people.account_360(
        session=session, settings=settings, actor=actor, account_id=account_id, limit=limit
    )
