"""When a scheduled report is due: daily, weekly or monthly at a local time in the schedule's
time zone (so 08:00 Shanghai stays 08:00 there, and 08:00 Berlin follows summer time).

Pure: datetimes in, datetimes out. Stored moments are naive UTC (the store's convention).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cxloop.errors import Invalid, Problem

Frequency = Literal["daily", "weekly", "monthly"]
FREQUENCIES: tuple[Frequency, ...] = ("daily", "weekly", "monthly")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")
MONTH_DAY_MAX = 28
"""Monthly reports go out on day 1…28: every month has them."""


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid("is not a time zone (e.g. Asia/Shanghai, UTC)", "timezone", name) from None


def check(
    frequency: str, at_time: str, weekday: int | None, month_day: int | None, timezone: str
) -> list[Problem]:
    """Every problem of a schedule's timing, at once."""
    problems: list[Problem] = []
    if frequency not in FREQUENCIES:
        problems.append(Problem("frequency", frequency, "is not daily, weekly or monthly"))
    if not _TIME.fullmatch(at_time or ""):
        problems.append(Problem("at", at_time, "is not a time HH:MM (00:00 to 23:59)"))
    if frequency == "weekly" and (weekday is None or not 0 <= weekday <= 6):
        problems.append(Problem("weekday", weekday, "must be mon … sun for a weekly report"))
    if frequency == "monthly" and (month_day is None or not 1 <= month_day <= MONTH_DAY_MAX):
        problems.append(Problem("day", month_day, "must be 1 to 28 for a monthly report"))
    try:
        zone(timezone)
    except Invalid as exc:
        problems.extend(exc.problems)
    return problems


def _local(day: dt.date, at_time: str, tz: ZoneInfo) -> dt.datetime:
    hour, minute = (int(p) for p in at_time.split(":"))
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=tz)


def _candidates(
    frequency: str, weekday: int | None, month_day: int | None, start: dt.date
) -> list[dt.date]:
    """Local days the report may be due on, from ``start`` on (enough to find the next)."""
    if frequency == "daily":
        return [start + dt.timedelta(days=i) for i in range(3)]
    if frequency == "weekly":
        ahead = ((weekday or 0) - start.weekday()) % 7
        first = start + dt.timedelta(days=ahead)
        return [first, first + dt.timedelta(days=7)]
    days = []
    year, month = start.year, start.month
    for _ in range(3):
        days.append(dt.date(year, month, month_day or 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return days


def next_due(
    frequency: str,
    at_time: str,
    weekday: int | None,
    month_day: int | None,
    timezone: str,
    *,
    after: dt.datetime,
) -> dt.datetime:
    """The first due moment strictly after ``after`` (naive = UTC), as naive UTC."""
    tz = zone(timezone)
    moment = after if after.tzinfo else after.replace(tzinfo=dt.UTC)
    local = moment.astimezone(tz)
    for day in _candidates(frequency, weekday, month_day, local.date() - dt.timedelta(days=1)):
        due = _local(day, at_time, tz).astimezone(dt.UTC)
        if due > moment:
            return due.replace(tzinfo=None)
    raise AssertionError("unreachable: the candidates span a whole period")  # pragma: no cover


def period_key(due: dt.datetime, timezone: str) -> str:
    """The period a due moment (naive UTC) stands for, as local ``YYYY-MM-DDTHH:MM``."""
    moment = due if due.tzinfo else due.replace(tzinfo=dt.UTC)
    return moment.astimezone(zone(timezone)).strftime("%Y-%m-%dT%H:%M")


def describe(frequency: str, at_time: str, weekday: int | None, month_day: int | None) -> str:
    """``daily 08:00``, ``weekly mon 08:00``, ``monthly day 1 08:00``."""
    if frequency == "weekly" and weekday is not None:
        return f"weekly {WEEKDAYS[weekday]} {at_time}"
    if frequency == "monthly":
        return f"monthly day {month_day} {at_time}"
    return f"{frequency} {at_time}"
