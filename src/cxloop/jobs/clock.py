"""The web server's clock: a daemon thread that runs the tick every ``tick_seconds``, each job
no more often than its ``every_s``. ``start`` returns the function that stops it."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from cxloop.config import Settings
from cxloop.jobs import tick
from cxloop.jobs.registry import JOBS

log = logging.getLogger(__name__)


WEB_SKIPS = ("surveys.ingest_responses",)
"""Jobs the web server's clock leaves out: its outbox drain ingests answers as they arrive."""


def due_jobs(last: dict[str, float], moment: float, skip: Iterable[str] = ()) -> list[str]:
    """The jobs whose ``every_s`` has passed since they last ran (never run: due)."""
    left_out = set(skip)
    return [
        n
        for n, j in JOBS.items()
        if n not in left_out and moment - last.get(n, float("-inf")) >= j.every_s
    ]


def start(
    settings: Settings,
    sessions: sessionmaker[Session] | None = None,
    *,
    now: Callable[[], dt.datetime] | None = None,
    skip: Iterable[str] = (),
) -> Callable[[], None]:
    """Start the clock thread; call the returned function to stop it (waits for a running tick)."""
    stopping = threading.Event()
    last: dict[str, float] = {}
    left_out = tuple(skip)

    def loop() -> None:
        while not stopping.is_set():
            moment = time.monotonic()
            chosen = due_jobs(last, moment, left_out)
            if chosen:
                try:
                    outcomes = tick.run(settings, now() if now else None, chosen, sessions=sessions)
                    for name, outcome in outcomes.items():
                        last[name] = moment
                        if outcome.error:
                            log.warning("background job %s: %s", name, outcome.error)
                except Exception:  # the clock must outlive any one tick
                    log.exception("background tick failed")
            stopping.wait(settings.tick_seconds)

    thread = threading.Thread(target=loop, name="cxloop-clock", daemon=True)
    thread.start()

    def stop() -> None:
        stopping.set()
        thread.join(timeout=max(5.0, settings.tick_seconds))

    return stop


@asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    """The web app's lifespan: the clock runs while the server does, when
    ``settings.background_jobs`` (``cxloop serve``); typed loosely so jobs needs no web import."""
    settings: Settings = app.state.settings
    stop = (
        start(settings, app.state.session_factory, skip=WEB_SKIPS)
        if settings.background_jobs
        else None
    )
    try:
        yield
    finally:
        if stop is not None:
            stop()
