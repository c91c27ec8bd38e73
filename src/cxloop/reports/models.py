"""Scheduled reports and the log of what each one sent.

A run row is written (and committed) before its mail goes out; its unique
``(schedule_id, period)`` key is what makes a second tick skip a period that was already sent or
is being sent (a claim still ``sending`` after ``reports.service.CLAIM_LEASE`` is taken over).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cxloop.db.base import Base, UtcDateTime, utcnow


class ReportSchedule(Base):
    """A report mailed every day, week or month: who it is rendered for (``role``: its
    masking), with which filters (``query``: the page's URL query string), sections,
    language, recipients and format; ``next_due_at`` (UTC) is when the job next sends it."""

    __tablename__ = "report_schedules"
    __table_args__ = (Index("ix_report_schedules_next_due_at", "next_due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    frequency: Mapped[str] = mapped_column(String(16))
    """daily, weekly or monthly."""
    at_time: Mapped[str] = mapped_column(String(5), default="08:00")
    """HH:MM local time in ``timezone``."""
    weekday: Mapped[int | None] = mapped_column(Integer)
    """0 = Monday … 6 = Sunday (weekly)."""
    month_day: Mapped[int | None] = mapped_column(Integer)
    """1 … 28 (monthly)."""
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    role: Mapped[str] = mapped_column(String(16))
    query: Mapped[str] = mapped_column(Text, default="")
    sections: Mapped[list[Any]] = mapped_column(JSON, default=list)
    language: Mapped[str] = mapped_column(String(8), default="zh")
    recipients: Mapped[list[Any]] = mapped_column(JSON, default=list)
    format: Mapped[str] = mapped_column(String(8), default="pdf")
    """pdf (attached) or html (the mail's body)."""
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    next_due_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class ReportRun(Base):
    """One period of one schedule: claimed (``sending``), then ``sent`` or ``failed``."""

    __tablename__ = "report_runs"
    __table_args__ = (UniqueConstraint("schedule_id", "period", name="uq_report_runs_period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("report_schedules.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(32))
    """The local due moment the run stands for, ``YYYY-MM-DDTHH:MM``."""
    status: Mapped[str] = mapped_column(String(16), default="sending")
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
