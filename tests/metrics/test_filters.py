"""The scope of an analysis: dates, ``--last`` and ``--where`` parsed into one ``Scope``."""

from __future__ import annotations

import datetime as dt

import pytest

from cxloop.errors import Invalid
from cxloop.metrics.filters import Scope, add_months, parse_scope, period_bounds

NOW = dt.datetime(2026, 12, 6, 5, 30)


def _problems(error: pytest.ExceptionInfo[Invalid]) -> list[tuple[str, object]]:
    return [(p.field, p.value) for p in error.value.problems]


def test_until_a_date_keeps_that_whole_day() -> None:
    scope = parse_scope(since="2025-10-01", until="2025-10-31", now=NOW)
    assert scope.since == dt.datetime(2025, 10, 1)
    assert scope.until == dt.datetime(2025, 11, 1)
    assert scope.describe() == "2025-10-01 … 2025-10-31"


def test_period_labels_as_bounds_cover_the_period() -> None:
    scope = parse_scope(since="2025-Q3", until="2025-Q3", now=NOW)
    assert (scope.since, scope.until) == (dt.datetime(2025, 7, 1), dt.datetime(2025, 10, 1))
    week = parse_scope(since="2025-W43", until="2025-W43", now=NOW)
    assert week.since == dt.datetime(2025, 10, 20)  # a Monday
    assert week.until == dt.datetime(2025, 10, 27)
    assert period_bounds("2025-10") == (dt.datetime(2025, 10, 1), dt.datetime(2025, 11, 1))
    assert period_bounds("2025") == (dt.datetime(2025, 1, 1), dt.datetime(2026, 1, 1))
    assert period_bounds("2025-13") is None


def test_an_offset_is_converted_to_utc_and_a_datetime_until_is_exclusive() -> None:
    scope = parse_scope(since="2025-11-01T00:30+08:00", until="2025-11-02T12:00", now=NOW)
    assert scope.since == dt.datetime(2025, 10, 31, 16, 30)
    assert scope.until == dt.datetime(2025, 11, 2, 12, 0)


@pytest.mark.parametrize(
    ("last", "since"),
    [
        ("30d", dt.datetime(2026, 11, 6, 5, 30)),
        ("12w", dt.datetime(2026, 9, 13, 5, 30)),
        ("6m", dt.datetime(2026, 6, 6, 5, 30)),
        ("1y", dt.datetime(2025, 12, 6, 5, 30)),
        (" 2D ", dt.datetime(2026, 12, 4, 5, 30)),
    ],
)
def test_last_counts_back_from_the_clock(last: str, since: dt.datetime) -> None:
    scope = parse_scope(last=last, now=NOW)
    assert scope.since == since
    assert scope.until is None


def test_last_counts_back_from_until_when_given() -> None:
    scope = parse_scope(until="2026-06-30", last="30d", now=NOW)
    assert scope.since == dt.datetime(2026, 6, 1)
    assert scope.until == dt.datetime(2026, 7, 1)


