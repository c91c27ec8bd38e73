"""Drivers, segments and funnels over a scope (``--since/--until/--last/--where``) on the demo
store: each scoped run sees exactly the answers, orders or events its scope names."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from cxloop import engines
from cxloop.config import Settings
from cxloop.errors import Invalid
from cxloop.insights import analyses, profiles
from cxloop.insights.funnels import funnel
from cxloop.metrics.filters import Scope, parse_scope
from tests.cli.support import run_cxloop

pytestmark = pytest.mark.filterwarnings("ignore:The 'future.infer_string' option is deprecated")
NOW = dt.datetime(2026, 12, 6)
STEPS = ["page_view", "add_to_cart", "checkout"]


def _frame(settings: Settings, sql: str) -> pd.DataFrame:
    backend = engines.store_backend(settings)
    try:
        return backend.sql(sql).to_pandas()
    finally:
        backend.disconnect()


def test_drivers_use_only_the_answers_in_scope(demo_store: Settings) -> None:
    scope = parse_scope(since="2026-05", where=["segment=REGULAR"], now=NOW)
    scoped = analyses.drivers(settings=demo_store, n_boot=0, min_mentions=10, scope=scope)
    expected = _frame(
        demo_store,
        "SELECT COUNT(*) AS n FROM feedback f JOIN customers c USING (customer_id) "
        "JOIN feedback_text t USING (feedback_id) WHERE f.nps IS NOT NULL "
        "AND c.segment = 'regular' AND f.created_at >= '2026-05-01'",
    )["n"].iloc[0]
    everyone = analyses.drivers(settings=demo_store, n_boot=0, min_mentions=10)
    assert scoped.n == expected < everyone.n
    assert scoped.details["scope"] == "2026-05-01 … now, segment=REGULAR"


def test_rfm_counts_only_orders_in_the_window_of_customers_in_the_segment(
    demo_store: Settings,
) -> None:
    scope = parse_scope(since="2026-07", where=["segment=vip"], now=NOW)
    result = analyses.segments(settings=demo_store, scope=scope)
    backend = engines.store_backend(demo_store)
    try:
        orders = profiles.counted_orders(backend).to_pandas()
        customers = profiles.customer_attributes(backend)
    finally:
        backend.disconnect()
    vip = set(customers.loc[customers["segment"] == "vip", "customer_id"])
    recent = orders[(orders["ordered_at"] >= "2026-07-01") & orders["customer_id"].isin(vip)]
    assert result.n == recent["customer_id"].nunique() > 0
    assert result.n < analyses.segments(settings=demo_store).n


def test_lifecycle_keeps_only_the_region_and_until_sets_the_as_of(demo_store: Settings) -> None:
    scope = parse_scope(until="2026-06-30", where=["region=上海"], now=NOW)
    result = analyses.segments(settings=demo_store, method="lifecycle", scope=scope)
    assert result.details["as_of"] == "2026-07-01T00:00:00"
    everyone = analyses.segments(
        settings=demo_store, method="lifecycle", as_of=dt.datetime(2026, 7, 1)
    )
    assert 0 < result.n < everyone.n


def test_funnel_counts_events_in_the_window_of_customers_in_the_segment(
    demo_store: Settings,
) -> None:
    scope = parse_scope(until="2026-10-31", last="3m", where=["segment=vip"], now=NOW)
    result = analyses.funnel(settings=demo_store, steps=STEPS, scope=scope)
    backend = engines.store_backend(demo_store)
    try:
        events = backend.table("events").to_pandas()
        customers = profiles.customer_attributes(backend)
    finally:
        backend.disconnect()
    vip = set(customers.loc[customers["segment"] == "vip", "customer_id"])
    inside = events[
        (events["occurred_at"] >= "2026-08-01")
        & (events["occurred_at"] < "2026-11-01")
        & events["customer_id"].isin(vip)
    ]
    assert result.n == funnel(inside, steps=STEPS).n > 0
    assert result.n < analyses.funnel(settings=demo_store, steps=STEPS).n


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (
            lambda s: analyses.funnel(settings=s, steps=STEPS, scope=_scope(["channel=app"])),
            "where.channel",
        ),
        (
            lambda s: analyses.segments(
                settings=s, method="lifecycle", scope=_scope(since="2026-01")
            ),
            "since",
        ),
        (lambda s: analyses.drivers(settings=s, scope=_scope(["segment=vipp"])), "where.segment"),
        (lambda s: analyses.segments(settings=s, scope=_scope(since="2030-01")), "scope"),
    ],
)
def test_scopes_an_analysis_cannot_use_are_refused_by_name(
    demo_store: Settings, call: object, field: str
) -> None:
    with pytest.raises(Invalid) as error:
        call(demo_store)  # type: ignore[operator]
    assert error.value.problems[0].field == field


def _scope(where: list[str] | None = None, since: str | None = None) -> Scope:
    return parse_scope(since=since, where=where or [], now=NOW)


def test_cli_insights_take_the_filters_and_refuse_in_a_sentence(
    demo_store: Settings, tmp_path: Path
) -> None:
    env = {"CXLOOP_DATABASE_URL": demo_store.database_url}
    done = run_cxloop(
        tmp_path, "insights", "funnel", "--steps", ",".join(STEPS), "--where", "segment=vip",
        "--since", "2026-Q3", "--until", "2026-Q3", "--format", "json", env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert '"scope": "2026-07-01 … 2026-09-30, segment=vip"' in done.stdout
    bad = run_cxloop(tmp_path, "insights", "drivers", "--where", "segment", "--last", "2x", env=env)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "last: '2x' is not a length" in bad.stderr
    assert "where: 'segment' is not field=value" in bad.stderr
    dollars = run_cxloop(
        tmp_path, "insights", "segments", "--where", "segment=vip",
        env={**env, "CXLOOP_CURRENCY": "USD", "COLUMNS": "200"},
    )  # fmt: skip
    assert dollars.returncode == 0, dollars.stderr
    champions = next(line for line in dollars.stdout.splitlines() if "Champions" in line)
    assert "$" in champions and "¥" not in champions  # monetary in the store's currency
