"""Bulk writes for imports: the one place that knows an engine's fastest way to insert rows.

SQLite gets the driver's ``executemany`` with values already in SQLAlchemy's storage format,
because Core's per-value bind processing costs more than the insert itself at a million rows;
other engines use Core ``executemany`` (psycopg pipelines it).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import (
    JSON,
    Boolean,
    Connection,
    Date,
    DateTime,
    String,
    Table,
    any_,
    bindparam,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY

from cxloop.db.base import UtcDateTime


def _sqlite_value(column_type: Any, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(column_type, UtcDateTime | DateTime):
        if isinstance(value, dt.datetime):
            if value.tzinfo is not None:
                value = value.astimezone(dt.UTC).replace(tzinfo=None)
            return value.strftime("%Y-%m-%d %H:%M:%S.%f")
        return str(value)
    if isinstance(column_type, Date):
        return value.isoformat() if isinstance(value, dt.date) else str(value)
    if isinstance(column_type, JSON):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(column_type, Boolean):
        return int(bool(value))
    return value


def update_rows(
    connection: Connection,
    table: Table,
    key: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
) -> None:
    """Update rows matched on ``key`` (tuples in ``columns`` order, ``key`` among them)."""
    if not rows:
        return
    values: dict[str, Any] = {name: bindparam(f"v_{name}") for name in columns if name != key}
    statement = table.update().where(table.c[key] == bindparam("k_key")).values(values)
    params = []
    for row in rows:
        item = dict(zip(columns, row, strict=True))
        bound = {f"v_{name}": value for name, value in item.items() if name != key}
        bound["k_key"] = item[key]
        params.append(bound)
    connection.execute(statement, params)


def _sqlite_column(series: pd.Series, column_type: Any) -> list[Any]:
    """One column in SQLAlchemy's SQLite storage format, converted without a per-value bind."""
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        values = series.to_numpy(dtype="datetime64[us]")
        text = np.datetime_as_string(values, unit="us").astype("U26")
        chars = text.view(np.uint32).reshape(len(text), 26) if len(text) else None
        if chars is not None:
            chars[:, 10] = ord(" ")
        out: list[Any] = text.tolist()
        for position in np.flatnonzero(np.isnat(values)):
            out[position] = None
        return out
    items = _plain_values(series)
    if isinstance(column_type, JSON):  # attributes arrive as JSON text already
        return [
            v if v is None or isinstance(v, str) else _sqlite_value(column_type, v) for v in items
        ]
    if isinstance(column_type, UtcDateTime | DateTime | Date | Boolean):
        return [_sqlite_value(column_type, v) for v in items]
    return items


def _plain_values(series: pd.Series) -> list[Any]:
    """Values with every kind of missing (None, NaN, NA, NaT) as ``None``."""
    items: list[Any] = series.tolist()
    for position in np.flatnonzero(series.isna().to_numpy()):
        items[position] = None
    return items


def _python_column(series: pd.Series, column_type: Any) -> list[Any]:
    """One column as plain Python values (``None`` for missing), for Core execution."""
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return [None if pd.isna(v) else v.to_pydatetime() for v in series]
    values = _plain_values(series)
    if isinstance(column_type, JSON):  # JSON text from the importer → the value Core encodes
        return [json.loads(v) if isinstance(v, str) else v for v in values]
    return values


def insert_frame(connection: Connection, table: Table, frame: pd.DataFrame) -> None:
    """Insert every row of ``frame`` (its columns are ``table``'s column names)."""
    if frame.empty:
        return
    columns = list(frame.columns)
    if connection.dialect.name == "sqlite":
        data = [_sqlite_column(frame[name], table.c[name].type) for name in columns]
        quoted = ", ".join(f'"{name}"' for name in columns)
        marks = ", ".join("?" for _ in columns)
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.executemany(
                f'INSERT INTO "{table.name}" ({quoted}) VALUES ({marks})', zip(*data, strict=True)
            )
        finally:
            cursor.close()
        return
    data = [_python_column(frame[name], table.c[name].type) for name in columns]
    connection.execute(
        table.insert(), [dict(zip(columns, row, strict=True)) for row in zip(*data, strict=True)]
    )


def update_frame(connection: Connection, table: Table, key: str, frame: pd.DataFrame) -> None:
    """Update the rows of ``table`` whose ``key`` matches, with ``frame``'s other columns."""
    if frame.empty:
        return
    columns = list(frame.columns)
    data = [_python_column(frame[name], table.c[name].type) for name in columns]
    update_rows(connection, table, key, columns, list(zip(*data, strict=True)))


def select_in(
    connection: Connection,
    table: Table,
    columns: Sequence[str],
    key: str,
    values: Sequence[str],
    where: dict[str, str] | None = None,
) -> list[tuple[Any, ...]]:
    """``SELECT columns FROM table WHERE key IN values [AND col = value …]`` with the list bound
    as ONE parameter (SQLite ``json_each``, PostgreSQL ``ANY``): an expanding ``IN`` of
    thousands of parameters costs more to compile than the query takes to run."""
    if not values:
        return []
    where = where or {}
    selected = ", ".join(f'"{c}"' for c in columns)
    if connection.dialect.name == "sqlite":
        extra = "".join(f' AND "{c}" = ?' for c in where)
        sql = (
            f'SELECT {selected} FROM "{table.name}" '
            f'WHERE "{key}" IN (SELECT value FROM json_each(?)){extra}'
        )
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(sql, [json.dumps(list(values)), *where.values()])
            return [tuple(row) for row in cursor.fetchall()]
        finally:
            cursor.close()
    statement = select(*(table.c[c] for c in columns)).where(
        table.c[key] == any_(bindparam("values", list(values), type_=ARRAY(String))),
        *(table.c[c] == v for c, v in where.items()),
    )
    return [tuple(row) for row in connection.execute(statement)]
