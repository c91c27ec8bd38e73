"""survey_responses: external_id (``<tool>:<response id>``, unique per survey), origin (the tool)
and meta (personal data and the tool's metadata), so responses imported from other tools'
exports are found again on a re-import and keep what the tool recorded

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 11:05:20
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # batch mode: ADD COLUMN and CREATE INDEX run in place on SQLite (no table rebuild)
    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("external_id", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("origin", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("meta", sa.JSON(), nullable=True))
        batch_op.create_index(
            "ix_survey_responses_survey_external", ["survey_id", "external_id"], unique=True
        )


def downgrade() -> None:
    op.drop_index("ix_survey_responses_survey_external", table_name="survey_responses")
    # plain DROP COLUMN (SQLite >= 3.35, PostgreSQL): a batch rebuild would drop the table,
    # and with foreign keys on that cascades into its survey_answers
    for column in ("meta", "origin", "external_id"):
        op.execute(f"ALTER TABLE survey_responses DROP COLUMN {column}")
