"""Pure: source columns → cxloop fields, and rows → valid records + rejected rows with reasons.

Re-exports ``ATTRIBUTES``, ``ROW_HASH`` and ``ValidationContext`` for callers of the mapping.

Validation is columnar (pandas) rather than a pydantic model per row: the same rules, named
once in ``fields.py``, check a million rows in seconds instead of minutes. Every problem names
the row, the field, the value and the rule it broke.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from cxloop.errors import Invalid, Problem
from cxloop.ingest.convert import Checker, ValidationContext, convert, identity_values
from cxloop.ingest.fields import KINDS, KindSpec
from cxloop.ingest.keys import ATTRIBUTES, ROW_HASH, add_keys, attributes_json
from cxloop.ingest.mapping_file import UserMapping, check_mapping, load_mapping, value_key
from cxloop.ingest.readers import ROW_COLUMN, BrokenRecord
from cxloop.privacy.masking import PII_FIELDS

_PADDED = re.compile("\x1e[ \t\r\n\xa0\u3000]|[ \t\r\n\xa0\u3000]\x1e")
_BAD_TEXT = re.compile("[\ud800-\udfff\x00]")


def normalise_header(name: str) -> str:
    """Case, width, spaces and punctuation don't matter: ``Customer ID`` = ``customer_id``."""
    name = unicodedata.normalize("NFKC", name).strip().lower()
    name = re.sub(r"^\d+[、.．)\s]+", "", name)  # 问卷星 "3、题目", Formbricks "3. headline"
    return re.sub(r"[\s\-./:()（）]+", "_", name).strip("_")


def is_public_header(kind: str, header: str) -> bool:
    """Whether a source column of ``kind`` is known (by field name or alias) to hold no
    personal data; anything else — PII fields, unknown or renamed columns — counts as
    personal when shown to a role without the right to see PII."""
    return normalise_header(header) in _PUBLIC_HEADERS.get(kind, frozenset())


def public_fields(kind: str) -> frozenset[str]:
    """The fields of ``kind`` that are not personal data."""
    if kind not in KINDS:  # a run of another door (survey_responses): nothing known public
        return frozenset()
    return frozenset(KINDS[kind].by_name) - PII_FIELDS.get(kind, frozenset())


_PUBLIC_HEADERS = {
    kind: frozenset(
        normalise_header(name)
        for f in spec.fields
        if f.name not in PII_FIELDS.get(kind, frozenset())
        for name in (f.name, *f.aliases)
    )
    - frozenset(
        normalise_header(name)
        for other in KINDS.values()
        for f in other.fields
        if f.name in PII_FIELDS.get(other.kind, frozenset())
        for name in (f.name, *f.aliases)
    )
    for kind, spec in KINDS.items()
}


@dataclass(frozen=True)
class ColumnPlan:
    """Which source column feeds each field, and which columns are kept as attributes."""

    fields: dict[str, str]
    extras: list[str]
    defaults: dict[str, str]
    overrides: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)


def plan_columns(
    headers: list[str], spec: KindSpec, mapping: UserMapping, strict: bool = True
) -> ColumnPlan:
    """Resolve headers to fields: the mapping file first, then names and known aliases.

    ``strict=False`` (later chunks of JSON, whose keys vary by row) never fails: a required
    field with no column there becomes a per-row "is required" problem instead.
    """
    problems: list[Problem] = []
    chosen: dict[str, str] = {}
    for source, target in mapping.columns.items():
        if target not in spec.by_name:
            problems.append(
                Problem(
                    "mapping",
                    f"{source}: {target}",
                    f"'{target}' is not a {spec.kind} field; fields are " + ", ".join(spec.by_name),
                )
            )
        elif source not in headers:
            if not strict:
                continue
            problems.append(
                Problem(
                    "mapping",
                    source,
                    "is not a column of the file; columns are "
                    + ", ".join(h for h in headers if h != ROW_COLUMN),
                )
            )
        else:
            chosen[target] = source
    for name in (*mapping.defaults, *mapping.overrides, *mapping.values):
        if name not in spec.by_name:
            problems.append(Problem("mapping", name, f"is not a {spec.kind} field"))
    taken = set(chosen.values())
    by_norm: dict[str, str] = {}
    for header in headers:
        if header != ROW_COLUMN and header not in taken:
            by_norm.setdefault(normalise_header(header), header)
    for spec_field in spec.fields:
        if spec_field.name in chosen:
            continue
        for candidate in (spec_field.name, *spec_field.aliases):
            found = by_norm.get(normalise_header(candidate))
            if found is not None and found not in taken:
                chosen[spec_field.name] = found
                taken.add(found)
                break
    for spec_field in spec.fields:
        has_key_fallback = spec_field.name == spec.key and spec.key_from_hash
        if (
            spec_field.required
            and spec_field.name not in chosen
            and spec_field.name not in mapping.defaults
            and spec_field.name not in mapping.overrides
            and not has_key_fallback
        ):
            problems.append(
                Problem(
                    spec_field.name,
                    None,
                    "is required but no column maps to it; columns are "
                    + ", ".join(h for h in headers if h != ROW_COLUMN)
                    + " (name one in --mapping, e.g. 'My column: "
                    + spec_field.name
                    + "')",
                )
            )
    if problems and strict:
        raise Invalid(problems)
    extras = [h for h in headers if h != ROW_COLUMN and h not in taken]
    return ColumnPlan(
        chosen,
        extras,
        {k: clean_text(v) for k, v in mapping.defaults.items()},
        {k: clean_text(v) for k, v in mapping.overrides.items()},
        {
            name: {value_key(k): clean_text(v) for k, v in pairs.items()}
            for name, pairs in mapping.values.items()
        },
    )


