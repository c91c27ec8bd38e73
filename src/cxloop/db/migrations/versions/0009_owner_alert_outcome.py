"""survey_distributions.owner_alert_outcome: what became of the B2B owner alert (sent,
no_owner_address, refused), so an alert that could not be mailed is recorded and counted once

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 08:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "survey_distributions",
        sa.Column("owner_alert_outcome", sa.String(length=32), nullable=True),
    )


def downgrade() -> None:
    # plain DROP COLUMN (SQLite >= 3.35, PostgreSQL): a batch rebuild would drop the table,
    # and with foreign keys on that cascades into its invitations
    op.execute("ALTER TABLE survey_distributions DROP COLUMN owner_alert_outcome")