def test_a_timezone_aware_clock_is_taken_in_utc() -> None:
    clock = dt.datetime(2026, 12, 6, 13, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert parse_scope(last="1d", now=clock).since == dt.datetime(2026, 12, 5, 5, 30)


def test_month_arithmetic_clips_to_the_month_end() -> None:
    assert add_months(dt.datetime(2026, 3, 31), -1) == dt.datetime(2026, 2, 28)
    assert add_months(dt.datetime(2024, 3, 31), -1) == dt.datetime(2024, 2, 29)
    assert add_months(dt.datetime(2026, 1, 15), -13) == dt.datetime(2024, 12, 15)


def test_where_groups_values_by_field_and_accepts_colon_and_aliases() -> None:
    scope = parse_scope(
        where=["segment=vip", "Channel:APP", "segment=regular", "account_id=A1", "segment=vip"],
        now=NOW,
    )
    assert scope.conditions() == {
        "segment": ("regular", "vip"),
        "channel": ("APP",),
        "account": ("A1",),
    }
    assert scope.columns()["account_id"] == ("A1",)
    assert scope.profile_fields() == ["segment"]
    assert scope.describe() == "segment=regular|vip, channel=APP, account=A1"


def test_where_keeps_a_value_that_holds_the_separator() -> None:
    assert parse_scope(where=["touchpoint=web:checkout=2"], now=NOW).where == (
        ("touchpoint", "web:checkout=2"),
    )


def test_where_from_a_mapping() -> None:
    scope = parse_scope(where={"segment": ["vip", "new"], "region": "华东"}, now=NOW)
    assert scope.where == (("segment", "new"), ("segment", "vip"), ("region", "华东"))


def test_every_problem_is_named_with_field_and_value() -> None:
    with pytest.raises(Invalid) as error:
        parse_scope(
            since="31/10/2025",
            until="2025-02-30",
            where=["colour=red", "segment", "region="],
            now=NOW,
        )
    assert _problems(error) == [
        ("since", "31/10/2025"),
        ("until", "2025-02-30"),
        ("where", "segment"),
        ("where", "colour"),
        ("where.region", ""),
    ]
    assert "is not a field to filter on; one of: segment, region" in str(error.value)


def test_last_with_since_is_refused() -> None:
    with pytest.raises(Invalid) as error:
        parse_scope(since="2025-01-01", last="30d", now=NOW)
    assert _problems(error) == [("last", "30d")]
    assert "cannot be combined with since" in str(error.value)


@pytest.mark.parametrize("last", ["30", "0d", "3h", "d", "-1w"])
def test_a_bad_length_is_refused(last: str) -> None:
    with pytest.raises(Invalid) as error:
        parse_scope(last=last, now=NOW)
    assert _problems(error) == [("last", last)]


def test_an_empty_window_is_refused() -> None:
    with pytest.raises(Invalid) as error:
        parse_scope(since="2025-11-01", until="2025-10-31", now=NOW)
    assert "is not before until" in str(error.value)


def test_no_options_is_the_empty_scope_and_scopes_are_frozen() -> None:
    scope = parse_scope(None, None, None, [], now=NOW)
    assert scope.empty and scope == Scope()
    assert scope.describe() == "all data"
    with pytest.raises(Exception, match="frozen"):
        scope.since = NOW  # type: ignore[misc]


def test_apply_scope_narrows_a_table_by_window_and_where() -> None:
    import ibis
    import pandas as pd

    frame = pd.DataFrame(
        {
            "feedback_id": ["a", "b", "c", "d"],
            "created_at": pd.to_datetime(
                ["2025-09-30 23:59", "2025-10-01 00:00", "2025-10-31 23:59", "2025-11-01 00:00"]
            ),
            "segment": ["vip", "vip", "regular", "vip"],
            "account_id": ["A1", "A2", "A1", "A1"],
        }
    )
    scope = parse_scope(
        since="2025-10", until="2025-10", where=["segment=VIP", "segment=regular"], now=NOW
    )
    from cxloop.metrics.filters import apply_scope

    kept = apply_scope(ibis.memtable(frame), scope).execute()
    assert sorted(kept.feedback_id) == ["b", "c"]
    by_account = apply_scope(ibis.memtable(frame), parse_scope(where=["account=A1"], now=NOW))
    assert sorted(by_account.execute().feedback_id) == ["a", "c", "d"]
    with pytest.raises(Invalid, match="no role column"):
        apply_scope(ibis.memtable(frame), parse_scope(where=["role=user"], now=NOW))


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"last": "9999y"}, "last"),
        ({"until": "9999-Q4"}, "until"),
        ({"until": "9999-12-31"}, "until"),
        ({"since": "0000-01"}, "since"),
    ],
)
def test_bounds_outside_the_calendar_are_refused_not_crashed_on(
    options: dict[str, str], field: str
) -> None:
    with pytest.raises(Invalid) as error:
        parse_scope(now=NOW, **options)
    assert _problems(error) == [(field, options[field])]
    assert "outside the calendar" in str(error.value)
