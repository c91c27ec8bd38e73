"""The alerts the views list: the newest of a status, and counts over every stored alert."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cxloop import api
from cxloop.config import Settings
from cxloop.dashboards.alerts import SHOWN, alert_counts, alerts_view, newest_alerts
from cxloop.dashboards.overview import MAX_ALERTS, overview
from cxloop.metrics.models import Alert

START = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
OPEN = SHOWN + 5
"""More open alerts than a view lists: ``list_alerts`` (oldest first) would cut the newest."""


def _store(tmp_path: Path, open_alerts: int, resolved: int) -> api.Store:
    store = api.connect(settings=Settings(database_url=f"sqlite:///{tmp_path / 'cxloop.db'}"))
    with store.sessions() as session:
        for i in range(open_alerts + resolved):
            session.add(
                Alert(
                    alert_key=f"k{i}", kind="drop", subject="nps", slice_key="{}", reason=f"k{i}",
                    status="open" if i < open_alerts else "resolved",
                    created_at=START + dt.timedelta(hours=i), updated_at=START,
                )
            )  # fmt: skip
        session.commit()
    return store


def test_the_newest_alerts_are_listed_newest_first_not_the_oldest(tmp_path: Path) -> None:
    store = _store(tmp_path, open_alerts=OPEN, resolved=2)
    try:
        with store.sessions() as session:
            newest = newest_alerts(session, "open", 3)
            assert [a.reason for a in newest] == [f"k{OPEN - 1 - i}" for i in range(3)]
            assert alert_counts(session) == {"open": OPEN, "acknowledged": 0, "resolved": 2}
            view = alerts_view(session=session, settings=store.settings, status=None)
            assert [r.alert.reason for r in view.alerts][:2] == [
                f"k{OPEN + 1}",
                f"k{OPEN}",
            ]
            assert len(view.alerts) == SHOWN
            opened = alerts_view(session=session, settings=store.settings, status="open")
            assert opened.alerts[0].alert.reason == f"k{OPEN - 1}"
            found = overview(session=session, settings=store.settings)
    finally:
        store.close()
    assert found.open_alerts == OPEN
    assert [a.reason for a in found.alerts] == [f"k{OPEN - 1 - i}" for i in range(MAX_ALERTS)]
