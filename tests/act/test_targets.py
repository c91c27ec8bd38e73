"""The pure selection behind target lists: each condition, their order, and what they report."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from pydantic import ValidationError

from cxloop.act.schemas import TargetQuery, TopicMention
from cxloop.act.targets import nps_group, select

AS_OF = dt.datetime(2026, 6, 30, 12, 0)


def _profiles() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d", "e"],
            "segment": ["vip", "vip", "regular", "regular", "new"],
            "region": ["north", "south", "north", "south", "north"],
            "value": [900.0, 500.0, 300.0, 100.0, None],
            "churned": [False, True, False, pd.NA, False],
            "churn_risk": [0.8, 0.9, 0.2, 0.6, None],
            "last_nps": [3.0, 10.0, 8.0, None, 6.0],
            "last_order_at": pd.to_datetime(
                ["2026-06-20", "2026-01-05", "2026-03-01", None, "2026-06-29"]
            ),
        }
    )


def _mentions() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "feedback_id": ["f1", "f2", "f3", "f4", "f5"],
            "customer_id": ["a", "a", "c", "d", "e"],
            "topic": [
                "service/responsiveness",
                "delivery/speed",
                "service/attitude",
                "service/responsiveness",
                "servicemen",
            ],
            "sentiment": ["negative", "positive", "negative", "negative", "negative"],
            "created_at": pd.to_datetime(
                ["2026-06-01", "2026-06-02", "2026-01-10", "2026-06-15", "2026-06-20"]
            ),
        }
    )


def _ids(query: TargetQuery) -> list[str]:
    return sorted(select(_profiles(), _mentions(), query, AS_OF).members["customer_id"])


def test_every_condition_must_hold_and_each_step_is_counted() -> None:
    query = TargetQuery(
        value_top_share=0.6,
        churned=False,
        mentioned=[TopicMention(topic="service", sentiment="negative", within_days=90)],
        min_churn_risk=0.5,
    )
    chosen = select(_profiles(), _mentions(), query, AS_OF)
    assert chosen.members["customer_id"].tolist() == ["a"]
    assert chosen.steps == [
        ("all customers", 5),
        ("not churned", 4),  # b churned; d (unknown) counts as not churned
        ("value in the top 60%", 2),  # a, c: value ranks over all customers
        ("mentioned service (negative) in the last 90 days", 1),  # c's was in January
        ("churn risk > 0.5", 1),
    ]


def test_a_topic_matches_itself_and_its_children_but_not_a_longer_name() -> None:
    query = TargetQuery(mentioned=[TopicMention(topic="service", within_days=3650)])
    assert _ids(query) == ["a", "c", "d"]  # e's "servicemen" is another topic
    query = TargetQuery(mentioned=[TopicMention(topic="service/attitude", within_days=3650)])
    assert _ids(query) == ["c"]


def test_mention_window_and_sentiment_are_applied() -> None:
    positive = TopicMention(topic="delivery", sentiment="positive", within_days=30)
    assert _ids(TargetQuery(mentioned=[positive])) == ["a"]
    assert _ids(TargetQuery(mentioned=[positive.model_copy(update={"within_days": 20})])) == []
    negative = TopicMention(topic="delivery", sentiment="negative", within_days=365)
    assert _ids(TargetQuery(mentioned=[negative])) == []


def test_value_share_counts_customers_without_value_as_zero() -> None:
    assert _ids(TargetQuery(value_top_share=0.2)) == ["a"]
    assert _ids(TargetQuery(value_top_share=1.0)) == ["a", "b", "c", "d", "e"]
    assert _ids(TargetQuery(min_value=300)) == ["a", "b", "c"]


def test_order_recency_nps_groups_segments_and_regions() -> None:
    assert _ids(TargetQuery(ordered_within_days=30)) == ["a", "e"]
    assert _ids(TargetQuery(no_order_within_days=60)) == ["b", "c", "d"]  # d never ordered
    assert _ids(TargetQuery(ordered_within_days=365, no_order_within_days=60)) == ["b", "c"]
    assert _ids(TargetQuery(nps_groups=["detractor"])) == ["a", "e"]
    assert _ids(TargetQuery(segments=["vip"], regions=["south"])) == ["b"]


def test_churn_risk_bounds_skip_unscored_customers_and_say_so() -> None:
    chosen = select(_profiles(), _mentions(), TargetQuery(max_churn_risk=0.6), AS_OF)
    assert sorted(chosen.members["customer_id"]) == ["c", "d"]
    assert any("1 customers have no churn score" in c for c in chosen.caveats)
    unscored = _profiles().assign(churn_risk=float("nan"))
    chosen = select(unscored, _mentions(), TargetQuery(min_churn_risk=0.1), AS_OF)
    assert chosen.members.empty
    assert any("cxloop insights churn" in c for c in chosen.caveats)


def test_members_come_highest_risk_first() -> None:
    chosen = select(_profiles(), _mentions(), TargetQuery(), AS_OF)
    assert chosen.members["customer_id"].tolist()[:3] == ["b", "a", "d"]


def test_nps_group_boundaries() -> None:
    groups = nps_group(pd.Series([0, 6, 7, 8, 9, 10, None], dtype="float64"))
    expected = ["detractor", "detractor", "passive", "passive", "promoter", "promoter"]
    assert groups.tolist()[:6] == expected
    assert pd.isna(groups.iloc[6])


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"min_churn_risk": 0.8, "max_churn_risk": 0.2}, "min_churn_risk is above"),
        ({"ordered_within_days": 30, "no_order_within_days": 90}, "must be longer"),
        ({"value_top_share": 1.5}, "less than or equal to 1"),
        ({"segments": []}, "at least 1 item"),
        ({"unknown": 1}, "Extra inputs are not permitted"),
    ],
)
def test_impossible_or_unknown_conditions_are_refused(fields: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        TargetQuery.model_validate(fields)


def test_members_carry_the_feedback_ids_and_topics_that_qualified_them() -> None:
    query = TargetQuery(mentioned=[TopicMention(topic="service", within_days=3650)])
    members = select(_profiles(), _mentions(), query, AS_OF).members.set_index("customer_id")
    assert members.loc["a", "feedback_ids"] == ["f1"]  # f2 (delivery) did not qualify a
    assert members.loc["a", "topics"] == ["service/responsiveness"]
    assert members.loc["c", "feedback_ids"] == ["f3"]
    both = TargetQuery(
        mentioned=[
            TopicMention(topic="service", within_days=3650),
            TopicMention(topic="delivery", within_days=3650),
        ]
    )
    only_a = select(_profiles(), _mentions(), both, AS_OF).members.set_index("customer_id")
    assert only_a.loc["a", "feedback_ids"] == ["f2", "f1"]  # newest first
    assert only_a.loc["a", "topics"] == ["delivery/speed", "service/responsiveness"]
    plain = select(_profiles(), _mentions(), TargetQuery(), AS_OF).members
    assert plain["feedback_ids"].map(len).eq(0).all()  # no topic condition, no evidence
