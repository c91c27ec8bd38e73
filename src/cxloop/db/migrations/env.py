"""Alembic environment shipped inside the package, so an installed cxloop upgrades its own DB."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, engine_from_config, pool

import cxloop.act.models
import cxloop.behaviour.models
import cxloop.customers.models
import cxloop.dashboards.models
import cxloop.feedback.models
import cxloop.ingest.models
import cxloop.insights.models
import cxloop.loop.models
import cxloop.metrics.models
import cxloop.notify.models
import cxloop.privacy.models
import cxloop.reports.models
import cxloop.surveys.models  # noqa: F401  (registers every table on Base.metadata)
from cxloop.db.base import Base

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        _run(connectable)
        return
    engine = engine_from_config(
        config.get_section(config.config_ini_section) or {},
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with engine.connect() as connection:
        _run(connection)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
