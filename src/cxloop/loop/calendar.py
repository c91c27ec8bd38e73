"""Business calendars: when a team works, so SLA clocks run only in working time.

Pure: no database. Public holidays and China's adjusted working days (调休) come from the
maintained ``holidays`` package (its ``is_working_day`` knows the announced swaps); weekly hours,
breaks, the time zone and a company's own days off or make-up days come from the YAML. Every
moment is timezone-aware and every length is measured in real elapsed time (UTC), so a day that
loses an hour to daylight saving counts 23 hours, not 24.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from holidays import country_holidays
from holidays.holiday_base import HolidayBase
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_serializer,
    field_validator,
)

from cxloop.config import ZoneName
from cxloop.errors import Invalid, Problem
from cxloop.loop.hours import (
    DAYS,
    Span,
    all_read,
    clock,
    path,
    problems_of,
    read_dates,
    read_spans,
    read_week,
    read_yaml,
    subtract,
)

Country = Literal["CN", "US"]
SEARCH_DAYS = 3 * 366
"""How far ahead to look for working time before calling a calendar empty."""

PRESETS: dict[str, dict[str, Any]] = {
    "CN": {
        "timezone": "Asia/Shanghai",
        "country": "CN",
        "hours": {"mon-fri": "09:00-18:00"},
        "breaks": ["12:00-13:00"],
    },
    "US": {"timezone": "America/New_York", "country": "US", "hours": {"mon-fri": "09:00-17:00"}},
}
"""``preset: CN`` or ``preset: US`` in a calendar file starts from these; other keys override."""


class BusinessCalendar(BaseModel):
    """When a team works: a time zone, hours per weekday less breaks, a country's public
    holidays and adjusted working days, and the company's own days off and make-up days.

    An adjusted working day that falls on a day without weekly hours (a 调休 Saturday) keeps
    ``makeup_hours``, by default the hours of the first weekday that has any. A company day in
    ``working_days`` overrides a public holiday; one in ``holidays`` overrides everything else.
    China's swaps are known only for years its State Council has announced and the installed
    ``holidays`` release carries (through 2026 in 0.109); later years follow the fixed rules
    without 调休 until the package is upgraded or the days are listed here.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: ZoneName
    country: Country | None = None
    hours: dict[int, list[Span]]
    breaks: list[Span] = Field(default_factory=list)
    makeup_hours: list[Span] | None = None
    holidays: dict[date, str] = Field(default_factory=dict)
    working_days: dict[date, str] = Field(default_factory=dict)

    _zone: ZoneInfo = PrivateAttr()
    _public: HolidayBase | None = PrivateAttr(default=None)
    _days: dict[date, tuple[tuple[datetime, datetime], ...]] = PrivateAttr(default_factory=dict)

    @field_validator("hours", mode="before")
    @classmethod
    def _weekly(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            raise ValueError("must map weekdays to spans (e.g. mon-fri: 09:00-18:00)")
        return all_read(read_week(value))

    @field_validator("breaks", "makeup_hours", mode="before")
    @classmethod
    def _cut(cls, value: Any) -> Any:
        return None if value is None else all_read(read_spans(value))

    @field_validator("holidays", "working_days", mode="before")
    @classmethod
    def _listed(cls, value: Any) -> Any:
        if value is None:
            return {}
        if not isinstance(value, list | dict):
            raise ValueError("must be a list of dates (YYYY-MM-DD) or a mapping date → name")
        return all_read(read_dates(value))

    @field_serializer("hours")
    def _show_week(self, week: dict[int, list[Span]]) -> dict[str, list[str]]:
        """Hours as a calendar file writes them, so a dump reads back (and reads well in JSON)."""
        return {DAYS[day]: clock(spans).split(", ") for day, spans in sorted(week.items())}

    @field_serializer("breaks", "makeup_hours")
    def _show_spans(self, spans: list[Span] | None) -> list[str] | None:
        return None if spans is None else [s for s in clock(spans).split(", ") if s]

    def model_post_init(self, context: Any, /) -> None:
        """Refuse a calendar with no working time or a date both off and on; load holidays."""
        problems = []
        cut = f"once breaks ({clock(self.breaks)}) are taken out" if self.breaks else ""
        if not any(subtract(spans, self.breaks) for spans in self.hours.values()):
            shown = "; ".join(f"{DAYS[d]} {clock(s)}" for d, s in sorted(self.hours.items()))
            problems.append(
                Problem("hours", shown or None, f"leaves no working time in the week {cut}".strip())
            )
        if self.makeup_hours is not None and not subtract(self.makeup_hours, self.breaks):
            problems.append(
                Problem("makeup_hours", clock(self.makeup_hours), f"leaves no working time {cut}")
            )
        for day in sorted(self.holidays.keys() & self.working_days.keys()):
            problems.append(Problem("working_days", str(day), "is also listed in holidays"))
        if problems:
            raise Invalid(problems)
        self._zone = ZoneInfo(self.timezone)
        if self.country is not None:
            self._public = country_holidays(self.country)

    @property
    def zone(self) -> ZoneInfo:
        return self._zone

    def day_kind(self, day: date) -> str:
        """Why ``day`` is worked or not, in words: ``working``, ``weekend``, ``holiday: <name>``,
        ``adjusted working day`` (调休) or ``company working day: <name>``."""
        if day in self.holidays:
            return f"holiday: {self.holidays[day] or 'company holiday'}"
        if day in self.working_days:
            return f"company working day: {self.working_days[day]}".rstrip(": ")
        public = self._public
        if public is not None:
            name = public.get(day)
            if name is not None:
                return f"holiday: {name}"
            if public.is_weekend(day) and public.is_working_day(day):
                return "adjusted working day"
        return "working" if day.weekday() in self.hours else "weekend"

    def spans_on(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The working time of one local date as aware datetimes in the calendar's zone
        (kept per date: the calendar never changes, and SLA sums revisit the same days)."""
        known = self._days.get(day)
        if known is not None:
            return known
        spans: tuple[tuple[datetime, datetime], ...] = ()
        if not self.day_kind(day).startswith(("holiday", "weekend")):
            weekly = self.hours.get(day.weekday())
            if weekly is None:  # a make-up day on a day the week leaves free
                weekly = self.makeup_hours if self.makeup_hours is not None else self._usual_hours()
            cut = subtract(weekly, self.breaks)
            spans = tuple((self._at(day, start), self._at(day, end)) for start, end in cut)
        self._days[day] = spans
        return spans

    def is_working_day(self, day: date) -> bool:
        return bool(self.spans_on(day))

    def is_working(self, moment: datetime) -> bool:
        """Whether ``moment`` falls inside working time (a span's end is already outside)."""
        local = self._local(moment, "moment")
        instant = local.astimezone(UTC)  # in UTC: one zone compares on the wall clock
        return any(
            start.astimezone(UTC) <= instant < end.astimezone(UTC)
            for start, end in self.spans_on(local.date())
        )

    def next_working_moment(self, moment: datetime) -> datetime:
        """``moment`` itself if it is working time, else the start of the next working span."""
        return self.add_business_time(moment, timedelta(0))

    def add_business_time(self, start: datetime, duration: timedelta) -> datetime:
        """The moment ``duration`` of working time after ``start``: an SLA's due time.

        A target that runs out exactly at closing time is due at closing time, not at the next
        opening. Zero from a non-working moment gives the next opening.
        """
        if duration < timedelta(0):
            raise Invalid("must not be negative", "duration", str(duration))
        cursor = self._local(start, "start").astimezone(UTC)
        left = duration
        try:
            for span_start, span_end in self._spans_from(cursor):
                begin = max(span_start.astimezone(UTC), cursor)
                end = span_end.astimezone(UTC)
                if end <= begin:
                    continue
                if left <= end - begin:
                    return (begin + left).astimezone(self._zone)
                left -= end - begin
        except OverflowError:
            raise Invalid("runs past the year 9999", "duration", str(duration)) from None
        raise Invalid(
            f"has no working time for {SEARCH_DAYS} days in a row", "calendar", str(start)
        )

    def business_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Working time from ``a`` to ``b`` (negative when ``b`` is earlier): SLA time used."""
        first = self._local(a, "a").astimezone(UTC)
        last = self._local(b, "b").astimezone(UTC)
        if last < first:
            return -self.business_time_between(b, a)
        total = timedelta(0)
        day = first.astimezone(self._zone).date()
        while day <= last.astimezone(self._zone).date():
            for span_start, span_end in self.spans_on(day):
                begin = max(span_start.astimezone(UTC), first)
                end = min(span_end.astimezone(UTC), last)
                if end > begin:
                    total += end - begin
            day += timedelta(days=1)
        return total

    def _spans_from(self, cursor: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working spans from ``cursor``'s local date on; stops only after ``SEARCH_DAYS`` days in
        a row without working time (a long target may run for years, an empty calendar not)."""
        day = cursor.astimezone(self._zone).date()
        idle = 0
        while idle < SEARCH_DAYS:
            spans = self.spans_on(day)
            idle = 0 if spans else idle + 1
            yield from spans
            day += timedelta(days=1)

    def _usual_hours(self) -> list[Span]:
        return next(self.hours[d] for d in range(7) if d in self.hours)

    def _at(self, day: date, minute: int) -> datetime:
        """Local wall-clock ``minute`` of ``day``; 1440 is the next midnight. A wall time that
        daylight saving skips is read with the offset before the change (zoneinfo's fold=0)."""
        if minute == 24 * 60:
            return datetime.combine(day + timedelta(days=1), time(0), self._zone)
        return datetime.combine(day, time(minute // 60, minute % 60), self._zone)

    def _local(self, moment: datetime, field: str) -> datetime:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise Invalid("has no time zone (SLA clocks need aware times)", field, str(moment))
        return moment.astimezone(self._zone)


def parse_calendar(data: Any, prefix: str = "") -> BusinessCalendar:
    """A calendar from loaded YAML/JSON: a preset name (``CN``), or a mapping that may start
    from one (``preset: CN`` plus overrides); ``Invalid`` names every bad field and value."""
    if isinstance(data, str):
        data = {"preset": data}
    if not isinstance(data, dict):
        raise Invalid("must be a preset name (CN, US) or a mapping", prefix or "calendar", data)
    data = dict(data)
    preset = data.pop("preset", None)
    if preset is not None:
        if not isinstance(preset, str) or preset.upper() not in PRESETS:
            raise Invalid("is not a preset (CN, US)", path(("preset",), prefix), preset)
        data = {**PRESETS[preset.upper()], **data}
    try:
        return BusinessCalendar.model_validate(data)
    except ValidationError as exc:
        raise Invalid(problems_of(exc, prefix)) from None
    except Invalid as exc:
        if prefix:
            raise Invalid(
                [Problem(path((p.field,), prefix), p.value, p.reason) for p in exc.problems]
            ) from None
        raise


def load_calendar(text: str) -> BusinessCalendar:
    """A calendar from a YAML document (see ``parse_calendar``)."""
    return parse_calendar(read_yaml(text))


def preset(name: Country) -> BusinessCalendar:
    """The ``CN`` (Asia/Shanghai, Mon–Fri 09:00–18:00, lunch 12:00–13:00) or ``US``
    (America/New_York, Mon–Fri 09:00–17:00) calendar with its country's public holidays."""
    return parse_calendar(name)
