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


CHILDREN = ("feedback_text", "feedback_topic")


def _retype(old: int, new: int) -> None:
    """Change the declared length; on SQLite a batch rebuild drops the table, and a drop with
    foreign keys on cascades into the text features, so they are kept aside and put back."""
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column(
            "feedback",
            "channel",
            existing_type=sa.String(length=old),
            type_=sa.String(length=new),
            existing_nullable=False,
        )
        return
    for table in CHILDREN:
        op.execute(f"CREATE TEMP TABLE _keep_{table} AS SELECT * FROM {table}")
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.alter_column(
            "channel",
            existing_type=sa.String(length=old),
            type_=sa.String(length=new),
            existing_nullable=False,
        )
    for table in CHILDREN:
        op.execute(f"DELETE FROM {table}")
        op.execute(f"INSERT INTO {table} SELECT * FROM _keep_{table}")
        op.execute(f"DROP TABLE _keep_{table}")


def upgrade() -> None:
    _retype(16, 64)


def downgrade() -> None:
    op.execute("UPDATE feedback SET channel = substr(channel, 1, 16) WHERE length(channel) > 16")
    _retype(64, 16)
