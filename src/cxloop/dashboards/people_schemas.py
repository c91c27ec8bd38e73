"""Shapes of the customer search, the customer 360 and the account 360 (``dashboards.people``):
what ``GET /api/v1/dashboard/customers…`` and ``…/accounts/{id}`` return and the pages render.

The 360s wrap the agent's case-screen story (``loop.story_schemas.CustomerStory``) rather than
copying its fields, so the case screen and the 360 pages read one shape."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from cxloop.dashboards.freshness import Freshness
from cxloop.loop.story_schemas import CustomerStory
from cxloop.metrics.accounts import AccountHealthRow, CoverageRow, WindowRow

SearchField = Literal["id", "name", "email"]


class CustomerHit(BaseModel):
    """One customer found (name and e-mail masked unless the reader may see them)."""

    model_config = ConfigDict(frozen=True)

    customer_id: str
    name: str | None = None
    email: str | None = None
    segment: str | None = None
    region: str | None = None
    city: str | None = None
    masked: bool = Field(description="True when name and e-mail are masked for this reader.")


class AccountHit(BaseModel):
    """One B2B account found (a company's name is not personal data: never masked)."""

    model_config = ConfigDict(frozen=True)

    account_id: str
    name: str
    segment: str | None = None
    region: str | None = None
    tier: str | None = None


class CustomerSearchResult(BaseModel):
    """A page of customers (and the accounts) matching ``q``, ordered by id."""

    model_config = ConfigDict(frozen=True)

    q: str = Field(description="The search text as read (trimmed); empty lists everyone.")
    searched: list[SearchField] = Field(
        description="Which customer fields were searched: name and e-mail only for roles that "
        "read personal data (admin, agent); the others search by id."
    )
    customers: list[CustomerHit]
    total: int = Field(description="Customers matching, over all pages.")
    accounts: list[AccountHit] = Field(description="Accounts whose id or name matches (≤ limit).")
    accounts_total: int
    limit: int
    offset: int
    notes: list[str] = Field(default_factory=list, description="Why a page may be empty.")
    freshness: Freshness


class CaseAccess(BaseModel):
    """Which of the listed cases this reader may open (the case screen's own rules)."""

    model_config = ConfigDict(frozen=True)

    readable: list[int] = Field(
        description="Case ids this reader may open at /cases/{id}: every case for admins, "
        "viewers and analysts; an agent's own teams' cases."
    )


class Customer360Result(BaseModel):
    """One customer: the story the agent's case screen shows, for whoever may read data."""

    model_config = ConfigDict(frozen=True)

    customer_id: str
    story: CustomerStory
    cases: CaseAccess
    pii_rule: str = Field(description="Why personal data is shown or masked, in words.")
    freshness: Freshness


class ContactAnswers(BaseModel):
    """A contact of the account with how often and how they answered."""

    model_config = ConfigDict(frozen=True)

    contact_id: str
    role: str = Field(description="As stored; empty when the contacts file gave none.")
    answers: int
    last_answered_at: dt.datetime | None = None
    last_nps: int | None = Field(None, description="NPS of their newest answer with one.")


class AccountHealth(BaseModel):
    """The account's role-weighted health, as ``GET /api/v1/metrics/accounts?account=…``."""

    model_config = ConfigDict(frozen=True)

    row: AccountHealthRow
    coverage: list[CoverageRow]
    projects: list[WindowRow]
    milestones: list[WindowRow]
    as_of: dt.datetime
    days: int | None
    coverage_days: int
    min_n: int
    weights: dict[str, float]
    default_weight: float
    method: str
    caveats: list[str]


class Account360Result(BaseModel):
    """One B2B account: who it is, its projects and milestones, contacts by role with their
    answers, role-weighted health with its interval and n, orders, voice and cases."""

    model_config = ConfigDict(frozen=True)

    account_id: str
    story: CustomerStory
    health: AccountHealth
    contacts: list[ContactAnswers] = Field(
        description="Every contact of the account (the story lists them with their names)."
    )
    cases: CaseAccess
    pii_rule: str
    freshness: Freshness
