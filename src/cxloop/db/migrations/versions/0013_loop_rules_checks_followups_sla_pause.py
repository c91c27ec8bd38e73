"""loop_rule_sets, loop_feedback_checks, loop_state, loop_followups; loop_cases SLA pause
columns; an index on feedback.updated_at (alert rules look at rows changed since they last looked)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 13:42:15.796069
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "loop_rule_sets",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("yaml", sa.Text(), nullable=False),
        sa.Column("rule_count", sa.Integer(), nullable=False),
        sa.Column("applies_from", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loop_rule_sets")),
        sa.UniqueConstraint("version", name=op.f("uq_loop_rule_sets_version")),
    )
    op.create_table(
        "loop_state",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_loop_state")),
    )
    op.create_table(
        "loop_feedback_checks",
        sa.Column("feedback_id", sa.String(length=400), nullable=False),
        sa.Column("row_hash", sa.String(length=32), nullable=False),
        sa.Column("rule_set_version", sa.Integer(), nullable=False),
        sa.Column("matched", sa.JSON(), nullable=False),
        sa.Column("checked_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["feedback_id"],
            ["feedback.feedback_id"],
            name=op.f("fk_loop_feedback_checks_feedback_id_feedback"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("feedback_id", name=op.f("pk_loop_feedback_checks")),
    )
    op.create_table(
        "loop_followups",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.String(length=64), nullable=True),
        sa.Column("invitation_id", sa.Integer(), nullable=True),
        sa.Column("response_id", sa.Integer(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.Column("solved", sa.Boolean(), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("outcome", sa.String(length=24), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["loop_cases.id"],
            name=op.f("fk_loop_followups_case_id_loop_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loop_followups")),
    )
    with op.batch_alter_table("loop_followups", schema=None) as batch_op:
        batch_op.create_index("ix_loop_followups_case_round", ["case_id", "round"], unique=True)
        batch_op.create_index("ix_loop_followups_outcome_due", ["outcome", "due_at"], unique=False)
        batch_op.create_index("ix_loop_followups_response", ["response_id"], unique=False)

    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.create_index("ix_feedback_updated_at", ["updated_at"], unique=False)

    with op.batch_alter_table("loop_cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sla_paused_at", sa.DateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("sla_paused_s", sa.Float(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("loop_cases", schema=None) as batch_op:
        batch_op.drop_column("sla_paused_s")
        batch_op.drop_column("sla_paused_at")

    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_index("ix_feedback_updated_at")

    with op.batch_alter_table("loop_followups", schema=None) as batch_op:
        batch_op.drop_index("ix_loop_followups_response")
        batch_op.drop_index("ix_loop_followups_outcome_due")
        batch_op.drop_index("ix_loop_followups_case_round")

    op.drop_table("loop_followups")
    op.drop_table("loop_feedback_checks")
    op.drop_table("loop_state")
    op.drop_table("loop_rule_sets")
