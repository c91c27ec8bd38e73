"""Voice × behaviour effects: recover what the demo planted, find nothing where it planted
nothing, and remove a planted confounder's bias on synthetic data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import ibis
import numpy as np
import pandas as pd
import pytest

from cxloop import engines
from cxloop.config import Settings
from cxloop.demo.generator import AFTER_SURVEY, SUPPORT_CHURN, DemoConfig
from cxloop.errors import Invalid
from cxloop.insights.frames import (
    Exposure,
    churn_outcome,
    customer_voice_frame,
    order_outcome,
    with_customers,
)
from cxloop.insights.outcomes import EFFECT_COLUMNS, churner_topics, outcome_effects

END = dt.datetime.combine(
    DemoConfig().start + dt.timedelta(days=DemoConfig().days), dt.time()
) - dt.timedelta(hours=8)  # the demo's last China-local midnight, in the store's UTC
NULL_TOPICS = (
    "delivery/speed",
    "packaging",
    "price/level",
    "quality/product",
    "returns",
    "app/usability",
    "payment/charges",
)
"""Topics the generator draws without regard to membership churn: in ``demo.generator`` only
``_slow`` (slow support, said as a support complaint) sets the cancellation chance; these topics
are drawn from touchpoint and polarity pools for every customer alike."""
EXPOSURES = [
    Exposure("support_slow", topic="service/responsiveness", sentiment="negative"),
    Exposure("detractor_vs_promoter", nps_group="detractor", versus="promoter"),
    *[Exposure(topic, topic=topic, sentiment="negative") for topic in NULL_TOPICS],
]


@pytest.fixture(scope="module")
def demo(demo_store: Settings) -> Iterator[ibis.BaseBackend]:
    """The session's demo company (``conftest.demo_store``) through an Ibis connection."""
    backend = engines.store_backend(demo_store)
    yield backend
    backend.disconnect()


def _with_orders(demo: ibis.BaseBackend) -> ibis.Table:
    """Voice frame + customers + orders in the 90 days after each anchor (not run yet)."""
    frame = customer_voice_frame(
        demo.table("feedback"),
        exposures=EXPOSURES,
        feedback_topic=demo.table("feedback_topic"),
        end=END,
    )
    frame = with_customers(frame, demo.table("customers"))
    return order_outcome(frame, demo.table("orders"), observed_until=END, window_days=90)


@pytest.fixture(scope="module")
def orders_frame(demo: ibis.BaseBackend) -> pd.DataFrame:
    return _with_orders(demo).execute()


@pytest.fixture(scope="module")
def churn_frame(demo: ibis.BaseBackend) -> pd.DataFrame:
    frame = _with_orders(demo)
    return churn_outcome(frame, demo.table("subscriptions"), observed_until=END).execute()


CHURN_CONFOUNDERS = ["segment", "followup_days", "orders_before", "tenure_days", "plan"]


def test_slow_support_complainers_churn_by_the_planted_risk_difference(
    churn_frame: pd.DataFrame,
) -> None:
    """Planted: 45 % vs 15 % cancel (risk difference 0.30); adjusted for follow-up time, since
    the unexposed are anchored at their first feedback and so watched longer."""
    result = outcome_effects(
        churn_frame,
        exposures=["support_slow"],
        outcome="churned",
        confounders=CHURN_CONFOUNDERS,
        value_col="plan_amount",
        random_state=1,
    )
    row = result.table.iloc[0]
    planted = SUPPORT_CHURN[0] - SUPPORT_CHURN[1]
    assert row.ci_low < planted < row.ci_high
    assert row.estimate > 0 and row.ratio > 1 and row.q_value < 0.001
    assert row.n_exposed >= 100 and row.value_at_stake > 0
    assert "not proof of causation" in result.caveats[0] and "g-computation" in result.method


def test_detractors_order_at_the_planted_fraction_of_promoters_rate(
    orders_frame: pd.DataFrame,
) -> None:
    """Planted: after the survey detractors order at 0.3x, promoters at 1.4x their usual rate;
    adjusted for segment and prior orders, the ratio of mean orders in 90 days is 0.3 / 1.4."""
    for method in ("regression", "ipw"):
        result = outcome_effects(
            orders_frame,
            exposures=["detractor_vs_promoter"],
            outcome="orders_after",
            kind="count",
            confounders=["segment", "orders_before", "tenure_days"],
            method=method,
            random_state=2,
        )
        row = result.table.iloc[0]
        planted = AFTER_SURVEY[0] / AFTER_SURVEY[2]
        assert row.ratio_ci_low < planted < row.ratio_ci_high, method
        assert row.estimate < 0 and row.ci_high < 0 and row.significant


def test_topics_planted_without_effect_are_not_significant(churn_frame: pd.DataFrame) -> None:
    result = outcome_effects(
        churn_frame,
        exposures=["support_slow", *NULL_TOPICS],
        outcome="churned",
        confounders=CHURN_CONFOUNDERS,
        random_state=3,
    )
    table = result.table.set_index("exposure")
    assert table.loc["support_slow", "significant"]
    assert not table.loc[list(NULL_TOPICS), "significant"].any()
    assert list(result.table.columns) == list(EFFECT_COLUMNS)


