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


def test_text_limits_of_fields_fit_their_columns() -> None:
    """A value the importer accepts must fit its column on PostgreSQL (VARCHAR is strict)."""
    from sqlalchemy import String

    from cxloop.customers.service import IDENTITIES
    from cxloop.ingest.fields import KINDS
    from cxloop.ingest.service import TABLES

    too_long = []
    for kind, spec in KINDS.items():
        table = IDENTITIES if kind == "identities" else TABLES[spec.table]
        for field in spec.fields:
            column = table.c.get(field.name)
            if column is None or not isinstance(column.type, String) or not column.type.length:
                continue
            if field.type in ("str", "email") and field.max_length > column.type.length:
                too_long.append((kind, field.name, field.max_length, column.type.length))
    assert too_long == []
    feedback_key = TABLES["feedback"].c.feedback_id.type.length
    source = KINDS["feedback"].by_name["source"].max_length
    own_id = KINDS["feedback"].by_name["feedback_id"].max_length
    assert feedback_key >= 3 * source + 1 + own_id  # a source escaped (%3A) + ":" + its id
