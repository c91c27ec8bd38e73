"""Shapes of event triggers: a standing distribution that surveys people after an event."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cxloop.surveys.schemas import UtcTime

BUILT_IN_EVENTS = (
    "order_delivered",
    "subscription_renewed",
    "ticket_closed",
    "milestone_completed",
)
"""Events read from imported behaviour rows; ``api:<name>`` events arrive through the API."""
EVENT_NAME = r"^[a-z0-9][a-z0-9_.-]{0,58}$"
TRIGGER_EVENT = r"^(order_delivered|subscription_renewed|ticket_closed|milestone_completed|" + (
    r"api:[a-z0-9][a-z0-9_.-]{0,58})$"
)


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _storable(value: Any, where: str) -> None:
    """A NUL or a lone surrogate cannot be stored (PostgreSQL text, UTF-8): refused by field
    here rather than failing in the database driver."""
    if isinstance(value, str):
        if _UNSTORABLE.search(value):
            raise ValueError(f"{where} contains a NUL character or a lone surrogate")
    elif isinstance(value, dict):
        for key, item in value.items():
            _storable(key, where)
            _storable(item, where)
    elif isinstance(value, list | tuple):
        for item in value:
            _storable(item, where)


class TriggerCreate(BaseModel):
    """A standing distribution: ``survey_id`` goes out ``delay_hours`` after each ``event``."""

    model_config = ConfigDict(extra="forbid")

    survey_id: str = Field(min_length=1, max_length=64)
    event: str = Field(description="A built-in event or api:<name>.")
    delay_hours: int = Field(default=0, ge=0, le=24 * 365)
    channel: Literal["email", "webhook"] = "email"
    webhook_url: str | None = Field(default=None, max_length=1024)
    roles: list[str] = Field(
        default_factory=list,
        description="Account events (milestones, B2B orders and renewals): the contacts' roles "
        "to ask; default the survey's required_roles, else every contact.",
    )
    name: str | None = Field(default=None, max_length=128)
    link_days: int | None = Field(default=None, ge=1, le=3650)

    @field_validator("channel", mode="before")
    @classmethod
    def _not_csv(cls, value: Any) -> Any:
        """A CSV of links is written once, when a send is made; a trigger invites people over
        time, so its links would be counted as delivered with nobody holding them."""
        if isinstance(value, str) and value.strip().lower() == "csv":
            raise ValueError(
                "is for one-off sends (a links file written once) and a trigger invites people "
                "over time, so nobody would receive its links: use email or webhook, or hand "
                "out one anonymous link "
                "(`cxloop surveys send SURVEY --anonymous`)"
            )
        return value

    @field_validator("event")
    @classmethod
    def _known_event(cls, value: str) -> str:
        if not re.match(TRIGGER_EVENT, value):
            raise ValueError(
                "is not a trigger event; use " + ", ".join(BUILT_IN_EVENTS) + " or api:<name> "
                "(lower-case letters, digits, _ . -)"
            )
        return value

    @model_validator(mode="after")
    def _webhook_needs_url(self) -> TriggerCreate:
        for name in type(self).model_fields:
            _storable(getattr(self, name), name)
        if self.channel == "webhook" and not self.webhook_url:
            raise ValueError("channel webhook needs webhook_url")
        return self


class TriggerRead(BaseModel):
    """A standing distribution with what it has done so far."""

    distribution_id: int
    survey_id: str
    name: str | None
    event: str
    delay_hours: int
    channel: str
    roles: list[str]
    status: str
    created_at: UtcTime
    watermark: UtcTime | None = Field(description="Behaviour rows stored up to here are seen.")
    events: int = Field(description="Distinct events that brought invitations.")
    invitations: dict[str, int] = Field(description="Invitations by status.")


class SurveyEventIn(BaseModel):
    """An event posted by another system (an app, a ticket tool, a shop) for triggers."""

    model_config = ConfigDict(extra="forbid")

    event: str = Field(pattern=EVENT_NAME, description="e.g. order_delivered or app_review.")
    event_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="The sender's id; posting it again creates nothing new. Without it the "
        "event's content is its id.",
    )
    customer_id: str | None = Field(default=None, min_length=1, max_length=128)
    contact_id: str | None = Field(default=None, min_length=1, max_length=128)
    email: str | None = Field(default=None, min_length=3, max_length=320)
    occurred_at: dt.datetime | None = Field(
        default=None, description="Default: now; without an offset: CXLOOP_TIMEZONE."
    )
    context: dict[str, Any] = Field(
        default_factory=dict, description="Piped into the survey: order_id, product, amount…"
    )

    @model_validator(mode="after")
    def _someone(self) -> SurveyEventIn:
        for name in type(self).model_fields:
            _storable(getattr(self, name), name)
        if not (self.customer_id or self.contact_id or self.email):
            raise ValueError("name the person: customer_id, contact_id or email")
        return self


Outcome = Literal["scheduled", "duplicate", "before_trigger", "no_recipient"]


class EventOutcome(BaseModel):
    """What one listening distribution did with an event."""

    distribution_id: int
    survey_id: str
    outcome: Outcome
    invitations: int = 0
    scheduled_at: UtcTime | None = None


class EventResult(BaseModel):
    """An accepted event: its id and what each listening distribution did."""

    event: str
    event_key: str
    occurred_at: UtcTime
    distributions: list[EventOutcome]
