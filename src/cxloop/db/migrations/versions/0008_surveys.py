"""surveys: definitions and versions, distributions, invitations, responses and answers;
privacy: contact_preferences (opt-outs, bounces, consents); app_secrets (link-signing key)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 07:59:05.976288
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "app_secrets",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=256), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_app_secrets")),
    )
    op.create_table(
        "contact_preferences",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=256), nullable=True),
        sa.Column("source", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_preferences")),
        sa.UniqueConstraint("address", "channel", "kind", name="uq_contact_preferences_address"),
    )
    op.create_table(
        "survey_responses",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("survey_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("distribution_id", sa.Integer(), nullable=True),
        sa.Column("invitation_id", sa.Integer(), nullable=True),
        sa.Column("session_key", sa.String(length=64), nullable=True),
        sa.Column("customer_id", sa.String(length=128), nullable=True),
        sa.Column("contact_id", sa.String(length=128), nullable=True),
        sa.Column("account_id", sa.String(length=128), nullable=True),
        sa.Column("role", sa.String(length=32), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("completed_at", sa.DateTime(), nullable=True),
        sa.Column("feedback_id", sa.String(length=400), nullable=True),
        sa.Column("ingest_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_responses")),
        sa.UniqueConstraint("invitation_id", name="uq_survey_responses_invitation_id"),
        sa.UniqueConstraint("session_key", name="uq_survey_responses_session_key"),
    )
    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_survey_responses_distribution_id"), ["distribution_id"], unique=False
        )
        batch_op.create_index(
            "ix_survey_responses_status_feedback", ["status", "feedback_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_survey_responses_survey_id"), ["survey_id"], unique=False
        )

    op.create_table(
        "surveys",
        sa.Column("survey_id", sa.String(length=64), nullable=False),
        sa.Column("title", sa.JSON(), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("survey_id", name=op.f("pk_surveys")),
    )
    op.create_table(
        "survey_answers",
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.String(length=64), nullable=False),
        sa.Column("item", sa.String(length=128), nullable=False),
        sa.Column("survey_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("number", sa.Float(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["survey_responses.id"],
            name=op.f("fk_survey_answers_response_id_survey_responses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "response_id", "question_id", "item", name=op.f("pk_survey_answers")
        ),
    )
    with op.batch_alter_table("survey_answers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_survey_answers_survey_question", ["survey_id", "question_id"], unique=False
        )

    op.create_table(
        "survey_distributions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("survey_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=True),
        sa.Column("audience_kind", sa.String(length=16), nullable=False),
        sa.Column("audience", sa.JSON(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("webhook_url", sa.String(length=1024), nullable=True),
        sa.Column("account_id", sa.String(length=128), nullable=True),
        sa.Column("milestone_id", sa.String(length=128), nullable=True),
        sa.Column("required_roles", sa.JSON(), nullable=True),
        sa.Column("deadline", sa.DateTime(), nullable=True),
        sa.Column("link_days", sa.Integer(), nullable=False),
        sa.Column("allow_edits", sa.Boolean(), nullable=False),
        sa.Column("reminder_after_hours", sa.Integer(), nullable=True),
        sa.Column("max_reminders", sa.Integer(), nullable=False),
        sa.Column("trigger_event", sa.String(length=64), nullable=True),
        sa.Column("trigger_delay_hours", sa.Integer(), nullable=True),
        sa.Column("trigger_watermark", sa.DateTime(), nullable=True),
        sa.Column("anonymous_public_id", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("owner_alerted_at", sa.DateTime(), nullable=True),
        sa.Column("created_by", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["surveys.survey_id"],
            name=op.f("fk_survey_distributions_survey_id_surveys"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_distributions")),
        sa.UniqueConstraint(
            "anonymous_public_id", name=op.f("uq_survey_distributions_anonymous_public_id")
        ),
    )
    with op.batch_alter_table("survey_distributions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_survey_distributions_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_survey_distributions_milestone_id"), ["milestone_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_survey_distributions_survey_id"), ["survey_id"], unique=False
        )

    op.create_table(
        "survey_versions",
        sa.Column("survey_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("definition_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["surveys.survey_id"],
            name=op.f("fk_survey_versions_survey_id_surveys"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("survey_id", "version", name=op.f("pk_survey_versions")),
    )
    op.create_table(
        "survey_invitations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("distribution_id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.String(length=64), nullable=False),
        sa.Column("public_id", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.String(length=128), nullable=True),
        sa.Column("contact_id", sa.String(length=128), nullable=True),
        sa.Column("account_id", sa.String(length=128), nullable=True),
        sa.Column("role", sa.String(length=32), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("skip_reason", sa.String(length=32), nullable=True),
        sa.Column("scheduled_at", sa.DateTime(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.Column("bounced_at", sa.DateTime(), nullable=True),
        sa.Column("bounce_reason", sa.String(length=256), nullable=True),
        sa.Column("opened_at", sa.DateTime(), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("completed_at", sa.DateTime(), nullable=True),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("reminders_sent", sa.Integer(), nullable=False),
        sa.Column("last_reminded_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["distribution_id"],
            ["survey_distributions.id"],
            name=op.f("fk_survey_invitations_distribution_id_survey_distributions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_invitations")),
        sa.UniqueConstraint("public_id", name=op.f("uq_survey_invitations_public_id")),
    )
    with op.batch_alter_table("survey_invitations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_survey_invitations_account_sent", ["account_id", "sent_at"], unique=False
        )
        batch_op.create_index(
            "ix_survey_invitations_contact_sent", ["contact_id", "sent_at"], unique=False
        )
        batch_op.create_index(
            "ix_survey_invitations_customer_sent", ["customer_id", "sent_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_survey_invitations_distribution_id"), ["distribution_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_survey_invitations_status"), ["status"], unique=False)
        batch_op.create_index(
            "ix_survey_invitations_status_scheduled", ["status", "scheduled_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_survey_invitations_survey_id"), ["survey_id"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("survey_invitations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_survey_invitations_survey_id"))
        batch_op.drop_index("ix_survey_invitations_status_scheduled")
        batch_op.drop_index(batch_op.f("ix_survey_invitations_status"))
        batch_op.drop_index(batch_op.f("ix_survey_invitations_distribution_id"))
        batch_op.drop_index("ix_survey_invitations_customer_sent")
        batch_op.drop_index("ix_survey_invitations_contact_sent")
        batch_op.drop_index("ix_survey_invitations_account_sent")

    op.drop_table("survey_invitations")
    op.drop_table("survey_versions")
    with op.batch_alter_table("survey_distributions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_survey_distributions_survey_id"))
        batch_op.drop_index(batch_op.f("ix_survey_distributions_milestone_id"))
        batch_op.drop_index(batch_op.f("ix_survey_distributions_account_id"))

    op.drop_table("survey_distributions")
    with op.batch_alter_table("survey_answers", schema=None) as batch_op:
        batch_op.drop_index("ix_survey_answers_survey_question")

    op.drop_table("survey_answers")
    op.drop_table("surveys")
    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_survey_responses_survey_id"))
        batch_op.drop_index("ix_survey_responses_status_feedback")
        batch_op.drop_index(batch_op.f("ix_survey_responses_distribution_id"))

    op.drop_table("survey_responses")
    op.drop_table("contact_preferences")
    op.drop_table("app_secrets")
