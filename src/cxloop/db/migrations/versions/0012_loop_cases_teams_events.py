"""loop_teams, loop_team_members, loop_cases, loop_case_feedback, loop_case_events: cases with
owners, SLA moments and escalation columns (next_check_at for the ticker), and their history

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 11:27:13.699310
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "loop_teams",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("lead", sa.String(length=128), nullable=True),
        sa.Column("sla_policy", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loop_teams")),
        sa.UniqueConstraint("name", name=op.f("uq_loop_teams_name")),
    )
    op.create_table(
        "loop_cases",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("title", sa.String(length=512), nullable=False),
        sa.Column("customer_id", sa.String(length=128), nullable=True),
        sa.Column("account_id", sa.String(length=128), nullable=True),
        sa.Column("contact_id", sa.String(length=128), nullable=True),
        sa.Column("origin_feedback_id", sa.String(length=400), nullable=True),
        sa.Column("rule_id", sa.String(length=64), nullable=True),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("dedupe_key", sa.String(length=160), nullable=False),
        sa.Column("window_hours", sa.Float(), nullable=True),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.String(length=4), nullable=False),
        sa.Column("priority_score", sa.Float(), nullable=False),
        sa.Column("priority_explanation", sa.JSON(), nullable=False),
        sa.Column("team", sa.String(length=128), nullable=True),
        sa.Column("owner", sa.String(length=128), nullable=True),
        sa.Column("routing_via", sa.String(length=64), nullable=True),
        sa.Column("routing_reason", sa.Text(), nullable=True),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("first_response_warn_at", sa.DateTime(), nullable=True),
        sa.Column("first_response_due", sa.DateTime(), nullable=True),
        sa.Column("resolution_warn_at", sa.DateTime(), nullable=True),
        sa.Column("resolution_due", sa.DateTime(), nullable=True),
        sa.Column("first_response_warned_at", sa.DateTime(), nullable=True),
        sa.Column("first_response_escalated_at", sa.DateTime(), nullable=True),
        sa.Column("resolution_warned_at", sa.DateTime(), nullable=True),
        sa.Column("resolution_escalated_at", sa.DateTime(), nullable=True),
        sa.Column("next_check_at", sa.DateTime(), nullable=True),
        sa.Column("first_responded_at", sa.DateTime(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("verified_at", sa.DateTime(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("root_cause", sa.String(length=64), nullable=True),
        sa.Column("reopen_count", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["origin_feedback_id"],
            ["feedback.feedback_id"],
            name=op.f("fk_loop_cases_origin_feedback_id_feedback"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loop_cases")),
    )
    with op.batch_alter_table("loop_cases", schema=None) as batch_op:
        batch_op.create_index("ix_loop_cases_account", ["account_id", "opened_at"], unique=False)
        batch_op.create_index("ix_loop_cases_customer", ["customer_id", "opened_at"], unique=False)
        batch_op.create_index(
            "ix_loop_cases_dedupe", ["dedupe_key", "topic", "status", "opened_at"], unique=False
        )
        batch_op.create_index("ix_loop_cases_next_check", ["next_check_at"], unique=False)
        batch_op.create_index(
            "ix_loop_cases_owner_queue", ["owner", "status", "priority"], unique=False
        )
        batch_op.create_index(
            "ix_loop_cases_queue", ["team", "status", "priority", "resolution_due"], unique=False
        )

    op.create_table(
        "loop_team_members",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("user_name", sa.String(length=128), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["loop_teams.id"],
            name=op.f("fk_loop_team_members_team_id_loop_teams"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loop_team_members")),
    )
    with op.batch_alter_table("loop_team_members", schema=None) as batch_op:
        batch_op.create_index(
            "ix_loop_team_members_team_user", ["team_id", "user_name"], unique=True
        )
        batch_op.create_index("ix_loop_team_members_user", ["user_name"], unique=False)

    op.create_table(
        "loop_case_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["loop_cases.id"],
            name=op.f("fk_loop_case_events_case_id_loop_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loop_case_events")),
    )
    with op.batch_alter_table("loop_case_events", schema=None) as batch_op:
        batch_op.create_index("ix_loop_case_events_case", ["case_id", "id"], unique=False)

    op.create_table(
        "loop_case_feedback",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("feedback_id", sa.String(length=400), nullable=False),
        sa.Column("rule_id", sa.String(length=64), nullable=True),
        sa.Column("attached_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["loop_cases.id"],
            name=op.f("fk_loop_case_feedback_case_id_loop_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["feedback_id"],
            ["feedback.feedback_id"],
            name=op.f("fk_loop_case_feedback_feedback_id_feedback"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("case_id", "feedback_id", name=op.f("pk_loop_case_feedback")),
    )
    with op.batch_alter_table("loop_case_feedback", schema=None) as batch_op:
        batch_op.create_index("ix_loop_case_feedback_feedback", ["feedback_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("loop_case_feedback", schema=None) as batch_op:
        batch_op.drop_index("ix_loop_case_feedback_feedback")

    op.drop_table("loop_case_feedback")
    with op.batch_alter_table("loop_case_events", schema=None) as batch_op:
        batch_op.drop_index("ix_loop_case_events_case")

    op.drop_table("loop_case_events")
    with op.batch_alter_table("loop_team_members", schema=None) as batch_op:
        batch_op.drop_index("ix_loop_team_members_user")
        batch_op.drop_index("ix_loop_team_members_team_user")

    op.drop_table("loop_team_members")
    with op.batch_alter_table("loop_cases", schema=None) as batch_op:
        batch_op.drop_index("ix_loop_cases_queue")
        batch_op.drop_index("ix_loop_cases_owner_queue")
        batch_op.drop_index("ix_loop_cases_next_check")
        batch_op.drop_index("ix_loop_cases_dedupe")
        batch_op.drop_index("ix_loop_cases_customer")
        batch_op.drop_index("ix_loop_cases_account")

    op.drop_table("loop_cases")
    op.drop_table("loop_teams")
