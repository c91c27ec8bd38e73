"""Tables of metric monitoring: targets per metric and slice, and the alerts a scan stores.

Slices are stored as canonical JSON text (sorted keys, no spaces; ``{}`` is overall) so that a
plain unique constraint tells one target or alert from another on every engine.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, Float, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cxloop.db.base import Base, UtcDateTime, utcnow

SLICE_LENGTH = 512
SUBJECT_LENGTH = 200


class MetricTarget(Base):
    """The value a metric should reach (``at_least``) or stay under (``at_most``) in a slice."""

    __tablename__ = "metric_targets"
    __table_args__ = (
        UniqueConstraint("metric", "slice_key", name="uq_metric_targets_metric_slice_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    metric: Mapped[str] = mapped_column(String(16))
    slice_key: Mapped[str] = mapped_column(String(SLICE_LENGTH))
    """Canonical JSON of dimension → value; ``{}`` for the overall metric."""
    period: Mapped[str | None] = mapped_column(String(16))
    """day / week / month / quarter: judged on the last complete period; null: on all data."""
    target: Mapped[float] = mapped_column(Float)
    direction: Mapped[str] = mapped_column(String(16))
    label: Mapped[str | None] = mapped_column(String(256))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class Alert(Base):
    """One unusual week or missed target; ``alert_key`` makes a re-run scan update, not add."""

    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("alert_key", name="uq_alerts_alert_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_key: Mapped[str] = mapped_column(String(64))
    """sha256 of kind, subject, slice and period: the identity of an alert across scans."""
    kind: Mapped[str] = mapped_column(String(16), index=True)
    subject: Mapped[str] = mapped_column(String(SUBJECT_LENGTH))
    slice_key: Mapped[str] = mapped_column(String(SLICE_LENGTH))
    period_start: Mapped[dt.date | None] = mapped_column(Date)
    value: Mapped[float | None] = mapped_column(Float)
    expected: Mapped[float | None] = mapped_column(Float)
    score: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), index=True, default="open")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