def test_churners_said_slow_support_more_often_than_those_who_stayed(
    churn_frame: pd.DataFrame,
) -> None:
    result = churner_topics(churn_frame, ["support_slow", *NULL_TOPICS])
    table = result.table.set_index("topic")
    assert (
        table.loc["support_slow", "share_churned"] > 2 * table.loc["support_slow", "share_stayed"]
    )
    assert table.loc["support_slow", "significant"]
    assert table["n"].min() > 500 and "not what made them leave" in result.caveats[0]


# --- synthetic: a planted confounder ---------------------------------------------------------


def _confounded(n: int, seed: int) -> pd.DataFrame:
    """VIPs complain less and churn less; complaining adds 0.10 to everyone's churn risk."""
    rng = np.random.default_rng(seed)
    vip = rng.random(n) < 0.4
    exposed = rng.random(n) < np.where(vip, 0.1, 0.5)
    risk = np.where(vip, 0.05, 0.30) + 0.10 * exposed
    orders = rng.poisson(np.where(vip, 8.0, 2.0) + 1.5 * exposed)
    return pd.DataFrame(
        {
            "exposure": "complained",
            "exposed": exposed,
            "churned": (rng.random(n) < risk).astype(int),
            "orders_after": orders,
            "segment": np.where(vip, "vip", "regular"),
        }
    )


@pytest.mark.parametrize("method", ["regression", "ipw"])
def test_adjustment_removes_a_planted_confounders_bias(method: str) -> None:
    frame = _confounded(6000, seed=11)
    result = outcome_effects(
        frame, outcome="churned", confounders=["segment"], method=method, random_state=4
    )
    row = result.table.iloc[0]
    assert not row.crude_ci_low < 0.10 < row.crude_ci_high  # crude is biased
    assert row.crude > 0.15
    assert row.ci_low < 0.10 < row.ci_high


def test_adjustment_recovers_a_count_effect_under_confounding() -> None:
    frame = _confounded(6000, seed=12)
    result = outcome_effects(
        frame, outcome="orders_after", kind="count", confounders=["segment"], random_state=5
    )
    row = result.table.iloc[0]
    assert row.crude < 0  # exposed are mostly regulars, who order less
    assert row.ci_low < 1.5 < row.ci_high


def test_small_arms_and_extreme_propensities_are_named_in_caveats() -> None:
    frame = _confounded(400, seed=13)
    few = frame.assign(exposed=frame.index < 12)
    result = outcome_effects(few, outcome="churned", confounders=["segment"], n_boot=30)
    assert "small n: 12 exposed" in result.table.iloc[0].caveats
    # an arm this small can be empty in a plain bootstrap replicate; resampled within each
    # arm it never is, whatever the outcome kind or method
    for kind, outcome in (("binary", "churned"), ("count", "orders_after")):
        for method in ("regression", "ipw"):
            row = outcome_effects(
                few, outcome=outcome, kind=kind, confounders=["segment"], method=method
            ).table.iloc[0]
            assert row.ci_low <= row.estimate <= row.ci_high, (kind, method)
    tiny = outcome_effects(frame.assign(exposed=frame.index < 5), outcome="churned", n_boot=30)
    row = tiny.table.iloc[0]
    assert np.isnan(row.estimate) and not np.isnan(row.crude)
    assert row.caveats.startswith("crude only")
    nearly_determined = frame.assign(exposed=(frame.segment == "regular") | (frame.index < 2))
    result = outcome_effects(
        nearly_determined, outcome="churned", confounders=["segment"], method="ipw", n_boot=30
    )
    assert "positivity" in result.table.iloc[0].caveats


def test_bad_arguments_are_named() -> None:
    frame = _confounded(100, seed=14)
    with pytest.raises(Invalid) as error:
        outcome_effects(frame, outcome="nope", kind="ratio", confounders=["age"])  # type: ignore[arg-type]
    fields = {p.field for p in error.value.problems}
    assert {"nope", "kind", "age"} <= fields
    with pytest.raises(Invalid, match="0/1"):
        outcome_effects(frame, outcome="orders_after", kind="binary")


def test_an_arm_without_any_outcome_gives_an_undefined_ratio_not_an_error() -> None:
    """Before issue 11 nobody churning among the unexposed raised ZeroDivisionError."""
    frame = pd.DataFrame(
        {
            "exposure": "late",
            "exposed": [True] * 40 + [False] * 60,
            "churned": [1] * 10 + [0] * 30 + [0] * 60,
            "segment": ["a", "b"] * 50,
            "tenure_days": float("nan"),  # nothing known: left out of the adjustment
        }
    )
    row = outcome_effects(
        frame, outcome="churned", confounders=["segment", "tenure_days"], n_boot=30
    ).table.iloc[0]
    assert row.crude == pytest.approx(0.25) and np.isnan(row.crude_ratio)
    assert row.mean_unexposed == 0 and np.isnan(row.ratio)
    assert row.ci_low <= row.estimate <= row.ci_high


def test_an_empty_frame_is_refused_not_read_as_no_effect() -> None:
    empty = _confounded(10, seed=15).iloc[0:0]
    with pytest.raises(Invalid, match="has no rows"):
        outcome_effects(empty, outcome="churned")
    with pytest.raises(Invalid, match="has no rows"):
        churner_topics(empty, [])
