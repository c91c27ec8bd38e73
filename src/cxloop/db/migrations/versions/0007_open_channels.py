"""feedback.channel holds open channel names (抖音直播间, 线下活动): 16 → 64 characters

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 05:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # SQLite never enforces a VARCHAR length, and a batch rebuild of feedback would cascade
    # into its text features: only servers that enforce the length need the change.
    if op.get_bind().dialect.name == "sqlite":
        return
    op.alter_column(
        "feedback",
        "channel",
        existing_type=sa.String(length=16),
        type_=sa.String(length=64),
        existing_nullable=False,
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute("UPDATE feedback SET channel = substr(channel, 1, 16) WHERE length(channel) > 16")
    op.alter_column(
        "feedback",
        "channel",
        existing_type=sa.String(length=64),
        type_=sa.String(length=16),
        existing_nullable=False,
    )
