"""The customer's whole story as the agent's screen shows it beside a case (and as issue 15's
customer/account view will reuse it): profile and value, orders, subscriptions, recent voice
with topics and aspect sentiment, open and past cases, churn risk with its reasons, and for B2B
the account, its projects, milestones and contacts by role. Times are UTC."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

from cxloop.feedback.schemas import FeedbackItem


class Profile(BaseModel):
    """The customer as stored (personal fields masked unless the reader may see them)."""

    customer_id: str
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    member_id: str | None = None
    handle: str | None = None
    gender: str | None = None
    city: str | None = None
    region: str | None = None
    segment: str | None = None
    signed_up_at: dt.datetime | None = None
    attributes: dict[str, Any] | None = None


class Value(BaseModel):
    """What the customer (or account) is worth to the business, and where that ranks."""

    orders: int = Field(
        description="The customer's (account's) orders that count as spend: not cancelled or "
        "refunded."
    )
    spend: float = Field(description="Sum of those orders' amounts, over all time.")
    currency: str | None = Field(None, description="The orders' currency when they share one.")
    first_order_at: dt.datetime | None = None
    last_order_at: dt.datetime | None = None
    percentile: float | None = Field(
        None,
        description="Percent of customers (accounts) worth less: order spend in the 365 days "
        "before now for a customer (the rank the alert rules and the priority read), annual "
        "value for an account; None when nobody is ranked.",
    )
    basis: str = Field(description="What the percentile ranks, in words.")
    ranked: int = Field(0, description="How many customers (accounts) the percentile ranks.")


class Order(BaseModel):
    order_id: str
    ordered_at: dt.datetime
    amount: float
    currency: str | None = None
    status: str | None = None
    channel: str | None = None
    product: str | None = None
    quantity: int | None = None


class Subscription(BaseModel):
    subscription_id: str
    plan: str
    started_at: dt.datetime
    ended_at: dt.datetime | None = None
    renewed: bool | None = None
    amount: float | None = None
    status: str | None = None


class CaseLine(BaseModel):
    """Another case of the same customer or account (title masked like the case's own)."""

    id: int
    status: str
    priority: str
    title: str
    topic: str
    team: str | None = None
    owner: str | None = None
    opened_at: dt.datetime
    closed_at: dt.datetime | None = None
    root_cause: str | None = None


class ChurnReason(BaseModel):
    """One feature that moved the customer's churn score, with its value and contribution."""

    feature: str
    value: Any = None
    contribution: float


class ChurnRisk(BaseModel):
    """The customer's latest stored churn score (``cxloop insights churn``) and why."""

    probability: float
    model_version: str
    scored_at: dt.datetime
    reasons: list[ChurnReason] = Field(default_factory=list)


class Milestone(BaseModel):
    milestone_id: str
    name: str
    due_date: dt.date | None = None
    completed_at: dt.datetime | None = None
    status: str | None = None


class Project(BaseModel):
    project_id: str
    name: str
    status: str | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    milestones: list[Milestone] = Field(default_factory=list)


class Contact(BaseModel):
    contact_id: str
    role: str
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    title: str | None = None


class AccountStory(BaseModel):
    """A B2B account: who it is, what it is worth, its projects and its people by role."""

    account_id: str
    name: str
    industry: str | None = None
    region: str | None = None
    segment: str | None = None
    tier: str | None = None
    owner: str | None = None
    annual_value: float | None = None
    value: Value | None = None
    projects: list[Project] = Field(default_factory=list)
    contacts: list[Contact] = Field(default_factory=list)


class CustomerStory(BaseModel):
    """Everything stored about the customer (and account) behind a case, newest first."""

    customer_id: str | None = None
    account_id: str | None = None
    profile: Profile | None = None
    value: Value | None = None
    orders: list[Order] = Field(default_factory=list)
    orders_total: int = 0
    subscriptions: list[Subscription] = Field(default_factory=list)
    voice: list[FeedbackItem] = Field(
        default_factory=list, description="Recent feedback from every channel, newest first."
    )
    voice_total: int = 0
    open_cases: list[CaseLine] = Field(default_factory=list)
    past_cases: list[CaseLine] = Field(default_factory=list)
    churn: ChurnRisk | None = None
    account: AccountStory | None = None
    masked: bool = Field(False, description="True when personal data is masked for this reader.")
    notes: list[str] = Field(
        default_factory=list, description="What is not there and why (no customer linked…)."
    )
