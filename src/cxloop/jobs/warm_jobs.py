"""The dashboards' warm-up job: after an import or a snapshot refresh moved the data version,
``cxloop serve``'s clock fits the drivers page's default view and stores it, so the first visit
after new data reads a stored result instead of waiting seconds for the fits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.dashboards import drivers
from cxloop.jobs import snapshot_jobs  # noqa: F401 - registered first: a tick refreshes, then warms
from cxloop.jobs.registry import job


@job("dashboards.warm_results", every_s=60)
def warm_results(*, session: Session, settings: Settings, now: dt.datetime) -> Mapping[str, int]:
    """The default drivers view fitted and stored unless stored for the current data (runs
    under ``cxloop serve`` only: a hand-run ``tick`` leaves it to ``cxloop dashboards warm``)."""
    if not settings.background_jobs:
        return {}
    done = drivers.warm(session=session, settings=settings)
    fitted = sum(1 for _, c in done if not c.stored)
    return {"fitted": fitted, "stored_already": len(done) - fitted}
