"""A PostgreSQL database shared by one module's engine tests (loading the demo once)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import need_postgres


@pytest.fixture(scope="module")
def postgres_module_url() -> Iterator[str]:
    """Like ``postgres_url``, but one fresh database for the whole module, dropped afterwards."""
    server = make_url(need_postgres())
    name = f"cxloop_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server.set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(drivername="postgresql+psycopg", database=name).render_as_string(
            hide_password=False
        )
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
