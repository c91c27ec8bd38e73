"""The delivery outbox: every notification is a row first, so it survives a receiver that is
down and a process restart, and is sent again by the next ``notify.deliver_due`` run."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cxloop.db.base import Base, UtcDateTime, utcnow


class Delivery(Base):
    """One notification to one target. ``key`` (e.g. ``case:12:escalated:lead@x``) is unique,
    so the same notification is never queued twice. ``payload`` is the JSON body of a webhook,
    or for mail the rendered ``subject``/``text``/``html`` (rendered when queued, so the mail
    sent is the mail the caller checked). ``status``: pending → delivering → delivered, or
    back to pending with a later ``next_attempt_at``, or dead after the last attempt."""

    __tablename__ = "notify_deliveries"
    __table_args__ = (Index("ix_notify_deliveries_status_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(1024))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    key: Mapped[str] = mapped_column(String(255), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    dead_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
