"""Small readings every tool's importer needs alike: ids, times, numbers, and which questions
are NPS, CSAT or CES (so imported history feeds the metrics). Pure."""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Iterable
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cxloop.errors import Invalid
from cxloop.surveys.importers.model import QuestionKind

_NOT_ID = re.compile(r"[^A-Za-z0-9_]+")
_DECIMAL_COMMA = re.compile(r"^(\s*[-+]?\d+),(\d{1,2})(?!\d)")
"""``7,5`` or ``7,25`` (a European decimal); ``1,000`` has three digits after the comma."""
_NUMBER = re.compile(r"^\s*([-+]?\d+(?:\.\d+)?)\s*(?:分|points?|pts?)?\s*$", re.IGNORECASE)
_TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%a %b %d %Y",
)
_SHORT = re.compile(
    r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?"
    r"\s*([AaPp][Mm])?)?$"
)

NPS_WORDS = (
    "recommend",  # en
    "recommand",  # fr: recommander, recommanderiez
    "recomend",  # es/pt: recomendaría, recomendaria
    "recomiend",  # es: recomiende
    "raccomand",  # it
    "aanbevel",  # nl: aanbevelen
    "aanbeveel",  # nl: aanbeveelt
    "aanraden",  # nl
    "empfehl",  # de: empfehlen, weiterempfehlen, empfehlenswert
    "推荐",
    "推薦",
    "介绍给",
    "介紹給",
    "おすすめ",
    "お勧め",
    "お薦め",
    "추천",
)
"""Stems of "recommend" in the languages exports arrive in (verb forms differ: aanbeveelt)."""
CSAT_WORDS = ("satisf", "soddisf", "满意", "滿意", "満足", "만족", "tevreden", "zufrieden")
CES_WORDS = (
    "effort",
    "easy",
    "easier",
    "difficult",
    "moeite",  # nl
    "gemakkelijk",
    "makkelijk",
    "aufwand",  # de
    "einfach",
    "fácil",  # es
    "facil",
    "facile",  # fr/it
    "esfuerzo",
    "费力",
    "容易",
    "轻松",
    "便捷",
    "方便",
    "省力",
    "簡単",
)
NOT_APPLICABLE = frozenset(
    {
        "",
        "(空)",
        "(跳过)",
        "-3",
        "n/a",
        "n.a.",
        "n.v.t.",
        "nvt",
        "k.a.",
        "k. a.",
        "keine angabe",
        "不适用",
        "不適用",
    }
)
"""What tools write for "no answer" / "not applicable" (LimeSurvey long answers translate it:
N.v.t. in Dutch, k.A. / keine Angabe in German): the answer is absent, never a refused row."""


def identifier(raw: str, fallback: str) -> str:
    """A cxloop question/row id from a tool's tag (``Q7``, ``Q3[SQ001]``, ``QID7_3``): ASCII
    letters, digits and ``_``, not starting with a digit, at most 64; ``fallback`` (e.g.
    ``q7``) when nothing is left (a Chinese or empty tag)."""
    text = unicodedata.normalize("NFKC", raw)
    out = _NOT_ID.sub("_", text).strip("_")
    if not out or not out.isascii():
        out = fallback
    if out[0].isdigit():
        out = f"q{out}"
    return out[:64]


def unique_ids(ids: Iterable[str]) -> list[str]:
    """The ids with repeats suffixed ``_2``, ``_3`` (tags are user-editable and may repeat)."""
    seen: dict[str, int] = {}
    out = []
    for raw in ids:
        n = seen.get(raw, 0) + 1
        seen[raw] = n
        candidate = raw if n == 1 else f"{raw[:60]}_{n}"
        while candidate in seen and n > 1:
            n += 1
            candidate = f"{raw[:60]}_{n}"
        seen.setdefault(candidate, 1)
        out.append(candidate)
    return out


