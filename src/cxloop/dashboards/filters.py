"""The values the shared filter bar offers: for each ``where`` field, the values stored, so a
user picks a segment or region instead of guessing its spelling."""

from __future__ import annotations

import ibis
from pydantic import BaseModel, ConfigDict, Field

from cxloop import engines
from cxloop.config import Settings
from cxloop.metrics.filters import PROFILE_FIELDS, WHERE_COLUMNS, WHERE_FIELDS

MAX_VALUES = 200
"""More values than this (accounts of a large B2B store) are offered as a typed field with
the first ones as suggestions: a select of thousands helps nobody."""


FEEDBACK_FIELDS = tuple(f for f in WHERE_FIELDS if f not in PROFILE_FIELDS)
PROFILE_TABLES = {
    "customers": ("segment", "region"),
    "accounts": ("segment", "region"),
    "contacts": ("role",),
}


class FilterOptions(BaseModel):
    """Stored values per ``where`` field, sorted; ``more`` names fields cut at ``MAX_VALUES``."""

    model_config = ConfigDict(frozen=True)

    values: dict[str, list[str]] = Field(description="field → stored values (sorted).")
    more: list[str] = Field(default_factory=list, description="Fields with more values.")


def filter_options(settings: Settings, *, limit: int = MAX_VALUES) -> FilterOptions:
    """Distinct non-empty values of every ``where`` field: feedback's own columns from
    ``feedback``, segment and region from customers and accounts, role from contacts (the
    tables the metrics' joins read), in one query; at most ``limit`` per field."""
    backend = engines.store_backend(settings)
    try:
        parts = [_distinct(engines.feedback_table(backend), field) for field in FEEDBACK_FIELDS]
        for name, fields in PROFILE_TABLES.items():
            if name in backend.list_tables():
                parts += [_distinct(backend.table(name), field) for field in fields]
        frame = ibis.union(*parts, distinct=True).to_pandas()
    finally:
        backend.disconnect()
    values: dict[str, list[str]] = {}
    more: list[str] = []
    for field in WHERE_FIELDS:
        found = sorted(
            {str(v) for v in frame.loc[frame["field"] == field, "value"] if str(v).strip()}
        )
        if len(found) > limit:
            more.append(field)
        values[field] = found[:limit]
    return FilterOptions(values=values, more=more)


def _distinct(table: ibis.Table, field: str) -> ibis.Table:
    column = table[WHERE_COLUMNS.get(field, field)]
    picked = table.select(field=ibis.literal(field), value=column.cast("string"))
    return picked.filter(picked.value.notnull()).distinct()
