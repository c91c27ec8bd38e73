"""Column typing for churn models on any customer table: which columns to use, how, and why not.

Pure pandas: a table in, a :class:`ColumnPlan` out, and :func:`encode` turns any table with the
same columns into a float matrix that both scikit-learn models accept (categories become integer
codes, missing values NaN). Written here because no library infers "this is an identifier, this
is a yes/no flag, this is a number stored as text" from a raw CSV; each rule says its reason in
``ColumnPlan.dropped`` so a user can see and override it (``ignore=``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

from cxloop.errors import Invalid, Problem

YES_TOKENS = frozenset({"yes", "y", "true", "t"})
NO_TOKENS = frozenset({"no", "n", "false", "f"})
CHURNED_TOKENS = YES_TOKENS | {
    "1",
    "churn",
    "churned",
    "exited",
    "left",
    "lost",
    "inactive",
    "cancelled",
    "canceled",
    "gone",
}
STAYED_TOKENS = NO_TOKENS | {"0", "active", "retained", "stayed", "current", "kept", "renewed"}
ID_WORDS = frozenset({"id", "key", "uuid", "guid", "number", "no", "num", "code"})
DATE_PATTERN = re.compile(
    r"^\s*(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})([ T]\d{1,2}:\d{2}.*)?\s*$"
)
MIN_ROWS_FOR_ID_RULE = 20
UNIQUE_SHARE_FOR_ID = 0.95
MIN_ROWS_PER_LEVEL = 5
"""Text columns averaging fewer rows per distinct value than this are too sparse to learn from."""
RARE_LEVEL_ROWS = 10
"""Category levels seen fewer times than this are pooled into one "other" level."""
MAX_LEVELS = 100

Matrix = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ColumnPlan:
    """What a churn model uses from a table: the kind of each used column, the category levels
    learned from training, each column's baseline (median or mode code) and the dropped columns
    with the reason for each."""

    kinds: dict[str, str]
    levels: dict[str, tuple[str, ...]]
    baselines: dict[str, float]
    dropped: dict[str, str] = field(default_factory=dict)

    @property
    def columns(self) -> list[str]:
        return list(self.kinds)

    @property
    def categorical(self) -> list[bool]:
        """Per used column, whether it holds category codes (for HistGradientBoosting)."""
        return [kind == "categorical" for kind in self.kinds.values()]


def _words(name: str) -> list[str]:
    return [w.lower() for w in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+", name)]


def _text(series: pd.Series) -> pd.Series:
    """Non-numeric values as stripped strings; blanks become missing."""
    text = series.map(lambda v: v if pd.isna(v) else str(v).strip()).astype(object)
    return text.where(text != "", np.nan)


def as_number(series: pd.Series) -> tuple[pd.Series, str] | None:
    """The column as floats and the kind it was read as, or None when it is text.

    Booleans, yes/no-like strings and numbers stored as text (blanks → NaN, as in Telco's
    ``TotalCharges``) all become numbers.
    """
    if pd.api.types.is_bool_dtype(series):
        return series.astype(float), "boolean"
    if pd.api.types.is_numeric_dtype(series):
        return series.astype(float), "numeric"
    if not (pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)):
        return None
    text = _text(series)
    present = text.dropna()
    lowered = present.str.lower()
    if len(present) and set(lowered) <= YES_TOKENS | NO_TOKENS:
        return text.str.lower().map(lambda v: v if pd.isna(v) else float(v in YES_TOKENS)), (
            "yes/no"
        )
    parsed = pd.to_numeric(text, errors="coerce")
    if len(present) and parsed.notna().sum() == len(present):
        return parsed.astype(float), "text-coded numeric"
    return None


def _number_drop_reason(name: str, values: pd.Series) -> str | None:
    present = values.dropna()
    if present.empty:
        return "all values missing"
    distinct = present.nunique()
    if distinct <= 1:
        return "constant: one value only"
    whole = bool(np.all(np.mod(present, 1) == 0))
    if whole and len(present) >= MIN_ROWS_FOR_ID_RULE and distinct >= 0.99 * len(present):
        if present.max() - present.min() + 1 == distinct:
            return f"identifier-like: {distinct} unique integers forming a run (a row number)"
        if set(_words(name)) & ID_WORDS:
            return f"identifier-like: {distinct} unique integers and an identifier's name"
    return None


def _text_drop_reason(text: pd.Series) -> str | None:
    present = text.dropna()
    if present.empty:
        return "all values missing"
    distinct = present.nunique()
    if distinct <= 1:
        return "constant: one value only"
    dates = present.str.match(DATE_PATTERN).mean()
    if dates >= 0.95:
        return "date-like text: turn it into a number (e.g. days since) explicitly to use it"
    if len(present) >= MIN_ROWS_FOR_ID_RULE and distinct >= UNIQUE_SHARE_FOR_ID * len(present):
        return f"identifier-like: {distinct} of {len(present)} values unique"
    if distinct > 20 and len(present) / distinct < MIN_ROWS_PER_LEVEL:
        return (
            f"high-cardinality text: {distinct} values, {len(present) / distinct:.1f} rows per "
            f"value on average (fewer than {MIN_ROWS_PER_LEVEL}), too sparse to learn from"
        )
    return None


def _levels(text: pd.Series) -> tuple[str, ...]:
    """Levels seen at least ``RARE_LEVEL_ROWS`` times (at most ``MAX_LEVELS``), then "other"."""
    counts = text.value_counts()
    frequent = counts[counts >= RARE_LEVEL_ROWS].index[:MAX_LEVELS]
    kept = tuple(sorted(str(level) for level in frequent))
    return (*kept, "(other)") if len(kept) < len(counts) else kept


def plan_columns(df: pd.DataFrame, target: str, ignore: Sequence[str] = ()) -> ColumnPlan:
    """Decide, from the training table alone, how each column except ``target`` is used."""
    kinds: dict[str, str] = {}
    levels: dict[str, tuple[str, ...]] = {}
    baselines: dict[str, float] = {}
    dropped: dict[str, str] = {}
    for name in df.columns:
        column = str(name)
        if column == target:
            continue
        if column in ignore:
            dropped[column] = "ignored on request"
            continue
        series = df[name]
        if pd.api.types.is_datetime64_any_dtype(series) or pd.api.types.is_timedelta64_dtype(
            series
        ):
            dropped[column] = "date/time column: turn it into a number explicitly to use it"
            continue
        number = as_number(series)
        if number is not None:
            values, kind = number
            reason = _number_drop_reason(column, values)
            if reason is None:
                kinds[column] = kind
                baselines[column] = float(values.median())
            else:
                dropped[column] = reason
            continue
        text = _text(series)
        reason = _text_drop_reason(text)
        if reason is not None:
            dropped[column] = reason
            continue
        kinds[column] = "categorical"
        levels[column] = _levels(text.dropna())
        codes = _codes(text, levels[column])
        baselines[column] = float(pd.Series(codes).mode().iloc[0])
    if not kinds:
        raise Invalid(Problem("columns", sorted(dropped), "leave no usable feature column"))
    return ColumnPlan(kinds, levels, baselines, dropped)


def _codes(text: pd.Series, levels: tuple[str, ...]) -> Matrix:
    """Level codes as floats; rare levels → "other", unseen levels and missing → NaN."""
    lookup = {level: float(i) for i, level in enumerate(levels)}
    other = lookup.get("(other)", np.nan)
    return np.array(
        [np.nan if pd.isna(v) else lookup.get(v, other) for v in text], dtype=np.float64
    )


def encode(df: pd.DataFrame, plan: ColumnPlan) -> Matrix:
    """The used columns of ``df`` as a float matrix in plan order (rows × ``plan.columns``)."""
    missing = [c for c in plan.columns if c not in df.columns]
    if missing:
        raise Invalid(
            [
                Problem(column, None, "is missing but the model was trained on it")
                for column in missing
            ]
        )
    matrix = np.empty((len(df), len(plan.kinds)), dtype=np.float64)
    for j, (column, kind) in enumerate(plan.kinds.items()):
        if kind == "categorical":
            matrix[:, j] = _codes(_text(df[column]), plan.levels[column])
            continue
        number = as_number(df[column])
        if number is None:
            text = _text(df[column]).dropna()
            found = text[pd.to_numeric(text, errors="coerce").isna()].iloc[0]
            raise Invalid(Problem(column, found, f"is text, but the column was {kind} in training"))
        matrix[:, j] = number[0].to_numpy(dtype=np.float64)
    return matrix


def churn_target(series: pd.Series, positive: object = None) -> tuple[npt.NDArray[np.int_], str]:
    """The target as 0/1 (1 = churned) and the value read as churned.

    Two-valued columns only: bool, 0/1 (or any two numbers: the larger is churned), yes/no,
    true/false, churned/active-like words, or any two values with ``positive`` naming one.
    """
    name = str(series.name)
    if series.isna().any():
        raise Invalid(Problem(name, int(series.isna().sum()), "target values are missing (count)"))
    values = series.map(lambda v: str(v).strip()) if not _is_number(series) else series
    distinct = sorted(values.unique(), key=str)
    if len(distinct) != 2:
        raise Invalid(
            Problem(
                name,
                distinct[:10],
                f"has {len(distinct)} distinct values; a churn target needs two",
            )
        )
    if positive is not None:
        chosen = str(positive).strip() if not _is_number(series) else positive
        if chosen not in distinct:
            raise Invalid(Problem("positive", positive, f"is not a value of {name!r}: {distinct}"))
    elif _is_number(series):
        chosen = max(distinct)
    else:
        churned = [v for v in distinct if str(v).lower() in CHURNED_TOKENS]
        stayed = [v for v in distinct if str(v).lower() in STAYED_TOKENS]
        if len(churned) != 1 or len(stayed) != 1 or churned == stayed:
            raise Invalid(
                Problem(
                    name,
                    distinct,
                    "cannot tell which value means churned: pass positive=<the churned value>",
                )
            )
        chosen = churned[0]
    return (values == chosen).to_numpy().astype(np.int_), str(chosen)


def _is_number(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)
