"""Jobs registered by name: plain functions the tick runs, each in its own unit of work.

A job takes ``session``, ``settings`` and ``now`` as keywords and returns counts (a mapping of
name to number, or one number); it must be idempotent, since a failed tick is simply run again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.errors import Conflict


class JobFunction(Protocol):
    def __call__(
        self, *, session: Session, settings: Settings, now: dt.datetime
    ) -> Mapping[str, int] | int: ...


@dataclass(frozen=True)
class Job:
    name: str
    every_s: float
    run: JobFunction


JOBS: dict[str, Job] = {}
"""Every registered job by name, in registration order (the order a tick runs them)."""


def job(name: str, every_s: float = 60.0) -> Callable[[JobFunction], JobFunction]:
    """Register ``fn`` as job ``name`` (``"<domain>.<verb>_<noun>"``), run at most every
    ``every_s`` seconds by the clock (a ``tick`` run by hand runs every job)."""

    def register(fn: JobFunction) -> JobFunction:
        existing = JOBS.get(name)
        if existing is not None and existing.run is not fn:
            raise Conflict(f"a job named {name!r} is already registered")
        JOBS[name] = Job(name, every_s, fn)
        return fn

    return register
