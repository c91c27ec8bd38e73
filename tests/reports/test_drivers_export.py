"""The drivers download reads the fits the page and API stored (no refit per file) and names an
unknown choice as a problem, not a crash."""

from __future__ import annotations

import sqlite3

import pytest

from cxloop.api import Store
from cxloop.errors import Invalid
from cxloop.reports import service as reports_service
from tests.dashboards.test_drivers_stored import built, store  # noqa: F401 (fixtures)
from tests.reports.conftest import NOW


def _export(store: Store, query: str) -> bytes:  # noqa: F811 (the fixture's name)
    with store.sessions() as session:
        found = reports_service.export(
            session=session, settings=store.settings, view="drivers", fmt="csv", query=query,
            role="analyst", now=NOW,
        )  # fmt: skip
        session.commit()
    return found.content


def _stored(store: Store) -> int:  # noqa: F811
    database = store.settings.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(database) as db:
        return db.execute("SELECT count(*) FROM dashboard_results").fetchone()[0]


def test_a_second_download_reads_the_stored_fit(store: Store) -> None:  # noqa: F811
    first = _export(store, "outcome=orders")
    assert _stored(store) == 2  # quadrant and say × do kept
    assert _export(store, "outcome=orders") == first
    assert _stored(store) == 2


def test_an_unknown_score_is_a_problem_named(store: Store) -> None:  # noqa: F811
    with pytest.raises(Invalid) as caught:
        _export(store, "score=foo&outcome=orders")
    assert [p.field for p in caught.value.problems] == ["score"]
