"""The tick: every survey job registered by name, each in its own unit of work, one job's
failure reported and rolled back while the others still run; and the web server's clock."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.api import connect
from cxloop.config import Settings
from cxloop.errors import Conflict, Invalid
from cxloop.jobs import clock, tick
from cxloop.jobs.registry import JOBS, job
from cxloop.surveys.models import AppSecret

SURVEY_JOBS = {
    "surveys.run_triggers",
    "surveys.send_scheduled",
    "surveys.remind",
    "surveys.expire",
    "surveys.alert_owners",
    "surveys.ingest_responses",
}
NOW = dt.datetime(2026, 3, 1, 12, 0)


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[Settings]:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'tick.db'}", tick_seconds=0.05)
    connect(settings=settings).close()
    yield settings


@pytest.fixture
def extra_jobs() -> Iterator[list[str]]:
    """Jobs a test registers, removed afterwards."""
    added: list[str] = []
    yield added
    for name in added:
        JOBS.pop(name, None)


def test_every_survey_job_is_registered_and_runs_on_an_empty_store(settings: Settings) -> None:
    assert set(JOBS) >= SURVEY_JOBS
    outcomes = tick.run(settings, NOW, only=sorted(SURVEY_JOBS))
    assert set(outcomes) == SURVEY_JOBS
    failed = {n: o.error for n, o in outcomes.items() if o.error}
    assert failed == {}
    assert outcomes["surveys.expire"].counts == {"expired": 0}


def test_a_failing_job_is_reported_rolled_back_and_the_others_still_commit(
    settings: Settings, extra_jobs: list[str]
) -> None:
    @job("test.write_then_fail")
    def write_then_fail(*, session: Session, settings: Settings, now: dt.datetime) -> int:
        session.add(AppSecret(name="from_failed_job", value="x"))
        session.flush()
        raise RuntimeError("the mail server is on fire")

    @job("test.write")
    def write(*, session: Session, settings: Settings, now: dt.datetime) -> dict[str, int]:
        session.add(AppSecret(name="from_good_job", value=now.isoformat()))
        return {"written": 1}

    extra_jobs += ["test.write_then_fail", "test.write"]
    outcomes = tick.run(settings, NOW, only=["test.write_then_fail", "test.write"])
    assert outcomes["test.write_then_fail"].error == "RuntimeError: the mail server is on fire"
    assert outcomes["test.write"].counts == {"written": 1}
    store = connect(settings=settings)
    try:
        with store.sessions() as session:
            names = set(session.scalars(select(AppSecret.name)))
    finally:
        store.close()
    assert names == {"from_good_job"}


def test_an_unknown_job_name_is_refused_with_the_known_ones(settings: Settings) -> None:
    with pytest.raises(Invalid) as caught:
        tick.run(settings, NOW, only=["surveys.remindd"])
    assert "surveys.remind" in caught.value.problems[0].reason


def test_a_name_cannot_be_registered_twice_for_another_function(extra_jobs: list[str]) -> None:
    extra_jobs.append("test.once")

    @job("test.once")
    def first(*, session: Session, settings: Settings, now: dt.datetime) -> int:
        return 0

    with pytest.raises(Conflict):

        @job("test.once")
        def second(*, session: Session, settings: Settings, now: dt.datetime) -> int:
            return 1


def test_the_clock_runs_due_jobs_until_stopped(settings: Settings, extra_jobs: list[str]) -> None:
    runs: list[dt.datetime] = []

    @job("test.count", every_s=0.0)
    def count(*, session: Session, settings: Settings, now: dt.datetime) -> int:
        runs.append(now)
        return len(runs)

    extra_jobs.append("test.count")
    stop = clock.start(settings, now=lambda: NOW)
    deadline = time.monotonic() + 20
    while len(runs) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    stop()
    seen = len(runs)
    assert seen >= 2 and runs[0] == NOW
    time.sleep(0.3)
    assert len(runs) == seen  # stopped means stopped


def test_due_jobs_respect_each_jobs_interval() -> None:
    last = {name: 100.0 for name in JOBS}
    due = clock.due_jobs(last, 100.0 + 60)
    assert "surveys.send_scheduled" in due
    assert "surveys.remind" not in due  # every 300 s
    assert set(clock.due_jobs({}, 0.0)) == set(JOBS)


@pytest.mark.parametrize("background", [True, False])
def test_the_web_app_runs_the_clock_only_with_background_jobs(
    settings: Settings, extra_jobs: list[str], background: bool
) -> None:
    from fastapi.testclient import TestClient

    from cxloop.web.app import create_app

    runs: list[dt.datetime] = []

    @job("test.web_count", every_s=0.0)
    def web_count(*, session: Session, settings: Settings, now: dt.datetime) -> int:
        runs.append(now)
        return 1

    extra_jobs.append("test.web_count")
    app = create_app(settings.model_copy(update={"background_jobs": background}))
    with TestClient(app):
        deadline = time.monotonic() + (20 if background else 1)
        while not runs and time.monotonic() < deadline:
            time.sleep(0.05)
    assert bool(runs) is background
