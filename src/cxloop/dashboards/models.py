"""Stored results of the dashboards' slow views (model fits), one row per view, parameters and
data version: a page reads the row its request names instead of fitting again, and a row of
an older data version is never read (see ``dashboards.stored``)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Float, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cxloop.db.base import Base, UtcDateTime, utcnow


class DashboardResult(Base):
    """One computed view: ``payload`` is the result's JSON, ``params`` the normalised query it
    answers (``params_key`` is its hash), ``data_version`` the fingerprint of the data read."""

    __tablename__ = "dashboard_results"
    __table_args__ = (
        UniqueConstraint("view", "params_key", "data_version", name="uq_dashboard_results_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    view: Mapped[str] = mapped_column(String(64))
    params_key: Mapped[str] = mapped_column(String(64))
    data_version: Mapped[str] = mapped_column(String(64))
    params: Mapped[str] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text)
    seconds: Mapped[float] = mapped_column(Float)
    computed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
