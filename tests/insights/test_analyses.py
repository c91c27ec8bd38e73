"""Every insight on the demo store, through the same calls the CLI and the API make: the
planted patterns come out, the numbers hang together, bad requests are refused by name."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select

from cxloop.api import connect
from cxloop.config import Settings
from cxloop.demo.generator import SUPPORT_CHURN
from cxloop.errors import Invalid
from cxloop.insights import analyses, voice_reports
from cxloop.insights import service as insights_service
from cxloop.insights.models import ChurnScore
from cxloop.insights.schemas import InsightReport
from tests.cli.support import run_cxloop
from tests.insights.test_outcomes import NULL_TOPICS
from tests.web.support import build_api


def _table(report: InsightReport) -> pd.DataFrame:
    return pd.DataFrame(report.rows, columns=report.columns)


def test_negative_delivery_is_the_first_driver_of_nps(demo_store: Settings) -> None:
    """Planted: NPS is lowest at the delivery touchpoint, where the complaints are about it."""
    result = analyses.drivers(settings=demo_store, n_boot=50)
    table = _table(result)
    assert table["driver"].iloc[0] == "negative delivery" and table["rank"].iloc[0] == 1
    assert (table["ci_low"] <= table["importance"]).all()
    assert (table["importance"] <= table["ci_high"]).all()
    assert table["share"].sum() == pytest.approx(1.0)
    assert result.n > 1000 and "Shapley" in result.method
    assert set(table["quadrant"]) <= {"fix first", "keep", "monitor", "low priority"}


def test_outcomes_on_the_store_recover_the_planted_churn_effect(demo_store: Settings) -> None:
    result = voice_reports.outcomes(settings=demo_store, outcome="churn", n_boot=100)
    table = _table(result).set_index("exposure")
    slow = table.loc["service/responsiveness negative"]  # a complaint: the topic said negatively
    planted = SUPPORT_CHURN[0] - SUPPORT_CHURN[1]
    assert slow["ci_low"] < planted < slow["ci_high"] and slow["significant"]
    nulls = [f"{t} negative" for t in NULL_TOPICS if f"{t} negative" in table.index]
    assert nulls and not table.loc[nulls, "significant"].any()
    assert slow["exposure_kind"] == "complaint" and "praise" in set(table["exposure_kind"])
    assert result.details["confounders"] == [
        "segment",
        "followup_days",
        "orders_before",
        "tenure_days",
        "plan",
    ]
    assert any("not proof of causation" in c for c in result.caveats)


def test_detractors_order_less_afterwards_on_the_store(demo_store: Settings) -> None:
    result = voice_reports.outcomes(settings=demo_store, outcome="orders", n_boot=50)
    row = _table(result).set_index("exposure").loc["detractor vs promoter"]
    assert row["ci_high"] < 0 and row["significant"]


def test_unknown_confounders_and_outcomes_are_named(demo_store: Settings) -> None:
    with pytest.raises(Invalid) as caught:
        voice_reports.outcomes(settings=demo_store, confounders=["segment", "shoe_size"], n_boot=20)
    assert caught.value.problems[0].field == "confounders"
    assert caught.value.problems[0].value == ["shoe_size"]
    with pytest.raises(Invalid, match="churn, repurchase, orders, spend"):
        voice_reports.outcomes(settings=demo_store, outcome="happiness")


def test_churners_said_slow_support_before_leaving(demo_store: Settings) -> None:
    table = _table(voice_reports.churner_topics(settings=demo_store)).set_index("topic")
    row = table.loc["service/responsiveness negative"]
    assert row["share_churned"] > 2 * row["share_stayed"] and row["significant"]


def test_decision_makers_at_accounts_that_churned_scored_lower(demo_store: Settings) -> None:
    """Planted (``b2b_churn_nps``): decision makers at accounts whose contract then ended
    without renewal gave NPS about 3–4 points lower than at accounts that renewed."""
    result = voice_reports.account_churn_voice(settings=demo_store)
    details = result.details
    assert details["ci_high"] < 0 and details["p_value"] < 0.01
    assert details["ci_low"] < -3 and details["ci_high"] > -4  # overlaps the planted 3–4
    groups = _table(result).set_index("group")
    assert groups.loc["churned", "accounts"] > 0 and groups.loc["renewed", "accounts"] > 0
    assert groups["accounts"].sum() == result.n


def test_clv_ranks_customers_by_value_with_fitted_parameters(demo_store: Settings) -> None:
    result = analyses.clv(settings=demo_store, top=10)
    table = _table(result)
    assert len(table) == 10 and table["clv"].is_monotonic_decreasing
    assert set(result.details["params"]) == {"r", "alpha", "a", "b", "p", "q", "v"}
    assert all(v > 0 for v in result.details["params"].values())
    assert result.details["total_clv"] >= table["clv"].sum()
    assert ((table["p_alive"] >= 0) & (table["p_alive"] <= 1)).all()


@pytest.mark.parametrize("method", ["rfm", "clusters", "lifecycle"])
def test_segments_cover_every_customer_once(demo_store: Settings, method: str) -> None:
    result = analyses.segments(settings=demo_store, method=method)
    table = _table(result)
    assert table["n"].sum() == result.n > 0
    if method == "clusters":
        assert 2 <= result.details["k"] <= 8
        assert table["description"].str.len().min() > 0
    if method == "lifecycle":
        assert set(table["stage"]) <= {"new", "active", "at risk", "lapsed", "churned"}
        # looking back: customers who signed up or first bought later have no stage yet
        earlier = analyses.segments(
            settings=demo_store, method=method, as_of=dt.datetime(2026, 1, 15)
        )
        assert 0 < earlier.n < result.n


def test_funnel_paths_and_cohorts_over_stored_events(demo_store: Settings) -> None:
    steps = ["page_view", "add_to_cart", "checkout"]
    funnel = _table(analyses.funnel(settings=demo_store, steps=steps, by="segment"))
    for _, part in funnel.groupby("segment"):
        assert part.sort_values("step_order")["n"].is_monotonic_decreasing
    paths = _table(analyses.paths(settings=demo_store, start="page_view", end="checkout"))
    assert paths["path"].iloc[0].startswith("page_view") and paths["n"].iloc[0] > 0
    cohorts = _table(analyses.cohorts(settings=demo_store, period="month"))
    assert (cohorts.loc[cohorts["period_index"] == 0, "retention"] == 1.0).all()
    with pytest.raises(Invalid, match="at least two steps"):
        analyses.funnel(settings=demo_store, steps=["page_view"])
    with pytest.raises(Invalid, match="segment, region"):
        analyses.funnel(settings=demo_store, steps=steps, by="email")


def test_rules_over_topics_and_orders(demo_store: Settings) -> None:
    for baskets in ("topics", "orders"):
        table = _table(analyses.rules(settings=demo_store, baskets=baskets))
        assert not table.empty and (table["lift"] >= 1).all()
        assert ((table["confidence"] > 0) & (table["confidence"] <= 1)).all()


def test_churn_scores_are_stored_once_per_member_and_model(demo_store: Settings) -> None:
    store = connect(settings=demo_store)
    as_of = dt.datetime(2026, 10, 1)
    try:
        with store.sessions.begin() as session:
            run = insights_service.score_churn(
                session=session,
                settings=demo_store,
                as_of=as_of,
                evaluate=False,
                accept_weak_model=True,
            )
        with store.sessions.begin() as session:
            again = insights_service.score_churn(
                session=session,
                settings=demo_store,
                as_of=as_of,
                evaluate=False,
                accept_weak_model=True,
            )
        with store.sessions() as session:
            stored = session.scalar(
                select(func.count()).where(ChurnScore.model_version == run.model_version)
            )
            reasons = session.scalars(select(ChurnScore.reasons)).first()
    finally:
        store.close()
    assert again.model_version == run.model_version and stored == run.scored > 500
    assert run.trained_on > 500 and 0 < run.churn_rate < 0.5
    assert isinstance(reasons, list)
    risks = insights_service.churn_risks(settings=demo_store, top=5)
    table = _table(risks)
    assert risks.n == run.scored and table["probability"].is_monotonic_decreasing
    assert ((table["probability"] > 0) & (table["probability"] < 1)).all()


def test_cli_prints_json_and_refuses_bad_options(demo_store: Settings, tmp_path: Path) -> None:
    env = {"CXLOOP_DATABASE_URL": demo_store.database_url}
    done = run_cxloop(tmp_path, "insights", "drivers", "--boot", "20", "--format", "json", env=env)
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert body["analysis"] == "drivers" and body["rows"][0]["driver"] == "negative delivery"
    table = run_cxloop(tmp_path, "insights", "segments", "--method", "lifecycle", env=env)
    assert table.returncode == 0 and "method:" in table.stdout and "active" in table.stdout
    refused = run_cxloop(tmp_path, "insights", "segments", "--method", "astrology", env=env)
    assert refused.returncode == 2
    assert "method" in refused.stderr and "astrology" in refused.stderr
    missing = tmp_path / "typo.db"
    nowhere = run_cxloop(
        tmp_path, "insights", "clv", env={"CXLOOP_DATABASE_URL": f"sqlite:///{missing}"}
    )
    assert nowhere.returncode == 2 and "no cxloop store" in nowhere.stderr
    assert not missing.exists()  # a mistyped URL never leaves an empty store behind
    ab = tmp_path / "ab.csv"
    pd.DataFrame(
        {"variant": ["control"] * 200 + ["new"] * 200, "bought": [0, 1] * 100 + [1, 1, 1, 0] * 50}
    ).to_csv(ab, index=False)
    read = run_cxloop(
        tmp_path, "insights", "abtest", str(ab), "--variant", "variant", "--metric", "share:bought"
    )
    assert read.returncode == 0, read.stderr
    assert "new" in read.stdout and "0.25" in read.stdout  # 0.75 − 0.50


def test_api_serves_the_same_reports(demo_store: Settings, tmp_path: Path) -> None:
    database = Path(demo_store.database_url.removeprefix("sqlite:///"))
    app = build_api(database, seed=False)
    response = app.client.get("/api/v1/insights/drivers?n_boot=20", headers=app.auth("viewer"))
    assert response.status_code == 200, response.text
    assert response.json()["rows"][0]["driver"] == "negative delivery"
    funnel = app.client.get(
        "/api/v1/insights/funnel?steps=page_view&steps=checkout&by=segment",
        headers=app.auth("viewer"),
    )
    assert funnel.status_code == 200 and funnel.json()["analysis"] == "funnel"
    bad = app.client.get("/api/v1/insights/segments?method=astrology", headers=app.auth("viewer"))
    assert bad.status_code == 422 and "method" in bad.text
