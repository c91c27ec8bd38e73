"""Shared fixtures: a real SQLite file per test, and a real PostgreSQL database per test when
``CXLOOP_TEST_POSTGRES_URL`` names a server (``.ci/run`` starts one)."""

from __future__ import annotations

import os
import time
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ProgrammingError

from cxloop.api import Store, connect
from cxloop.config import Settings

pytest_plugins = ["tests.smtp", "tests.http_receiver", "tests.web.browser", "tests.store_template"]
"""``smtp_server`` (aiosmtpd on loopback), ``http_receiver`` (a webhook receiver),
``live_server`` and ``browser_page`` (uvicorn on loopback + Chromium, tests/web/browser.py);
new SQLite stores copied from one migrated per process (tests/store_template.py)."""

POSTGRES_URL = os.environ.get("CXLOOP_TEST_POSTGRES_URL")
REQUIRE_SERVICES = os.environ.get("CXLOOP_REQUIRE_SERVICES") == "1"
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def need_postgres() -> str:
    """The server URL, or skip (fail under ``CXLOOP_REQUIRE_SERVICES=1``) with the reason."""
    if POSTGRES_URL:
        return POSTGRES_URL
    reason = "PostgreSQL not available: set CXLOOP_TEST_POSTGRES_URL (bash .ci/run does)"
    if REQUIRE_SERVICES:
        pytest.fail(reason + " — required because CXLOOP_REQUIRE_SERVICES=1")
    pytest.skip(reason)


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """Create an empty PostgreSQL database, yield its URL, drop it afterwards."""
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
        try:
            _drop_database(admin, name)
        finally:
            admin.dispose()


def _drop_database(admin: Engine, name: str, tries: int = 20) -> None:
    """Drop a test database. ``WITH (FORCE)`` may not end an autovacuum worker (a superuser's
    process) that a big import woke on it, and the test role may not signal it: wait for the
    worker to finish, then, as a last resort, leave the database to the throwaway server."""
    statement = text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    for attempt in range(tries):
        try:
            with admin.connect() as connection:
                connection.execute(statement)
            return
        except ProgrammingError as exc:
            if "pg_signal_backend" not in str(exc) or attempt == tries - 1:
                warnings.warn(f"test database {name} left on the server: {exc.orig}", stacklevel=1)
                return
            time.sleep(0.5)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cxloop.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each store test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'cxloop.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, import_batch_size=1000)


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    store = connect(settings=settings)
    yield store
    store.close()
