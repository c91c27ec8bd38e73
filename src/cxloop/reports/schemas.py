"""Shapes of scheduled reports and their runs (API, CLI and page)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from cxloop.reports.schedules import Frequency

ReportFormat = Literal["pdf", "html"]
ReportLang = Literal["zh", "en"]


class ScheduleCreate(BaseModel):
    """A report to mail every day, week or month, rendered as ``role`` would see it."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    frequency: Frequency
    at: str = Field("08:00", description="Local time HH:MM in `timezone`.")
    weekday: str | None = Field(None, description="mon … sun (weekly).")
    day: int | None = Field(None, description="Day of the month 1 … 28 (monthly).")
    timezone: str = Field("Asia/Shanghai", max_length=64)
    role: Literal["admin", "analyst", "agent", "viewer"] = Field(
        "viewer", description="Whose masking the report is rendered with."
    )
    query: str = Field("", max_length=2000, description="Filters as the page's query string.")
    sections: list[str] = Field(default_factory=list, description="journey, topics, drivers.")
    language: ReportLang = "zh"
    recipients: list[str] = Field(min_length=1, max_length=50)
    format: ReportFormat = "pdf"


class ScheduleRead(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    name: str
    frequency: Frequency
    when: str = Field(description="daily 08:00, weekly mon 08:00, monthly day 1 08:00.")
    timezone: str
    role: str
    query: str
    sections: list[str]
    language: str
    recipients: list[str]
    format: str
    next_due_at: dt.datetime = Field(description="UTC.")
    created_by: str
    last_sent_period: str | None = None


class SendDueResult(BaseModel):
    """What one run of ``reports.send_due`` did, per schedule outcome."""

    model_config = ConfigDict(frozen=True)

    due: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = Field(0, description="Periods already sent or being sent (another tick).")
    waiting: int = Field(0, description="Left for the next tick: the mail server is down.")
    mails: int = 0

    def counts(self) -> dict[str, int]:
        return self.model_dump()
