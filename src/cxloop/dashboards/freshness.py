"""How fresh a page's numbers are: live from the store, or from the analytics snapshot as of
its last refresh. Every dashboard result carries one, and every page shows it."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict

from cxloop.config import Settings
from cxloop.engines.snapshot import read_state


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
    if state is None:
        return Freshness(source="store")
    return Freshness(source="snapshot", as_of=state.as_of)
