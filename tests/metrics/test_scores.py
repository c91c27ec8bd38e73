"""The metric functions on hand-made Ibis tables: exact scores, slicing, NULLs, bad arguments."""

from __future__ import annotations

import datetime as dt
import doctest
import math

import ibis
import pandas as pd
import pytest

from cxloop import engines
from cxloop.errors import Invalid
from cxloop.metrics import ces, csat, intervals, nps, response_count, scores

pytestmark = pytest.mark.filterwarnings("ignore:The 'future.infer_string' option is deprecated")

Z95 = 1.959963984540054


def _answers() -> ibis.Table:
    """Ten app answers (5 promoters, 3 passives, 2 detractors) and two web answers, one blank."""
    return ibis.memtable(
        {
            "channel": ["app"] * 10 + ["web"] * 2,
            "created_at": [dt.datetime(2025, 3, 31, 23, 30)] * 4
            + [dt.datetime(2025, 4, 1, 0, 30)] * 8,
            "nps": [10, 10, 9, 9, 9, 8, 7, 8, 0, 6, 10, None],
            "csat": [5, 5, 4, 4, 4, 4, 5, 4, 2, 1, 3, None],
            "ces": [7, 6, 5, 5, 4, 2, 1, 7, 7, 7, None, None],
        },
        schema={
            "channel": "string",
            "created_at": "timestamp",
            "nps": "int64",
            "csat": "int64",
            "ces": "int64",
        },
    )


def test_five_promoters_three_passives_two_detractors_is_nps_30_with_hand_interval() -> None:
    result = nps(_answers(), by=["channel"], min_n=5)
    app = result.iloc[0]
    p_pro, p_det = 5.75 / 13, 2.75 / 13  # Rocks' adjusted Wald: +3/4, +3/4, +3/2 of n + 3
    centre = (p_pro - p_det) * 100
    half = Z95 * math.sqrt((p_pro + p_det - (p_pro - p_det) ** 2) / 13) * 100
    assert list(result.columns) == [
        "channel", "n", "score", "ci_low", "ci_high", "small_n",
        "promoters", "passives", "detractors",
    ]  # fmt: skip
    assert (app["channel"], app["n"], app["score"]) == ("app", 10, 30.0)
    assert (app["ci_low"], app["ci_high"]) == pytest.approx(
        (centre - half, centre + half), abs=1e-9
    )
    assert app[["promoters", "passives", "detractors"]].tolist() == [5, 3, 2]
    assert not app["small_n"]


def test_a_response_without_the_score_is_not_counted_in_that_metrics_n() -> None:
    web = nps(_answers(), by=["channel"], min_n=5).iloc[1]
    assert (web["channel"], web["n"], web["score"], web["small_n"]) == ("web", 1, 100.0, True)
    assert ces(_answers(), by=["channel"]).channel.tolist() == ["app"]  # web has no CES at all
    assert response_count(_answers(), by=["channel"]).n.tolist() == [10, 2]


def test_csat_is_the_top_two_box_share_with_a_wilson_interval_and_the_mean() -> None:
    app = csat(_answers(), by=["channel"]).iloc[0]
    _, low, high = intervals.wilson_interval([8], [10])
    assert (app["n"], app["score"], app["mean"]) == (10, 0.8, 3.8)
    assert (app["ci_low"], app["ci_high"]) == (low[0], high[0])


def test_ces_is_the_mean_with_a_t_interval_and_the_share_easy() -> None:
    overall = ces(_answers()).iloc[0]
    answers = pd.Series([7, 6, 5, 5, 4, 2, 1, 7, 7, 7])
    assert (overall["n"], overall["score"], overall["share_easy"]) == (10, 5.1, 0.7)
    half = 2.2621571627409915 * answers.std() / math.sqrt(10)  # t(0.975, 9)
    assert overall["ci_low"] == pytest.approx(5.1 - half, rel=1e-9)
    assert list(ces(_answers()).columns[:5]) == list(scores.STANDARD)


def test_ces_interval_is_clipped_to_the_1_to_7_scale() -> None:
    answers = ibis.memtable({"ces": [7, 7, 7, 6]}, schema={"ces": "int64"})
    row = ces(answers, min_n=0).iloc[0]
    _, low, high = intervals.t_interval([27], [183], [4])
    assert high[0] > 7 and row["ci_high"] == 7.0 and row["ci_low"] == low[0]
    low_end = ces(ibis.memtable({"ces": [1, 1, 2]}, schema={"ces": "int64"})).iloc[0]
    assert low_end["ci_low"] == 1.0 and low_end["ci_high"] < 7
    single = ces(ibis.memtable({"ces": [4]}, schema={"ces": "int64"})).iloc[0]
    assert math.isnan(single["ci_low"]) and math.isnan(single["ci_high"])


