"""The scope of an analysis: a time window (``--since``/``--until``/``--last``) and ``--where``
conditions on who answered, parsed once for the CLI, the API and Python alike.

Pure: no database, no Ibis at import (``apply_scope`` imports it when called), so the CLI can
parse options without loading the analytics stack. Times are naive UTC, as the store keeps them.

Rules (stated in the README):

- ``since`` is inclusive, ``until`` exclusive; a date, a month ``2025-10``, a quarter
  ``2025-Q4``, an ISO week ``2025-W43`` or a year ``2025`` given as ``until`` means *through the
  end of* that day/period (``--until 2025-10-31`` keeps 31 October).
- ``--last 30d`` (``d``, ``w``, ``m`` months, ``y`` years) is the window that ends at ``--until``
  when given, else at the clock (``now``), never at the end of the data: "the last 30 days" means
  the days before today. It cannot be combined with ``--since``.
- ``--where field=value`` (``field:value`` too): fields are ``WHERE_FIELDS``; the same field
  repeated keeps any of its values, different fields must all hold; values match ignoring case.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from cxloop.errors import Invalid, Problem

if TYPE_CHECKING:
    import ibis

WHERE_FIELDS = ("segment", "region", "channel", "touchpoint", "account", "role", "language")
"""What ``--where`` may name; ``account`` is the feedback's ``account_id``."""
WHERE_COLUMNS = {"account": "account_id"}
"""Column of each ``--where`` field where it differs from the field's name."""
WHERE_ALIASES = {"account_id": "account"}
PROFILE_FIELDS = ("segment", "region", "role")
"""``--where`` fields that are not columns of feedback: the customer's/account's/contact's."""

_OUT_OF_RANGE = "reaches outside the calendar (years 1 to 9999)"
_LAST = re.compile(r"^\s*(\d{1,4})\s*([dwmy])\s*$", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)
_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE)
_YEAR = re.compile(r"^(\d{4})$")


class Scope(BaseModel):
    """Which feedback (and events) an analysis considers: ``since`` ≤ time < ``until`` (either
    open) and every ``where`` condition; the empty scope keeps everything."""

    model_config = ConfigDict(frozen=True)

    since: dt.datetime | None = Field(None, description="Inclusive start, naive UTC.")
    until: dt.datetime | None = Field(None, description="Exclusive end, naive UTC.")
    where: tuple[tuple[str, str], ...] = Field(
        (), description="(field, value) pairs; one field's values are alternatives."
    )

    @property
    def empty(self) -> bool:
        return self.since is None and self.until is None and not self.where

    def conditions(self) -> dict[str, tuple[str, ...]]:
        """The ``where`` pairs grouped by field, in field order (``{"segment": ("vip",)}``)."""
        grouped: dict[str, tuple[str, ...]] = {}
        for field, value in self.where:
            grouped[field] = (*grouped.get(field, ()), value)
        return grouped

    def columns(self) -> dict[str, tuple[str, ...]]:
        """``conditions`` keyed by table column (``account`` → ``account_id``)."""
        return {WHERE_COLUMNS.get(f, f): v for f, v in self.conditions().items()}

    def profile_fields(self) -> list[str]:
        """The ``where`` fields that need a profile join (segment, region, role)."""
        return [f for f in PROFILE_FIELDS if f in self.conditions()]

    def window(self) -> str:
        """The window in words: ``2026-05-01 … 2026-06-30``, ``start … now`` when open."""
        start = _stamp(self.since) if self.since else "start"
        end = _stamp(self.until - dt.timedelta(microseconds=1)) if self.until else "now"
        return f"{start} … {end}"

    def describe(self) -> str:
        """The scope in words for a table title: ``2026-05-01 … 2026-06-30, segment=vip``."""
        parts = [self.window()] if self.since or self.until else []
        parts += [f"{f}={'|'.join(v)}" for f, v in self.conditions().items()]
        return ", ".join(parts) or "all data"


def _stamp(moment: dt.datetime) -> str:
    """A date when the time is a day boundary (or its last microsecond), else minutes."""
    if moment.time() in (dt.time(0), dt.time(23, 59, 59, 999999)):
        return moment.date().isoformat()
    return moment.strftime("%Y-%m-%d %H:%M")


