"""Pure: one column of text → typed values, with a problem per bad cell naming the rule.

Columnar (pandas) on purpose: the same rules a pydantic model would check, at a million rows a
second instead of a hundred thousand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from cxloop.customers.identity import normalise_email, normalise_identity, normalise_phone
from cxloop.customers.roles import canonical_role
from cxloop.errors import Problem
from cxloop.feedback.channels import canonical_channel
from cxloop.ingest.fields import FALSE_WORDS, TRUE_WORDS, FieldSpec

MIN_YEAR, MAX_YEAR = 1900, 2100


_OFFSET = re.compile(r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s?(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$")


_DATE_OFFSET = re.compile(r"(\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s?(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$")


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


_FALLBACK_FORMATS = (
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%Y%m%d",
)


def _short_dates(first: str, second: str) -> tuple[str, ...]:
    """``11/07/2026`` shapes (slash or dash, 4- or 2-digit year, with or without a time)."""
    return tuple(
        f"{first}{sep}{second}{sep}{year}{time}"
        for sep in ("/", "-")
        for year in ("%Y", "%y")
        for time in (" %H:%M:%S", " %H:%M", "")
    )


_MONTH_FIRST = _short_dates("%m", "%d")
_DAY_FIRST = _short_dates("%d", "%m")


@dataclass(frozen=True)
class ValidationContext:
    region: str = "CN"
    timezone: str = "Asia/Shanghai"
    encoding: str | None = None
    day_first: bool = False
    """How ``11/07/2026`` reads: decided per file (``ingest.profile``) or by setting."""


def _parse_datetimes(values: pd.Series, tz: str, day_first: bool = False) -> pd.Series:
    """ISO 8601 fast path, then the formats survey tools and Excel write; UTC, naive."""
    present = values.notna()
    result = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]")
    if not present.any():
        return result
    text = values[present].astype(str)
    aware = text.str.contains(_OFFSET)
    if aware.any():
        parsed = pd.to_datetime(text[aware], format="ISO8601", errors="coerce", utc=True)
        result.loc[parsed.index] = parsed.dt.tz_localize(None).astype("datetime64[us]")
    naive_text = text[~aware]
    if len(naive_text):
        parsed = pd.to_datetime(naive_text, format="ISO8601", errors="coerce")
        missing = parsed.isna()
        for fmt in _FALLBACK_FORMATS + (_DAY_FIRST if day_first else _MONTH_FIRST):
            if not missing.any():
                break
            retry = pd.to_datetime(naive_text[missing], format=fmt, errors="coerce")
            parsed.loc[retry.index] = retry
            missing = parsed.isna()
        good = parsed.dropna()
        if len(good):
            local = good.dt.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward")
            result.loc[local.index] = (
                local.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[us]")
            )
    years = result.dt.year
    result = result.where(years.isna() | ((years >= MIN_YEAR) & (years <= MAX_YEAR)))
    return result


def _range_text(spec: FieldSpec) -> str:
    def num(v: float) -> str:
        return str(int(v)) if float(v).is_integer() else str(v)

    if spec.min is not None and spec.max is not None:
        return f"is outside {num(spec.min)}–{num(spec.max)}"
    if spec.min is not None:
        return f"is below {num(spec.min)}"
    return f"is above {num(spec.max or 0)}"


@lru_cache(maxsize=65_536)
def _phone(value: str, region: str) -> str | None:
    return normalise_phone(value, region)


class Checker:
    """Accumulates problems per row while converting one field at a time."""

    def __init__(self, index: pd.Index) -> None:
        self.problems: dict[Any, list[Problem]] = {}
        self.warnings: dict[Any, list[Problem]] = {}
        self.index = index

    def flag(self, mask: pd.Series, spec_field: FieldSpec, values: pd.Series, reason: str) -> None:
        for idx in mask.index[mask.to_numpy(dtype=bool)]:
            self.problems.setdefault(idx, []).append(Problem(spec_field.name, values[idx], reason))

    def flag_identity(
        self, mask: pd.Series, spec_field: FieldSpec, values: pd.Series, reason: str
    ) -> None:
        """A bad optional identity (a mistyped phone) costs only that value, never the row:
        it is left out of matching and reported as a warning."""
        if spec_field.required or spec_field.identity is None:
            self.flag(mask, spec_field, values, reason)
            return
        for idx in mask.index[mask.to_numpy(dtype=bool)]:
            self.warnings.setdefault(idx, []).append(Problem(spec_field.name, values[idx], reason))


def convert(
    spec_field: FieldSpec, values: pd.Series, check: Checker, ctx: ValidationContext
) -> pd.Series:
    present = values.notna()
    kind = spec_field.type
    if kind in ("int", "float"):
        numbers = pd.to_numeric(values.where(present), errors="coerce")
        bad = present & (numbers.isna() | ~np.isfinite(numbers.fillna(0)))
        if kind == "int":
            whole = numbers.isna() | (numbers == numbers.round())
            check.flag(bad, spec_field, values, "is not a whole number")
            check.flag(present & ~bad & ~whole, spec_field, values, "is not a whole number")
            bad = bad | ~whole
        else:
            check.flag(bad, spec_field, values, "is not a number")
        ok = present & ~bad
        low = spec_field.min if spec_field.min is not None else -np.inf
        high = spec_field.max if spec_field.max is not None else np.inf
        out_of_range = ok & ((numbers < low) | (numbers > high))
        check.flag(out_of_range, spec_field, values, _range_text(spec_field))
        good = numbers.where(ok & ~out_of_range)
        if kind == "int":
            return good.round().astype("Int64").astype(object).where(good.notna(), None)
        return good.astype(object).where(good.notna(), None)
    if kind in ("datetime", "date"):
        if kind == "date":  # a date is the day as written: drop any offset, never shift a day
            values = values.str.replace(_DATE_OFFSET, r"\1", regex=True)
        parsed = _parse_datetimes(
            values, ctx.timezone if kind == "datetime" else "UTC", ctx.day_first
        )
        bad = present & parsed.isna()
        example = "2026-03-01 14:05:00" if kind == "datetime" else "2026-03-01"
        check.flag(
            bad,
            spec_field,
            values,
            f"is not a valid {'date/time' if kind == 'datetime' else 'date'} "
            f"between {MIN_YEAR} and {MAX_YEAR} (e.g. {example})",
        )
        if kind == "date":
            return pd.Series(
                [v.date() if not pd.isna(v) else None for v in parsed],
                index=values.index,
                dtype=object,
            )
        return parsed
    if kind == "bool":
        lowered = values.str.lower()
        truthy, falsy = lowered.isin(TRUE_WORDS), lowered.isin(FALSE_WORDS)
        check.flag(
            present & ~truthy & ~falsy,
            spec_field,
            values,
            "is not yes/no (use true/false, 1/0, yes/no, 是/否)",
        )
        flags = [True if t else False if f else None for t, f in zip(truthy, falsy, strict=True)]
        return pd.Series(flags, index=values.index, dtype=object)
    if kind == "enum":
        choices = spec_field.choices or {}
        mapped = values.map(
            lambda v: choices.get(v.strip().lower()) if isinstance(v, str) else None
        )
        allowed = ", ".join(sorted(set(choices.values())))
        check.flag(present & mapped.isna(), spec_field, values, f"is not one of: {allowed}")
        return mapped.where(mapped.notna(), None)
    if kind == "email":
        normal = values.map(lambda v: normalise_email(v) if isinstance(v, str) else None)
        ok = normal.map(lambda v: isinstance(v, str) and bool(_EMAIL.match(v)))
        check.flag_identity(
            present & ~ok.astype(bool), spec_field, values, "is not an email address"
        )
        too_long = ok.astype(bool) & (normal.str.len() > spec_field.max_length)
        check.flag_identity(
            too_long, spec_field, values, f"is longer than {spec_field.max_length} characters"
        )
        return normal.where(ok.astype(bool) & ~too_long, None)
    if kind == "phone":
        normal = values.map(lambda v: _phone(v, ctx.region) if isinstance(v, str) else None)
        check.flag_identity(
            present & normal.isna(),
            spec_field,
            values,
            f"is not a valid phone number (without +country it is read as {ctx.region})",
        )
        return normal.where(normal.notna(), None)
    if kind == "channel":  # open: known spellings folded together, any other kept as written
        spellings = {v: canonical_channel(v) for v in pd.unique(values[present])}
        values = values.map(spellings).astype(object).where(present, None)
    if kind == "role":  # open too: 决策者 → decision_maker, 行政助理 kept, never quarantined
        roles = {v: canonical_role(v) for v in pd.unique(values[present])}
        values = values.map(roles).astype(object).where(present, None)
    lengths = values.str.len()
    too_long = present & (lengths > spec_field.max_length)
    check.flag_identity(
        too_long, spec_field, values, f"is longer than {spec_field.max_length} characters"
    )
    kept = values.where(~too_long, None)
    if spec_field.identity in ("handle", "member_id"):
        identity = spec_field.identity
        kept = kept.map(lambda v: normalise_identity(identity, v) if isinstance(v, str) else None)
        grown = kept.str.len() > spec_field.max_length  # NFKC can lengthen a value
        check.flag_identity(
            grown.fillna(False).astype(bool),
            spec_field,
            values,
            f"is longer than {spec_field.max_length} characters once normalised",
        )
        kept = kept.where(~grown.fillna(False).astype(bool), None)
    return kept


def identity_values(
    kinds: pd.Series, values: pd.Series, check: Checker, ctx: ValidationContext
) -> pd.Series:
    """Each identity in its comparable form (phones read in the configured region); one that
    is not a valid email or phone is a problem, not silently skipped."""
    normal = pd.Series(
        [
            normalise_identity(k, v, ctx.region)
            if isinstance(k, str) and isinstance(v, str)
            else None
            for k, v in zip(kinds.tolist(), values.tolist(), strict=True)
        ],
        index=values.index,
        dtype=object,
    )
    bad = values.notna() & kinds.notna() & normal.isna()
    for idx in bad.index[bad.to_numpy()]:
        reason = f"is not a valid {kinds[idx]}" + (
            f" (without +country it is read as {ctx.region})" if kinds[idx] == "phone" else ""
        )
        check.problems.setdefault(idx, []).append(Problem("value", values[idx], reason))
    return normal