def test_by_may_be_one_column_name_as_a_plain_string() -> None:
    for metric in (nps, csat, ces, response_count):
        assert metric(_answers(), by="channel").equals(metric(_answers(), by=["channel"]))
    assert list(nps(_answers(), by="channel", period="month").columns[:2]) == [
        "channel",
        "period",
    ]


@pytest.mark.parametrize("metric", [nps, csat, ces], ids=lambda f: f.__name__)
def test_a_missing_or_non_integer_score_column_is_invalid_before_the_engine_runs(
    metric: object,
) -> None:
    name = metric.__name__  # type: ignore[attr-defined]
    as_text = ibis.memtable({name: ["9", "10"]}, schema={name: "string"})
    with pytest.raises(Invalid) as caught:
        metric(as_text)  # type: ignore[operator]
    [problem] = caught.value.problems
    assert (problem.field, problem.value, problem.reason) == (
        name,
        "string",
        "is not an integer column",
    )
    as_float = ibis.memtable({name: [9.5]}, schema={name: "float64"})
    with pytest.raises(Invalid, match="float64"):
        metric(as_float)  # type: ignore[operator]
    with pytest.raises(Invalid) as caught:
        metric(ibis.memtable({"other": [1]}))  # type: ignore[operator]
    assert [(p.field, p.value) for p in caught.value.problems] == [(name, None)]


def test_periods_truncate_created_at_in_utc() -> None:
    result = response_count(_answers(), period="month")
    assert result.period.tolist() == [pd.Timestamp("2025-03-01"), pd.Timestamp("2025-04-01")]
    assert result.n.tolist() == [4, 8] and result.share.tolist() == [1.0, 1.0]
    quarters = nps(_answers(), by=["channel"], period="quarter", min_n=0)
    assert list(quarters.columns[:2]) == ["channel", "period"]
    assert quarters[["channel", "n"]].values.tolist() == [["app", 4], ["app", 6], ["web", 1]]
    weeks = response_count(_answers(), period="week")
    assert weeks.period.tolist() == [pd.Timestamp("2025-03-31")]  # a Monday


def test_the_last_instant_of_a_sunday_stays_in_its_week_on_sqlite() -> None:
    backend = ibis.sqlite.connect()
    try:
        stamps = [dt.datetime(2025, 3, 30, 23, 59, 59, 999500), dt.datetime(2025, 3, 31)]
        backend.raw_sql("CREATE TABLE feedback (created_at TIMESTAMP)")
        backend.con.executemany(
            "INSERT INTO feedback VALUES (?)", [(s.isoformat(sep=" "),) for s in stamps]
        )
        weeks = response_count(backend.table("feedback"), period="week")
        assert weeks.period.tolist() == [pd.Timestamp("2025-03-24"), pd.Timestamp("2025-03-31")]
    finally:
        backend.disconnect()


def test_responses_share_is_of_the_whole_table_without_a_period() -> None:
    result = response_count(_answers(), by=["channel"], min_n=3)
    assert result.share.tolist() == [10 / 12, 2 / 12]
    assert result.score.tolist() == [10.0, 2.0] and result.ci_low.isna().all()
    assert result.small_n.tolist() == [False, True]


def test_an_empty_table_gives_no_rows() -> None:
    empty = _answers().filter(ibis.literal(False))
    for metric in (nps, csat, ces, response_count):
        assert metric(empty).empty
        assert metric(empty, by=["channel"]).empty


def test_bad_arguments_name_every_problem() -> None:
    with pytest.raises(Invalid) as caught:
        nps(_answers(), by=["bogus", "channel", "channel"], period="year", confidence=1.5)
    assert [(p.field, p.value) for p in caught.value.problems] == [
        ("by", "bogus"),
        ("by", "channel"),
        ("period", "year"),
        ("confidence", 1.5),
    ]


@pytest.mark.parametrize("module", [scores, intervals, engines], ids=lambda m: m.__name__)
def test_docstring_examples_run(module: object) -> None:
    failed, attempted = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)  # type: ignore[arg-type]
    assert attempted > 0 and failed == 0
