"""The drivers download reads the fits the page and API stored (no refit per file) and names an
unknown choice as a problem, not a crash."""

from __future__ import annotations

import json
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


def test_an_unknown_choice_is_a_problem_named(store: Store) -> None:  # noqa: F811
    with pytest.raises(Invalid) as caught:
        _export(store, "score=foo&outcome=orders&n_boot=99999999")
    assert [p.field for p in caught.value.problems] == ["score", "n_boot"]


def test_the_fit_parameters_of_the_api_url_are_used(store: Store) -> None:  # noqa: F811
    _export(store, "outcome=orders&n_boot=20&min_mentions=5&min_customers=5&part=quadrant")
    database = store.settings.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(database) as db:
        (params,) = db.execute("SELECT params FROM dashboard_results").fetchone()
    assert json.loads(params)["n_boot"] == 20  # the API's parameters, not the defaults
