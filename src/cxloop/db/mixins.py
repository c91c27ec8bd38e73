"""Columns every imported table shares: free-form attributes and change-tracking."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cxloop.db.base import UtcDateTime, utcnow


class ImportedRowMixin:
    """Extra source columns kept as JSON; ``row_hash`` tells an unchanged re-import from an edit."""

    attributes: Mapped[dict[str, Any] | None] = mapped_column(
        JSON(none_as_null=True), nullable=True
    )
    row_hash: Mapped[str] = mapped_column(String(32))
    import_run_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """The run that wrote the row last."""
    inserted_run_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    """The run that inserted the row (what ``cxloop imports undo`` removes); NULL if unknown."""
    loaded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
