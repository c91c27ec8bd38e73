"""Stored insight results: churn scores per customer, each with the model version that made it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Float, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from cxloop.db.base import Base, UtcDateTime, utcnow


class ChurnScore(Base):
    """One customer's churn probability from one model version, with the reasons behind it.

    A re-score by the same model version replaces the row; a new version adds rows, so scores
    from different models never mix silently.
    """

    __tablename__ = "churn_scores"
    __table_args__ = (Index("ix_churn_scores_scored_at", "scored_at"),)

    customer_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    model_version: Mapped[str] = mapped_column(String(64), primary_key=True)
    probability: Mapped[float] = mapped_column(Float)
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    scored_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
