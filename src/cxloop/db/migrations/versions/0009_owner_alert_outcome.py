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
    with op.batch_alter_table("survey_distributions", schema=None) as batch_op:
        batch_op.drop_column("owner_alert_outcome")
