"""insights: churn_models, one row per churn scoring run (model, CV ROC-AUC, interval, override)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 05:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "churn_models",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=False),
        sa.Column("method", sa.String(length=256), nullable=False),
        sa.Column("as_of", sa.DateTime(), nullable=False),
        sa.Column("cutoff", sa.DateTime(), nullable=False),
        sa.Column("horizon_days", sa.Integer(), nullable=False),
        sa.Column("trained_on", sa.Integer(), nullable=False),
        sa.Column("cancellations", sa.Integer(), nullable=False),
        sa.Column("scored", sa.Integer(), nullable=False),
        sa.Column("cv_roc_auc", sa.Float(), nullable=True),
        sa.Column("cv_auc_low", sa.Float(), nullable=True),
        sa.Column("cv_auc_high", sa.Float(), nullable=True),
        sa.Column("accepted_weak", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_churn_models")),
    )
    with op.batch_alter_table("churn_models", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_churn_models_model_version"), ["model_version"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("churn_models", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_churn_models_model_version"))
    op.drop_table("churn_models")
