"""Business calendars: working time across weekends, lunch, CN holidays and 调休, US holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxloop.errors import Invalid
from cxloop.loop.calendar import BusinessCalendar, load_calendar, parse_calendar, preset

SH = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")
H = timedelta(hours=1)
CN = preset("CN")
US = preset("US")


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)  # type: ignore[misc]


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)  # type: ignore[misc]


def problems(exc: pytest.ExceptionInfo[Invalid]) -> list[tuple[str, object, str]]:
    return [(p.field, p.value, p.reason) for p in exc.value.problems]


# --- weekends, lunch, closing time -------------------------------------------------------------


def test_four_hours_from_friday_afternoon_run_into_monday() -> None:
    opened = sh(2026, 11, 27, 17)  # a Friday
    assert CN.add_business_time(opened, 4 * H) == sh(2026, 11, 30, 12)
    assert CN.business_time_between(opened, sh(2026, 11, 30, 12)) == 4 * H
    assert not CN.is_working(sh(2026, 11, 28, 10))  # Saturday


def test_lunch_break_is_not_working_time() -> None:
    assert CN.add_business_time(sh(2026, 12, 7, 11, 30), H) == sh(2026, 12, 7, 13, 30)
    assert not CN.is_working(sh(2026, 12, 7, 12, 30))
    assert CN.next_working_moment(sh(2026, 12, 7, 12, 15)) == sh(2026, 12, 7, 13)
    assert CN.business_time_between(sh(2026, 12, 7, 11), sh(2026, 12, 7, 14)) == 2 * H


def test_a_target_that_ends_at_closing_time_is_due_at_closing_time() -> None:
    assert CN.add_business_time(sh(2026, 12, 4, 14), 4 * H) == sh(2026, 12, 4, 18)
    assert CN.is_working(sh(2026, 12, 4, 9))
    assert not CN.is_working(sh(2026, 12, 4, 18))  # a span's end is already closed


def test_next_working_moment_keeps_a_working_moment_and_skips_the_night() -> None:
    assert CN.next_working_moment(sh(2026, 12, 7, 10, 5)) == sh(2026, 12, 7, 10, 5)
    assert CN.next_working_moment(sh(2026, 12, 4, 20)) == sh(2026, 12, 7, 9)


def test_times_in_any_zone_give_the_same_instant_in_the_calendars_zone() -> None:
    opened_utc = datetime(2026, 11, 27, 9, tzinfo=UTC)  # 17:00 in Shanghai
    due = CN.add_business_time(opened_utc, 4 * H)
    assert due == sh(2026, 11, 30, 12)
    assert due.tzinfo == SH


# --- China 2026: Mid-Autumn, National Day and the adjusted working days ------------------------


def test_the_package_knows_the_announced_2026_national_day_schedule() -> None:
    kinds = {day: CN.day_kind(date(2026, 10, day)) for day in range(1, 12)}
    assert [d for d in range(1, 12) if not CN.is_working_day(date(2026, 10, d))] == [
        1, 2, 3, 4, 5, 6, 7, 11,
    ]  # fmt: skip
    assert kinds[1] == kinds[2] == kinds[3] == "holiday: National Day"
    assert kinds[7].startswith("holiday: Day off (substituted from 10/10/2026)")
    assert kinds[10] == "adjusted working day"  # Saturday 10 October is worked
    assert CN.day_kind(date(2026, 9, 20)) == "adjusted working day"  # so is Sunday 20 September
    assert CN.day_kind(date(2026, 9, 25)) == "holiday: Mid-Autumn Festival"


def test_case_opened_before_the_national_day_week_is_due_on_the_first_day_back() -> None:
    opened = sh(2026, 9, 30, 17)  # Wednesday, the last working day before 1–7 October
    assert CN.add_business_time(opened, 4 * H) == sh(2026, 10, 8, 12)
    assert CN.business_time_between(opened, sh(2026, 10, 8, 12)) == 4 * H


def test_friday_mid_autumn_holiday_pushes_a_thursday_case_to_monday() -> None:
    assert CN.add_business_time(sh(2026, 9, 24, 17), 4 * H) == sh(2026, 9, 28, 12)


def test_adjusted_working_saturday_and_sunday_count_as_working_days() -> None:
    assert CN.add_business_time(sh(2026, 10, 9, 17), 4 * H) == sh(2026, 10, 10, 12)
    assert CN.is_working(sh(2026, 10, 10, 10))
    assert not CN.is_working(sh(2026, 10, 17, 10))  # an ordinary Saturday
    assert CN.add_business_time(sh(2026, 9, 19, 17), 2 * H) == sh(2026, 9, 20, 11)


def test_company_days_override_the_country() -> None:
    calendar = parse_calendar(
        {
            "preset": "CN",
            "holidays": {"2026-12-24": "年会"},
            "working_days": ["2026-10-06", date(2026, 12, 26)],
            "makeup_hours": "10:00-15:00",
        }
    )
    assert calendar.day_kind(date(2026, 12, 24)) == "holiday: 年会"
    assert not calendar.is_working(sh(2026, 12, 24, 10))
    assert calendar.is_working(sh(2026, 10, 6, 10))  # a public day off the company works
    saturday = calendar.spans_on(date(2026, 12, 26))
    assert [(a.hour, b.hour) for a, b in saturday] == [(10, 12), (13, 15)]
    assert calendar.business_time_between(sh(2026, 12, 26), sh(2026, 12, 27)) == 4 * H


def test_without_a_country_public_holidays_are_working_days() -> None:
    plain = parse_calendar({"timezone": "Asia/Shanghai", "hours": {"mon-fri": "09:00-17:00"}})
    assert plain.is_working(sh(2026, 10, 1, 10))
    assert not plain.is_working(sh(2026, 10, 10, 10))  # no 调休 without the country


# --- United States: Thanksgiving and daylight saving ------------------------------------------


def test_us_thanksgiving_is_not_working_time() -> None:
    assert US.day_kind(date(2026, 11, 26)) == "holiday: Thanksgiving Day"
    assert US.add_business_time(ny(2026, 11, 25, 16), 2 * H) == ny(2026, 11, 27, 10)


def test_due_time_across_the_march_clock_change_keeps_local_opening_hours() -> None:
    opened = ny(2026, 3, 6, 16)  # Friday, EST (UTC-5); clocks go forward on Sunday 8 March
    due = US.add_business_time(opened, 4 * H)
    assert due == ny(2026, 3, 9, 12)  # Monday 12:00 EDT
    assert due.astimezone(UTC) == datetime(2026, 3, 9, 16, tzinfo=UTC)
    assert US.business_time_between(opened, due) == 4 * H
    # Python subtracts two times of one zone on the wall clock (68 h); the real gap is 67 h
    assert due - opened == timedelta(hours=68)
    assert due.astimezone(UTC) - opened.astimezone(UTC) == timedelta(hours=67)


def test_a_round_the_clock_calendar_counts_23_and_25_hour_days() -> None:
    always = parse_calendar({"timezone": "America/New_York", "hours": {"mon-sun": "00:00-24:00"}})
    assert always.business_time_between(ny(2026, 3, 8), ny(2026, 3, 9)) == 23 * H
    assert always.business_time_between(ny(2026, 11, 1), ny(2026, 11, 2)) == 25 * H
    assert always.add_business_time(ny(2026, 3, 8), 24 * H) == ny(2026, 3, 9, 1)


@settings(derandomize=True, max_examples=150, deadline=None)
@given(
    name=st.sampled_from(["CN", "US"]),
    start=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 20)),
    minutes=st.integers(min_value=0, max_value=60 * 60),
)
def test_business_time_between_undoes_add_business_time(
    name: str, start: datetime, minutes: int
) -> None:
    calendar = CN if name == "CN" else US
    opened = start.replace(tzinfo=calendar.zone)
    due = calendar.add_business_time(opened, timedelta(minutes=minutes))
    assert calendar.business_time_between(opened, due) == timedelta(minutes=minutes)
    assert due >= opened
    if minutes:  # the last minute counted was working time
        assert calendar.is_working(due - timedelta(seconds=1))
    else:
        assert due == calendar.next_working_moment(opened)


# --- invalid configurations and inputs ---------------------------------------------------------


def test_every_bad_entry_of_a_calendar_is_named_with_its_value() -> None:
    with pytest.raises(Invalid) as exc:
        parse_calendar(
            {
                "timezone": "China/Beijing",
                "country": "JP",
                "hours": {
                    "mon-fri": "9-18",
                    "周六": "10:00-12:00",
                    "sun": ["08:00-10:00", "25:00-26:00"],
                },
                "breaks": "13:00-12:00",
                "holidays": ["2026-10-32", "2026-12-24", "2026-12-24"],
                "workdays": ["2026-10-10"],
            }
        )
    assert problems(exc) == [
        ("timezone", "China/Beijing", "is not an IANA time zone (e.g. Asia/Shanghai)"),
        ("country", "JP", "is not a country preset (CN, US, or leave it out)"),
        ("hours.mon-fri", "9-18", "is not a time span (write HH:MM-HH:MM, e.g. 09:00-18:00)"),
        (
            "hours.周六",
            "周六",
            "is not a weekday or a range of them (mon, tue, wed, thu, fri, sat, sun; e.g. mon-fri)",
        ),
        (
            "hours.sun[1]",
            "25:00-26:00",
            "is not a clock time (hours 00–23, minutes 00–59; 24:00 may end a span)",
        ),
        ("breaks", "13:00-12:00", "ends before it starts (a span stays inside one day)"),
        ("holidays[0]", "2026-10-32", "is not a date (write YYYY-MM-DD)"),
        ("holidays[2]", "2026-12-24", "is listed twice"),
        ("workdays", ["2026-10-10"], "is not a calendar setting"),
    ]


def test_meaning_problems_are_named_too() -> None:
    with pytest.raises(Invalid) as exc:
        parse_calendar({"preset": "CN", "hours": {"mon-fri": "09:00-18:00", "fri": "09:00-12:00"}})
    assert problems(exc) == [("hours.fri", "fri", "names fri again (already in mon-fri)")]
    with pytest.raises(Invalid) as exc:
        parse_calendar(
            {"timezone": "UTC", "hours": {"mon": "12:00-13:00"}, "breaks": "12:00-13:00"}
        )
    assert problems(exc) == [
        (
            "hours",
            "mon 12:00-13:00",
            "leaves no working time in the week once breaks (12:00-13:00) are taken out",
        )
    ]
    with pytest.raises(Invalid) as exc:
        parse_calendar({"preset": "US", "holidays": ["2026-12-26"], "working_days": ["2026-12-26"]})
    assert problems(exc) == [("working_days", "2026-12-26", "is also listed in holidays")]
    with pytest.raises(Invalid) as exc:
        parse_calendar({"timezone": "UTC", "hours": {"mon": ["09:00-12:00", "11:00-13:00"]}})
    assert problems(exc)[0][0::2] == ("hours.mon", "has spans that overlap")


def test_missing_fields_unknown_presets_and_wrong_shapes() -> None:
    with pytest.raises(Invalid) as exc:
        parse_calendar({"country": "CN"})
    assert problems(exc) == [("timezone", None, "is required"), ("hours", None, "is required")]
    with pytest.raises(Invalid) as exc:
        parse_calendar("JP")
    assert problems(exc) == [("preset", "JP", "is not a preset (CN, US)")]
    with pytest.raises(Invalid) as exc:
        parse_calendar(["CN"], "calendar")
    assert problems(exc)[0][0] == "calendar"
    with pytest.raises(Invalid) as exc:
        parse_calendar({"preset": "CN", "holidays": "2026-12-24"})
    assert problems(exc)[0][0] == "holidays"


def test_a_calendar_file_is_read_from_yaml_and_its_syntax_errors_name_the_line() -> None:
    calendar = load_calendar(
        "# 客服中心\npreset: CN\nhours:\n  mon-fri: 08:30-17:30\n  sat: 09:00-12:00\n"
        "holidays:\n  2026-12-31: 年终盘点\n"
    )
    assert isinstance(calendar, BusinessCalendar)
    assert calendar.is_working(sh(2026, 12, 5, 10))  # an ordinary Saturday morning
    assert not calendar.is_working(sh(2026, 12, 31, 10))
    assert not calendar.is_working(sh(2026, 10, 3, 10))  # a public holiday on a Saturday
    with pytest.raises(Invalid) as exc:
        load_calendar("preset: CN\nhours: [mon-fri\n")
    assert problems(exc)[0][0] == "line 3"


def test_naive_moments_and_negative_durations_are_refused() -> None:
    with pytest.raises(Invalid) as exc:
        CN.add_business_time(datetime(2026, 12, 7, 10), H)
    assert problems(exc)[0][:2] == ("start", "2026-12-07 10:00:00")
    with pytest.raises(Invalid) as exc:
        CN.is_working(datetime(2026, 12, 7, 10))
    assert problems(exc)[0][0] == "moment"
    with pytest.raises(Invalid) as exc:
        CN.add_business_time(sh(2026, 12, 7, 10), -H)
    assert problems(exc) == [("duration", "-1 day, 23:00:00", "must not be negative")]


def test_elapsed_time_runs_backwards_when_the_end_is_earlier() -> None:
    assert CN.business_time_between(sh(2026, 12, 7, 11), sh(2026, 12, 7, 10)) == -H


def test_a_calendar_dumped_to_json_reads_back_the_same() -> None:
    calendar = parse_calendar(
        {"preset": "CN", "holidays": {"2026-12-24": "年会"}, "working_days": ["2026-12-26"]}
    )
    dumped = calendar.model_dump(mode="json")
    assert dumped["hours"]["mon"] == ["09:00-18:00"] and dumped["breaks"] == ["12:00-13:00"]
    again = parse_calendar(dumped)
    assert again.model_dump(mode="json") == dumped
    assert again.is_working(sh(2026, 12, 26, 10)) and not again.is_working(sh(2026, 12, 24, 10))


def test_a_target_years_long_is_still_counted() -> None:
    due = CN.add_business_time(sh(2026, 1, 5, 9), 10_000 * H)  # 1,250 days of 8 working hours
    assert due == sh(2031, 1, 16, 18)
    assert CN.business_time_between(sh(2026, 1, 5, 9), due) == 10_000 * H


def test_a_calendar_whose_every_working_day_is_a_holiday_says_so() -> None:
    mondays = [date(2026, 1, 5) + timedelta(weeks=n) for n in range(200)]
    closed = parse_calendar(
        {"timezone": "UTC", "hours": {"mon": "09:00-17:00"}, "holidays": mondays}
    )
    with pytest.raises(Invalid) as exc:
        closed.add_business_time(datetime(2026, 1, 1, tzinfo=UTC), H)
    assert problems(exc)[0][0::2] == ("calendar", "has no working time for 1098 days in a row")


def test_the_hour_that_happens_twice_in_november_is_told_apart() -> None:
    night = parse_calendar({"timezone": "America/New_York", "hours": {"mon-sun": "00:00-01:30"}})
    first = datetime(2026, 11, 1, 1, 15, tzinfo=NY)  # 01:15 EDT
    second = datetime(2026, 11, 1, 1, 15, fold=1, tzinfo=NY)  # 01:15 EST, an hour later
    assert night.is_working(first)
    assert not night.is_working(second)  # after 01:30 EDT in real time
    assert night.business_time_between(ny(2026, 11, 1), ny(2026, 11, 2)) == timedelta(minutes=90)


def test_a_duration_past_the_calendars_end_is_refused_with_a_sentence() -> None:
    with pytest.raises(Invalid) as exc:
        CN.add_business_time(sh(9999, 12, 1, 9), timedelta(hours=1_000))
    assert problems(exc)[0][0::2] == ("duration", "runs past the year 9999")


def test_a_yaml_value_yaml_cannot_build_is_a_named_problem_not_a_traceback() -> None:
    """PyYAML raises ValueError for an impossible date and RecursionError for deep nesting."""
    from cxloop.errors import Invalid
    from cxloop.loop.hours import read_yaml

    for text, reason in (
        ("holidays:\n  - 2026-02-30\n", "day is out of range"),
        ("[" * 5000, "nested too deeply"),
    ):
        with pytest.raises(Invalid) as caught:
            read_yaml(text)
        assert reason in caught.value.problems[0].reason
