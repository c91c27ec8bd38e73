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
from sqlalchemy import JSON, Boolean, Connection, Date, DateTime, Table, bindparam

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
        missing = np.isnat(values)
        return [None if m else t for t, m in zip(text.tolist(), missing.tolist(), strict=True)]
    items = series.tolist()
    if isinstance(column_type, UtcDateTime | DateTime | Date | JSON | Boolean):
        return [_sqlite_value(column_type, v) for v in items]
    return [None if isinstance(v, float) and np.isnan(v) else v for v in items]


def _python_column(series: pd.Series) -> list[Any]:
    """One column as plain Python values (``None`` for missing), for Core execution."""
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return [None if pd.isna(v) else v.to_pydatetime() for v in series]
    return [
        None if (v is None or (isinstance(v, float) and np.isnan(v))) else v
        for v in series.tolist()
    ]


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
    data = [_python_column(frame[name]) for name in columns]
    connection.execute(
        table.insert(), [dict(zip(columns, row, strict=True)) for row in zip(*data, strict=True)]
    )


def update_frame(connection: Connection, table: Table, key: str, frame: pd.DataFrame) -> None:
    """Update the rows of ``table`` whose ``key`` matches, with ``frame``'s other columns."""
    if frame.empty:
        return
    columns = list(frame.columns)
    data = [_python_column(frame[name]) for name in columns]
    update_rows(connection, table, key, columns, list(zip(*data, strict=True)))
