"""The reports job: scheduled reports that are due, mailed once per schedule and period."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.jobs.registry import job
from cxloop.reports import service as reports_service


@job("reports.send_due", every_s=60)
def send_due(*, session: Session, settings: Settings, now: dt.datetime) -> Mapping[str, int]:
    """Scheduled reports whose time has come (PDF attached or HTML body)."""
    return reports_service.send_due(session=session, settings=settings, now=now).counts()
