"""``engines.store_backend`` and ``duckdb_backend``: URL options reach libpq; no leaks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ibis
import pytest

from cxloop import engines
from cxloop.config import Settings


def test_postgres_url_query_options_are_passed_to_the_driver(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: dict[str, Any] = {}
    monkeypatch.setattr(ibis.postgres, "connect", lambda **kwargs: seen.update(kwargs))
    url = (
        "postgresql+psycopg://cx:secret@/cxloop?host=/var/run/postgresql"
        "&sslmode=require&options=-csearch_path%3Dcx"
    )
    engines.store_backend(Settings(database_url=url))
    assert seen == {
        "user": "cx",
        "password": "secret",
        "database": "cxloop",
        "host": "/var/run/postgresql",
        "sslmode": "require",
        "options": "-csearch_path=cx",
    }


def test_duckdb_backend_disconnects_when_a_parquet_file_cannot_be_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "feedback.parquet").write_bytes(b"not parquet")
    opened = []
    connect = ibis.duckdb.connect

    def spy(*args: Any, **kwargs: Any) -> Any:
        backend = connect(*args, **kwargs)
        opened.append(backend)
        return backend

    monkeypatch.setattr(ibis.duckdb, "connect", spy)
    with pytest.raises(Exception):  # noqa: B017 - whatever DuckDB raises for a bad file
        engines.duckdb_backend(tmp_path)
    [backend] = opened
    with pytest.raises(Exception):  # noqa: B017 - a closed connection refuses every query
        backend.raw_sql("SELECT 1")
