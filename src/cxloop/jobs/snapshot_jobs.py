"""The analytics snapshot's job: refreshed on ``cxloop serve``'s clock once it is older than
``CXLOOP_ANALYTICS_SNAPSHOT_SECONDS`` (imports refresh it too); nothing when the setting is off."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.dashboards.freshness import refresh_snapshot
from cxloop.engines.snapshot import read_state
from cxloop.jobs.registry import job


@job("dashboards.refresh_snapshot", every_s=60)
def refresh_analytics_snapshot(
    *, session: Session, settings: Settings, now: dt.datetime
) -> Mapping[str, int]:
    """The snapshot brought up to the store when it is due (it reads the store through its own
    connection: the session is not used)."""
    folder = settings.analytics_snapshot_dir
    if folder is None:
        return {}
    state = read_state(folder)
    age = (now - state.as_of).total_seconds() if state is not None else None
    if age is not None and age < settings.analytics_snapshot_seconds:
        return {"fresh": 1}
    done = refresh_snapshot(settings)
    return {done.mode: 1, "feedback_rows": done.changed_rows}
