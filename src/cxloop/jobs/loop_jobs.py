"""The loop's jobs: alert rules over new feedback, SLA timers with their notices, and follow-ups
— registered here so ``cxloop loop tick`` and the web server's clock run the same.

Functions owned by other modules are named ``"module:function"`` and looked up when the job
runs, so a store whose code lacks one reports that job's error and still runs the others.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.jobs.registry import job
from cxloop.loop import tick

EVALUATE = "cxloop.loop.evaluation:evaluate_pending"
EVALUATE_ALERTS = "cxloop.loop.alert_rules:evaluate_pending"
FOLLOWUPS = {
    "cxloop.loop.followup:send_due": "sent",
    "cxloop.loop.followup:record_answers": "answers",
    "cxloop.loop.followup:close_expired": "expired",
}
"""Each step, in the order its counts are shown, and the prefix of a count it shares with an
earlier step (``answers.not_sent``)."""
FOLLOWUP_RUN_ORDER = (
    "cxloop.loop.followup:record_answers",
    "cxloop.loop.followup:close_expired",
    "cxloop.loop.followup:send_due",
)
"""The steps as they run: sending last, so that a step failing after it (which rolls back the
job's unit of work) cannot make the next run mail the same customers again."""
LOOP_JOBS = (
    "loop.evaluate_feedback",
    "loop.evaluate_metric_alerts",
    "loop.fire_timers",
    "loop.followups",
)


def _counts(target: str, **kwargs: Any) -> dict[str, int]:
    """Call ``module:function`` with keywords; its counts (a mapping, or an object with
    ``as_counts()``) as a mapping."""
    module_name, _, name = target.partition(":")
    result = getattr(importlib.import_module(module_name), name)(**kwargs)
    if hasattr(result, "as_counts"):
        result = result.as_counts()
    return {str(k): int(v) for k, v in result.items() if isinstance(v, int | float)}


@job("loop.evaluate_feedback", every_s=10)
def evaluate_feedback(
    *, session: Session, settings: Settings, now: dt.datetime
) -> Mapping[str, int]:
    """Alert rules over feedback stored or changed since they last looked (what a crash between
    storing and evaluating left behind): matches open cases or join open ones."""
    return _counts(EVALUATE, session=session, settings=settings, now=now)


@job("loop.evaluate_metric_alerts", every_s=60)
def evaluate_metric_alerts(
    *, session: Session, settings: Settings, now: dt.datetime
) -> Mapping[str, int]:
    """The ``metric_alerts`` rules over metric alerts stored since they last looked (a scan
    evaluates its own alerts; this catches a crash or another process's scan)."""
    return _counts(EVALUATE_ALERTS, session=session, settings=settings, now=now)


@job("loop.fire_timers", every_s=30)
def fire_timers(*, session: Session, settings: Settings, now: dt.datetime) -> Mapping[str, int]:
    """SLA warnings and escalations that are due, each once, and the notices of new case events."""
    return tick.tick(session=session, settings=settings, now=now)


@job("loop.followups", every_s=60)
def followups(*, session: Session, settings: Settings, now: dt.datetime) -> Mapping[str, int]:
    """Follow-up surveys: answers that verify or reopen, cases whose follow-up went unanswered
    closed unverified, then new ones sent for resolved cases (``FOLLOWUP_RUN_ORDER``)."""
    found = {t: _counts(t, session=session, settings=settings, now=now) for t in FOLLOWUP_RUN_ORDER}
    counts: dict[str, int] = {}
    for target, step in FOLLOWUPS.items():
        counts.update({f"{step}.{k}" if k in counts else k: v for k, v in found[target].items()})
    return counts
