"""One table for every piece of voice, whatever its channel, and what the text engine read in it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cxloop.db.base import Base, UtcDateTime, utcnow
from cxloop.db.mixins import ImportedRowMixin

TOPIC_LENGTH = 200
TOPIC_L1_LENGTH = 64


class Feedback(ImportedRowMixin, Base):
    """``feedback_id`` is ``source:id`` when the source gave an id, else ``#`` + a content hash."""

    __tablename__ = "feedback"
    __table_args__ = (Index("ix_feedback_updated_at", "updated_at"),)
    """Alert rules look at the rows stored or changed since they last looked."""

    feedback_id: Mapped[str] = mapped_column(String(400), primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(160))
    channel: Mapped[str] = mapped_column(String(64), index=True)
    source: Mapped[str | None] = mapped_column(String(64))
    author: Mapped[str | None] = mapped_column(String(256))
    author_email: Mapped[str | None] = mapped_column(String(320), index=True)
    author_phone: Mapped[str | None] = mapped_column(String(32), index=True)
    author_member_id: Mapped[str | None] = mapped_column(String(128), index=True)
    author_handle: Mapped[str | None] = mapped_column(String(256), index=True)
    customer_id: Mapped[str | None] = mapped_column(String(128), index=True)
    account_id: Mapped[str | None] = mapped_column(String(128), index=True)
    contact_id: Mapped[str | None] = mapped_column(String(128), index=True)
    link_method: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
    title: Mapped[str | None] = mapped_column(String(512))
    text: Mapped[str | None] = mapped_column(Text)
    nps: Mapped[int | None] = mapped_column(Integer)
    csat: Mapped[int | None] = mapped_column(Integer)
    ces: Mapped[int | None] = mapped_column(Integer)
    rating: Mapped[float | None] = mapped_column(Float)
    touchpoint: Mapped[str | None] = mapped_column(String(64), index=True)
    journey_stage: Mapped[str | None] = mapped_column(String(64), index=True)
    product: Mapped[str | None] = mapped_column(String(256))
    language: Mapped[str | None] = mapped_column(String(8))


class FeedbackText(Base):
    """What the text engine read in one feedback's ``text``, stored once (never per view).

    ``text_hash`` is the hash of the analysed text and ``source_row_hash`` the feedback's
    ``row_hash`` when it was analysed: a feedback row edited since (``row_hash`` differs) is
    re-analysed only if its text changed. ``model_version``/``taxonomy_version`` say which engine
    and taxonomy computed the features, so ``cxloop text reenrich`` knows what is stale.
    """

    __tablename__ = "feedback_text"

    feedback_id: Mapped[str] = mapped_column(
        String(400), ForeignKey("feedback.feedback_id", ondelete="CASCADE"), primary_key=True
    )
    language: Mapped[str] = mapped_column(String(8), index=True)
    """zh, en, other (neither), or none (no text to read)."""
    mixed: Mapped[bool] = mapped_column(Boolean, default=False)
    sentiment: Mapped[str] = mapped_column(String(8), index=True)
    sentiment_score: Mapped[float] = mapped_column(Float)
    intent: Mapped[str] = mapped_column(String(16), index=True)
    flags: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    """[{name, start, end, evidence}]: churn intent, escalation threats, safety issues."""
    emotions: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    keywords: Mapped[list[str]] = mapped_column(JSON)
    aspects: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    """[{topic, term, start, end, sentiment, score}]; the clause is ``text[start:end]``."""
    pii: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    """[{kind, start, end}]: where personal data sits in the text, never the value itself."""
    text_hash: Mapped[str] = mapped_column(String(32))
    source_row_hash: Mapped[str] = mapped_column(String(32))
    model_version: Mapped[str] = mapped_column(String(64))
    taxonomy_version: Mapped[str] = mapped_column(String(64))
    enriched_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class FeedbackTopic(Base):
    """One row per topic a feedback mentions, so topic incidence and net sentiment are SQL."""

    __tablename__ = "feedback_topic"

    feedback_id: Mapped[str] = mapped_column(
        String(400), ForeignKey("feedback.feedback_id", ondelete="CASCADE"), primary_key=True
    )
    topic: Mapped[str] = mapped_column(String(TOPIC_LENGTH), primary_key=True, index=True)
    """Taxonomy path, levels joined by ``/`` (``delivery/speed``)."""
    topic_l1: Mapped[str] = mapped_column(String(TOPIC_L1_LENGTH), index=True)
    """The path's first level (``delivery``), for roll-ups without string functions."""
    sentiment: Mapped[str] = mapped_column(String(8))
    """positive / neutral / negative: the majority of the topic's mentions (ties: neutral)."""
    score: Mapped[float] = mapped_column(Float)
    """Mean sentiment score of the clauses mentioning the topic, -1 … 1."""
    mentions: Mapped[int] = mapped_column(Integer, default=1)


class TaxonomyVersion(Base):
    """Every taxonomy applied to the store; the newest is active. Old ones stay so features
    computed with them can be checked term by term against the active one."""

    __tablename__ = "taxonomy_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version: Mapped[str] = mapped_column(String(64), index=True)
    """sha256 of the taxonomy's canonical form (``Taxonomy.version``)."""
    yaml: Mapped[str] = mapped_column(Text)
    """The file as applied, comments included, so ``cxloop taxonomy export`` gives it back."""
    applied_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
