"""Stored results of the drivers view (``dashboards.stored``) on real SQLite stores: a stored
section equals the fit of the same data and parameters, new data (one more answer, a snapshot
refresh) fits again and prunes the old, and ``cxloop dashboards warm`` and the serve clock's job
fit the default view ahead."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cxloop.api import Store, connect, import_records
from cxloop.config import Settings, get_settings
from cxloop.customers.models import Customer
from cxloop.dashboards import drivers as view
from cxloop.dashboards import stored
from cxloop.dashboards.freshness import refresh_snapshot
from cxloop.dashboards.schemas_drivers import DriversOutcomesResult, QuadrantSection
from cxloop.jobs import tick
from cxloop.metrics.filters import Scope, parse_scope
from tests.dashboards.test_drivers import _chinese_topics, _feedback
from tests.shared_build import copy_sqlite

FIT = {"n_boot": 20, "min_mentions": 5, "min_customers": 5, "outcome": "orders"}
"""Few resamples on a small store: both sections available in well under a second each."""


def _orders() -> list[dict[str, Any]]:
    """Orders of two customers in three, spread over the 240 days after the first answer."""
    return [
        {
            "order_id": f"o{i}",
            "customer_id": f"客户{i % 40}",
            "ordered_at": (dt.datetime(2026, 3, 1) + dt.timedelta(days=(i * 7) % 240)).isoformat(),
            "amount": 10 + (i * 13) % 90,
        }
        for i in range(200)
        if (i % 40) % 3
    ]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40 customers, 160 answers with Chinese topics, orders: built once, copied per test."""
    database = tmp_path_factory.mktemp("drivers-stored") / "cxloop.db"
    store = connect(settings=Settings(database_url=f"sqlite:///{database}"))
    try:
        customers = [{"customer_id": f"客户{i}", "segment": "会员"} for i in range(40)]
        assert import_records(store, "customers", customers).inserted == 40
        assert import_records(store, "feedback", _feedback(160)).inserted == 160
        assert import_records(store, "orders", _orders()).inserted > 100
    finally:
        store.close()
    _chinese_topics(database)
    return database


@pytest.fixture
def store(built: Path, tmp_path: Path) -> Iterator[Store]:
    target = tmp_path / "cxloop.db"
    copy_sqlite(built, target)
    opened = connect(settings=Settings(database_url=f"sqlite:///{target}"))
    yield opened
    opened.close()


def _view(store: Store, scope: Scope | None = None, **kw: Any) -> DriversOutcomesResult:
    """The view through a session (stored results read and kept), committed."""
    with store.sessions() as session:
        found = view.drivers_outcomes(
            settings=store.settings, scope=scope or Scope(), session=session, **(FIT | kw)
        )
        session.commit()
    return found


def _numbers(found: DriversOutcomesResult) -> dict[str, Any]:
    """Everything but when and how the sections were obtained."""
    assert found.quadrant is not None and found.say_do is not None
    return {
        "quadrant": found.quadrant.model_dump(exclude={"computed"}),
        "say_do": found.say_do.model_dump(exclude={"computed"}),
    }


def _rows(store: Store) -> list[tuple[str, str]]:
    path = store.settings.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        return db.execute(
            "SELECT view, data_version FROM dashboard_results ORDER BY view"
        ).fetchall()


