"""text features: feedback_text, feedback_topic and taxonomy_versions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 22:50:14.916566
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "taxonomy_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("yaml", sa.Text(), nullable=False),
        sa.Column("applied_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_taxonomy_versions")),
    )
    with op.batch_alter_table("taxonomy_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_taxonomy_versions_version"), ["version"], unique=False)

    op.create_table(
        "feedback_text",
        sa.Column("feedback_id", sa.String(length=400), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("mixed", sa.Boolean(), nullable=False),
        sa.Column("sentiment", sa.String(length=8), nullable=False),
        sa.Column("sentiment_score", sa.Float(), nullable=False),
        sa.Column("intent", sa.String(length=16), nullable=False),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("emotions", sa.JSON(), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("aspects", sa.JSON(), nullable=False),
        sa.Column("pii", sa.JSON(), nullable=False),
        sa.Column("text_hash", sa.String(length=32), nullable=False),
        sa.Column("source_row_hash", sa.String(length=32), nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=False),
        sa.Column("taxonomy_version", sa.String(length=64), nullable=False),
        sa.Column("enriched_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["feedback_id"],
            ["feedback.feedback_id"],
            name=op.f("fk_feedback_text_feedback_id_feedback"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("feedback_id", name=op.f("pk_feedback_text")),
    )
    with op.batch_alter_table("feedback_text", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feedback_text_intent"), ["intent"], unique=False)
        batch_op.create_index(batch_op.f("ix_feedback_text_language"), ["language"], unique=False)
        batch_op.create_index(batch_op.f("ix_feedback_text_sentiment"), ["sentiment"], unique=False)

    op.create_table(
        "feedback_topic",
        sa.Column("feedback_id", sa.String(length=400), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("topic_l1", sa.String(length=64), nullable=False),
        sa.Column("sentiment", sa.String(length=8), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("mentions", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["feedback_id"],
            ["feedback.feedback_id"],
            name=op.f("fk_feedback_topic_feedback_id_feedback"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("feedback_id", "topic", name=op.f("pk_feedback_topic")),
    )
    with op.batch_alter_table("feedback_topic", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feedback_topic_topic"), ["topic"], unique=False)
        batch_op.create_index(batch_op.f("ix_feedback_topic_topic_l1"), ["topic_l1"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("feedback_topic", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feedback_topic_topic_l1"))
        batch_op.drop_index(batch_op.f("ix_feedback_topic_topic"))

    op.drop_table("feedback_topic")
    with op.batch_alter_table("feedback_text", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feedback_text_sentiment"))
        batch_op.drop_index(batch_op.f("ix_feedback_text_language"))
        batch_op.drop_index(batch_op.f("ix_feedback_text_intent"))

    op.drop_table("feedback_text")
    with op.batch_alter_table("taxonomy_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_taxonomy_versions_version"))

    op.drop_table("taxonomy_versions")
