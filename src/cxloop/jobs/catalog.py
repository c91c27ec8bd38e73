"""The survey jobs: scheduled sends, reminders, expiries, B2B owner alerts, event triggers and
the answers' ingestion — registered here so ``tick`` and the web server's clock run the same.

Functions owned by other modules are called through their service names and looked up when the
job runs, so a store without one of them reports that job's error and still runs the others.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.jobs import (
    loop_jobs,  # noqa: F401 - registers the loop jobs (before notify's)
    report_jobs,  # noqa: F401 - registers reports.send_due
    snapshot_jobs,  # noqa: F401 - registers dashboards.refresh_snapshot
    warm_jobs,  # noqa: F401 - registers dashboards.warm_results (after the snapshot's)
)
from cxloop.jobs.registry import job
from cxloop.notify import deliveries
from cxloop.surveys import reminders, sending


def _call(target: str, **kwargs: Any) -> Mapping[str, int] | int:
    """``module:function`` of another owner, called with keywords it accepts."""
    module_name, _, name = target.partition(":")
    function = getattr(importlib.import_module(module_name), name)
    result = function(**kwargs)
    if isinstance(result, Mapping):
        return {str(k): int(v) for k, v in result.items() if isinstance(v, int | float)}
    if isinstance(result, int):
        return result
    return {"done": len(result)} if isinstance(result, list | tuple) else 0


@job("surveys.run_triggers", every_s=60)
def run_triggers(
    *, session: Session, settings: Settings, now: dt.datetime
) -> Mapping[str, int] | int:
    """Event triggers (order delivered, renewal, ticket closed, milestone done): new invitations."""
    return _call(
        "cxloop.surveys.triggers:run_triggers", session=session, settings=settings, now=now
    )


@job("surveys.send_scheduled", every_s=60)
def send_scheduled(*, session: Session, settings: Settings, now: dt.datetime) -> Mapping[str, int]:
    """Invitations whose quiet hours or event delay are over, or whose mail server was down."""
    return sending.send_scheduled(session=session, settings=settings, now=now)


@job("surveys.remind", every_s=300)
def remind(*, session: Session, settings: Settings, now: dt.datetime) -> Mapping[str, int]:
    """Reminders to non-responders (B2B: the roles still missing)."""
    return reminders.remind(session=session, settings=settings, now=now)


@job("surveys.expire", every_s=300)
def expire(*, session: Session, settings: Settings, now: dt.datetime) -> Mapping[str, int]:
    """Unanswered invitations past their link's expiry."""
    return {"expired": reminders.expire(session=session, now=now)}


@job("surveys.alert_owners", every_s=900)
def alert_owners(
    *, session: Session, settings: Settings, now: dt.datetime
) -> Mapping[str, int] | int:
    """Account owners of B2B surveys whose deadline nears with roles missing."""
    alerted = _call(
        "cxloop.surveys.b2b_status:alert_owners", session=session, settings=settings, now=now
    )
    return {"alerted": alerted} if isinstance(alerted, int) else alerted


@job("surveys.ingest_responses", every_s=10)
def ingest_responses(
    *, session: Session, settings: Settings, now: dt.datetime
) -> Mapping[str, int] | int:
    """Completed answers still in the outbox, stored as feedback through the import path."""
    stored = _call("cxloop.surveys.responses:ingest_pending", session=session, settings=settings)
    return {"stored": stored} if isinstance(stored, int) else stored


@job("notify.deliver_due", every_s=30)
def deliver_due(*, session: Session, settings: Settings, now: dt.datetime) -> Mapping[str, int]:
    """Queued mails and webhooks that are due (last, so what the other jobs queued goes out)."""
    return deliveries.deliver_due(session=session, settings=settings, now=now).counts()
