"""Pure: what a file's own values decide before its rows are validated.

Some choices cannot be made from a header: the scale of a column named 打分 or score, and
whether ``11/07/2026`` is the 11th of July or November 7th. They are decided once per file from
its first chunk of rows, so every chunk reads the same way, and each decision is reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

import pandas as pd

from cxloop.errors import Problem
from cxloop.ingest.fields import DateOrder, KindSpec
from cxloop.ingest.headers import (
    AMBIGUOUS_SCORE_HEADERS,
    SCORE_FIELDS,
    decide_scale,
    looks_like_score,
    looks_like_text,
)
from cxloop.ingest.mapping import ColumnPlan, UserMapping, normalise_header, plan_columns
from cxloop.ingest.readers import ROW_COLUMN

_SHORT_DATE = re.compile(r"^\s*(\d{1,2})[/-](\d{1,2})[/-](?:\d{4}|\d{2})(?:[\sT]|$)")


@dataclass(frozen=True)
class FileProfile:
    """Columns resolved from values, the date order, and the notes that explain them."""

    columns: dict[str, str] = field(default_factory=dict)
    """Ambiguous score headers → the field their values chose."""
    day_first: bool = False
    fields: dict[str, str] = field(default_factory=dict)
    """Field → the source column that feeds it."""
    attributes_only: list[str] = field(default_factory=list)
    """Columns that feed no field: kept only in ``attributes``."""
    notes: list[Problem] = field(default_factory=list)
    """File-level warnings: (field, column, what was decided or is missing)."""


def profile_file(
    sample: pd.DataFrame,
    spec: KindSpec,
    user_mapping: UserMapping,
    date_order: DateOrder = "auto",
) -> FileProfile:
    """Decide score scales and date order from ``sample`` (the file's first chunk)."""
    headers = [c for c in sample.columns if c != ROW_COLUMN]
    notes: list[Problem] = []
    columns = _resolve_scores(sample, headers, spec, user_mapping, notes)
    plan = plan_columns(headers, spec, replace(user_mapping, columns=columns), strict=False)
    day_first = _date_order(sample, spec, plan, date_order, notes)
    if spec.kind == "feedback":
        _voice_check(sample, plan, notes)
    resolved = {k: v for k, v in columns.items() if k not in user_mapping.columns}
    return FileProfile(resolved, day_first, dict(plan.fields), list(plan.extras), notes)


def _resolve_scores(
    sample: pd.DataFrame,
    headers: list[str],
    spec: KindSpec,
    user_mapping: UserMapping,
    notes: list[Problem],
) -> dict[str, str]:
    """The user's columns, plus each ambiguous score header bound to the field its values
    choose (or to ``rating`` when another column already feeds that field)."""
    columns = dict(user_mapping.columns)
    if not all(name in spec.by_name for name in SCORE_FIELDS):
        return columns
    ambiguous = [
        h
        for h in headers
        if normalise_header(h) in AMBIGUOUS_SCORE_HEADERS and h not in user_mapping.columns
    ]
    if not ambiguous:
        return columns
    others = [h for h in headers if h not in ambiguous]
    taken = set(plan_columns(others, spec, user_mapping, strict=False).fields)
    taken |= set(user_mapping.overrides)
    for header in ambiguous:
        decision = decide_scale(sample[header])
        chosen = next(
            (f for f in (decision.field, "rating") if f not in taken),
            None,
        )
        if chosen is None:
            notes.append(
                Problem(
                    "score",
                    header,
                    "looks like a score but nps/csat/rating are already fed by other columns: "
                    "kept only in attributes",
                )
            )
            continue
        columns[header] = chosen
        taken.add(chosen)
        reason = (
            decision.reason
            if chosen == decision.field
            else f"read as rating: {decision.field} is fed by another column"
        )
        other = "csat" if chosen == "nps" else "nps"
        notes.append(
            Problem(
                chosen,
                header,
                f"{reason}; the header names no scale (to choose, map it: '{header}: {other}')",
            )
        )
    return columns


def _date_order(
    sample: pd.DataFrame,
    spec: KindSpec,
    plan: ColumnPlan,
    date_order: DateOrder,
    notes: list[Problem],
) -> bool:
    """Day-first when the file's short dates say so; a file where they read both ways uses
    ``date_order`` (``auto``: month-first) and is reported, naming the column."""
    if date_order != "auto":
        return date_order == "day-first"
    day_votes = month_votes = 0
    dated: list[str] = []
    undecided: list[str] = []
    for name, source in plan.fields.items():
        if spec.by_name[name].type not in ("date", "datetime"):
            continue
        # plain str, not pandas' Arrow strings: a lone surrogate must reach validation
        parts = [
            (int(m.group(1)), int(m.group(2)))
            for value in sample[source].dropna().tolist()
            if (m := _SHORT_DATE.match(str(value)))
        ]
        if not parts:
            continue
        label = source if source == name else f"{source} ({name})"
        dated.append(label)
        days = sum(first > 12 for first, _ in parts)
        months = sum(second > 12 for _, second in parts)
        day_votes, month_votes = day_votes + days, month_votes + months
        if not days and not months:
            undecided.append(label)
    day_first = day_votes > month_votes
    if day_votes and month_votes:
        notes.append(
            Problem(
                "date order",
                ", ".join(dated),
                f"dates read both ways ({day_votes} only day-first, {month_votes} only "
                f"month-first): read {'day' if day_first else 'month'}-first; the others are "
                "quarantined (set --date-order to choose)",
            )
        )
    elif day_votes:
        notes.append(
            Problem(
                "date order",
                ", ".join(dated),
                f"read day-first: {day_votes} date{'s' if day_votes > 1 else ''} like "
                "25/07/2026 can only be day-first",
            )
        )
    elif undecided and not month_votes:
        notes.append(
            Problem(
                "date order",
                ", ".join(undecided),
                "every date like 11/07/2026 reads both ways (day or month first): read "
                "month-first (November 7); if they are day-first, import again with "
                "--date-order day-first",
            )
        )
    return day_first


def _voice_check(sample: pd.DataFrame, plan: ColumnPlan, notes: list[Problem]) -> None:
    """Warn loudly when feedback would be stored with no text and no score."""
    has_voice = "text" in plan.fields or any(f in plan.fields for f in SCORE_FIELDS)
    if has_voice or any(f in plan.defaults or f in plan.overrides for f in SCORE_FIELDS):
        return
    texts = [h for h in plan.extras if looks_like_text(h, sample[h])]
    scores = [h for h in plan.extras if h not in texts and looks_like_score(h, sample[h])]
    if texts or scores:
        example = f"'{texts[0]}: text'" if texts else f"'{scores[0]}: nps'"
        notes.append(
            Problem(
                "text/score",
                ", ".join(texts + scores),
                "NO text and NO score column was recognised, but these columns look like them: "
                "rows are stored without voice (the values only in attributes). Map them in a "
                f"--mapping file, e.g. {example} (fields: text, nps, csat, ces, rating)",
            )
        )
    else:
        notes.append(
            Problem(
                "text/score",
                None,
                "no text and no score column: rows are stored without any voice to analyse",
            )
        )
