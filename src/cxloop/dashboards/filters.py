"""The values the shared filter bar offers: for each ``where`` field, the values stored, so a
user picks a segment or region instead of guessing its spelling."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Select, column, literal, select, table, union
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnClause

from cxloop import engines
from cxloop.config import Settings
from cxloop.dashboards.freshness import freshness
from cxloop.db.session import make_engine
from cxloop.metrics.filters import PROFILE_FIELDS, WHERE_COLUMNS, WHERE_FIELDS

MAX_VALUES = 200
"""More values than this (accounts of a large B2B store) are offered as a typed field with
the first ones as suggestions: a select of thousands helps nobody."""
FEEDBACK_FIELDS = tuple(f for f in WHERE_FIELDS if f not in PROFILE_FIELDS)
SOURCES = {
    **{field: ("feedback",) for field in FEEDBACK_FIELDS},
    "segment": ("customers", "accounts"),
    "region": ("customers", "accounts"),
    "role": ("contacts",),
}
"""Where each field's values are stored: the tables the metrics' profile joins read."""


class FilterOptions(BaseModel):
    """Stored values per ``where`` field, sorted; ``more`` names fields cut at ``MAX_VALUES``."""

    model_config = ConfigDict(frozen=True)

    values: dict[str, list[str]] = Field(description="field → stored values (sorted).")
    more: list[str] = Field(default_factory=list, description="Fields with more values.")


def _distinct(name: str, field: str) -> Select[tuple[str, Any]]:
    col: ColumnClause[Any] = column(WHERE_COLUMNS.get(field, field))
    return (
        select(literal(field).label("field"), col.label("value"))
        .select_from(table(name, col))
        .where(col.is_not(None))
        .distinct()
    )


def filter_options(
    settings: Settings | None = None, *, session: Session | None = None, limit: int = MAX_VALUES
) -> FilterOptions:
    """Distinct non-empty values of every ``where`` field, in one SQL query (plain SQL rather
    than Ibis: compiling the union through Ibis cost ~60 ms a page); at most ``limit`` per
    field. With ``settings`` naming a whole analytics snapshot, DuckDB reads it there (on the
    store it scans every feedback row: ~0.6 s a page at a million answers); else the request's
    ``session``, or a connection opened for ``settings``."""
    query = union(*(_distinct(name, f) for f, names in SOURCES.items() for name in names))
    if settings is not None and freshness(settings).source == "snapshot":
        rows = _on_snapshot(settings, query)
    elif session is not None:
        rows = list(session.execute(query).all())
    elif settings is not None:
        engine = make_engine(settings)
        try:
            with engine.connect() as connection:
                rows = list(connection.execute(query).all())
        finally:
            engine.dispose()
    else:
        raise TypeError("filter_options needs settings or a session")
    found: dict[str, set[str]] = {field: set() for field in WHERE_FIELDS}
    for row in rows:
        field, value = row[0], row[1]
        if value is not None and str(value).strip():
            found[field].add(str(value))
    values = {field: sorted(found[field])[:limit] for field in WHERE_FIELDS}
    more = [field for field in WHERE_FIELDS if len(found[field]) > limit]
    return FilterOptions(values=values, more=more)


def _on_snapshot(settings: Settings, query: Any) -> list[Any]:
    """The same union as plain SQL (no parameters but the field names) on the snapshot."""
    sql = str(query.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))
    backend: Any = engines.analytics_backend(settings)
    try:
        return list(backend.raw_sql(sql).fetchall())
    finally:
        backend.disconnect()
