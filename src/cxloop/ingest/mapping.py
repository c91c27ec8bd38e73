"""Pure: source columns → cxloop fields, and rows → valid records + rejected rows with reasons.

Validation is columnar (pandas) rather than a pydantic model per row: the same rules, named
once in ``fields.py``, check a million rows in seconds instead of minutes. Every problem names
the row, the field, the value and the rule it broke.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import yaml

from cxloop.customers.identity import normalise_email, normalise_identity, normalise_phone
from cxloop.errors import Invalid, Problem
from cxloop.ingest.fields import FALSE_WORDS, KINDS, TRUE_WORDS, FieldSpec, KindSpec
from cxloop.ingest.readers import ROW_COLUMN, BrokenRecord
from cxloop.privacy.masking import PII_FIELDS

ATTRIBUTES = "attributes"
ROW_HASH = "row_hash"
MIN_YEAR, MAX_YEAR = 1900, 2100
_OFFSET = re.compile(r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s?(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$")
_PADDED = re.compile("\x1e[ \t\r\n\xa0\u3000]|[ \t\r\n\xa0\u3000]\x1e")
_DATE_OFFSET = re.compile(r"(\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s?(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$")
_BAD_TEXT = re.compile("[\ud800-\udfff\x00]")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_FALLBACK_FORMATS = (
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y",
    "%m/%d/%y %H:%M",
    "%m/%d/%y",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%Y%m%d",
)


@dataclass(frozen=True)
class UserMapping:
    """What a user's mapping file says: header → field, and values for fields with no column."""

    columns: dict[str, str] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)


def load_mapping(path: Path | None) -> UserMapping:
    """Read ``--mapping map.yaml``: either ``{header: field}`` or ``{columns: …, defaults: …}``."""
    if path is None:
        return UserMapping()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except (OSError, yaml.YAMLError) as exc:
        raise Invalid(f"cannot be read as YAML ({exc})", "mapping", str(path)) from None
    if data is None:
        return UserMapping()
    if not isinstance(data, dict):
        raise Invalid("must be a YAML mapping of column: field", "mapping", str(path))
    if "columns" in data or "defaults" in data:
        columns, defaults = data.get("columns") or {}, data.get("defaults") or {}
    else:
        columns, defaults = data, {}
    if not isinstance(columns, dict) or not isinstance(defaults, dict):
        raise Invalid("'columns' and 'defaults' must be mappings", "mapping", str(path))
    return UserMapping(
        {str(k): str(v) for k, v in columns.items()},
        {str(k): "" if v is None else str(v) for k, v in defaults.items()},
    )


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
    for name in mapping.defaults:
        if name not in spec.by_name:
            problems.append(Problem("mapping.defaults", name, f"is not a {spec.kind} field"))
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
    return ColumnPlan(chosen, extras, {k: clean_text(v) for k, v in mapping.defaults.items()})


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


@dataclass
class ValidatedChunk:
    """Good rows as canonical columns (plus key, attributes, row_hash) and the rejections."""

    records: pd.DataFrame
    rejections: list[Rejection]


@dataclass(frozen=True)
class ValidationContext:
    region: str = "CN"
    timezone: str = "Asia/Shanghai"
    encoding: str | None = None


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


def _parse_datetimes(values: pd.Series, tz: str) -> pd.Series:
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
        for fmt in _FALLBACK_FORMATS:
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


class _Checker:
    """Accumulates problems per row while converting one field at a time."""

    def __init__(self, index: pd.Index) -> None:
        self.problems: dict[Any, list[Problem]] = {}
        self.index = index

    def flag(self, mask: pd.Series, spec_field: FieldSpec, values: pd.Series, reason: str) -> None:
        for idx in mask.index[mask.to_numpy(dtype=bool)]:
            self.problems.setdefault(idx, []).append(Problem(spec_field.name, values[idx], reason))


