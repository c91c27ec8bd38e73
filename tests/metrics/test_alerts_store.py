"""Stored alerts: a scan of the demo company stores the planted delivery spike, a second scan
adds nothing, and an acknowledged alert stays acknowledged."""

from __future__ import annotations

import datetime as dt

import pytest

from cxloop.api import connect
from cxloop.config import Settings
from cxloop.demo.generator import SPIKE_WEEK
from cxloop.demo.service import load_demo
from cxloop.errors import Invalid
from cxloop.metrics import monitoring

_DEMO: dict[str, Settings] = {}


def demo_settings(factory: pytest.TempPathFactory) -> Settings:
    """The demo company in a SQLite file, loaded once per test run (about 12 s)."""
    if "settings" not in _DEMO:
        folder = factory.mktemp("demo")
        settings = Settings(database_url=f"sqlite:///{folder / 'cxloop.db'}")
        store = connect(settings=settings)
        try:
            load_demo(sessions=store.sessions, settings=settings, folder=folder / "files")
        finally:
            store.close()
        _DEMO["settings"] = settings
    return _DEMO["settings"]


@pytest.mark.slow
def test_scan_stores_the_planted_spike_and_a_second_scan_adds_nothing(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    settings = demo_settings(tmp_path_factory)
    store = connect(settings=settings)
    as_of = dt.datetime(2026, 11, 23)
    try:
        with store.sessions() as session:
            first = monitoring.scan_alerts(session=session, settings=settings, as_of=as_of)
            session.commit()
        spikes = [
            a
            for a in first.alerts
            if (a.kind, a.subject, a.period_start) == ("spike", "delivery/speed", SPIKE_WEEK)
        ]
        assert len(spikes) == 1 and spikes[0].value >= 3 * spikes[0].expected  # type: ignore[operator]
        assert spikes[0].reason.startswith("delivery/speed complaints in the week of 2026-06-01")
        assert first.inserted == first.found == len(first.alerts) > 0
        # no score spike or drop was planted: a week's own sampling error floors its scale
        scores = [a for a in first.alerts if a.subject in ("nps", "csat", "ces")]
        assert scores == [], [a.reason for a in scores]

        with store.sessions() as session:
            monitoring.set_alert_status(
                session=session, alert_id=spikes[0].id, status="acknowledged"
            )
            second = monitoring.scan_alerts(session=session, settings=settings, as_of=as_of)
            session.commit()
        assert (second.inserted, second.updated, second.found) == (0, 0, first.found)

        with store.sessions() as session:
            stored = monitoring.list_alerts(session=session)
            acknowledged = monitoring.list_alerts(session=session, status="acknowledged")
            later = monitoring.list_alerts(session=session, since=dt.datetime(2999, 1, 1))
            with pytest.raises(Invalid):
                monitoring.list_alerts(session=session, status="closed")
        assert len(stored) == first.found
        assert [a.id for a in acknowledged] == [spikes[0].id] and later == []
    finally:
        store.close()
