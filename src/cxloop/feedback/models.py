"""One table for every piece of voice, whatever its channel."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cxloop.db.base import Base, UtcDateTime
from cxloop.db.mixins import ImportedRowMixin


class Feedback(ImportedRowMixin, Base):
    """``feedback_id`` is ``source:id`` when the source gave an id, else ``#`` + a content hash."""

    __tablename__ = "feedback"

    feedback_id: Mapped[str] = mapped_column(String(400), primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(160))
    channel: Mapped[str] = mapped_column(String(16), index=True)
    source: Mapped[str | None] = mapped_column(String(64))
    author: Mapped[str | None] = mapped_column(String(256))
    author_email: Mapped[str | None] = mapped_column(String(320), index=True)
    author_phone: Mapped[str | None] = mapped_column(String(32), index=True)
    author_member_id: Mapped[str | None] = mapped_column(String(128), index=True)
    author_handle: Mapped[str | None] = mapped_column(String(256), index=True)
    customer_id: Mapped[str | None] = mapped_column(String(128), index=True)
    account_id: Mapped[str | None] = mapped_column(String(128), index=True)
    contact_id: Mapped[str | None] = mapped_column(String(128), index=True)
    link_method: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
    title: Mapped[str | None] = mapped_column(String(512))
    text: Mapped[str | None] = mapped_column(Text)
    nps: Mapped[int | None] = mapped_column(Integer)
    csat: Mapped[int | None] = mapped_column(Integer)
    ces: Mapped[int | None] = mapped_column(Integer)
    rating: Mapped[float | None] = mapped_column(Float)
    touchpoint: Mapped[str | None] = mapped_column(String(64), index=True)
    journey_stage: Mapped[str | None] = mapped_column(String(64), index=True)
    product: Mapped[str | None] = mapped_column(String(256))
    language: Mapped[str | None] = mapped_column(String(8))
