"""Targets: YAML round-trips, bad YAML names every problem, status labels are right, and the
store keeps one target per metric and slice."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from pydantic import ValidationError

from cxloop import api
from cxloop.api import Store
from cxloop.config import Settings
from cxloop.errors import Invalid, NotFound
from cxloop.metrics import target_store as monitoring
from cxloop.metrics.schemas import Period
from cxloop.metrics.targets import (
    TargetSpec,
    TargetStatus,
    dump_targets_yaml,
    judge,
    judged_period,
    last_complete_period,
    load_targets_yaml,
)
from tests.cli.support import run_cxloop

YAML = """
targets:
  - {metric: nps, slice: {channel: survey}, target: 30, direction: at_least}
  - {metric: ces, target: 5.5, direction: at_least, period: month, label: effort}
  - {metric: csat, slice: {product: app, channel: chat}, target: 0.8}
"""


def test_targets_yaml_round_trips() -> None:
    specs = load_targets_yaml(YAML)
    assert [s.metric.value for s in specs] == ["nps", "ces", "csat"]
    assert specs[2].slice_key == '{"channel":"chat","product":"app"}'
    assert load_targets_yaml(dump_targets_yaml(specs)) == specs


def test_bad_yaml_reports_every_problem_with_path_value_and_reason() -> None:
    bad = """
targets:
  - {metric: loyalty, target: 30}
  - {metric: nps, slice: {author_email: x}, target: 30}
  - {metric: csat, target: 80}
  - {metric: nps, target: 10, direction: upwards}
