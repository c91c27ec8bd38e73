"""The web server's clock: a daemon thread that runs the tick every ``tick_seconds``, each job
no more often than its ``every_s``. ``start`` returns the function that stops it."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from cxloop.config import Settings
from cxloop.jobs import tick
from cxloop.jobs.registry import JOBS

log = logging.getLogger(__name__)


def due_jobs(last: dict[str, float], moment: float) -> list[str]:
    """The jobs whose ``every_s`` has passed since they last ran (never run: due)."""
    return [n for n, j in JOBS.items() if moment - last.get(n, float("-inf")) >= j.every_s]


def start(
    settings: Settings,
    sessions: sessionmaker[Session] | None = None,
    *,
    now: Callable[[], dt.datetime] | None = None,
) -> Callable[[], None]:
    """Start the clock thread; call the returned function to stop it (waits for a running tick)."""
    stopping = threading.Event()
    last: dict[str, float] = {}

    def loop() -> None:
        while not stopping.is_set():
            moment = time.monotonic()
            chosen = due_jobs(last, moment)
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
