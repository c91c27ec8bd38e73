"""Text metrics on hand-made Ibis tables: mean sentiment and topic incidence, exact values."""

from __future__ import annotations

import doctest
import math

import ibis
import pandas as pd
import pytest

from cxloop.errors import Invalid
from cxloop.metrics import intervals, topics
from cxloop.metrics.scores import sentiment
from cxloop.metrics.topics import topic_incidence

pytestmark = pytest.mark.filterwarnings("ignore:The 'future.infer_string' option is deprecated")


def _texts() -> ibis.Table:
    """Five texts in the app channel, two on the web."""
    return ibis.memtable(
        {
            "channel": ["app"] * 5 + ["web"] * 2,
            "sentiment_score": [0.9, 0.4, -0.7, 0.05, -0.2345, 1.0, 1.0],
            "sentiment": ["positive", "positive", "negative", "neutral", "negative"]
            + ["positive"] * 2,
        },
        schema={"channel": "string", "sentiment_score": "float64", "sentiment": "string"},
    )


def test_sentiment_is_the_mean_score_with_a_t_interval_and_the_label_shares() -> None:
    result = sentiment(_texts(), by="channel", min_n=3)
    app = result.iloc[0]
    scores = pd.Series([0.9, 0.4, -0.7, 0.05, -0.2345])
    half = 2.7764451051977987 * scores.std() / math.sqrt(5)  # t(0.975, 4)
    assert (app["channel"], app["n"]) == ("app", 5)
    assert app["score"] == pytest.approx(scores.mean(), abs=1e-12)
    assert (app["ci_low"], app["ci_high"]) == pytest.approx(
        (scores.mean() - half, scores.mean() + half), abs=1e-9
    )
    assert (app["share_negative"], app["share_positive"]) == (0.4, 0.4)
    assert (app["negative"], app["positive"]) == (2, 2)
    web = result.iloc[1]
    assert (web["score"], web["ci_low"], web["ci_high"], web["small_n"]) == (1, 1, 1, True)


def test_sentiment_interval_is_clipped_to_minus_one_to_one() -> None:
    texts = ibis.memtable(
        {"sentiment_score": [0.99, 1.0, 0.5], "sentiment": ["positive"] * 3},
        schema={"sentiment_score": "float64", "sentiment": "string"},
    )
    row = sentiment(texts, min_n=0).iloc[0]
    _, _, high = intervals.t_interval([24900], [9801 * 10**4 + 10**8 + 25 * 10**6], [3])
    assert high[0] / 10_000 > 1 and row["ci_high"] == 1.0


def test_sentiment_needs_a_numeric_score_and_a_label_column() -> None:
    labels_only = ibis.memtable({"sentiment_score": ["0.5"]}, schema={"sentiment_score": "string"})
    with pytest.raises(Invalid) as caught:
        sentiment(labels_only)
    assert [(p.field, p.value, p.reason) for p in caught.value.problems] == [
        ("sentiment_score", "string", "is not a numeric column"),
        ("sentiment", None, "is not a column of the table"),
    ]


def _mentions() -> ibis.Table:
    """Four app texts and two web texts; a row per topic mentioned, NULL topic for none."""
    return ibis.memtable(
        {
            "feedback_id": ["a1", "a1", "a1", "a2", "a3", "a4", "w1", "w2"],
            "channel": ["app"] * 6 + ["web"] * 2,
            "topic": [
                *("price/level", "price/promo", "delivery/speed", "price/level", None),
                *("delivery/speed", "delivery/speed", None),
            ],
            "topic_l1": ["price", "price", "delivery", "price", None, "delivery", "delivery", None],
            "topic_sentiment": [
                *("negative", "positive", "negative", "negative", None),
                *("neutral", "positive", None),
            ],
        }
    )


def test_incidence_counts_each_text_once_per_first_level_topic_over_all_texts() -> None:
    result = topic_incidence(_mentions(), by="channel", min_n=3)
    assert result[["channel", "topic_l1", "n", "mentioned", "mentions"]].values.tolist() == [
        ["app", "delivery", 4, 2, 2],
        ["app", "price", 4, 2, 3],
        ["web", "delivery", 2, 1, 1],
        ["web", "price", 2, 0, 0],  # every topic in every slice, 0 where never mentioned
    ]
    share, low, high = intervals.wilson_interval([2, 2, 1, 0], [4, 4, 2, 2])
    assert result.score.tolist() == share.tolist()
    assert result.ci_low.tolist() == low.tolist() and result.ci_high.tolist() == high.tolist()
    assert result.small_n.tolist() == [False, False, True, True]
    # price in app: 1 positive, 2 negative of 3 mentions → (1 − 2) / 3
    assert result.net_sentiment.iloc[1] == pytest.approx(-1 / 3)
    _, net_low, _ = intervals.nps_interval([1], [2], [3])
    assert result.net_ci_low.iloc[1] == pytest.approx(net_low[0] / 100)
    assert math.isnan(result.net_sentiment.iloc[3])  # no mention, no net sentiment


def test_incidence_at_the_full_topic_path() -> None:
    result = topic_incidence(_mentions(), level="topic", min_n=0)
    assert result[["topic", "n", "mentioned"]].values.tolist() == [
        ["delivery/speed", 6, 3],
        ["price/level", 6, 2],
        ["price/promo", 6, 1],
    ]
    assert list(result.columns[:6]) == ["topic", "n", "score", "ci_low", "ci_high", "small_n"]


def test_incidence_by_period_uses_the_texts_created_at() -> None:
    table = ibis.memtable(
        {
            "feedback_id": ["a", "b", "c"],
            "created_at": pd.to_datetime(
                ["2025-01-31 23:00", "2025-02-01 01:00", "2025-02-03 00:00"]
            ),
            "topic_l1": ["price", None, "price"],
            "topic_sentiment": ["negative", None, "positive"],
        }
    )
    result = topic_incidence(table, period="month", min_n=0)
    assert result.period.dt.strftime("%Y-%m").tolist() == ["2025-01", "2025-02"]
    assert result[["n", "mentioned"]].values.tolist() == [[1, 1], [2, 1]]


def test_bad_level_or_missing_columns_are_invalid() -> None:
    with pytest.raises(Invalid) as caught:
        topic_incidence(_mentions(), level="topic_l2", by=["bogus"])
    assert [(p.field, p.value) for p in caught.value.problems] == [("by", "bogus")]
    with pytest.raises(Invalid) as caught:
        topic_incidence(_mentions(), level="topic_l2")
    assert [(p.field, p.value) for p in caught.value.problems] == [("level", "topic_l2")]
    with pytest.raises(Invalid, match="use level="):
        topic_incidence(_mentions(), by="topic_l1")
    with pytest.raises(Invalid) as caught:
        topic_incidence(ibis.memtable({"topic_l1": ["x"]}))
    assert [p.field for p in caught.value.problems] == ["feedback_id", "topic_sentiment"]


def test_an_empty_table_gives_no_rows() -> None:
    empty = _mentions().filter(ibis.literal(False))
    assert topic_incidence(empty).empty and topic_incidence(empty, by="channel").empty
    assert sentiment(_texts().filter(ibis.literal(False))).empty


def test_docstring_examples_run() -> None:
    failed, attempted = doctest.testmod(topics, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert attempted > 0 and failed == 0
