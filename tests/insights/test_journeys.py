"""Lifecycle stages, top paths between two events, and cohort retention (pandas, DuckDB and
SQLite alike)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import pytest

from cxloop import engines
from cxloop.errors import Invalid
from cxloop.insights.journeys import (
    LifecycleRules,
    cohort_retention,
    lifecycle,
    retention_triangle,
    top_paths,
)

EVENTS_FILE = (
    Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "synthetic_ecom_events.csv.gz"
)


AS_OF = pd.Timestamp("2024-07-01")


def _days_ago(days: int) -> pd.Timestamp:
    return AS_OF - pd.Timedelta(days=days)


def test_lifecycle_stage_at_every_rule_boundary() -> None:
    old = _days_ago(1000)
    cases = [
        # (customer, first active, last active, churn flag, ended_at, expected stage)
        ("new_edge", _days_ago(30), _days_ago(30), False, None, "new"),
        ("past_new", _days_ago(31), _days_ago(0), False, None, "active"),
        ("active_edge", old, _days_ago(60), False, None, "active"),
        ("risk_start", old, _days_ago(61), False, None, "at risk"),
        ("risk_edge", old, _days_ago(120), False, None, "at risk"),
        ("lapsed_start", old, _days_ago(121), False, None, "lapsed"),
        ("lapsed_edge", old, _days_ago(365), False, None, "lapsed"),
        ("gone", old, _days_ago(366), False, None, "churned"),
        ("flagged", _days_ago(5), _days_ago(1), True, None, "churned"),
        ("ended", old, _days_ago(1), False, _days_ago(0), "churned"),
        ("ends_later", old, _days_ago(1), False, AS_OF + pd.Timedelta(days=3), "active"),
    ]
    table = pd.DataFrame(
        cases,
        columns=["customer_id", "first_active_at", "last_active_at", "churned", "ended_at", "x"],
    )
    result = lifecycle(table.drop(columns="x"), as_of=AS_OF)
    assert result["stage"].astype(str).tolist() == table["x"].tolist()
    assert result.set_index("customer_id").loc["flagged", "reason"] == "churn flag"
    assert result.attrs["n"] == len(cases) and "first match wins" in result.attrs["method"]


def test_lifecycle_thresholds_are_configurable() -> None:
    table = pd.DataFrame(
        {
            "customer_id": ["x"],
            "first_active_at": [_days_ago(400)],
            "last_active_at": [_days_ago(8)],
        }
    )
    strict = LifecycleRules(new_days=0, active_days=7, at_risk_days=14, lapsed_days=28)
    assert lifecycle(table, as_of=AS_OF, rules=strict)["stage"].tolist() == ["at risk"]
    assert lifecycle(table, as_of=AS_OF)["stage"].tolist() == ["active"]


def test_lifecycle_bad_rules_and_dates_are_invalid() -> None:
    with pytest.raises(Invalid) as caught:
        LifecycleRules(active_days=200)
    assert caught.value.problems[0].field == "rules"
    with pytest.raises(Invalid) as caught:
        LifecycleRules(new_days=-1)
    assert caught.value.problems[0].field == "new_days"
    table = pd.DataFrame(
        {"customer_id": ["x"], "first_active_at": ["yesterday"], "last_active_at": ["2024-06-01"]}
    )
    with pytest.raises(Invalid) as caught:
        lifecycle(table, as_of=AS_OF)
    problem = caught.value.problems[0]
    assert (problem.field, problem.value) == ("first_active_at", "yesterday")
    future = table.assign(first_active_at="2024-05-01", last_active_at="2024-08-01")
    with pytest.raises(Invalid, match="after as_of"):
        lifecycle(future, as_of=AS_OF)


def _log(user: str, events: str, session: str = "s1", start: str = "2024-01-01") -> pd.DataFrame:
    names = events.split()
    return pd.DataFrame(
        {
            "customer_id": user,
            "session_id": session,
            "event_type": names,
            "occurred_at": pd.date_range(start, periods=len(names), freq="min"),
        }
    )


def test_a_repeated_start_reopens_the_path_and_repeats_collapse() -> None:
    log = pd.concat(
        [
            _log("a", "home search home cart cart buy"),
            _log("b", "home view view buy"),
            _log("c", "home view buy"),
        ]
    )
    table = top_paths(log, start="home", end="buy")
    assert table[["path", "steps", "n"]].values.tolist() == [
        ["home → view → buy", 3, 2],
        ["home → cart → buy", 3, 1],
    ]
    assert table["share"].tolist() == pytest.approx([2 / 3, 1 / 3])
    assert table.attrs["n"] == 3 and table.attrs["n_starts"] == 4
    raw = top_paths(log, start="home", end="buy", collapse_repeats=False)
    assert "home → view → view → buy" in set(raw["path"])


def test_paths_stop_at_max_steps_sessions_and_window() -> None:
    long_walk = _log("a", "home a b c d e buy")
    assert top_paths(long_walk, start="home", end="buy", max_steps=6).empty
    assert top_paths(long_walk, start="home", end="buy", max_steps=7)["n"].tolist() == [1]
    split = pd.concat([_log("a", "home view"), _log("a", "buy", session="s2", start="2024-01-02")])
    assert top_paths(split, start="home", end="buy", session_col="session_id").empty
    assert top_paths(split, start="home", end="buy")["n"].tolist() == [1]  # per user, 1 day
    assert top_paths(split, start="home", end="buy", window="1h").empty


def test_path_arguments_are_checked() -> None:
    log = _log("a", "home buy")
    with pytest.raises(Invalid) as caught:
        top_paths(log, start="home", end="home", max_steps=1, top=0)
    assert {p.field for p in caught.value.problems} == {"end", "max_steps", "top"}
    with pytest.raises(Invalid) as caught:
        top_paths(log, start="home", end="buy", session_col="visit")
    assert caught.value.problems[0].field == "visit"


def _activity() -> pd.DataFrame:
    rows = [
        ("a", "2024-01-05"),
        ("a", "2024-01-06"),
        ("a", "2024-02-10"),
        ("b", "2024-01-20"),
        ("b", "2024-03-03"),
        ("c", "2024-02-11"),
        ("c", "2024-03-30"),
        ("d", "2024-03-01"),
    ]
    return pd.DataFrame(rows, columns=["customer_id", "occurred_at"]).assign(
        occurred_at=lambda frame: pd.to_datetime(frame["occurred_at"])
    )


def test_retention_by_first_month_counts_users_and_fills_empty_periods() -> None:
    table = cohort_retention(_activity())
    assert table[["period_index", "cohort_size", "n"]].values.tolist() == [
        [0, 2, 2],  # January: a, b
        [1, 2, 1],  # a in February
        [2, 2, 1],  # b in March
        [0, 1, 1],  # February: c
        [1, 1, 1],
        [0, 1, 1],  # March: d
    ]
    assert table["cohort"].tolist() == [
        pd.Timestamp(m) for m in ["2024-01-01"] * 3 + ["2024-02-01"] * 2 + ["2024-03-01"]
    ]
    triangle = retention_triangle(table)
    assert triangle.shape == (3, 3) and np.isnan(triangle.iloc[2, 1])
    assert triangle.iloc[0].tolist() == [1.0, 0.5, 0.5]
    assert table.attrs["n"] == 4


def test_given_acquisition_sets_the_cohort_and_drops_earlier_activity() -> None:
    acquired = pd.DataFrame(
        {"customer_id": ["a", "b"], "acquired_at": ["2024-02-01", "2024-01-01"]}
    )
    table = cohort_retention(_activity(), acquisition=acquired)
    january = table[table["cohort"] == pd.Timestamp("2024-01-01")]
    assert january["n"].tolist() == [1, 0, 1]  # b only
    february = table[table["cohort"] == pd.Timestamp("2024-02-01")]
    assert february[["cohort_size", "n"]].values.tolist() == [[2, 2], [2, 1]]  # a and c
    assert any("before acquisition were left out" in caveat for caveat in table.attrs["caveats"])


def test_weeks_start_on_monday() -> None:
    table = cohort_retention(_activity(), period="week")
    # 2024-01-05 is a Friday: its week starts Monday 2024-01-01
    assert table["cohort"].iloc[0] == pd.Timestamp("2024-01-01")


@pytest.mark.parametrize("period", ["day", "week", "month", "quarter"])
def test_retention_is_the_same_on_duckdb_and_sqlite_as_in_pandas(
    period: str, tmp_path: Path
) -> None:
    activity = _activity()
    expected = cohort_retention(activity, period=period)
    activity.to_parquet(tmp_path / "events.parquet")
    duckdb = engines.duckdb_backend(tmp_path)
    sqlite = ibis.sqlite.connect()
    try:
        sqlite.raw_sql("CREATE TABLE events (customer_id TEXT, occurred_at TIMESTAMP)")
        sqlite.con.executemany(
            "INSERT INTO events VALUES (?, ?)",
            [(c, t.isoformat(sep=" ")) for c, t in activity.itertuples(index=False)],
        )
        for backend in (duckdb, sqlite):
            result = cohort_retention(backend.table("events"), period=period)
            pd.testing.assert_frame_equal(result, expected)
            assert "on the engine" in result.attrs["method"]
    finally:
        duckdb.disconnect()
        sqlite.disconnect()


def test_bad_retention_input_is_invalid() -> None:
    with pytest.raises(Invalid) as caught:
        cohort_retention(_activity(), period="fortnight")
    assert (caught.value.problems[0].field, caught.value.problems[0].value) == (
        "period",
        "fortnight",
    )
    with pytest.raises(Invalid) as caught:
        cohort_retention(_activity(), time_col="when")
    assert caught.value.problems[0].field == "when"
    with pytest.raises(Invalid, match="retention table"):
        retention_triangle(pd.DataFrame({"cohort": [dt.date(2024, 1, 1)]}))


@pytest.fixture(scope="module")
def ecom() -> pd.DataFrame:
    if not EVENTS_FILE.exists():
        pytest.skip(f"synthetic e-commerce events not found at {EVENTS_FILE} (shared/data)")
    return pd.read_csv(EVENTS_FILE, parse_dates=["timestamp"])


BUG_START, BUG_END = pd.Timestamp("2024-04-09"), pd.Timestamp("2024-05-10")  # Apr 9 – May 9


def test_checkout_bug_loop_is_a_frequent_path_more_so_in_the_bug_window(
    ecom: pd.DataFrame,
) -> None:
    in_window = ecom["timestamp"].between(BUG_START, BUG_END, inclusive="left")
    loop = "shipping_details → add_to_cart"
    options = {
        "start": "shipping_details",
        "end": "add_to_cart",
        "max_steps": 4,
        "user_col": "user_id",
        "event_col": "event",
        "time_col": "timestamp",
        "session_col": "session_id",
    }
    inside = top_paths(ecom[in_window], **options)
    outside = top_paths(ecom[~in_window], **options)
    assert inside["path"].iloc[0] == loop  # the most frequent path in the window
    days_inside = (BUG_END - BUG_START).days
    days_outside = (ecom["timestamp"].max() - ecom["timestamp"].min()).days + 1 - days_inside
    per_day_inside = inside.set_index("path").loc[loop, "n"] / days_inside
    per_day_outside = outside.set_index("path").loc[loop, "n"] / days_outside
    assert per_day_inside > 1.5 * per_day_outside


def test_monthly_retention_triangle_of_the_ecom_events(ecom: pd.DataFrame) -> None:
    table = cohort_retention(ecom, user_col="user_id", time_col="timestamp")
    triangle = retention_triangle(table)
    assert (triangle[0] == 1.0).all()
    assert table.groupby("cohort")["cohort_size"].first().sum() == ecom["user_id"].nunique()
    # a triangle: each later cohort has one period fewer
    observed = triangle.notna().sum(axis=1).tolist()
    assert observed == list(range(len(observed), 0, -1))
    # 1e-12: metrics.intervals.wilson_interval gives 1 − 1e-16 as the bound at k = n (n=124)
    inside = (table["ci_low"] <= table["retention"]) & (
        table["retention"] <= table["ci_high"] + 1e-12
    )
    assert inside.all()
