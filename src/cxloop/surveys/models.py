"""Surveys, their versions, distributions, per-recipient invitations and the answers they bring.

Survey answers enter the store twice on purpose: here, one row per question (queryable, with the
version answered), and as one feedback row through ingest (enriched, linked, in the metrics).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from cxloop.db.base import Base, UtcDateTime, utcnow


class Survey(Base):
    """A survey by its stable id; ``current_version`` is what new distributions send."""

    __tablename__ = "surveys"

    survey_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[dict[str, str]] = mapped_column(JSON)
    current_version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="active")
    """active or archived (archived surveys send nothing and accept no new answers)."""
    created_by: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class SurveyVersion(Base):
    """One validated definition; editing a survey that has answers or sends makes a new one."""

    __tablename__ = "survey_versions"

    survey_id: Mapped[str] = mapped_column(
        ForeignKey("surveys.survey_id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    definition_hash: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class Distribution(Base):
    """One send of a survey to an audience (a list, a filter, an account's roles, an event, or an
    anonymous link), with its delivery channel, link expiry and reminder policy."""

    __tablename__ = "survey_distributions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    survey_id: Mapped[str] = mapped_column(ForeignKey("surveys.survey_id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str | None] = mapped_column(String(128))
    audience_kind: Mapped[str] = mapped_column(String(16))
    """list, where, account, event, anonymous."""
    audience: Mapped[dict[str, Any]] = mapped_column(JSON)
    """The audience's parameters as given (list name, where conditions, roles, event, delay)."""
    channel: Mapped[str] = mapped_column(String(16))
    """email, csv, webhook or link (anonymous)."""
    webhook_url: Mapped[str | None] = mapped_column(String(1024))
    account_id: Mapped[str | None] = mapped_column(String(128), index=True)
    milestone_id: Mapped[str | None] = mapped_column(String(128), index=True)
    required_roles: Mapped[list[str] | None] = mapped_column(JSON)
    deadline: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    link_days: Mapped[int] = mapped_column(Integer)
    allow_edits: Mapped[bool] = mapped_column(Boolean, default=False)
    reminder_after_hours: Mapped[int | None] = mapped_column(Integer)
    max_reminders: Mapped[int] = mapped_column(Integer, default=0)
    trigger_event: Mapped[str | None] = mapped_column(String(64))
    trigger_delay_hours: Mapped[int | None] = mapped_column(Integer)
    trigger_watermark: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    """Event triggers: behaviour rows up to this time have been seen."""
    anonymous_public_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    """active, paused or closed."""
    owner_alerted_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    owner_alert_outcome: Mapped[str | None] = mapped_column(String(32))
    """sent, no_owner_address or refused: the B2B owner alert, made once (migration 0009)."""
    created_by: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class Invitation(Base):
    """One recipient of a distribution and every step of their way: scheduled, skipped (with the
    reason), sent, delivered, bounced, opened, started, completed, expired."""

    __tablename__ = "survey_invitations"
    __table_args__ = (
        Index("ix_survey_invitations_contact_sent", "contact_id", "sent_at"),
        Index("ix_survey_invitations_customer_sent", "customer_id", "sent_at"),
        Index("ix_survey_invitations_account_sent", "account_id", "sent_at"),
        Index("ix_survey_invitations_status_scheduled", "status", "scheduled_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    distribution_id: Mapped[int] = mapped_column(
        ForeignKey("survey_distributions.id", ondelete="CASCADE"), index=True
    )
    survey_id: Mapped[str] = mapped_column(String(64), index=True)
    public_id: Mapped[str] = mapped_column(String(64), unique=True)
    """Random id carried (signed) in the link; the link itself is never stored."""
    customer_id: Mapped[str | None] = mapped_column(String(128))
    contact_id: Mapped[str | None] = mapped_column(String(128))
    account_id: Mapped[str | None] = mapped_column(String(128))
    role: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(8), default="zh")
    timezone: Mapped[str | None] = mapped_column(String(64))
    context: Mapped[dict[str, Any]] = mapped_column(JSON)
    """Values piped into texts and kept with the answer: customer, order, milestone, event."""
    status: Mapped[str] = mapped_column(String(16), index=True)
    """scheduled, skipped, sent, bounced, opened, started, completed, expired."""
    skip_reason: Mapped[str | None] = mapped_column(String(32))
    """capped_contact, capped_account, opted_out, no_consent, no_address, bounced_before, quiet…"""
    scheduled_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    bounced_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    bounce_reason: Mapped[str | None] = mapped_column(String(256))
    opened_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    started_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0)
    last_reminded_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class SurveyResponse(Base):
    """One respondent's answers to one version; partial until submitted, then the outbox of the
    feedback row (``feedback_id`` is set once ingest has stored it)."""

    __tablename__ = "survey_responses"
    __table_args__ = (
        Index("ix_survey_responses_status_feedback", "status", "feedback_id"),
        UniqueConstraint("invitation_id", name="uq_survey_responses_invitation_id"),
        UniqueConstraint("session_key", name="uq_survey_responses_session_key"),
        Index("ix_survey_responses_survey_external", "survey_id", "external_id", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    survey_id: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    distribution_id: Mapped[int | None] = mapped_column(Integer, index=True)
    invitation_id: Mapped[int | None] = mapped_column(Integer)
    session_key: Mapped[str | None] = mapped_column(String(64))
    """Anonymous links: the respondent's resume key (a cookie), so partial answers resume."""
    customer_id: Mapped[str | None] = mapped_column(String(128))
    contact_id: Mapped[str | None] = mapped_column(String(128))
    account_id: Mapped[str | None] = mapped_column(String(128))
    role: Mapped[str | None] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(8))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    """partial or completed."""
    step: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    feedback_id: Mapped[str | None] = mapped_column(String(400))
    ingest_error: Mapped[str | None] = mapped_column(Text)
    external_id: Mapped[str | None] = mapped_column(String(200))
    """Imported rows: ``<tool>:<the tool's response id>``, the key a re-import finds it by."""
    origin: Mapped[str | None] = mapped_column(String(32))
    """Imported rows: the tool that collected it (qualtrics, wjx…); None when cxloop did."""
    meta: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """Imported rows: personal data and the tool's metadata (e-mail, phone, IP, location, raw
    times, attributes), kept apart from the answers and masked by role when shown."""


class SurveyAnswer(Base):
    """One answered question of a completed response (``item``: a matrix row or a chosen option;
    empty for a single value), so answers are queryable without parsing JSON."""

    __tablename__ = "survey_answers"
    __table_args__ = (Index("ix_survey_answers_survey_question", "survey_id", "question_id"),)

    response_id: Mapped[int] = mapped_column(
        ForeignKey("survey_responses.id", ondelete="CASCADE"), primary_key=True
    )
    question_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    item: Mapped[str] = mapped_column(String(128), primary_key=True, default="")
    survey_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    number: Mapped[float | None] = mapped_column(Float)
    text: Mapped[str | None] = mapped_column(Text)


class AppSecret(Base):
    """Keys the store makes for itself (the link-signing key when CXLOOP_SECRET_KEY is unset)."""

    __tablename__ = "app_secrets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