def utc_naive(moment: dt.datetime) -> dt.datetime:
    """``moment`` as naive UTC (the store's convention); naive input is taken as UTC."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def add_months(moment: dt.datetime, months: int) -> dt.datetime:
    """``moment`` shifted by calendar months, the day clipped to the month's length (31 March
    minus one month is 28/29 February). Written here to keep dateutil off the CLI's path."""
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    following = dt.date(year + (month == 12), month % 12 + 1, 1)
    last_day = (following - dt.timedelta(days=1)).day
    return moment.replace(year=year, month=month, day=min(moment.day, last_day))


def parse_duration(text: str, *, end: dt.datetime, field: str = "last") -> dt.datetime:
    """The start of the window of length ``text`` (``30d``, ``12w``, ``6m``, ``1y``) ending at
    ``end``; ``Invalid`` naming ``field`` for anything else or a zero length."""
    match = _LAST.match(text)
    if not match or int(match.group(1)) == 0:
        raise Invalid(
            "is not a length like 30d, 12w, 6m or 1y (days, weeks, months, years; above 0)",
            field,
            text,
        )
    count, unit = int(match.group(1)), match.group(2).lower()
    if unit == "d":
        return end - dt.timedelta(days=count)
    if unit == "w":
        return end - dt.timedelta(weeks=count)
    return add_months(end, -count * (12 if unit == "y" else 1))


def period_bounds(text: str) -> tuple[dt.datetime, dt.datetime] | None:
    """Start and (exclusive) end of a period label: ``2025-10``, ``2025-Q4``, ``2025-W43``
    (ISO week, from Monday) or ``2025``; ``None`` when ``text`` is not such a label."""
    text = text.strip()
    if match := _MONTH.match(text):
        year, month = int(match.group(1)), int(match.group(2))
        if not 1 <= month <= 12:
            return None
        start = dt.datetime(year, month, 1)
        return start, add_months(start, 1)
    if match := _QUARTER.match(text):
        start = dt.datetime(int(match.group(1)), 3 * int(match.group(2)) - 2, 1)
        return start, add_months(start, 3)
    if match := _WEEK.match(text):
        try:
            day = dt.date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
        except ValueError:
            return None
        start = dt.datetime.combine(day, dt.time())
        return start, start + dt.timedelta(weeks=1)
    if match := _YEAR.match(text):
        start = dt.datetime(int(match.group(1)), 1, 1)
        return start, add_months(start, 12)
    return None


def period_label(value: object, period: str | None) -> str:
    """A period's first instant as the period's name, the inverse of ``period_bounds``:
    ``2025-10-31`` (day), ``2025-W44`` (ISO week, from Monday), ``2025-10`` (month),
    ``2025-Q4`` (quarter); ``–`` for a missing value."""
    if value is None or value != value:  # None, NaN, NaT
        return "–"
    if isinstance(value, dt.datetime):
        day = value.date()
    elif isinstance(value, dt.date):
        day = value
    else:
        day = dt.date.fromisoformat(str(value)[:10])
    if period == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if period == "month":
        return f"{day.year}-{day.month:02d}"
    if period == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    return day.isoformat()


def parse_moment(text: str, *, field: str, end: bool = False) -> dt.datetime:
    """A ``since`` (``end=False``) or ``until`` (``end=True``) bound as naive UTC: an ISO date or
    date-time (an offset is converted to UTC), or a period label; a date or label given as the
    end means through its last moment (the exclusive bound after it)."""
    bounds = period_bounds(text)
    if bounds is not None:
        return bounds[1] if end else bounds[0]
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise Invalid(
            "is not a date (2025-10-31), a date-time (2025-10-31T18:00, UTC unless it has an "
            "offset) or a period (2025-10, 2025-Q4, 2025-W43, 2025)",
            field,
            text,
        ) from None
    date_only = len(text.strip()) <= 10
    moment = utc_naive(moment)
    return moment + dt.timedelta(days=1) if end and date_only else moment