@dataclass(frozen=True)
class Rejection:
    """A quarantined row: its number, every problem, and the row as read."""

    row_number: int
    problems: list[Problem]
    raw: dict[str, str]

    @property
    def message(self) -> str:
        return "; ".join(
            f'row {self.row_number}, field "{p.field}": {p.value!r} {p.reason}'
            for p in self.problems
        )


@dataclass(frozen=True)
class RowWarning:
    """A stored row with a value left out (a mistyped optional phone): where and why."""

    row_number: int
    problems: list[Problem]


@dataclass
class ValidatedChunk:
    """Good rows as canonical columns (plus key, attributes, row_hash), the rejections, and
    warnings about values of stored rows that were left out."""

    records: pd.DataFrame
    rejections: list[Rejection]
    warnings: list[RowWarning] = field(default_factory=list)


def _joined(series: pd.Series) -> str:
    """A column's cells as one string, for whole-column scans at C speed."""
    cells = series.tolist()
    try:
        return "\x1e".join(cells)
    except TypeError:  # a missing cell among the strings
        return "\x1e".join(v for v in cells if isinstance(v, str))


def _has_bad_text(text: str) -> bool:
    """NUL or lone surrogates (undecodable bytes kept by ``surrogateescape``)."""
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _blank_to_na(series: pd.Series, trim: bool = True) -> pd.Series:
    """Cells trimmed (when any needs it: most columns don't); empty ones become ``None``."""
    cells = series.astype(object)
    if trim:
        cells = cells.str.strip()
    return cells.where(cells.notna() & (cells != ""), None)