def test_a_stored_section_equals_the_fit_and_is_read_the_second_time(store: Store) -> None:
    first = _view(store)
    assert first.quadrant is not None and first.quadrant.available
    assert first.say_do is not None and first.say_do.available and first.say_do.rows
    assert first.quadrant.computed is not None and not first.quadrant.computed.stored
    assert first.say_do.computed is not None and not first.say_do.computed.stored
    assert [v for v, _ in _rows(store)] == ["drivers.quadrant", "drivers.say_do"]

    second = _view(store)
    assert second.quadrant is not None and second.quadrant.computed is not None
    assert second.say_do is not None and second.say_do.computed is not None
    assert second.quadrant.computed.stored and second.say_do.computed.stored
    assert second.say_do.computed.computed_at == first.say_do.computed.computed_at
    assert second.say_do.computed.seconds == first.say_do.computed.seconds
    fresh = view.drivers_outcomes(settings=store.settings, scope=Scope(), **FIT)  # no session
    assert fresh.quadrant is not None and fresh.quadrant.computed is not None
    assert not fresh.quadrant.computed.stored
    assert _numbers(second) == _numbers(first) == _numbers(fresh)


def test_one_more_answer_moves_the_data_version_fits_again_and_prunes(store: Store) -> None:
    first = _view(store)
    assert first.quadrant is not None and first.quadrant.computed is not None
    old = first.quadrant.computed.data_version
    extra = _feedback(161)[-1] | {"feedback_id": "one-more", "nps": 0}
    assert import_records(store, "feedback", [extra]).inserted == 1

    again = _view(store)
    assert again.quadrant is not None and again.quadrant.computed is not None
    assert again.say_do is not None and again.say_do.computed is not None
    new = again.quadrant.computed.data_version
    assert new != old and not again.quadrant.computed.stored and not again.say_do.computed.stored
    assert again.quadrant.n == first.quadrant.n + 1
    assert {version for _, version in _rows(store)} == {new}  # the old version's rows pruned
    fresh = view.drivers_outcomes(settings=store.settings, scope=Scope(), **FIT)
    assert _numbers(again) == _numbers(fresh)


def test_parameters_are_keyed_as_normalised(store: Store) -> None:
    now = dt.datetime(2026, 12, 1)
    one = parse_scope("2026-03-01", None, None, ["segment=会员", "channel=survey"], now=now)
    other = parse_scope("2026-03-01", None, None, ["channel=survey", "segment=会员"], now=now)
    assert stored.params_key("v", stored.scope_params(one)) == stored.params_key(
        "v", stored.scope_params(other)
    )
    first = _view(store, one, part="quadrant")
    same = _view(store, other, part="quadrant")
    assert same.quadrant is not None and same.quadrant.computed is not None
    assert same.quadrant.computed.stored
    more = _view(store, other, part="quadrant", n_boot=25)
    assert more.quadrant is not None and more.quadrant.computed is not None
    assert not more.quadrant.computed.stored
    assert first.quadrant is not None and more.quadrant.n == first.quadrant.n


def test_a_stored_row_that_no_longer_parses_is_fitted_again(store: Store) -> None:
    _view(store, part="quadrant")
    path = store.settings.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        db.execute("UPDATE dashboard_results SET payload = '{\"rows\": 3}'")
    again = _view(store, part="quadrant")
    assert again.quadrant is not None and again.quadrant.available
    assert again.quadrant.computed is not None and not again.quadrant.computed.stored
    assert _view(store, part="quadrant").quadrant.computed.stored  # type: ignore[union-attr]


def test_a_fit_holds_no_write_lock_for_the_callers_pending_writes(store: Store) -> None:
    """A request's pending write (its token's last use) is not flushed before the fit: another
    writer is not locked out of the SQLite store for the seconds a fit takes."""
    path = store.settings.database_url.removeprefix("sqlite:///")
    writes = []

    def fit() -> Any:
        with sqlite3.connect(path, timeout=0) as other:  # fails at once if the lock were held
            other.execute("UPDATE customers SET segment = 'vip' WHERE customer_id = '客户2'")
        writes.append(1)
        return view.quadrant(settings=store.settings, scope=Scope(), score="nps",
                             min_mentions=5, n_boot=20)  # fmt: skip

    with store.sessions() as session:
        customer = session.get(Customer, "客户1")
        assert customer is not None
        customer.segment = "pending"  # in the session, not yet flushed
        version = stored.data_version(session, store.settings)
        found, done = stored.stored_or_computed(
            session, view="test.lock", params={}, version=version,
            model=QuadrantSection, compute=fit,
        )  # fmt: skip
        session.commit()
    assert writes == [1] and found.available and not done.stored


