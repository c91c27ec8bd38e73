"""dashboard_results (stored results of the dashboards' model fits, keyed by view, parameters
and the version of the data they read)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 17:21:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dashboard_results",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("view", sa.String(length=64), nullable=False),
        sa.Column("params_key", sa.String(length=64), nullable=False),
        sa.Column("data_version", sa.String(length=64), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dashboard_results")),
        sa.UniqueConstraint("view", "params_key", "data_version", name="uq_dashboard_results_key"),
    )


def downgrade() -> None:
    op.drop_table("dashboard_results")
