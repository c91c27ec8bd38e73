"""When a scheduled report is next due: in the schedule's own time zone, through summer time,
month ends and a missed stretch."""

from __future__ import annotations

import datetime as dt

import pytest

from cxloop.errors import Invalid
from cxloop.reports import schedules


def _due(frequency: str, after: str, *, at: str = "08:00", weekday: int | None = None,
         day: int | None = None, tz: str = "Asia/Shanghai") -> dt.datetime:  # fmt: skip
    moment = dt.datetime.fromisoformat(after)
    return schedules.next_due(frequency, at, weekday, day, tz, after=moment)


def test_daily_at_eight_in_shanghai_is_midnight_utc() -> None:
    assert _due("daily", "2026-12-06T16:00") == dt.datetime(2026, 12, 7, 0, 0)
    assert _due("daily", "2026-12-06T23:59") == dt.datetime(2026, 12, 7, 0, 0)
    # exactly at the due moment: the next one (strictly after)
    assert _due("daily", "2026-12-07T00:00") == dt.datetime(2026, 12, 8, 0, 0)


def test_weekly_monday_and_monthly_first_day() -> None:
    # Sunday 2026-12-06 16:00 UTC is Monday 00:00 in Shanghai: Monday 08:00 local is 8 h later
    assert _due("weekly", "2026-12-06T16:00", weekday=0) == dt.datetime(2026, 12, 7, 0, 0)
    assert _due("weekly", "2026-12-07T00:00", weekday=0) == dt.datetime(2026, 12, 14, 0, 0)
    # 1 January 08:00 in Shanghai is 00:00 UTC; 07:00 local on the day is before it
    assert _due("monthly", "2026-12-06T00:00", day=1) == dt.datetime(2027, 1, 1, 0, 0)
    assert _due("monthly", "2026-12-31T23:00", day=1) == dt.datetime(2027, 1, 1, 0, 0)
    assert _due("monthly", "2027-01-01T00:00", day=28) == dt.datetime(2027, 1, 28, 0, 0)


def test_berlin_follows_summer_time() -> None:
    winter = _due("daily", "2026-03-28T12:00", tz="Europe/Berlin")
    summer = _due("daily", "2026-03-29T12:00", tz="Europe/Berlin")
    assert winter == dt.datetime(2026, 3, 29, 6, 0)  # 08:00 CEST (+2) on the switch day
    assert summer == dt.datetime(2026, 3, 30, 6, 0)
    assert _due("daily", "2026-03-27T12:00", tz="Europe/Berlin") == dt.datetime(2026, 3, 28, 7, 0)


def test_period_key_is_the_local_due_moment() -> None:
    assert schedules.period_key(dt.datetime(2026, 12, 7, 0, 0), "Asia/Shanghai") == (
        "2026-12-07T08:00"
    )


def test_check_names_every_problem() -> None:
    problems = schedules.check("hourly", "25:00", None, None, "Mars/Base")
    assert [p.field for p in problems] == ["frequency", "at", "timezone"]
    assert [p.field for p in schedules.check("monthly", "08:00", None, 31, "UTC")] == ["day"]
    assert [p.field for p in schedules.check("weekly", "8:05", None, None, "UTC")] == ["weekday"]
    with pytest.raises(Invalid, match="time zone"):
        schedules.zone("Nowhere/City")
