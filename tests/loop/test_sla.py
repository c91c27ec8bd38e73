"""SLA policies: due and warning moments by priority on a business calendar, and their checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from cxloop.errors import Invalid
from cxloop.loop.sla import SlaPolicy, business_hours, load_policy, parse_policy

SH = ZoneInfo("Asia/Shanghai")
SECOND = timedelta(seconds=1)
POLICY_YAML = """\
# 客服中心 SLA：按优先级的首次响应与解决时限（工作时间）
calendar: CN
warn_at: 0.75
targets:
  urgent: {first_response: 30m, resolution: 4h}
  high: {first_response: 4h, resolution: 18h}
  normal: {first_response: 1h30m, resolution: 4}
"""


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)  # type: ignore[misc]


def problems(exc: pytest.ExceptionInfo[Invalid]) -> list[tuple[str, object, str]]:
    return [(p.field, p.value, p.reason) for p in exc.value.problems]


@pytest.fixture
def policy() -> SlaPolicy:
    return load_policy(POLICY_YAML)


def test_deadlines_of_a_case_opened_before_national_day_land_after_it(policy: SlaPolicy) -> None:
    tight = parse_policy({**policy.model_dump(), "calendar": "CN", "warn_at": 0.8})
    due = tight.deadlines(sh(2026, 9, 30, 17), "high")
    assert due.first_response_warn_at == sh(2026, 10, 8, 11, 12)  # 3h12m: 1 h + 2h12m
    assert due.first_response_due == sh(2026, 10, 8, 12)
    assert due.resolution_warn_at == sh(2026, 10, 9, 15, 24)  # 14h24m over lunch breaks
    assert due.resolution_due == sh(2026, 10, 10, 10)  # on the adjusted working Saturday


def test_an_urgent_case_late_on_friday_warns_and_breaches_on_monday_morning(
    policy: SlaPolicy,
) -> None:
    due = policy.deadlines(sh(2026, 12, 4, 17, 45), "urgent")
    assert due.first_response_warn_at == sh(2026, 12, 7, 9, 7, 30)  # 75 % of 30 min
    assert due.first_response_due == sh(2026, 12, 7, 9, 15)
    assert due.resolution_due == sh(2026, 12, 7, 13, 45)  # 15 min Friday + 3 h + 45 min after lunch


def test_a_case_opened_on_a_saturday_starts_its_clock_on_monday(policy: SlaPolicy) -> None:
    due = policy.deadlines(sh(2026, 12, 5, 10), "normal")
    assert due.first_response_due == sh(2026, 12, 7, 10, 30)
    assert due.resolution_due == sh(2026, 12, 7, 14)  # 09–12 and 13–14 on Monday


def test_stage_moves_from_ok_to_warning_to_breached_at_the_exact_moments(
    policy: SlaPolicy,
) -> None:
    due = policy.deadlines(sh(2026, 9, 30, 17), "high")
    warn, breach = due.first_response_warn_at, due.first_response_due
    assert due.stage(warn - SECOND, "first_response") == "ok"
    assert due.stage(warn, "first_response") == "warning"
    assert due.stage(breach - SECOND, "first_response") == "warning"
    assert due.stage(breach.astimezone(UTC), "first_response") == "breached"
    assert due.stage(breach, "resolution") == "ok"
    assert due.stage(due.resolution_due, "resolution") == "breached"


def test_share_used_counts_only_working_time(policy: SlaPolicy) -> None:
    opened = sh(2026, 9, 30, 17)
    assert policy.share_used(opened, sh(2026, 10, 8, 11), "high", "first_response") == 0.75
    assert policy.share_used(opened, sh(2026, 10, 5, 11), "high", "first_response") == 0.25
    assert policy.share_used(opened, sh(2026, 10, 8, 13), "high", "first_response") == 1.0
    assert policy.share_used(opened, sh(2026, 9, 30, 16), "high", "resolution") == 0.0


def test_an_unknown_priority_names_the_ones_there_are(policy: SlaPolicy) -> None:
    with pytest.raises(Invalid) as exc:
        policy.deadlines(sh(2026, 12, 7, 10), "vip")
    assert problems(exc) == [
        ("priority", "vip", "is not a priority of this SLA policy (urgent, high, normal)")
    ]


def test_a_naive_opening_time_is_refused(policy: SlaPolicy) -> None:
    with pytest.raises(Invalid) as exc:
        policy.deadlines(datetime(2026, 12, 7, 10), "high")
    assert problems(exc)[0][0] == "start"


@pytest.mark.parametrize(
    ("written", "hours"),
    [("4h", 4), ("90m", 1.5), ("1h30m", 1.5), (" 2 h ", 2), (1.5, 1.5), ("2", 2), (8, 8)],
)
def test_target_lengths_are_hours_unless_written_otherwise(written: Any, hours: float) -> None:
    assert business_hours(written) == timedelta(hours=hours)


@pytest.mark.parametrize(
    ("written", "reason"),
    [
        ("2d", "counts days, which have no fixed business length: write hours (18h)"),
        ("abc", "is not a length of working time (e.g. 4h, 30m, 1h30m, or 4 for hours)"),
        ("", "is not a length of working time (e.g. 4h, 30m, 1h30m, or 4 for hours)"),
        (True, "is not a length of working time (e.g. 4h, 30m, 1h30m, or 4 for hours)"),
        (0, "must be longer than zero"),
        (-1, "must be longer than zero"),
        (float("inf"), "is not a number of hours"),
        (1e12, "is longer than 10,000 working hours (about five years)"),
        ("10001h", "is longer than 10,000 working hours (about five years)"),
    ],
)
def test_bad_target_lengths_say_why(written: Any, reason: str) -> None:
    with pytest.raises(ValueError, match=r"^" + reason.replace("(", r"\(").replace(")", r"\)")):
        business_hours(written)


def test_every_problem_of_a_policy_and_its_calendar_is_named_at_once() -> None:
    with pytest.raises(Invalid) as exc:
        load_policy(
            "calendar: {preset: CN, timezone: Beijing}\n"
            "warn_at: 80%\n"
            "targets:\n"
            "  high: {first_response: 2d, resolution: 8h}\n"
            "  low: {first_response: 8h, resolution: 4h}\n"
            "  normal: {first_response: 4h}\n"
            "escalate_to: lead\n"
        )
    assert problems(exc) == [
        ("calendar.timezone", "Beijing", "is not an IANA time zone (e.g. Asia/Shanghai)"),
        (
            "targets.high.first_response",
            "2d",
            "counts days, which have no fixed business length: write hours (18h)",
        ),
        ("targets.low", {"first_response": "8h", "resolution": "4h"},
         "first_response (8h) is longer than resolution (4h)"),
        ("targets.normal.resolution", None, "is required"),
        ("warn_at", "80%", "must be a share between 0 and 1 (0.8 warns at 80 % of the target)"),
        ("escalate_to", "lead", "is not an SLA policy setting"),
    ]  # fmt: skip


def test_a_policy_needs_a_calendar_and_at_least_one_priority() -> None:
    with pytest.raises(Invalid) as exc:
        parse_policy({"targets": {}})
    assert problems(exc) == [
        ("calendar", None, "is required (a preset name: CN, US, or a mapping)"),
        ("targets", {}, "needs at least one priority (e.g. high: {first_response: 4h, …})"),
    ]
    with pytest.raises(Invalid) as exc:
        parse_policy("CN")
    assert problems(exc)[0][:2] == ("sla policy", "CN")


def test_a_policy_dumped_to_json_reads_back_with_readable_lengths(policy: SlaPolicy) -> None:
    dumped = policy.model_dump(mode="json")
    assert dumped["targets"]["normal"] == {"first_response": "1h30m", "resolution": "4h"}
    assert parse_policy(dumped).model_dump(mode="json") == dumped


def test_stage_refuses_a_naive_moment(policy: SlaPolicy) -> None:
    due = policy.deadlines(sh(2026, 12, 7, 10), "high")
    with pytest.raises(Invalid) as exc:
        due.stage(datetime(2026, 12, 7, 15), "first_response")
    assert problems(exc)[0][0] == "at"
