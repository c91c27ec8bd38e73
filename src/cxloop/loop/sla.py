"""SLA policies: first-response and resolution targets per priority, in business time.

Pure: no database. A target is working time on a ``BusinessCalendar`` (``4h`` from Friday 17:00
in Shanghai runs into Monday); the due moments and the warning moments (``warn_at`` of the target
used) are computed once when a case opens, so a ticker only compares instants.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    ValidationError,
    field_serializer,
    field_validator,
    model_validator,
)

from cxloop.errors import Invalid, Problem
from cxloop.loop.calendar import BusinessCalendar, parse_calendar
from cxloop.loop.hours import problems_of, read_yaml

Target = Literal["first_response", "resolution"]
Stage = Literal["ok", "warning", "breached"]
MAX_TARGET = timedelta(hours=10_000)
"""Longer is a typo, not an SLA (and would send the due-time search through centuries)."""
_LENGTH = re.compile(r"^\s*(?:(\d+(?:\.\d+)?)\s*h)?\s*(?:(\d+(?:\.\d+)?)\s*m(?:in)?)?\s*$")


def business_hours(value: Any) -> timedelta:
    """``4``, ``1.5``, ``"4h"``, ``"90m"`` or ``"1h30m"`` as a length of working time.

    A bare number is hours. Days are refused: a business day has no fixed length (8 working
    hours across 9 on the clock in the CN preset, 3 on a half-day Saturday), so a policy says
    hours and means them.
    """
    try:
        length = _length(value)
    except OverflowError:
        length = MAX_TARGET * 2
    if length <= timedelta(0):
        raise ValueError("must be longer than zero")
    if length > MAX_TARGET:
        raise ValueError("is longer than 10,000 working hours (about five years)")
    return length


def _length(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise ValueError("is not a number of hours")
        return timedelta(hours=value)
    if isinstance(value, str) and re.fullmatch(r"\s*\d+(\.\d+)?\s*", value):
        return timedelta(hours=float(value))
    if isinstance(value, str) and re.search(r"\d\s*d", value):
        raise ValueError("counts days, which have no fixed business length: write hours (18h)")
    match = _LENGTH.match(value) if isinstance(value, str) else None
    if match is None or not any(match.groups()):
        raise ValueError("is not a length of working time (e.g. 4h, 30m, 1h30m, or 4 for hours)")
    hours, minutes = (float(g) if g else 0.0 for g in match.groups())
    return timedelta(hours=hours, minutes=minutes)


class SlaTarget(BaseModel):
    """The working time a priority allows until the first response and until resolution."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    first_response: timedelta
    resolution: timedelta

    @field_validator("first_response", "resolution", mode="before")
    @classmethod
    def _length(cls, value: Any) -> timedelta:
        return business_hours(value)

    @field_serializer("first_response", "resolution")
    def _show(self, length: timedelta) -> str:
        """``4h`` / ``1h30m``, as a policy file writes it (JSON's ``PT4H`` reads badly)."""
        return _hours(length)

    @model_validator(mode="after")
    def _ordered(self) -> SlaTarget:
        if self.first_response > self.resolution:
            raise ValueError(
                f"first_response ({_hours(self.first_response)}) is longer than resolution"
                f" ({_hours(self.resolution)})"
            )
        return self


class SlaDeadlines(BaseModel):
    """When a case must have its first response and its resolution, and when to warn before."""

    model_config = ConfigDict(frozen=True)

    priority: str
    opened_at: datetime
    first_response_warn_at: datetime
    first_response_due: datetime
    resolution_warn_at: datetime
    resolution_due: datetime

    def stage(self, at: datetime, target: Target) -> Stage:
        """``ok``, ``warning`` (from the warn moment) or ``breached`` (from the due moment)."""
        due = self.first_response_due if target == "first_response" else self.resolution_due
        warn = (
            self.first_response_warn_at if target == "first_response" else self.resolution_warn_at
        )
        if at.tzinfo is None or at.utcoffset() is None:
            raise Invalid("has no time zone (SLA clocks need aware times)", "at", str(at))
        instant = at.astimezone(UTC)  # UTC: times of one zone compare on the wall clock
        if instant >= due.astimezone(UTC):
            return "breached"
        return "warning" if instant >= warn.astimezone(UTC) else "ok"


class SlaPolicy(BaseModel):
    """Targets by priority on one business calendar; ``warn_at`` is the share of a target used
    when the warning fires (0.8: with a fifth of the time left)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    calendar: BusinessCalendar
    targets: dict[str, SlaTarget]
    warn_at: float = 0.8

    @field_validator("targets")
    @classmethod
    def _some(cls, value: dict[str, SlaTarget]) -> dict[str, SlaTarget]:
        if not value:
            raise ValueError("needs at least one priority (e.g. high: {first_response: 4h, …})")
        return value

    @field_validator("warn_at", mode="before")
    @classmethod
    def _fraction(cls, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
            raise ValueError("must be a share between 0 and 1 (0.8 warns at 80 % of the target)")
        return value

    def target(self, priority: str) -> SlaTarget:
        """The targets of ``priority``, or ``Invalid`` naming the priorities there are."""
        found = self.targets.get(priority)
        if found is None:
            known = ", ".join(self.targets)
            raise Invalid(f"is not a priority of this SLA policy ({known})", "priority", priority)
        return found

    def deadlines(self, opened_at: datetime, priority: str) -> SlaDeadlines:
        """Due and warning moments for a case of ``priority`` opened at ``opened_at``."""
        target = self.target(priority)
        add = self.calendar.add_business_time
        return SlaDeadlines(
            priority=priority,
            opened_at=opened_at,
            first_response_warn_at=add(opened_at, target.first_response * self.warn_at),
            first_response_due=add(opened_at, target.first_response),
            resolution_warn_at=add(opened_at, target.resolution * self.warn_at),
            resolution_due=add(opened_at, target.resolution),
        )

    def share_used(self, opened_at: datetime, at: datetime, priority: str, target: Target) -> float:
        """How much of a target's working time has passed at ``at`` (1.0 and more: breached)."""
        allowed = getattr(self.target(priority), target)
        used = self.calendar.business_time_between(opened_at, at)
        return max(used, timedelta(0)) / allowed


def _hours(length: timedelta) -> str:
    minutes = round(length.total_seconds() / 60)
    return f"{minutes // 60}h{minutes % 60:02d}m" if minutes % 60 else f"{minutes // 60}h"


def parse_policy(data: Any) -> SlaPolicy:
    """A policy from loaded YAML/JSON (``calendar``, ``targets``, ``warn_at``); ``Invalid``
    lists every bad field of the policy and of its calendar in one go."""
    if not isinstance(data, dict):
        raise Invalid("must be a mapping with calendar and targets", "sla policy", data)
    problems: list[Problem] = []
    calendar: BusinessCalendar | None = None
    if data.get("calendar") is None:
        problems.append(
            Problem("calendar", None, "is required (a preset name: CN, US, or a mapping)")
        )
    else:
        try:
            calendar = parse_calendar(data["calendar"], "calendar")
        except Invalid as exc:
            problems.extend(exc.problems)
    stand_in = calendar or parse_calendar("CN")  # so the targets are checked in the same run
    try:
        policy = SlaPolicy.model_validate({**data, "calendar": stand_in})
    except ValidationError as exc:
        problems.extend(problems_of(exc, thing="an SLA policy"))
    if problems:
        raise Invalid(problems)
    return policy


def load_policy(text: str) -> SlaPolicy:
    """A policy from a YAML document (see ``parse_policy``)."""
    return parse_policy(read_yaml(text))