def validate_chunk(
    frame: pd.DataFrame, spec: KindSpec, plan: ColumnPlan, ctx: ValidationContext
) -> ValidatedChunk:
    """Convert and check one chunk; rows with any problem are rejected whole."""
    index = frame.index
    check = Checker(index)
    encoding = ctx.encoding or "utf-8"
    source_columns = [c for c in frame.columns if c != ROW_COLUMN]
    usable = frame  # the same cells with undecodable text blanked, so converters never see it
    padded: set[str] = set()  # columns with a cell that has outer whitespace to trim
    joined = {column: _joined(frame[column]) for column in source_columns}
    everything = "\x1e".join(joined.values())  # whole-chunk scans first: usually nothing to do
    maybe_padded = _PADDED.search("\x1e" + everything + "\x1e") is not None
    maybe_bad = _has_bad_text(everything)
    for column in source_columns:
        if maybe_padded and _PADDED.search("\x1e" + joined[column] + "\x1e"):
            padded.add(column)
        if not (maybe_bad and _has_bad_text(joined[column])):
            continue
        series = frame[column]
        mask = series.map(lambda v: isinstance(v, str) and _has_bad_text(v)).astype(bool)
        target = next((f for f, c in plan.fields.items() if c == column), column)
        reason = f"contains bytes or characters that are not valid {encoding} text"
        for idx in mask.index[mask.to_numpy()]:
            shown = clean_text(series[idx], encoding)
            check.problems.setdefault(idx, []).append(Problem(target, shown, reason))
        if usable is frame:
            usable = frame.copy()
        usable[column] = series.where(~mask, "")
    converted: dict[str, pd.Series] = {}
    for spec_field in spec.fields:
        source = plan.fields.get(spec_field.name)
        if spec_field.name in plan.overrides:  # --force-set: every row, present or not
            values = pd.Series(plan.overrides[spec_field.name] or None, index=index, dtype=object)
        elif source is not None:
            values = _blank_to_na(usable[source], trim=source in padded)
            if spec_field.name in plan.values:
                values = _map_values(values, plan.values[spec_field.name])
            default = plan.defaults.get(spec_field.name)
            if default:
                values = values.where(values.notna(), default)
        elif spec_field.name in plan.defaults:
            values = pd.Series(plan.defaults[spec_field.name] or None, index=index, dtype=object)
        else:
            if spec_field.required and not (spec_field.name == spec.key and spec.key_from_hash):
                everyone = pd.Series(True, index=index)
                check.flag(everyone, spec_field, pd.Series("", index=index), "is required")
            continue
        converted[spec_field.name] = convert(spec_field, values, check, ctx)
        required = spec_field.required and not (spec_field.name == spec.key and spec.key_from_hash)
        if required:
            check.flag(values.isna(), spec_field, values.fillna(""), "is required")
    if spec.kind == "identities" and "kind" in converted and "value" in converted:
        converted["value"] = identity_values(converted["kind"], converted["value"], check, ctx)
    for group in spec.one_of:
        have = pd.Series(False, index=index)
        for name in group:
            if name in converted:
                have = have | converted[name].notna()
        missing = ~have
        if missing.any():
            reason = "is required: give at least one of " + ", ".join(group)
            check.flag(missing, spec.by_name[group[0]], pd.Series("", index=index), reason)

    bad_index = [i for i in index if i in check.problems]
    rejections = []
    if bad_index:
        raw_rows = frame.loc[bad_index, source_columns]
        numbers = frame.loc[bad_index, ROW_COLUMN]
        for idx in bad_index:
            raw = {c: _display(raw_rows.at[idx, c], encoding) for c in source_columns}
            problems = [
                Problem(p.field, _display(p.value, encoding), p.reason) for p in check.problems[idx]
            ]
            rejections.append(Rejection(int(numbers[idx]), problems, raw))
    keep = ~index.isin(bad_index)
    warned = sorted(i for i in check.warnings if i not in check.problems)
    row_numbers = frame[ROW_COLUMN]
    warnings = [
        RowWarning(
            int(row_numbers[idx]),
            [Problem(p.field, _display(p.value, encoding), p.reason) for p in check.warnings[idx]],
        )
        for idx in warned
    ]
    records = pd.DataFrame(
        {name: series[keep] for name, series in converted.items()}, index=index[keep]
    )
    records[ROW_COLUMN] = frame.loc[keep, ROW_COLUMN]
    aside = _kept_aside(check, spec, set(warned))
    if plan.extras or aside:
        extras = frame.loc[keep, plan.extras].copy()
        for name, cells in aside.items():
            extras[name] = [cells.get(i, "") for i in extras.index]
        names = [*plan.extras, *aside]
        records[ATTRIBUTES] = pd.Series(
            attributes_json(extras, names), index=records.index, dtype=object
        )
    else:
        records[ATTRIBUTES] = None
    add_keys(records, spec)
    return ValidatedChunk(records, rejections, warnings)


def _kept_aside(check: Checker, spec: KindSpec, stored: set[Any]) -> dict[str, dict[Any, str]]:
    """A mistyped email or phone of a stored row, kept in its attributes under the field's
    name (masked like the field), so the value is not lost though it is never matched."""
    aside: dict[str, dict[Any, str]] = {}
    for idx in stored:
        for problem in check.warnings[idx]:
            if spec.by_name[problem.field].type in ("email", "phone"):
                aside.setdefault(problem.field, {})[idx] = str(problem.value)
    return aside


def _map_values(values: pd.Series, pairs: dict[str, str]) -> pd.Series:
    """``values:`` of a mapping file: each distinct cell looked up once (cells repeat)."""
    present = values.notna()
    lookup = {v: pairs.get(value_key(v), v) for v in pd.unique(values[present])}
    return values.map(lookup).astype(object).where(present, None)


def _display(value: Any, encoding: str) -> Any:
    """Values shown back to users: undecodable bytes become U+FFFD instead of lone surrogates."""
    if isinstance(value, str) and _BAD_TEXT.search(value):
        return clean_text(value, encoding)
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp | dt.date):
        return str(value)
    return value


def clean_text(value: str, encoding: str = "utf-8") -> str:
    """Text any database accepts: escaped bytes decoded with U+FFFD, NUL and lone surrogates
    replaced."""
    try:
        value = value.encode("utf-8", "surrogateescape").decode(
            encoding.replace("-sig", ""), "replace"
        )
    except UnicodeEncodeError:
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value.replace("\x00", "\ufffd")


def broken_to_rejections(broken: list[BrokenRecord], encoding: str = "utf-8") -> list[Rejection]:
    """Records the reader could not split, kept as text any database accepts."""
    rejections = []
    for b in broken:
        raw = clean_text(b.raw, encoding)
        rejections.append(
            Rejection(b.row_number, [Problem("row", raw[:500], b.reason)], {"row": raw})
        )
    return rejections


__all__ = [
    "ATTRIBUTES",
    "ROW_HASH",
    "ColumnPlan",
    "Rejection",
    "RowWarning",
    "UserMapping",
    "ValidatedChunk",
    "ValidationContext",
    "broken_to_rejections",
    "check_mapping",
    "clean_text",
    "is_public_header",
    "load_mapping",
    "normalise_header",
    "plan_columns",
    "public_fields",
    "validate_chunk",
]
