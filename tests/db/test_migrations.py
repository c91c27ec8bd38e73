"""Migrations run upgrade → downgrade → upgrade on every engine and match the models."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from cxloop.config import Settings
from cxloop.db import migrate
from cxloop.db.base import Base
from cxloop.db.session import make_engine

pytestmark = pytest.mark.fresh_migrations  # Alembic itself, never tests/store_template.py's copy

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
    "feedback_text",
    "feedback_topic",
    "taxonomy_versions",
    "metric_targets",
    "alerts",
    "churn_scores",
    "target_lists",
    "target_list_members",
}
TEXT_TABLES = {"feedback_text", "feedback_topic", "taxonomy_versions"}
MONITORING_TABLES = {
    "metric_targets",
    "alerts",
    "churn_scores",
    "target_lists",
    "target_list_members",
}
"""Added by 0003 and 0004, so also gone after a downgrade to 0001."""


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


def test_text_features_migration_downgrades_alone_and_upgrades_again(database_url: str) -> None:
    engine = make_engine(Settings(database_url=database_url))
    migrate.upgrade(engine)
    migrate.downgrade(engine, "0001")
    names = set(inspect(engine).get_table_names())
    assert not names & TEXT_TABLES and names >= TABLES - TEXT_TABLES - MONITORING_TABLES
    assert migrate.upgrade(engine) is True
    inspector = inspect(engine)
    assert set(inspector.get_table_names()) >= TEXT_TABLES
    keys = {
        fk["name"]: fk["options"].get("ondelete")
        for fk in inspector.get_foreign_keys("feedback_topic")
    }
    assert keys == {"fk_feedback_topic_feedback_id_feedback": "CASCADE"}
    assert inspector.get_pk_constraint("feedback_topic")["constrained_columns"] == [
        "feedback_id",
        "topic",
    ]
    indexed = {tuple(i["column_names"]) for i in inspector.get_indexes("feedback_topic")}
    assert ("topic",) in indexed
    engine.dispose()


def test_deleting_feedback_deletes_its_text_features(database_url: str) -> None:
    from sqlalchemy import text

    engine = make_engine(Settings(database_url=database_url))
    migrate.upgrade(engine)
    now = "2026-01-01 00:00:00"
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO feedback (feedback_id, channel, created_at, row_hash, loaded_at, "
                "updated_at) VALUES ('f1', 'chat', :now, 'h', :now, :now)"
            ),
            {"now": now},
        )
        connection.execute(
            text(
                "INSERT INTO feedback_text (feedback_id, language, mixed, sentiment, "
                "sentiment_score, intent, flags, emotions, keywords, aspects, pii, text_hash, "
                "source_row_hash, model_version, taxonomy_version, enriched_at) VALUES ('f1', "
                "'none', false, 'neutral', 0, 'none', '[]', '[]', '[]', '[]', '[]', 't', 'h', "
                "'m', 'v', :now)"
            ),
            {"now": now},
        )
        connection.execute(
            text(
                "INSERT INTO feedback_topic (feedback_id, topic, topic_l1, sentiment, score, "
                "mentions) VALUES ('f1', 'delivery/speed', 'delivery', 'positive', 0.5, 1)"
            )
        )
        connection.execute(text("DELETE FROM feedback WHERE feedback_id = 'f1'"))
        left = [
            connection.scalar(text(f"SELECT count(*) FROM {table}"))
            for table in ("feedback_text", "feedback_topic")
        ]
    engine.dispose()
    assert left == [0, 0]


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
