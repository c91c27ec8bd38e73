"""Read and write shapes of teams and cases, shared by the service, the API and the pages."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from cxloop.loop.rules import Severity


def _name(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
    if not isinstance(value, str) or not value:
        raise ValueError("must be a non-empty name")
    if len(value) > 128:
        raise ValueError("is longer than 128 characters")
    return value


class MemberWrite(BaseModel):
    """A team member as a teams file or the API gives it; roster order is list order."""

    model_config = ConfigDict(extra="forbid")

    name: str
    email: str | None = Field(default=None, max_length=320)
    role: Literal["agent", "lead"] = "agent"
    active: bool = True

    _check_name = field_validator("name", mode="before")(_name)

    @model_validator(mode="before")
    @classmethod
    def _bare_name(cls, data: Any) -> Any:
        """``members: [wang.fang, li.na]``: a bare name is an agent of that name."""
        return {"name": data} if isinstance(data, str) else data


class TeamWrite(BaseModel):
    """A team with its whole roster (saving it replaces the roster, keeping the order)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    lead: str | None = None
    sla_policy: str | None = Field(default=None, max_length=64)
    members: list[MemberWrite] = Field(default_factory=list)

    _check_name = field_validator("name", mode="before")(_name)

    @field_validator("lead", mode="before")
    @classmethod
    def _lead(cls, value: Any) -> Any:
        return None if value is None else _name(value)

    @field_validator("members")
    @classmethod
    def _unique(cls, members: list[MemberWrite]) -> list[MemberWrite]:
        seen: set[str] = set()
        for member in members:
            if member.name.casefold() in seen:
                raise ValueError(f"lists {member.name} twice")
            seen.add(member.name.casefold())
        return members


class MemberRead(BaseModel):
    name: str
    email: str | None
    role: str
    active: bool
    open_cases: int


class TeamRead(BaseModel):
    name: str
    lead: str | None
    sla_policy: str | None
    members: list[MemberRead]
    warnings: list[str] = Field(
        default_factory=list, description="What will go wrong as the team stands (no lead…)."
    )


class CaseCreate(BaseModel):
    """A case opened by hand. Without ``team`` the routing rules choose one; ``owner`` must be
    an active member of the team; ``value_percentile`` and ``churn_risk`` feed the priority."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=512)
    severity: Severity
    # ids as the store keeps them (128 characters): longer failed PostgreSQL's column, a 500
    customer_id: str | None = Field(default=None, max_length=128)
    account_id: str | None = Field(default=None, max_length=128)
    contact_id: str | None = Field(default=None, max_length=128)
    topic: str | None = Field(default=None, max_length=200)
    team: str | None = None
    owner: str | None = None
    feedback_ids: list[str] = Field(default_factory=list)
    value_percentile: float | None = Field(default=None, ge=0, le=100)
    churn_risk: float | None = Field(default=None, ge=0, le=1)


class CaseRead(BaseModel):
    """A case as stored, times in UTC; ``next_due`` is the first-response due time until the
    first contact, then the resolution due time (None once resolved or closed)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    status: str
    title: str
    customer_id: str | None
    account_id: str | None
    contact_id: str | None
    origin_feedback_id: str | None
    rule_id: str | None
    topic: str
    severity: str
    priority: str
    priority_score: float
    priority_explanation: list[dict[str, Any]]
    team: str | None
    owner: str | None
    routing_via: str | None
    routing_reason: str | None
    opened_at: dt.datetime
    first_response_warn_at: dt.datetime | None
    first_response_due: dt.datetime | None
    resolution_warn_at: dt.datetime | None
    resolution_due: dt.datetime | None
    first_response_warned_at: dt.datetime | None
    first_response_escalated_at: dt.datetime | None
    resolution_warned_at: dt.datetime | None
    resolution_escalated_at: dt.datetime | None
    first_responded_at: dt.datetime | None
    resolved_at: dt.datetime | None
    verified_at: dt.datetime | None
    closed_at: dt.datetime | None
    root_cause: str | None
    reopen_count: int
    created_by: str
    updated_at: dt.datetime
    sla_paused_at: dt.datetime | None = None
    """Since when the SLA clocks stand still (the case waits on the customer); None: running."""
    sla_paused_s: float = 0.0
    """Working seconds the case has waited on the customer so far (its due times moved by it)."""
    next_due: dt.datetime | None = None
    sla_paused: bool = False
    """The clocks stand still: ``next_due`` is the due time before this wait (it moves later by
    the working time waited when the case moves on) and ``seconds_left`` is None."""
    seconds_left: float | None = None
    """Wall-clock seconds from the read's ``now`` to ``next_due`` (negative: overdue); None
    while the SLA is paused or no clock runs."""

    @field_validator("sla_paused_s", "sla_paused", mode="before")
    @classmethod
    def _unset(cls, value: Any, info: ValidationInfo) -> Any:
        """None (a row read before the pause columns existed) as the default: not paused."""
        if value is None:
            return 0.0 if info.field_name == "sla_paused_s" else False
        return value


class CaseEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: dt.datetime
    actor: str
    kind: str
    data: dict[str, Any]


class CaseDetail(BaseModel):
    """A case with the feedback attached to it (oldest first) and its whole history."""

    case: CaseRead
    feedback_ids: list[str]
    history: list[CaseEventRead]
    allowed_actions: list[str]


class CaseOpened(BaseModel):
    """What a rule match did: opened a case, attached the feedback to an open one, or nothing
    (the feedback was attached to that case already)."""

    outcome: Literal["opened", "attached", "unchanged"]
    case: CaseRead


class QueueRead(BaseModel):
    """One page of a queue, most urgent first, with counts by status over the whole queue
    (every status, not only those shown) and how many open cases are past a due time."""

    items: list[CaseRead]
    total: int
    counts: dict[str, int]
    overdue: int