def _convert(
    spec_field: FieldSpec, values: pd.Series, check: _Checker, ctx: ValidationContext
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
        parsed = _parse_datetimes(values, ctx.timezone if kind == "datetime" else "UTC")
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
        check.flag(present & ~ok.astype(bool), spec_field, values, "is not an email address")
        too_long = ok.astype(bool) & (normal.str.len() > spec_field.max_length)
        check.flag(
            too_long, spec_field, values, f"is longer than {spec_field.max_length} characters"
        )
        return normal.where(ok.astype(bool) & ~too_long, None)
    if kind == "phone":
        normal = values.map(lambda v: _phone(v, ctx.region) if isinstance(v, str) else None)
        check.flag(
            present & normal.isna(),
            spec_field,
            values,
            f"is not a valid phone number (without +country it is read as {ctx.region})",
        )
        return normal.where(normal.notna(), None)
    lengths = values.str.len()
    too_long = present & (lengths > spec_field.max_length)
    check.flag(too_long, spec_field, values, f"is longer than {spec_field.max_length} characters")
    kept = values.where(~too_long, None)
    if spec_field.identity in ("handle", "member_id"):
        identity = spec_field.identity
        kept = kept.map(lambda v: normalise_identity(identity, v) if isinstance(v, str) else None)
        grown = kept.str.len() > spec_field.max_length  # NFKC can lengthen a value
        check.flag(
            grown.fillna(False).astype(bool),
            spec_field,
            values,
            f"is longer than {spec_field.max_length} characters once normalised",
        )
        kept = kept.where(~grown.fillna(False).astype(bool), None)
    return kept


def _identity_values(
    kinds: pd.Series, values: pd.Series, check: _Checker, ctx: ValidationContext
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


def _as_text(column: pd.Series) -> pa.Array:
    """A converted column as Arrow text for hashing; times as epoch microseconds."""
    if column.dtype.kind == "M":
        return pa.array(column.astype("datetime64[us]")).cast(pa.int64()).cast(pa.string())
    values = column.to_numpy(dtype=object)
    try:
        array = pa.array(values, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed Python types: dates, bools…
        array = pa.array([None if v is None else str(v) for v in values], type=pa.string())
    if pa.types.is_null(array.type):
        return pa.nulls(len(array), pa.string())
    return array if pa.types.is_string(array.type) else array.cast(pa.string())


def _row_hashes(records: pd.DataFrame, columns: list[str]) -> list[str]:
    """A content hash per row: what makes a re-import unchanged, and the key of id-less rows.

    Every field of the kind takes part in a fixed order (absent = null), so two files with
    different columns agree on the same record; cells are joined by NUL, which no stored value
    contains. The join runs in Arrow (C++), leaving one BLAKE2b call per row in Python.
    """
    if records.empty:
        return []
    size = len(records)
    parts = [
        _as_text(records[name]) if name in records.columns else pa.nulls(size, pa.string())
        for name in columns
    ]
    joined = pc.binary_join_element_wise(
        *parts, "\x00", null_handling="replace", null_replacement="\x01"
    )
    return [
        hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
        for text in joined.to_pylist()
    ]


def validate_chunk(
    frame: pd.DataFrame, spec: KindSpec, plan: ColumnPlan, ctx: ValidationContext
) -> ValidatedChunk:
    """Convert and check one chunk; rows with any problem are rejected whole."""
    index = frame.index
    check = _Checker(index)
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
        if source is not None:
            values = _blank_to_na(usable[source], trim=source in padded)
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
        converted[spec_field.name] = _convert(spec_field, values, check, ctx)
        required = spec_field.required and not (spec_field.name == spec.key and spec.key_from_hash)
        if required:
            check.flag(values.isna(), spec_field, values.fillna(""), "is required")
    if spec.kind == "identities" and "kind" in converted and "value" in converted:
        converted["value"] = _identity_values(converted["kind"], converted["value"], check, ctx)
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
    records = pd.DataFrame(
        {name: series[keep] for name, series in converted.items()}, index=index[keep]
    )
    records[ROW_COLUMN] = frame.loc[keep, ROW_COLUMN]
    if plan.extras:
        extras = frame.loc[keep, plan.extras]
        records[ATTRIBUTES] = pd.Series(
            _attributes_json(extras, plan.extras), index=records.index, dtype=object
        )
    else:
        records[ATTRIBUTES] = None
    _add_keys(records, spec)
    return ValidatedChunk(records, rejections)


def _attributes_json(extras: pd.DataFrame, names: list[str]) -> list[str | None]:
    """Extra columns per row as JSON text (what ``json.dumps(sort_keys=True,
    ensure_ascii=False)`` writes), built from C-encoded pieces: a million rows in a second."""
    order = sorted(range(len(names)), key=lambda i: names[i])
    keys = [encode_basestring(names[i]) + ": " for i in order]
    result: list[str | None] = []
    for row in extras.itertuples(index=False, name=None):
        parts = [
            k + encode_basestring(row[i])
            for k, i in zip(keys, order, strict=True)
            if row[i] and not row[i].isspace()
        ]
        result.append("{" + ", ".join(parts) + "}" if parts else None)
    return result


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


def _add_keys(records: pd.DataFrame, spec: KindSpec) -> None:
    """Natural key: the source's own id (scoped by source for voice), else a content hash."""
    content = [f.name for f in spec.fields if f.name != spec.key]
    hashes = _row_hashes(records, [*content, ATTRIBUTES])
    records[ROW_HASH] = hashes
    none = pd.Series(None, index=records.index, dtype=object)
    own = records[spec.key] if spec.key in records.columns else none
    if spec.key_scope:
        records["external_id"] = own
        scope = records[spec.key_scope] if spec.key_scope in records.columns else none
        escaped = scope.fillna("").astype(str).str.replace("%", "%25").str.replace(":", "%3A")
        own = (escaped + ":" + own.astype(object).fillna("").astype(str)).where(own.notna(), None)
    if spec.key_from_hash:
        # identical id-less rows of one chunk are separate records (two "好评" reviews on the
        # same day): repeats are numbered, so a re-import still finds every one of them
        hashed = pd.Series(hashes, index=records.index, dtype=object)
        repeat = hashed.groupby(hashed).cumcount()
        suffix = np.where(repeat.to_numpy() > 0, "." + repeat.astype(str), "")
        keys = pd.Series(
            ["#" + h + x for h, x in zip(hashes, suffix, strict=True)],
            index=records.index,
            dtype=object,
        )
        records[spec.key] = own.where(own.notna(), keys)
    else:
        records[spec.key] = own


def broken_to_rejections(broken: list[BrokenRecord], encoding: str = "utf-8") -> list[Rejection]:
    """Records the reader could not split, kept as text any database accepts."""
    rejections = []
    for b in broken:
        raw = clean_text(b.raw, encoding)
        rejections.append(
            Rejection(b.row_number, [Problem("row", raw[:500], b.reason)], {"row": raw})
        )
    return rejections
