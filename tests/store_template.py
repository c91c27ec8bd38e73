"""A new SQLite store starts as a copy of one migrated in this process, not by running every
Alembic migration again (~0.2 s of CPU per store; the suite opens about a thousand).

The copy is made with SQLite's backup API from a file the real ``migrate.upgrade`` built from
empty in this process, so its schema, indexes, seeded rows and ``alembic_version`` are the
migrations' own. Only an upgrade to ``head`` of an empty SQLite file is served this way; any
other revision, a store that has tables, PostgreSQL, and tests marked ``fresh_migrations``
(the migration tests themselves) run Alembic. ``CXLOOP_TEST_FRESH_STORES=1`` turns it off.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from cxloop.config import Settings
from cxloop.db import migrate
from cxloop.db.session import make_engine

_real_upgrade = migrate.upgrade
_template: Path | None = None


def _template_file() -> Path:
    """This process's empty store at head, migrated once by the real ``upgrade``."""
    global _template
    if _template is None:
        folder = Path(tempfile.mkdtemp(prefix="cxloop-store-template-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        path = folder / "template.db"
        engine = make_engine(Settings(database_url=f"sqlite:///{path}"))  # the app's pragmas
        try:
            _real_upgrade(engine)
        finally:
            engine.dispose()
        _template = path
    return _template


def _empty_sqlite_file(engine: Engine) -> bool:
    if engine.url.get_backend_name() != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return False
    with engine.connect() as connection:
        return connection.execute(text("SELECT count(*) FROM sqlite_master")).scalar() == 0


def upgrade_from_template(engine: Engine, revision: str = "head") -> bool:
    """``migrate.upgrade``, with an empty SQLite file filled from the template."""
    if revision != "head" or not _empty_sqlite_file(engine):
        return _real_upgrade(engine, revision)
    template = sqlite3.connect(_template_file())
    try:
        with engine.connect() as connection:
            target = connection.connection.driver_connection
            assert isinstance(target, sqlite3.Connection), type(target)
            template.backup(target)
    finally:
        template.close()
    return True


@pytest.fixture(scope="session", autouse=True)
def _stores_from_template() -> Iterator[None]:
    """For the whole session (module and session fixtures build stores too)."""
    if os.environ.get("CXLOOP_TEST_FRESH_STORES") == "1":
        yield
        return
    migrate.upgrade = upgrade_from_template  # type: ignore[assignment]
    try:
        yield
    finally:
        migrate.upgrade = _real_upgrade  # type: ignore[assignment]


@pytest.fixture(autouse=True)
def _fresh_migrations_when_marked(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test marked ``fresh_migrations`` runs the real Alembic upgrade from empty."""
    if not request.node.get_closest_marker("fresh_migrations"):
        yield
        return
    patched = migrate.upgrade
    migrate.upgrade = _real_upgrade  # type: ignore[assignment]
    try:
        yield
    finally:
        migrate.upgrade = patched  # type: ignore[assignment]
