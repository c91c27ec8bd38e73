"""Pure: what a user says about a file — ``--mapping map.yaml``, ``--set`` and ``--force-set``.

Checked as a whole before any row is read: a field that does not exist, an unknown key or a
value that could never pass validation stops the import with every problem named.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from cxloop.errors import Invalid, Problem
from cxloop.ingest.convert import Checker, ValidationContext, convert
from cxloop.ingest.fields import KindSpec


@dataclass(frozen=True)
class UserMapping:
    """What a user's mapping file and ``--set``/``--force-set`` say.

    ``columns``: header → field; ``defaults``: a value for blank cells (and for fields with no
    column); ``overrides``: a value for every row, present or not; ``values``: per field,
    a source value → the value to store (``{channel: {官方商城: web}}``).
    """

    columns: dict[str, str] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    overrides: dict[str, str] = field(default_factory=dict)


MAPPING_KEYS = ("columns", "defaults", "values", "overrides")


def load_mapping(path: Path | None) -> UserMapping:
    """Read ``--mapping map.yaml``: either ``{header: field}`` or ``{columns: …, defaults: …,
    values: …, overrides: …}``; any other key, or a shape that is not that, is refused."""
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
    problems: list[Problem] = []
    if any(key in data for key in MAPPING_KEYS):
        for key in data:
            if key not in MAPPING_KEYS:
                problems.append(
                    Problem(
                        "mapping", str(key), "is not a mapping key; use " + ", ".join(MAPPING_KEYS)
                    )
                )
        sections = {key: data.get(key) or {} for key in MAPPING_KEYS}
    else:
        sections = {key: {} for key in MAPPING_KEYS} | {"columns": data}
    for key, section in sections.items():
        if not isinstance(section, dict):
            problems.append(Problem(f"mapping.{key}", str(section), "must be a mapping"))
    if problems:
        raise Invalid(problems)
    for header, target in sections["columns"].items():
        if isinstance(target, dict) and "columns" not in data:  # a misspelt section name
            problems.append(
                Problem(
                    "mapping",
                    str(header),
                    "is not a mapping key; use " + ", ".join(MAPPING_KEYS) + " (or map "
                    "'column: field' only)",
                )
            )
        elif not isinstance(target, str):
            problems.append(
                Problem(f"mapping.columns.{header}", str(target), "must be a field name")
            )
    values: dict[str, dict[str, str]] = {}
    for name, pairs in sections["values"].items():
        if not isinstance(pairs, dict):
            problems.append(
                Problem(f"mapping.values.{name}", str(pairs), "must map source values to values")
            )
            continue
        values[str(name)] = {_text(k): _text(v) for k, v in pairs.items()}
    if problems:
        raise Invalid(problems)
    return UserMapping(
        {str(k): str(v) for k, v in sections["columns"].items()},
        {str(k): _text(v) for k, v in sections["defaults"].items()},
        values,
        {str(k): _text(v) for k, v in sections["overrides"].items()},
    )


def _text(value: Any) -> str:
    """A YAML scalar as the text a cell would hold (``10`` → "10", ``true`` → "true")."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def value_key(value: str) -> str:
    """How ``values:`` entries match cells: width, case and outer spaces don't matter."""
    return unicodedata.normalize("NFKC", value).strip().casefold()


def check_mapping(spec: KindSpec, mapping: UserMapping, ctx: ValidationContext) -> None:
    """Refuse, before any row is read, a mapping whose fields don't exist or whose values
    could never pass validation (``--set nps=11``, ``values: {csat: {好: 9}}``)."""
    problems: list[Problem] = []
    for source, target in mapping.columns.items():
        if target not in spec.by_name:
            problems.append(
                Problem(
                    "mapping",
                    f"{source}: {target}",
                    f"'{target}' is not a {spec.kind} field; fields are " + ", ".join(spec.by_name),
                )
            )
    candidates: list[tuple[str, str, str]] = [
        *(("--set", name, value) for name, value in mapping.defaults.items()),
        *(("--force-set", name, value) for name, value in mapping.overrides.items()),
        *(
            (f"mapping.values.{name}", name, value)
            for name, pairs in mapping.values.items()
            for value in pairs.values()
        ),
    ]
    for where, name, value in candidates:
        spec_field = spec.by_name.get(name)
        if spec_field is None:
            problems.append(
                Problem(
                    where,
                    name,
                    f"is not a {spec.kind} field; fields are " + ", ".join(spec.by_name),
                )
            )
            continue
        if not value.strip():
            continue
        check = Checker(pd.RangeIndex(1))
        convert(spec_field, pd.Series([value.strip()], dtype=object), check, ctx)
        for problem in [*check.problems.get(0, []), *check.warnings.get(0, [])]:
            problems.append(Problem(f"{where} {name}", value, problem.reason))
    if problems:
        raise Invalid(problems)
