"""Shapes of the delivery outbox as callers and the CLI see them: targets shown redacted."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

Channel = Literal["email", "webhook"]
Status = Literal["pending", "delivering", "delivered", "dead"]
CHANNELS: tuple[Channel, ...] = ("email", "webhook")
STATUSES: tuple[Status, ...] = ("pending", "delivering", "delivered", "dead")


class DeliveryRead(BaseModel):
    """One queued notification. ``target`` is the mail address, or for a webhook the URL with
    its path and query hidden (they often carry a token); the payload is not shown."""

    model_config = ConfigDict(frozen=True)

    id: int
    channel: Channel
    target: str
    key: str
    status: Status
    attempts: int
    next_attempt_at: dt.datetime | None
    last_status: int | None
    last_error: str | None
    created_at: dt.datetime
    delivered_at: dt.datetime | None
    dead_at: dt.datetime | None

    def as_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class DeliveryRun(BaseModel):
    """What one ``deliver_due`` run did, by outcome (``released``: stale claims of a run that
    stopped mid-send, put back to pending)."""

    delivered: int = 0
    retrying: int = 0
    dead: int = 0
    released: int = 0

    def counts(self) -> dict[str, int]:
        return self.model_dump()
