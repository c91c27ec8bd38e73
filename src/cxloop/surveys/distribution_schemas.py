"""Shapes of a send: the audience asked for, the result (sent, scheduled, skipped by reason),
the links handed over, and a distribution as read back with its invitations counted."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cxloop.surveys.schemas import UtcTime

Channel = Literal["email", "csv", "webhook"]
AudienceKind = Literal["list", "where", "account", "recipients", "anonymous"]


class RecipientIn(BaseModel):
    """One person named directly (API): by customer or contact id (read from the store), or by
    address alone."""

    model_config = ConfigDict(extra="forbid")

    customer_id: str | None = Field(None, max_length=128)
    contact_id: str | None = Field(None, max_length=128)
    name: str | None = Field(None, max_length=256)
    email: str | None = Field(None, max_length=320)
    phone: str | None = Field(None, max_length=32)
    language: str | None = Field(None, max_length=16)
    timezone: str | None = Field(None, max_length=64)
    attributes: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _someone(self) -> RecipientIn:
        if not (self.customer_id or self.contact_id or self.email or self.phone):
            raise ValueError("needs a customer_id, contact_id, email or phone")
        return self


class Audience(BaseModel):
    """Whom a distribution asks: a target list's members, customers matching ``where``, an
    account's contacts in ``roles`` (at a milestone), named recipients, or anyone with a link."""

    model_config = ConfigDict(extra="forbid")

    kind: AudienceKind
    list_name: str | None = Field(None, max_length=128, description="kind=list")
    where: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="kind=where: field=value over customers (segment, region, city, gender, "
        "or any imported attribute); one field repeated: any of its values.",
    )
    account: str | None = Field(None, max_length=256, description="kind=account: id or name")
    roles: list[str] = Field(default_factory=list, max_length=20)
    milestone: str | None = Field(None, max_length=256, description="milestone id or name")
    recipients: list[RecipientIn] = Field(default_factory=list, max_length=10_000)

    @model_validator(mode="after")
    def _parameters(self) -> Audience:
        needs = {
            "list": bool(self.list_name),
            "where": bool(self.where),
            "account": bool(self.account),
            "recipients": bool(self.recipients),
            "anonymous": True,
        }
        if not needs[self.kind]:
            field = {"list": "list_name", "account": "account"}.get(self.kind, self.kind)
            raise ValueError(f"audience {self.kind} needs {field}")
        return self

    def describe(self) -> str:
        """The audience in words, e.g. ``account A0001 roles decision_maker, user``."""
        if self.kind == "list":
            return f"list {self.list_name}"
        if self.kind == "where":
            return "customers " + ", ".join(self.where)
        if self.kind == "account":
            roles = f" roles {', '.join(self.roles)}" if self.roles else ""
            milestone = f" milestone {self.milestone}" if self.milestone else ""
            return f"account {self.account}{roles}{milestone}"
        if self.kind == "recipients":
            return f"{len(self.recipients)} named recipients"
        return "anonymous link"


class DistributionCreate(BaseModel):
    """A send as the API takes it (the CLI builds the same)."""

    model_config = ConfigDict(extra="forbid")

    audience: Audience
    channel: Channel = "email"
    webhook_url: str | None = Field(None, max_length=1024)
    expires_days: int | None = Field(None, ge=1, le=3650)
    reminders: int | None = Field(None, ge=0, le=10, description="Default: the survey's.")
    remind_after_hours: int | None = Field(None, ge=1, le=24 * 90)
    name: str | None = Field(None, max_length=128)
    dry_run: bool = False

    @model_validator(mode="after")
    def _webhook_needs_url(self) -> DistributionCreate:
        if self.channel == "webhook" and not self.webhook_url:
            raise ValueError("channel webhook needs webhook_url")
        return self


class LinkRow(BaseModel):
    """One recipient's personal link (the CSV channel's file, ``cxloop surveys links``)."""

    invitation_id: int | None
    customer_id: str | None
    contact_id: str | None
    account_id: str | None
    role: str | None
    name: str | None
    address: str | None
    language: str
    link: str
    unsubscribe: str | None
    expires_at: UtcTime | None
    status: str


class SendResult(BaseModel):
    """What a send did (or, with ``dry_run``, would do)."""

    distribution_id: int | None
    survey_id: str
    version: int
    channel: str
    audience: str
    recipients: int
    sent: int = 0
    scheduled: int = 0
    bounced: int = 0
    failed: int = 0
    skipped: dict[str, int] = Field(default_factory=dict)
    dry_run: bool = False
    expires_at: UtcTime | None = None
    anonymous_link: str | None = None
    errors: list[str] = Field(default_factory=list)
    links: list[LinkRow] = Field(default_factory=list)


class DistributionRead(BaseModel):
    """A stored distribution and how its invitations stand, by status and by skip reason."""

    id: int
    survey_id: str
    version: int
    name: str | None
    audience_kind: str
    audience: dict[str, Any]
    channel: str
    account_id: str | None
    milestone_id: str | None
    required_roles: list[str] | None
    deadline: UtcTime | None
    link_days: int
    reminder_after_hours: int | None
    max_reminders: int
    status: str
    created_by: str | None
    created_at: UtcTime
    invitations: int
    by_status: dict[str, int]
    skipped: dict[str, int]
    anonymous_link: str | None = None