def parse_where(
    items: Sequence[str] | Mapping[str, str | Sequence[str]],
) -> tuple[tuple[str, str], ...]:
    """``field=value`` (or ``field:value``) strings, or a mapping, as sorted (field, value)
    pairs; ``Invalid`` naming every malformed item, unknown field and empty value."""
    pairs: list[tuple[str, str]] = []
    problems: list[Problem] = []
    if isinstance(items, Mapping):
        raw = [
            (str(k), v)
            for k, values in items.items()
            for v in ([values] if isinstance(values, str) else values)
        ]
    else:
        raw = []
        for item in items:
            split = re.split(r"[=:]", item, maxsplit=1)
            if len(split) != 2:
                problems.append(Problem("where", item, "is not field=value (e.g. segment=vip)"))
                continue
            raw.append((split[0], split[1]))
    for name, value in raw:
        field = WHERE_ALIASES.get(name.strip().lower(), name.strip().lower())
        if field not in WHERE_FIELDS:
            problems.append(
                Problem(
                    "where", name, f"is not a field to filter on; one of: {', '.join(WHERE_FIELDS)}"
                )
            )
        elif not str(value).strip():
            problems.append(Problem(f"where.{field}", value, "is empty; give a value to keep"))
        else:
            pairs.append((field, str(value).strip()))
    if problems:
        raise Invalid(problems)
    return tuple(sorted(set(pairs), key=lambda p: (WHERE_FIELDS.index(p[0]), p[1])))


def parse_scope(
    since: str | None = None,
    until: str | None = None,
    last: str | None = None,
    where: Sequence[str] | Mapping[str, str | Sequence[str]] = (),
    *,
    now: dt.datetime,
) -> Scope:
    """The ``Scope`` of CLI options or API parameters; ``Invalid`` lists every problem (bad
    date, ``last`` with ``since``, since not before until, unknown ``where`` field).

    >>> now = dt.datetime(2026, 12, 1)
    >>> parse_scope(until="2026-06", last="30d", where=["segment=vip"], now=now).describe()
    '2026-06-01 … 2026-06-30, segment=vip'
    """
    problems: list[Problem] = []
    start = end = None
    for text, name, is_end in ((since, "since", False), (until, "until", True)):
        if text is None or not text.strip():
            continue
        try:
            moment = parse_moment(text, field=name, end=is_end)
        except Invalid as error:
            problems += error.problems
            continue
        except (ValueError, OverflowError):  # a bound past year 1 or 9999
            problems.append(Problem(name, text, _OUT_OF_RANGE))
            continue
        if is_end:
            end = moment
        else:
            start = moment
    if last is not None and last.strip():
        if since is not None and since.strip():
            problems.append(Problem("last", last, "cannot be combined with since; give one"))
        else:
            try:
                start = parse_duration(last, end=end or utc_naive(now))
            except Invalid as error:
                problems += error.problems
            except (ValueError, OverflowError):
                problems.append(Problem("last", last, _OUT_OF_RANGE))
    try:
        pairs = parse_where(where)
    except Invalid as error:
        problems += error.problems
        pairs = ()
    if start is not None and end is not None and start >= end:
        problems.append(
            Problem("since", since or last, f"is not before until ({until}); the window is empty")
        )
    if problems:
        raise Invalid(problems)
    return Scope(since=start, until=end, where=pairs)


def apply_scope(table: ibis.Table, scope: Scope, *, time: str | None = "created_at") -> ibis.Table:
    """``table`` narrowed to ``scope``: its ``time`` column inside the window (``None``: no
    window applied) and each ``where`` column among its values, ignoring case (``VIP`` keeps
    ``vip``). ``table`` must have the columns ``scope.columns()`` names (join profile fields in
    first); ``Invalid`` otherwise."""
    import ibis

    missing = [c for c in scope.columns() if c not in table.columns]
    if missing:
        raise Invalid(
            f"cannot be filtered here: the data has no {', '.join(missing)} column",
            "where",
            missing,
        )
    predicates = []
    if time is not None and scope.since is not None:
        predicates.append(table[time] >= ibis.literal(scope.since))
    if time is not None and scope.until is not None:
        predicates.append(table[time] < ibis.literal(scope.until))
    for column, values in scope.columns().items():
        wanted = sorted({v.casefold() for v in values})
        predicates.append(table[column].lower().isin(wanted))
    return table.filter(*predicates) if predicates else table