def number(raw: str) -> float | None:
    """A score as written (``9``, ``9.0``, ``7,5``, ``4分``, ``7 points``); None when it is not
    one: ``1,000`` (a thousands separator, not 1.0) and a digit run too long for a float (it
    would read as infinity)."""
    match = _NUMBER.match(_DECIMAL_COMMA.sub(r"\1.\2", raw))
    if not match:
        return None
    value = float(match.group(1))
    return value if math.isfinite(value) else None


def zone(name: str | None, default: str) -> ZoneInfo:
    """The zone the file names (``America/Denver``), else ``default``; an unknown name is a
    configuration error stated before any work starts."""
    for candidate in (name, default):
        if candidate:
            try:
                return ZoneInfo(candidate.strip())
            except (ZoneInfoNotFoundError, ValueError):
                if candidate == default:
                    raise Invalid(
                        f"timezone {candidate!r} is not a known IANA zone (e.g. Asia/Shanghai)"
                    ) from None
    return ZoneInfo("UTC")


def parse_time(raw: str, tz: ZoneInfo, *, day_first: bool | None = None) -> dt.datetime | None:
    """A wall-clock time as the tool wrote it, read in ``tz`` and returned aware (UTC).

    Exports carry no offset; Excel re-saves rewrite ``2022-08-22 15:44:02`` as ``8/22/22 15:44``,
    so short day/month forms are read too: month first unless ``day_first`` or the first number
    is over 12. None when the text is not a time (``#####``, empty)."""
    text = raw.strip()
    if not text or text.startswith("#"):
        return None
    text = text.replace("年", "-").replace("月", "-").replace("日", " ").strip()
    parsed: dt.datetime | None = None
    for fmt in _TIME_FORMATS:
        try:
            parsed = dt.datetime.strptime(text, fmt)
            break
        except ValueError:
            continue
    if parsed is None:
        parsed = _short(text, day_first)
    if parsed is None:
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    try:
        return parsed.astimezone(dt.UTC)
    except OverflowError:  # year 1 or 9999 pushed past the calendar by the zone
        return None


def _short(text: str, day_first: bool | None) -> dt.datetime | None:
    match = _SHORT.match(text)
    if not match:
        return None
    a, b, year, hour, minute, second, half = match.groups()
    first, second_n = int(a), int(b)
    month, day = (
        (second_n, first)
        if day_first or (day_first is None and first > 12)
        else (
            first,
            second_n,
        )
    )
    full_year = int(year) + (2000 if len(year) == 2 else 0)
    h = int(hour or 0)
    if half and half.lower() == "pm" and h < 12:
        h += 12
    if half and half.lower() == "am" and h == 12:
        h = 0
    try:
        return dt.datetime(full_year, month, day, h, int(minute or 0), int(second or 0))
    except ValueError:
        return None


DateOrder = Literal["day-first", "month-first", "ambiguous"]


def date_order(values: Iterable[str]) -> DateOrder | None:
    """How a column's short dates (``5/9/22``) read: ``day-first`` when some first number is over
    12, ``month-first`` when some second number is, ``ambiguous`` when every one reads both
    ways; None when the column holds no short date (ISO dates need no order)."""
    seen = False
    for value in values:
        match = _SHORT.match(value.strip())
        if not match:
            continue
        seen = True
        first, second = int(match.group(1)), int(match.group(2))
        if first > 12:
            return "day-first"
        if second > 12:
            return "month-first"
    return "ambiguous" if seen else None


def date_order_note(columns: Iterable[str], day_first: bool | None) -> str:
    """The note for date columns whose every date reads both ways, naming the order used."""
    names = ", ".join(columns)
    if day_first is None:
        return (
            f"{names}: every date reads both ways (5/9/22), so they were read month-first; if "
            "they are day-first, import again with --date-order day-first (or set date_order)"
        )
    order = "day-first" if day_first else "month-first"
    return f"{names}: every date reads both ways (5/9/22); read {order} as the date order says"


