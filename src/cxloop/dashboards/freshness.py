"""How fresh a page's numbers are: live from the store, or from the analytics snapshot as of
its last refresh. Every dashboard result carries one, and every page shows it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

import duckdb
from pydantic import BaseModel, ConfigDict

from cxloop.config import Settings
from cxloop.engines import snapshot_refresh
from cxloop.engines.snapshot import SnapshotState, read_state
from cxloop.engines.snapshot_refresh import RefreshReport
from cxloop.errors import CxloopError
from cxloop.privacy.masking import PII_FIELDS


class Freshness(BaseModel):
    """Where the numbers came from; ``as_of`` is the snapshot's refresh time (UTC), None when
    they are read live from the store."""

    model_config = ConfigDict(frozen=True)

    source: Literal["store", "snapshot"]
    as_of: dt.datetime | None = None


def freshness(settings: Settings) -> Freshness:
    """The source analytics read under ``settings`` now: the snapshot when the setting names a
    folder holding a whole snapshot, else the store (the same rule ``analytics_backend`` uses)."""
    state = read_state(settings.analytics_snapshot_dir)
    if state is None or state.database != snapshot_refresh.database_label(settings):
        return Freshness(source="store")
    return Freshness(source="snapshot", as_of=state.as_of)


SNAPSHOT_OMIT: dict[str, frozenset[str]] = {
    **PII_FIELDS,
    "customers": PII_FIELDS["customers"] | {"attributes"},
    "contacts": PII_FIELDS["contacts"] | {"attributes"},
}
"""Left out of the snapshot: personal columns (``PII_FIELDS``) and the free-form attributes of
people, which may hold more. Analytics never read them; pages that show a person read the store."""


class SnapshotStatus(BaseModel):
    """What ``cxloop analytics snapshot status`` shows."""

    model_config = ConfigDict(frozen=True)

    enabled: bool
    """Whether CXLOOP_ANALYTICS_SNAPSHOT_DIR names a folder."""
    folder: Path | None
    reading: Literal["store", "snapshot"]
    """Where analytics read now."""
    reason: str
    state: SnapshotState | None = None


def refresh_snapshot(
    settings: Settings, *, full: bool = False, folder: Path | None = None
) -> RefreshReport:
    """Bring the analytics snapshot up to the store (incrementally where it can)."""
    return snapshot_refresh.refresh(settings, omit=SNAPSHOT_OMIT, full=full, folder=folder)


def snapshot_status(settings: Settings) -> SnapshotStatus:
    """Whether analytics read the snapshot or the store, and why."""
    folder = settings.analytics_snapshot_dir
    if folder is None:
        return SnapshotStatus(
            enabled=False,
            folder=None,
            reading="store",
            reason="CXLOOP_ANALYTICS_SNAPSHOT_DIR is not set: analytics read the store live",
        )
    state = read_state(folder)
    if state is None:
        why = "no snapshot there yet: run `cxloop analytics snapshot refresh`"
        return SnapshotStatus(enabled=True, folder=folder, reading="store", reason=why)
    if state.database != snapshot_refresh.database_label(settings):
        why = f"the snapshot copies another store ({state.database}): analytics read the store"
        return SnapshotStatus(enabled=True, folder=folder, reading="store", reason=why, state=state)
    why = f"analytics read the snapshot as of {state.as_of:%Y-%m-%d %H:%M:%S} UTC"
    return SnapshotStatus(enabled=True, folder=folder, reading="snapshot", reason=why, state=state)


def refresh_after_import(settings: Settings) -> str | None:
    """After an import: refresh the snapshot when the setting is on, as one sentence (a failed
    refresh is said, never raised: the import itself is stored and analytics fall back to an
    older snapshot)."""
    if settings.analytics_snapshot_dir is None:
        return None
    try:
        done = refresh_snapshot(settings)
    except (CxloopError, OSError, duckdb.Error) as error:
        return f"analytics snapshot not refreshed: {error}"
    return (
        f"analytics snapshot refreshed ({done.mode}, {done.changed_rows:,} feedback rows) "
        f"in {done.seconds:.1f} s"
    )
