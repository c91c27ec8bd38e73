"""imports can be undone: the run that inserted each row, identity and conflict

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 05:30:00

``import_run_id`` on an imported row is the last run that wrote it (an update overwrites it),
so it cannot say which run *inserted* the row. ``inserted_run_id`` can; rows never updated since
their insert (``loaded_at = updated_at``) are backfilled with their run, the others stay unknown
(NULL) and are never removed by an undo. Identities and identity conflicts get the run that
created them.

The downgrade drops the columns with ``ALTER TABLE … DROP COLUMN`` (SQLite ≥ 3.35 and
PostgreSQL): a batch-mode table copy of ``feedback`` would drop the old table, and with foreign
keys on, that deletes every stored text feature through ``ON DELETE CASCADE``.
"""

from __future__ import annotations

import sqlite3

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

IMPORTED = (
    "customers",
    "accounts",
    "contacts",
    "projects",
    "milestones",
    "orders",
    "events",
    "subscriptions",
    "feedback",
)
IDENTITY_TABLES = ("identities", "identity_conflicts")


def upgrade() -> None:
    for table in IMPORTED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("inserted_run_id", sa.Integer(), nullable=True))
            batch_op.create_index(f"ix_{table}_inserted_run_id", ["inserted_run_id"], unique=False)
        op.execute(
            f'UPDATE "{table}" SET inserted_run_id = import_run_id '
            "WHERE import_run_id IS NOT NULL AND loaded_at = updated_at"
        )
    with op.batch_alter_table("identities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("import_run_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_identities_import_run_id", ["import_run_id"], unique=False)
    with op.batch_alter_table("identity_conflicts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("import_run_id", sa.Integer(), nullable=True))


def _drop_column(table: str, column: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite" and sqlite3.sqlite_version_info < (3, 35):
        with op.batch_alter_table(table, schema=None) as batch_op:  # pragma: no cover
            batch_op.drop_column(column)
        return
    op.execute(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')


def downgrade() -> None:
    op.drop_index("ix_identities_import_run_id", table_name="identities")
    _drop_column("identities", "import_run_id")
    _drop_column("identity_conflicts", "import_run_id")
    for table in IMPORTED:
        op.drop_index(f"ix_{table}_inserted_run_id", table_name=table)
        _drop_column(table, "inserted_run_id")
