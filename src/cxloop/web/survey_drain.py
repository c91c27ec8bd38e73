"""The web app's survey outbox drain: one daemon thread that turns submitted answers into
feedback (``surveys.responses.ingest_pending``) as soon as a submit wakes it.

A submit only stores the response (milliseconds); the import with its text analysis runs here, in
its own session, so an answer is in the metrics within a second without any request paying for
the text engine. The thread starts on the first wake-up, so an app that takes no answers runs
none; ``cxloop surveys tick`` drains the same outbox for stores without a running server.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading

from sqlalchemy.orm import Session, sessionmaker

from cxloop.config import Settings
from cxloop.db.session import session_scope
from cxloop.loop import evaluation
from cxloop.surveys import responses as responses_service

log = logging.getLogger(__name__)
IDLE_WAKE_S = 30.0
"""Also look every so often: a response left by a failed run or another process is retried."""


class OutboxDrain:
    """Wake with ``poke()``; stop with ``close()`` (tests, app shutdown)."""

    def __init__(
        self, settings: Settings, factory: sessionmaker[Session], *, warm: bool = False
    ) -> None:
        self._settings = settings
        self._factory = factory
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.ready = threading.Event()
        """Set once the text engine is loaded and the drain waits for work."""
        self.runs = 0
        if warm:  # a server that will take answers: load the text engine before the first one
            self._start()

    def poke(self) -> None:
        """A response was completed: drain the outbox now."""
        self._start()
        self._wake.set()

    def close(self, timeout: float = 5.0) -> None:
        self._stopped.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _start(self) -> None:
        with self._lock:
            if self._thread is None and not self._stopped.is_set():
                self._thread = threading.Thread(
                    target=self._loop, name="cxloop-survey-drain", daemon=True
                )
                self._thread.start()

    def _loop(self) -> None:
        try:
            responses_service.warm_text_engine()
        except Exception:  # the drain still works; the first import loads the engine itself
            log.exception("text engine warm-up failed")
        self.ready.set()
        while not self._stopped.is_set():
            self._wake.wait(IDLE_WAKE_S)
            self._wake.clear()
            if self._stopped.is_set():
                break
            self.drain()

    def drain(self) -> int:
        """Run the outbox until it is empty (or only failing rows are left)."""
        total = 0
        while True:
            try:
                with session_scope(self._factory) as session:
                    stored = responses_service.ingest_pending(
                        session=session, settings=self._settings
                    )
            except Exception:
                log.exception("survey outbox drain failed")
                return total
            self.runs += 1
            total += stored
            if stored == 0:
                return total
            self._alert_rules()

    def _alert_rules(self) -> None:
        """The answers just stored meet the alert rules (a failure is logged; the
        ``loop.evaluate_feedback`` job looks again)."""
        try:
            with session_scope(self._factory) as session:
                evaluation.evaluate_pending(
                    session=session, settings=self._settings, now=dt.datetime.now(dt.UTC)
                )
        except Exception as exc:
            log.warning("alert rules after the survey drain failed (%s)", type(exc).__name__)