def test_with_the_snapshot_on_the_version_is_the_snapshots(store: Store, tmp_path: Path) -> None:
    settings = store.settings.model_copy(update={"analytics_snapshot_dir": tmp_path / "snap"})
    with store.sessions() as session:
        live = stored.data_version(session, store.settings)
        refresh_snapshot(settings)
        snapped = stored.data_version(session, settings)
        assert snapped != live
        extra = _feedback(161)[-1] | {"feedback_id": "one-more"}
        assert import_records(store, "feedback", [extra]).inserted == 1
        assert stored.data_version(session, settings) == snapped  # the fits read the snapshot
        assert stored.data_version(session, store.settings) != live
        refresh_snapshot(settings)
        assert stored.data_version(session, settings) != snapped


def test_cxloop_dashboards_warm_fits_the_default_view_once(store: Store) -> None:
    runner = CliRunner()
    from cxloop.cli.app import app

    env = {"CXLOOP_DATABASE_URL": store.settings.database_url}
    get_settings.cache_clear()
    try:
        first = runner.invoke(app, ["dashboards", "warm", "--outcome", "orders"], env=env)
        second = runner.invoke(app, ["dashboards", "warm", "--outcome", "orders"], env=env)
    finally:
        get_settings.cache_clear()
    assert first.exit_code == 0, first.output
    assert "quadrant nps: fitted and stored" in first.output
    assert "say × do orders: fitted and stored" in first.output
    assert "quadrant nps: stored already" in second.output
    assert "say × do orders: stored already" in second.output
    page = _view(store, n_boot=view.N_BOOT, min_mentions=view.MIN_MENTIONS, part="quadrant")
    assert page.quadrant is not None and page.quadrant.computed is not None
    assert page.quadrant.computed.stored  # the page's default view was the one warmed


def test_the_serve_clock_warms_only_under_serve(store: Store) -> None:
    job = ["dashboards.warm_results"]
    off = tick.run(store.settings, only=job)["dashboards.warm_results"]
    assert off.error is None and off.counts == {} and _rows(store) == []
    served = store.settings.model_copy(update={"background_jobs": True})
    on = tick.run(served, only=job)["dashboards.warm_results"]
    assert on.error is None and on.counts == {"fitted": 2, "stored_already": 0}, on.counts
    again = tick.run(served, only=job)["dashboards.warm_results"]
    assert again.counts == {"fitted": 0, "stored_already": 2}, again.counts


def test_an_empty_store_warms_nothing(tmp_path: Path) -> None:
    empty = connect(settings=Settings(database_url=f"sqlite:///{tmp_path / 'empty.db'}"))
    try:
        with empty.sessions() as session:
            assert view.warm(session=session, settings=empty.settings) == []
    finally:
        empty.close()


def test_on_the_snapshot_a_store_without_the_results_table_fits_without_keeping(
    store: Store, tmp_path: Path
) -> None:
    """The pages bench's 500 at 1,000,000 answers: its store was made before migration 0015, so
    the stored-results lookup failed (no such table) before any fit. Now the view fits and
    keeps nothing, with the snapshot on as with the store."""
    settings = store.settings.model_copy(update={"analytics_snapshot_dir": tmp_path / "snap"})
    refresh_snapshot(settings)
    path = store.settings.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE dashboard_results")
    with store.sessions() as session:
        found = view.drivers_outcomes(settings=settings, scope=Scope(), session=session, **FIT)
    assert found.freshness.source == "snapshot"
    assert found.quadrant is not None and found.quadrant.available
    assert found.quadrant.computed is not None and not found.quadrant.computed.stored
    assert found.quadrant.computed.data_version == ""
