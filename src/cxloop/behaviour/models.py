"""Orders, events and subscriptions, keyed by the source's own ids (or a content hash)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cxloop.db.base import Base, UtcDateTime
from cxloop.db.mixins import ImportedRowMixin


class Order(ImportedRowMixin, Base):
    __tablename__ = "orders"

    order_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    customer_id: Mapped[str | None] = mapped_column(String(128), index=True)
    account_id: Mapped[str | None] = mapped_column(String(128), index=True)
    ordered_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
    amount: Mapped[float] = mapped_column(Float)
    currency: Mapped[str | None] = mapped_column(String(8))
    status: Mapped[str | None] = mapped_column(String(32))
    channel: Mapped[str | None] = mapped_column(String(64))
    product: Mapped[str | None] = mapped_column(String(256))
    quantity: Mapped[int | None] = mapped_column(Integer)


class Event(ImportedRowMixin, Base):
    __tablename__ = "events"

    event_id: Mapped[str] = mapped_column(String(160), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(128), index=True)
    event_type: Mapped[str] = mapped_column(String(64), index=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
    session_id: Mapped[str | None] = mapped_column(String(128))
    page: Mapped[str | None] = mapped_column(String(512))
    product: Mapped[str | None] = mapped_column(String(256))


class Subscription(ImportedRowMixin, Base):
    """A plan held over a period; churn is an end without renewal."""

    __tablename__ = "subscriptions"

    subscription_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    customer_id: Mapped[str | None] = mapped_column(String(128), index=True)
    account_id: Mapped[str | None] = mapped_column(String(128), index=True)
    plan: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    renewed: Mapped[bool | None] = mapped_column(Boolean)
    amount: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str | None] = mapped_column(String(32))
