"""The analytics snapshot: the tables analytics read, as Parquet files DuckDB queries.

At a million answers the store (SQLite above all) takes seconds per group-by; DuckDB over
Parquet takes tens of milliseconds. The snapshot is a copy, so it says how old it is
(``SnapshotState.as_of``), and the same Ibis expressions run on it as on the store.

Layout of the folder: ``state.json`` names the generation folder that is whole
(``g000007/<table>/part-00003.parquet``…). A refresh builds the next generation beside it
(unchanged parts hard-linked, not copied), then replaces ``state.json`` in one rename: a reader
sees the old snapshot or the new one, never half of one. The generation before the current one
is kept for readers still querying it; older ones are removed.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

STATE = "state.json"
"""The one file a reader opens first: it names the generation folder that is whole."""
LOOK_BACK = dt.timedelta(hours=1)
"""Rows whose ``updated_at`` is this much older than the watermark are read again on each
incremental refresh: a transaction that began earlier may commit after the last refresh read."""
MAX_PARTS = 8
"""More part files than this in a table and the refresh compacts the table into one."""
FEEDBACK_KEYED = {"feedback": "feedback_id", "feedback_text": "feedback_id"}
"""Tables refreshed incrementally: one row per feedback, keyed by ``feedback_id``."""
FEEDBACK_CHILDREN = ("feedback_topic",)
"""Tables of several rows per feedback, refreshed with the feedback they belong to."""
WHOLE_TABLES = (
    "customers",
    "accounts",
    "contacts",
    "projects",
    "milestones",
    "orders",
    "subscriptions",
    "events",
    "churn_scores",
    "churn_models",
)
"""Tables rewritten whole when their signature (count, last change) differs: far fewer rows
than feedback, and read by insights (profiles, drivers, outcomes, churn)."""
TABLES = (*FEEDBACK_KEYED, *FEEDBACK_CHILDREN, *WHOLE_TABLES)


class SnapshotState(BaseModel):
    """What ``state.json`` records about the snapshot it points at."""

    model_config = ConfigDict(frozen=True)

    generation: str
    as_of: dt.datetime
    """When the refresh that wrote it began reading the store (UTC)."""
    watermark: dt.datetime | None = None
    """The largest ``feedback.updated_at`` it holds (naive UTC, as the store keeps it)."""
    database: str = ""
    """The store it copies (URL without password): a snapshot of another store is not used."""
    counts: dict[str, int] = {}
    parts: dict[str, list[str]] = {}
    signature: dict[str, str] = {}
    """Per table, what tells a changed table from an unchanged one (count and last change)."""
    json_columns: dict[str, list[str]] = {}
    """JSON columns, kept as text in Parquet and read back as JSON (as the store gives them)."""
    refreshed: str = "full"
    """How the last refresh went: full, incremental, compacted or unchanged."""


def read_state(folder: Path | None) -> SnapshotState | None:
    """The snapshot's state, or None when there is no folder, no state or no generation."""
    if folder is None:
        return None
    try:
        state = SnapshotState.model_validate(json.loads((folder / STATE).read_text("utf-8")))
    except (OSError, ValueError, ValidationError):
        return None
    return state if (folder / state.generation).is_dir() else None


def write_state(folder: Path, state: SnapshotState) -> None:
    """Replace ``state.json`` in one rename (the swap a reader never sees half of), then remove
    generations older than the previous one."""
    previous = read_state(folder)
    temporary = folder / f".{STATE}.tmp"
    temporary.write_text(state.model_dump_json(indent=2), "utf-8")
    os.replace(temporary, folder / STATE)
    keep = {state.generation, previous.generation if previous else ""}
    for old in folder.glob("g[0-9]*"):
        if old.is_dir() and old.name not in keep:
            shutil.rmtree(old, ignore_errors=True)


def next_generation(folder: Path, state: SnapshotState | None) -> Path:
    """A new, empty generation folder after the current one (leftovers of a failed refresh are
    cleared first)."""
    number = int(state.generation[1:]) + 1 if state else 1
    path = folder / f"g{number:06d}"
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def link_or_copy(source: Path, target: Path) -> None:
    """A hard link (an unchanged part costs nothing), or a copy where links are refused."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def part_paths(folder: Path, state: SnapshotState, table: str) -> list[Path]:
    """The part files of ``table`` in the current generation."""
    return [folder / state.generation / table / name for name in state.parts.get(table, [])]