"""
    with pytest.raises(Invalid) as caught:
        load_targets_yaml(bad)
    problems = {p.field: p for p in caught.value.problems}
    assert set(problems) == {
        "targets[0].metric",
        "targets[1].slice",
        "targets[2]",
        "targets[3].direction",
    }
    assert problems["targets[0].metric"].value == "loyalty"
    assert "author_email" in problems["targets[1].slice"].reason
    assert "outside" in problems["targets[2]"].reason


def test_repeated_target_and_broken_yaml_are_refused() -> None:
    twice = "targets:\n  - {metric: nps, target: 1}\n  - {metric: nps, target: 2}\n"
    with pytest.raises(Invalid, match=r"repeats targets\[0\]"):
        load_targets_yaml(twice)
    with pytest.raises(Invalid) as caught:
        load_targets_yaml("targets: [ {metric: nps")
    assert caught.value.problems[0].field.startswith("line ")


@pytest.mark.parametrize(
    ("direction", "n", "estimate", "low", "high", "expected"),
    [
        ("at_least", 100, 35.0, 25.0, 45.0, TargetStatus.on_target),
        ("at_least", 100, 25.0, 15.0, 35.0, TargetStatus.not_significant_off),
        ("at_least", 100, 10.0, 2.0, 18.0, TargetStatus.off_target),
        ("at_least", 10, 10.0, -30.0, 50.0, TargetStatus.small_n),
        ("at_least", 0, None, None, None, TargetStatus.no_data),
        ("at_most", 100, 40.0, 32.0, 48.0, TargetStatus.off_target),
        ("at_most", 100, 33.0, 25.0, 41.0, TargetStatus.not_significant_off),
        ("at_most", 100, 20.0, 12.0, 28.0, TargetStatus.on_target),
    ],
)
def test_status_labels_on_constructed_values(
    direction: str,
    n: int,
    estimate: float | None,
    low: float | None,
    high: float | None,
    expected: TargetStatus,
) -> None:
    spec = TargetSpec.model_validate({"metric": "nps", "target": 30, "direction": direction})
    status, reason = judge(spec, n=n, estimate=estimate, ci_low=low, ci_high=high, min_n=30)
    assert status is expected and reason


def test_last_complete_period_is_the_one_before_as_of() -> None:
    as_of = pd.Timestamp("2026-06-03 12:00")
    assert last_complete_period(Period.week, as_of) == pd.Timestamp("2026-05-25")
    assert last_complete_period(Period.month, as_of) == pd.Timestamp("2026-05-01")


@pytest.fixture
def small_store(store: Store) -> Store:
    """40 survey answers: 20 promoters, 10 passives, 10 detractors (NPS 25) in May 2026."""
    rows = [
        {
            "feedback_id": f"t-{i}",
            "channel": "survey",
            "created_at": f"2026-05-{1 + i % 28:02d}T10:00:00+00:00",
            "nps": 10 if i < 20 else 8 if i < 30 else 2,
        }
        for i in range(40)
    ]
    assert api.import_records(store, "feedback", rows).inserted == 40
    return store


def test_targets_are_stored_once_per_metric_and_slice_and_judged(
    small_store: Store, settings: Settings
) -> None:
    with small_store.sessions() as session:
        specs = load_targets_yaml(
            "targets:\n"
            "  - {metric: nps, slice: {channel: survey}, target: 30}\n"
            "  - {metric: nps, target: 0, period: month}\n"
            "  - {metric: nps, slice: {channel: chat}, target: 0}\n"
            "  - {metric: responses, target: 100}\n"
        )
        monitoring.set_targets(session=session, targets_in=specs)
        again = monitoring.set_targets(session=session, targets_in=specs[:1])
        assert len(monitoring.list_targets(session=session)) == 4
        status = monitoring.target_status(
            session=session, settings=settings, as_of=pd.Timestamp("2026-06-10").to_pydatetime()
        )
        by_id = {r.target_id: r for r in status.rows}
        survey, month, chat, count = (by_id[t.id] for t in monitoring.list_targets(session=session))
        assert (survey.n, survey.estimate) == (40, 25.0)
        assert survey.status is TargetStatus.not_significant_off  # 25 < 30, interval reaches 30
        assert month.status is TargetStatus.on_target and str(month.period_start) == "2026-05-01"
        assert month.period_label == "2026-05"
        assert month.note == "status for 2026-05, the last complete month before 2026-06-10"
        assert chat.status is TargetStatus.no_data
        assert count.status is TargetStatus.off_target  # a census: 40 < 100 is a miss
        assert status.method and status.caveats
        monitoring.delete_target(session=session, target_id=again[0].id)
        assert len(monitoring.list_targets(session=session)) == 3
        with pytest.raises(NotFound):
            monitoring.delete_target(session=session, target_id=again[0].id)
        session.commit()


def test_targets_only_on_metrics_that_have_a_scale() -> None:
    sentiment = TargetSpec.model_validate({"metric": "sentiment", "target": 0.2})
    assert sentiment.target == 0.2
    with pytest.raises(ValidationError, match="targets on topic_incidence are not supported"):
        TargetSpec.model_validate({"metric": "topic_incidence", "target": 0.1})
    with pytest.raises(ValidationError, match="outside sentiment"):
        TargetSpec.model_validate({"metric": "sentiment", "target": 2})


def test_a_slice_value_no_feedback_has_is_refused_with_close_matches(small_store: Store) -> None:
    specs = load_targets_yaml(
        "targets:\n"
        "  - {metric: nps, slice: {channel: Survey}, target: 30}\n"
        "  - {metric: nps, slice: {channel: APPP}, target: 30}\n"
        "  - {metric: nps, slice: {segment: vip}, target: 30}\n"
    )
    with small_store.sessions() as session, pytest.raises(Invalid) as caught:
        monitoring.set_targets(session=session, targets_in=specs, settings=small_store.settings)
    problems = {p.field: (p.value, p.reason) for p in caught.value.problems}
    assert problems == {
        "targets[0].slice.channel": ("Survey", "is not a stored channel; close matches: survey"),
        "targets[1].slice.channel": ("APPP", "is not a stored channel; stored: survey"),
        "targets[2].slice.segment": (
            "vip",
            "is not a stored segment: no feedback has a segment yet",
        ),
    }
    with small_store.sessions() as session:
        assert monitoring.list_targets(session=session) == []  # nothing stored
        fixed = load_targets_yaml("targets: [{metric: nps, slice: {channel: survey}, target: 30}]")
        ok = monitoring.set_targets(
            session=session, targets_in=fixed, settings=small_store.settings
        )
        assert ok[0].slice == {"channel": "survey"}


def test_status_without_a_date_uses_the_last_complete_month_of_the_data(
    small_store: Store,
) -> None:
    with small_store.sessions() as session:
        monitoring.set_targets(
            session=session,
            targets_in=load_targets_yaml("targets: [{metric: nps, target: 0, period: month}]"),
        )
        status = monitoring.target_status(session=session, settings=small_store.settings)
    [row] = status.rows
    assert status.data_end is not None and status.data_end.date() == dt.date(2026, 5, 28)
    assert row.period_label == "2026-05" and str(row.period_start) == "2026-05-01"
    assert row.note == (
        "status for 2026-05, the last complete month in the data (latest response 2026-05-28)"
    )
    assert (row.n, row.estimate, row.status) == (40, 25.0, TargetStatus.on_target)
    assert any(
        "periodic targets are judged on the last complete period of the data" in c
        for c in status.caveats
    )


@pytest.mark.parametrize(
    ("period", "now", "end", "label", "in_data"),
    [
        (Period.month, "2026-12-06", "2026-03-20", "2026-03", True),
        (Period.month, "2026-04-02", "2026-04-01", "2026-03", False),  # data live: the clock's
        (Period.quarter, "2026-12-06", "2026-03-20", "2026-Q1", True),
        (Period.week, "2026-06-03", "2026-05-20", "week of 2026-05-18", True),
        (Period.day, "2026-06-03", "2026-06-03", "2026-06-02", False),
    ],
)
def test_judged_period_follows_the_data_only_when_the_clock_is_past_it(
    period: Period, now: str, end: str, label: str, in_data: bool
) -> None:
    judged = judged_period(
        period,
        pd.Timestamp(now).to_pydatetime(),
        pd.Timestamp(end).to_pydatetime(),
        explicit=False,
    )
    assert judged.label == label and ("in the data" in judged.note) is in_data
    explicit = judged_period(
        period,
        pd.Timestamp(now).to_pydatetime(),
        pd.Timestamp(end).to_pydatetime(),
        explicit=True,
    )
    assert "in the data" not in explicit.note


def test_cli_refuses_an_unknown_slice_and_says_which_month_status_is_for(
    tmp_path: Path,
) -> None:
    rows = "feedback_id,channel,created_at,nps\n" + "".join(
        f"t{i},survey,2026-03-{1 + i % 20:02d}T10:00:00Z,{[10, 9, 3][i % 3]}\n" for i in range(40)
    )
    (tmp_path / "fb.csv").write_text(rows, encoding="utf-8")
    assert run_cxloop(tmp_path, "import", "feedback", "fb.csv").returncode == 0
    refused = run_cxloop(
        tmp_path,
        "metrics",
        "targets",
        "set",
        "--metric",
        "nps",
        "--target",
        "10",
        "--slice",
        "channel=surveys",
    )
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "targets[0].slice.channel" in refused.stderr
    assert "close matches: survey" in refused.stderr
    stored = run_cxloop(
        tmp_path,
        "metrics",
        "targets",
        "set",
        "--metric",
        "nps",
        "--target",
        "10",
        "--period",
        "month",
    )
    assert stored.returncode == 0, stored.stderr
    status = run_cxloop(tmp_path, "metrics", "targets", "status")
    assert status.returncode == 0, status.stderr
    assert "status for 2026-03, the last complete month in the data" in status.stdout
    assert "2026-03" in status.stdout.split("status for", 1)[1]
