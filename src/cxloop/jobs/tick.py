"""One tick: every registered job (or those named), each in its own unit of work, so one job's
failure is reported and rolled back while the others still run and commit."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from cxloop.config import Settings
from cxloop.db.base import utcnow
from cxloop.db.session import make_engine, make_session_factory, session_scope
from cxloop.errors import Invalid
from cxloop.jobs import catalog  # noqa: F401 - registers the survey jobs
from cxloop.jobs.registry import JOBS

log = logging.getLogger(__name__)


@dataclass
class JobOutcome:
    """What one job did: its counts, or the error that stopped it (its work rolled back)."""

    name: str
    counts: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    seconds: float = 0.0


def _counts(result: Mapping[str, int] | int) -> dict[str, int]:
    if isinstance(result, Mapping):
        return {str(k): int(v) for k, v in result.items()}
    return {"done": int(result)}


def names(only: Iterable[str] | None = None) -> list[str]:
    """The jobs to run, in registration order; ``Invalid`` naming an unknown one."""
    if only is None:
        return list(JOBS)
    wanted = list(only)
    unknown = [n for n in wanted if n not in JOBS]
    if unknown:
        raise Invalid(f"is not a job; jobs: {', '.join(JOBS)}", "job", ", ".join(unknown))
    return [n for n in JOBS if n in wanted]


def run(
    settings: Settings,
    now: dt.datetime | None = None,
    only: Iterable[str] | None = None,
    *,
    sessions: sessionmaker[Session] | None = None,
) -> dict[str, JobOutcome]:
    """Run the jobs once at ``now`` (naive UTC, default the clock); one outcome per job."""
    now = now or utcnow()
    chosen = names(only)
    engine = None
    if sessions is None:
        engine = make_engine(settings)
        sessions = make_session_factory(engine)
    outcomes: dict[str, JobOutcome] = {}
    try:
        for name in chosen:
            started = dt.datetime.now(dt.UTC)
            outcome = JobOutcome(name)
            try:
                with session_scope(sessions) as session:
                    outcome.counts = _counts(
                        JOBS[name].run(session=session, settings=settings, now=now)
                    )
            except Exception as exc:  # one job's failure must not stop the others
                outcome.error = f"{type(exc).__name__}: {exc}"
                log.warning("job %s failed: %s", name, outcome.error)
            outcome.seconds = (dt.datetime.now(dt.UTC) - started).total_seconds()
            outcomes[name] = outcome
    finally:
        if engine is not None:
            engine.dispose()
    return outcomes
