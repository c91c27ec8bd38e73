"""The analytics snapshot: the tables analytics read, as Parquet files DuckDB queries.

At a million answers the store (SQLite above all) takes seconds per group-by; DuckDB over
Parquet takes tens of milliseconds. The snapshot is a copy, so it says how old it is
(``SnapshotState.as_of``), and the same Ibis expressions run on it as on the store.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

STATE = "state.json"
"""The one file a reader opens first: it names the generation folder that is whole."""


class SnapshotState(BaseModel):
    """What ``state.json`` records about the snapshot it points at."""

    model_config = ConfigDict(frozen=True)

    generation: str
    as_of: dt.datetime
    """When the refresh that wrote it read the store (UTC)."""
    watermark: dt.datetime | None = None
    """The largest ``feedback.updated_at`` it holds (naive UTC, as the store keeps it)."""
    counts: dict[str, int] = {}
    parts: dict[str, list[str]] = {}
    signature: dict[str, str] = {}


def read_state(folder: Path | None) -> SnapshotState | None:
    """The snapshot's state, or None when there is no folder, no state or no generation."""
    if folder is None:
        return None
    try:
        state = SnapshotState.model_validate(json.loads((folder / STATE).read_text("utf-8")))
    except (OSError, ValueError, ValidationError):
        return None
    return state if (folder / state.generation).is_dir() else None
