"""Teams and their members, cases, the feedback attached to them and every case's history.

The SLA moments are stored when a case opens (``*_due``, ``*_warn_at``) with one column per
warning and escalation done (``*_warned_at``, ``*_escalated_at``), so each fires once per breach;
``next_check_at`` is the earliest timer still pending, so a ticker finds everything due with one
indexed query (``next_check_at <= now``) and a restart finds the same rows again.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cxloop.db.base import Base, UtcDateTime, utcnow

NAME = 128
"""User and team names (as ``users.username``, e-mail addresses included)."""


class Team(Base):
    """A team that works cases; ``lead`` is whom escalations go to; ``sla_policy`` names the
    SLA policy (and so the business calendar) its cases run on, when not the default."""

    __tablename__ = "loop_teams"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(NAME), unique=True)
    lead: Mapped[str | None] = mapped_column(String(NAME))
    sla_policy: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class TeamMember(Base):
    """A user in a team, in roster order (``position``: the order routing turns follow).
    Agents get cases; leads reassign and close, and get none by routing."""

    __tablename__ = "loop_team_members"
    __table_args__ = (
        Index("ix_loop_team_members_team_user", "team_id", "user_name", unique=True),
        Index("ix_loop_team_members_user", "user_name"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("loop_teams.id", ondelete="CASCADE"))
    user_name: Mapped[str] = mapped_column(String(NAME))
    email: Mapped[str | None] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(16), default="agent")
    """agent or lead."""
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class Case(Base):
    """One customer problem someone owns until the customer says it is solved."""

    __tablename__ = "loop_cases"
    __table_args__ = (
        Index("ix_loop_cases_queue", "team", "status", "priority", "resolution_due"),
        Index("ix_loop_cases_owner_queue", "owner", "status", "priority"),
        Index("ix_loop_cases_dedupe", "dedupe_key", "topic", "status", "opened_at"),
        Index("ix_loop_cases_next_check", "next_check_at"),
        Index("ix_loop_cases_customer", "customer_id", "opened_at"),
        Index("ix_loop_cases_account", "account_id", "opened_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    status: Mapped[str] = mapped_column(String(24), default="new")
    title: Mapped[str] = mapped_column(String(512))
    customer_id: Mapped[str | None] = mapped_column(String(128))
    account_id: Mapped[str | None] = mapped_column(String(128))
    contact_id: Mapped[str | None] = mapped_column(String(128))
    origin_feedback_id: Mapped[str | None] = mapped_column(
        ForeignKey("feedback.feedback_id", ondelete="SET NULL")
    )
    rule_id: Mapped[str | None] = mapped_column(String(64))
    topic: Mapped[str] = mapped_column(String(200))
    """The de-duplication topic (a topic path, or ``rule:<id>``, or ``manual``)."""
    dedupe_key: Mapped[str] = mapped_column(String(160))
    """``customer:<id>``, else ``account:<id>``, else ``feedback:<id>`` (or ``case``)."""
    window_hours: Mapped[float | None] = mapped_column(Float)
    severity: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(4))
    """p1 (most urgent) … p4: sorts as text in the order of urgency."""
    priority_score: Mapped[float] = mapped_column(Float)
    priority_explanation: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    team: Mapped[str | None] = mapped_column(String(NAME))
    owner: Mapped[str | None] = mapped_column(String(NAME))
    routing_via: Mapped[str | None] = mapped_column(String(64))
    routing_reason: Mapped[str | None] = mapped_column(Text)
    opened_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    first_response_warn_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    first_response_due: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    resolution_warn_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    resolution_due: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    first_response_warned_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    first_response_escalated_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    resolution_warned_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    resolution_escalated_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    next_check_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    """The earliest warning or breach not yet fired; NULL when no clock runs."""
    first_responded_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    verified_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    root_cause: Mapped[str | None] = mapped_column(String(64))
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    sla_paused_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    """Set while the case waits on the customer: its SLA clocks stand still until it moves on."""
    sla_paused_s: Mapped[float] = mapped_column(Float, default=0.0)
    """Business seconds the clocks stood still so far (the due times were moved by as much)."""
    created_by: Mapped[str] = mapped_column(String(NAME))
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class CaseFeedback(Base):
    """A feedback row attached to a case (the one that opened it, and later ones that joined)."""

    __tablename__ = "loop_case_feedback"
    __table_args__ = (Index("ix_loop_case_feedback_feedback", "feedback_id"),)

    case_id: Mapped[int] = mapped_column(
        ForeignKey("loop_cases.id", ondelete="CASCADE"), primary_key=True
    )
    feedback_id: Mapped[str] = mapped_column(
        ForeignKey("feedback.feedback_id", ondelete="CASCADE"), primary_key=True
    )
    rule_id: Mapped[str | None] = mapped_column(String(64))
    attached_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class CaseEvent(Base):
    """One thing that happened to a case: who, when, what kind, and its details."""

    __tablename__ = "loop_case_events"
    __table_args__ = (Index("ix_loop_case_events_case", "case_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("loop_cases.id", ondelete="CASCADE"))
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(NAME))
    kind: Mapped[str] = mapped_column(String(32))
    """created, attached, assigned, status_changed, note, contact_logged, root_cause_set,
    warned, escalated."""
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class RuleSetVersion(Base):
    """One saved version of the alert rules (the whole YAML, checked before it is stored).

    The highest ``version`` is in force. Only feedback stored or changed at or after its
    ``applies_from`` is evaluated, so saving rules never opens cases for the past (that is what
    a dry run is for)."""

    __tablename__ = "loop_rule_sets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    yaml: Mapped[str] = mapped_column(Text)
    rule_count: Mapped[int] = mapped_column(Integer, default=0)
    applies_from: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(NAME))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)


class FeedbackCheck(Base):
    """A feedback row the alert rules have looked at, in the state (``row_hash``) they saw it:
    a changed row (a new hash) is looked at again, an unchanged one never twice."""

    __tablename__ = "loop_feedback_checks"

    feedback_id: Mapped[str] = mapped_column(
        ForeignKey("feedback.feedback_id", ondelete="CASCADE"), primary_key=True
    )
    row_hash: Mapped[str] = mapped_column(String(32))
    rule_set_version: Mapped[int] = mapped_column(Integer)
    matched: Mapped[list[str]] = mapped_column(JSON)
    """The ids of the rules that matched (empty: none did)."""
    checked_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class LoopState(Base):
    """Small named values the loop's jobs keep between runs (e.g. how far evaluation got)."""

    __tablename__ = "loop_state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class CaseFollowup(Base):
    """The one-question survey a resolved case's customer gets: its answer verifies the case
    (solved) or reopens it (not solved); no answer by ``due_at`` closes it unverified.

    ``round`` counts resolutions: a reopened case resolved again gets a new follow-up."""

    __tablename__ = "loop_followups"
    __table_args__ = (
        Index("ix_loop_followups_case_round", "case_id", "round", unique=True),
        Index("ix_loop_followups_outcome_due", "outcome", "due_at"),
        Index("ix_loop_followups_response", "response_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("loop_cases.id", ondelete="CASCADE"))
    round: Mapped[int] = mapped_column(Integer, default=1)
    survey_id: Mapped[str | None] = mapped_column(String(64))
    invitation_id: Mapped[int | None] = mapped_column(Integer)
    response_id: Mapped[int | None] = mapped_column(Integer)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    due_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    answered_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    solved: Mapped[bool | None] = mapped_column(Boolean)
    score: Mapped[float | None] = mapped_column(Float)
    outcome: Mapped[str] = mapped_column(String(24), default="pending")
    """pending, verified, reopened, closed_unverified, not_sent (no way to reach them), or
    withdrawn (the case was reopened or closed by hand, or resolved again, before an answer)."""
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