def file_day_first(
    values: Iterable[str], columns: Iterable[str], stated: bool | None
) -> tuple[bool | None, str | None]:
    """One day/month order for all of a file's date columns (``values``: their cells), so no
    row is read in another order than its neighbours: the stated order, else what a date over 12
    shows, else month-first; with the note for ``columns`` whose every date reads both ways.
    None when no cell is a short date (ISO dates need no order) and none was stated."""
    order = date_order(values)
    note = date_order_note(columns, stated) if order == "ambiguous" else None
    if stated is not None or order is None:
        return stated, note
    return order == "day-first", note


def time_problem(raw: str, day_first: bool | None) -> str:
    """Why ``raw`` is not a time, in the words that fix it: Excel's ``#####``, a day over 12 in a
    month-first column (a file with mixed orders), or not a date at all."""
    text = raw.strip()
    if text.startswith("#"):
        return (
            "is not a date and time: ##### is what Excel saves for a column too narrow to show "
            "its value; widen the column before saving, or export again from the tool"
        )
    match = _SHORT.match(text)
    if match:
        first, second = int(match.group(1)), int(match.group(2))
        if not day_first and first > 12:
            return (
                f"has day {first} in a month-first column (the column's other dates read "
                "month/day): fix this row, or name the order with --date-order"
            )
        if day_first and second > 12:
            return (
                f"has month {second} in a day-first column (the column's other dates read "
                "day/month): fix this row, or name the order with --date-order"
            )
        return "is not a date that exists (check the day and month)"
    return "is not a date and time this import reads (e.g. 2024-03-05 14:02 or 3/5/24 14:02)"


def scored_kind(text: str, low: int, high: int) -> QuestionKind:
    """NPS, CSAT or CES when a numeric scale's range and wording say so, else ``rating``.

    0–10 with "recommend"/"推荐" is NPS; 1–5 with "satisf"/"满意" is CSAT; 1–7 with "effort"/
    "easy"/"费力"/"容易" is CES. The range alone decides nothing (a 0–10 "how satisfied" is a
    rating), so imported history feeds the NPS only where the question was one."""
    words = text.casefold()
    if (low, high) == (0, 10) and any(w in words for w in NPS_WORDS):
        return "nps"
    if (low, high) == (1, 7) and any(w in words for w in CES_WORDS):
        return "ces"
    if (low, high) == (1, 5) and any(w in words for w in CSAT_WORDS):
        return "csat"
    return "rating"


_CJK = re.compile(r"[\u3400-\u9fff]")


def looks_like_free_text(values: Iterable[str]) -> bool:
    """True when a column's answers read as the respondent's own words, not labels picked from
    a list: an answer spanning lines, or at least half of the distinct answers sentence-long
    (over 40 characters, six words, or 15 Chinese characters), or many answers nearly all
    different. Readers without a definition file ask this before making a choice of them, so
    comments are not turned into options."""
    answers = [v.strip() for v in values if v and v.strip()]
    if not answers:
        return False
    if any("\n" in v for v in answers):
        return True
    distinct = set(answers)
    wordy = sum(
        1 for v in distinct if len(v) > 40 or len(v.split()) >= 6 or len(_CJK.findall(v)) >= 15
    )
    if wordy * 2 >= len(distinct):
        return True
    return len(distinct) > 15 and len(distinct) * 10 >= len(answers) * 8


def person_name(first: str, last: str) -> str | None:
    """First and last name as the person writes it: ``Anna Smith``, but ``李伟`` (family name
    first, no space) when both are Chinese; None when both are empty."""
    first, last = first.strip(), last.strip()
    if first and last and _CJK.search(first) and _CJK.search(last):
        return last + first
    return " ".join(p for p in (first, last) if p) or None


def whole(value: float) -> int | float:
    """A score as stored: ``9.0`` → ``9``, ``7.5`` stays."""
    return int(value) if float(value).is_integer() else value


def blank(value: str | None) -> bool:
    """Empty, or a marker a tool writes for "no answer" / "not applicable" (any case)."""
    return value is None or value.strip().casefold() in NOT_APPLICABLE
