"""Migrations run upgrade → downgrade → upgrade on every engine and match the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from cxloop.config import Settings
from cxloop.db import migrate
from cxloop.db.base import Base
from cxloop.db.session import make_engine

TABLES = {
    "customers",
    "accounts",
    "contacts",
    "projects",
    "milestones",
    "identities",
    "identity_conflicts",
    "orders",
    "events",
    "subscriptions",
    "feedback",
    "import_runs",
    "quarantined_rows",
    "users",
    "api_tokens",
}


def test_upgrade_downgrade_upgrade(database_url: str) -> None:
    engine = make_engine(Settings(database_url=database_url))
    assert migrate.upgrade(engine) is True
    assert set(inspect(engine).get_table_names()) >= TABLES
    assert migrate.upgrade(engine) is False  # already at head: nothing to do
    migrate.downgrade(engine, "base")
    assert not set(inspect(engine).get_table_names()) & TABLES
    assert migrate.upgrade(engine) is True
    assert migrate.current_revision(engine) == migrate.head_revision(engine)
    engine.dispose()


def test_models_and_migrations_agree(database_url: str) -> None:
    engine = make_engine(Settings(database_url=database_url))
    migrate.upgrade(engine)
    import cxloop.api  # noqa: F401  (registers every model)

    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert diff == []
