"""Ibis backends over cxloop's data: the app's SQL store, or DuckDB over Parquet exports.

Analytics (``cxloop.metrics``) take the Ibis tables these give and never ask which engine runs
them. Nothing connects at import: every function here opens its connection when called.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

import ibis
from ibis.backends import BaseBackend
from ibis.common.exceptions import TableNotFound
from sqlalchemy.engine import make_url

from cxloop.config import Settings
from cxloop.errors import Invalid

FEEDBACK = "feedback"
"""The table of every response (scores, channel, touchpoint, created_at in naive UTC…)."""
EXPORTED = ("feedback", "feedback_text", "feedback_topic")
"""Tables ``export_parquet`` writes by default: the responses and their text features."""


def store_backend(settings: Settings) -> BaseBackend:
    """An Ibis connection to the store of ``settings.database_url`` (SQLite file or PostgreSQL).

    >>> from cxloop.config import Settings
    >>> backend = store_backend(Settings(database_url="sqlite://"))
    >>> backend.name
    'sqlite'
    """
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        return ibis.sqlite.connect(database if database not in ("", ":memory:") else None)
    kwargs: dict[str, Any] = {
        "host": url.host,
        "port": url.port,
        "user": url.username,
        "password": url.password,
        "database": url.database,
    }
    kwargs = {k: v for k, v in kwargs.items() if v is not None}
    # the URL's query options (sslmode, options, host=/socket/dir, connect_timeout…) go to
    # libpq as they are; a repeated one (multi-host) is joined by commas as libpq expects
    for key, value in url.query.items():
        kwargs.setdefault(key, value if isinstance(value, str) else ",".join(value))
    return ibis.postgres.connect(**kwargs)


def duckdb_backend(parquet_dir: str | Path) -> BaseBackend:
    """An in-memory DuckDB whose tables are views over ``<name>.parquet`` files in a folder.

    DuckDB reads Parquet with its built-in reader, so no extension is downloaded.

    >>> import tempfile
    >>> backend = duckdb_backend(tempfile.mkdtemp())
    >>> backend.name
    'duckdb'
    """
    folder = Path(parquet_dir)
    if not folder.is_dir():
        raise Invalid("is not a folder", "parquet_dir", str(folder))
    backend = ibis.duckdb.connect()
    try:
        for path in sorted(folder.glob("*.parquet")):
            backend.read_parquet(path, table_name=path.stem)
    except BaseException:
        backend.disconnect()
        raise
    return backend


def feedback_table(backend: BaseBackend) -> ibis.Table:
    """The feedback responses of ``backend`` as an Ibis table (nothing runs yet)."""
    try:
        return backend.table(FEEDBACK)
    except TableNotFound:
        raise Invalid(
            "has no feedback table: run `cxloop init` or export it", "backend", None
        ) from None


def export_parquet(
    settings: Settings,
    out_dir: str | Path,
    *,
    omit: Mapping[str, Collection[str]],
    tables: tuple[str, ...] = EXPORTED,
) -> list[Path]:
    """Write the store's ``tables`` as ``<out_dir>/<table>.parquet``, for DuckDB (or Spark),
    leaving out the columns ``omit`` names per table.

    ``omit`` has no default so that no caller writes personal data without deciding to:
    ``cxloop.metrics.service.export_parquet`` passes the PII columns of
    ``cxloop.privacy.masking.PII_FIELDS`` (``{}`` keeps every column).

    Column types come from the store's schema, so the files hold the same values the store does
    (timestamps naive UTC, scores as 64-bit integers); JSON columns are written as JSON text.
    """
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    backend = store_backend(settings)
    written = []
    try:
        for name in tables:
            path = folder / f"{name}.parquet"
            table = backend.table(name)
            dropped = [c for c in omit.get(name, ()) if c in table.columns]
            if dropped:
                table = table.drop(*dropped)
            as_text = {c: table[c].cast("string") for c, t in table.schema().items() if t.is_json()}
            table.mutate(**as_text).to_parquet(path)
            written.append(path)
    finally:
        backend.disconnect()
    return written
