"""Working hours and dates as a calendar file writes them, read into minutes and dates; and
what every loop YAML file (calendars, SLA policies, rules, routing) reads alike.

Pure: no database. Each reader returns what it could read plus every bad entry (where, value,
reason), so a user fixes a whole calendar file in one pass.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from itertools import pairwise
from typing import Annotated, Any, TypeVar

import yaml
from pydantic import BeforeValidator, ValidationError

from cxloop.errors import Invalid, Problem

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Weekday names in ``date.weekday()`` order; a full name (``monday``) means the same."""
Span = tuple[int, int]
"""Working time inside one local day, in minutes after midnight: [start, end), end ≤ 1440."""
_CLOCK = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–~]\s*(\d{1,2}):(\d{2})\s*$")


def read_span(text: Any) -> Span:
    """``"09:00-18:00"`` as minutes (540, 1080); ``24:00`` may end a span (open all day)."""
    match = _CLOCK.match(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError("is not a time span (write HH:MM-HH:MM, e.g. 09:00-18:00)")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2):
        raise ValueError("is not a clock time (hours 00–23, minutes 00–59; 24:00 may end a span)")
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if end <= start:
        raise ValueError("ends before it starts (a span stays inside one day)")
    return start, end


Entry = tuple[str, Any, str]
"""One bad entry inside a field: where (``mon-fri[1]``), its value, and the reason."""


class BadEntries(ValueError):
    """Every bad entry of one field: pydantic keeps it, ``problems_of`` names each entry."""

    def __init__(self, entries: list[Entry]):
        super().__init__("; ".join(f"{where}: {reason}" for where, _, reason in entries))
        self.entries = entries


Read = TypeVar("Read")


def all_read(result: tuple[Read, list[Entry]]) -> Read:
    """What a reader below read, or ``BadEntries`` with every entry it could not read: a model
    field's validator returns this, so one file's mistakes are all named at once."""
    found, bad = result
    if bad:
        raise BadEntries(bad)
    return found


def read_spans(value: Any, where: str = "") -> tuple[list[Span], list[Entry]]:
    """One span, a list of spans, or nothing (``null``, ``[]``, ``closed``: no working time)."""
    if value is None or value == "closed":
        return [], []
    items = value if isinstance(value, list) else [value]
    spans, bad = [], []
    for i, item in enumerate(items):
        try:
            spans.append(read_span(item))
        except ValueError as exc:
            bad.append((f"{where}[{i}]" if isinstance(value, list) else where, item, str(exc)))
    spans.sort()
    if any(start < end for (_, end), (start, _) in pairwise(spans)):
        bad.append((where, value, "has spans that overlap"))
    return spans, bad


def read_week(value: Any) -> tuple[dict[int, list[Span]], list[Entry]]:
    """``{mon-fri: 09:00-18:00, sat: [..]}`` as spans per weekday number (Monday is 0)."""
    week: dict[int, list[Span]] = {}
    named: dict[int, str] = {}
    bad: list[Entry] = []
    for key, raw in value.items():
        names = [part.strip().lower()[:3] for part in str(key).split("-")]
        if len(names) > 2 or any(name not in DAYS for name in names):
            reason = f"is not a weekday or a range of them ({', '.join(DAYS)}; e.g. mon-fri)"
            bad.append((str(key), key, reason))
            continue
        first, last = DAYS.index(names[0]), DAYS.index(names[-1])
        if last < first:
            reason = "runs backwards (write the earlier day first, e.g. mon-fri)"
            bad.append((str(key), key, reason))
            continue
        spans, wrong = read_spans(raw, str(key))
        bad.extend(wrong)
        for day in range(first, last + 1):
            if day in named:
                bad.append((str(key), key, f"names {DAYS[day]} again (already in {named[day]})"))
                break
            named[day] = str(key)
            if spans:
                week[day] = spans
    return week, bad


def read_dates(value: Any) -> tuple[dict[date, str], list[Entry]]:
    """A list of dates or a mapping date → name, as {date: name}."""
    if isinstance(value, dict):
        pairs = [(raw, name, str(raw)) for raw, name in value.items()]
    else:
        pairs = [(raw, "", f"[{i}]") for i, raw in enumerate(value)]
    out: dict[date, str] = {}
    bad: list[Entry] = []
    for raw, name, where in pairs:
        day = raw if isinstance(raw, date) and not isinstance(raw, datetime) else None
        if day is None and isinstance(raw, str):
            try:
                day = date.fromisoformat(raw.strip())
            except ValueError:
                day = None
        if day is None:
            bad.append((where, raw, "is not a date (write YYYY-MM-DD)"))
        elif day in out:
            bad.append((where, str(day), "is listed twice"))
        else:
            out[day] = str(name or "")
    return out, bad


def clock(spans: list[Span]) -> str:
    """Spans as the user writes them: ``09:00-12:00, 13:00-18:00``."""
    return ", ".join(f"{s // 60:02d}:{s % 60:02d}-{e // 60:02d}:{e % 60:02d}" for s, e in spans)


def subtract(spans: list[Span], cuts: list[Span]) -> list[Span]:
    """``spans`` with every ``cuts`` span taken out (a lunch break inside the working day)."""
    out = spans
    for cut_start, cut_end in cuts:
        kept: list[Span] = []
        for start, end in out:
            if cut_end <= start or end <= cut_start:
                kept.append((start, end))
                continue
            if start < cut_start:
                kept.append((start, cut_start))
            if cut_end < end:
                kept.append((cut_end, end))
        out = kept
    return out


def _parts(where: str | int | None) -> list[str | int]:
    """``"mon-fri[1]"`` as ``["mon-fri", 1]``."""
    if where is None:
        return []
    return [int(p) if p.isdigit() else p for p in re.split(r"[\[\]]+", str(where)) if p]


def path(location: tuple[int | str, ...], prefix: str) -> str:
    text = prefix
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def problems_of(exc: ValidationError, prefix: str = "", thing: str = "a calendar") -> list[Problem]:
    """pydantic's errors as Problems named by path (``calendar.hours``), value and reason."""
    out = []
    for error in exc.errors():
        location: tuple[int | str, ...] = tuple(error["loc"])
        value = error.get("input")
        reason = str(error["msg"]).removeprefix("Value error, ")
        bad = error.get("ctx", {}).get("error")
        if isinstance(bad, BadEntries):
            for where, entry, why in bad.entries:
                out.append(Problem(path((*location, *_parts(where)), prefix), entry, why))
            continue
        if error["type"] == "literal_error" and error["loc"][-1:] == ("country",):
            reason = "is not a country preset (CN, US, or leave it out)"
        elif error["type"] == "extra_forbidden":
            reason = f"is not {thing} setting"
        elif error["type"] == "missing":
            value, reason = None, "is required"
        out.append(Problem(path(location, prefix), value, reason))
    return out


def read_yaml(text: str) -> Any:
    """YAML text as data, or ``Invalid`` naming the line of the mistake."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "yaml"
        raise Invalid([Problem(where, None, f"is not valid YAML: {exc}")]) from None
    except (ValueError, RecursionError) as exc:  # a date like 2026-02-30, or nesting too deep
        reason = "is nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise Invalid([Problem("yaml", None, f"cannot be read: {reason}")]) from None


def true_or_false(value: Any) -> bool:
    """A switch as YAML writes it: only ``true`` or ``false``, so ``"yes"`` or ``1`` is named, not
    read as on."""
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


Switch = Annotated[bool, BeforeValidator(true_or_false)]
"""A loop file's on/off setting (a rule's ``enabled``, routing's ``account_owner``)."""
