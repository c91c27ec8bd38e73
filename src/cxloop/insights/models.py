"""Stored insight results: churn scores per customer, each with the model version that made it,
and one row per scoring run saying how good that model was and whether a weak one was accepted."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Float, Index, Integer, String
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


class ChurnModelRun(Base):
    """One ``cxloop insights churn`` run that stored scores: the model, its cross-validated
    ROC-AUC with interval, and whether a model below the bar was stored on request
    (``accepted_weak``). Target lists on churn risk cite it, so nobody acts on a weak model
    without being told."""

    __tablename__ = "churn_models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    model_version: Mapped[str] = mapped_column(String(64), index=True)
    method: Mapped[str] = mapped_column(String(256))
    as_of: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    cutoff: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    horizon_days: Mapped[int] = mapped_column(Integer)
    trained_on: Mapped[int] = mapped_column(Integer)
    cancellations: Mapped[int] = mapped_column(Integer)
    scored: Mapped[int] = mapped_column(Integer)
    cv_roc_auc: Mapped[float | None] = mapped_column(Float)
    cv_auc_low: Mapped[float | None] = mapped_column(Float)
    cv_auc_high: Mapped[float | None] = mapped_column(Float)
    accepted_weak: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
