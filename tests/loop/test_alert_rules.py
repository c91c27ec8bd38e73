"""Alert rules on metric alerts: the rules file's ``metric_alerts:`` section, checked whole; a
scan whose NPS dropped opens exactly one case for the alert (none on a re-scan); the job finds
an alert another process wrote; rules saved after an alert open nothing for it.

The store (two teams, ten weeks of 30 NPS answers, the last complete week a drop) is built once
per module and copied per test."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, update

from cxloop.api import Store, connect
from cxloop.config import Settings
from cxloop.errors import Invalid
from cxloop.feedback.models import Feedback
from cxloop.jobs import tick as jobs_tick
from cxloop.jobs.loop_jobs import LOOP_JOBS
from cxloop.loop import alert_rules, rule_store
from cxloop.loop.alert_facts import AlertFacts, slice_text
from cxloop.loop.models import Case, CaseEvent
from cxloop.loop.rules import evaluate_alert, load_rules
from cxloop.metrics import monitoring
from cxloop.metrics.models import Alert
from tests.cli.support import run_cxloop
from tests.loop.case_support import set_up_teams
from tests.web.support import build_api

METRIC_RULES = """\
# feedback rules and rules over metric alerts in one file
rules:
  - id: escalation
    name: 升级威胁
    when: flag == 'escalation'
    severity: 紧急
metric_alerts:
  - id: nps-drop
    name: NPS 周跌
    when: kind == '下跌' and subject == 'nps' and slice == 'all'
    severity: high
    team: 客服一组
  - id: nps-any
    name: NPS 异常
    when: subject == 'NPS' and score <= -3
    severity: low
    team: east
"""


USUAL = [10] * 20 + [8] * 6 + [3] * 4
"""A week's 30 answers: NPS 53."""
DROPPED = [10] * 4 + [8] * 6 + [2] * 20
"""Last week's: NPS -53."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _copy(source: Path, target: Path) -> None:
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Teams and ten weeks of NPS answers ending last week (NPS 53 each week, then -53)."""
    path = tmp_path_factory.mktemp("alert-rules") / "template.db"
    store = connect(settings=Settings(database_url=f"sqlite:///{path}"))
    today = dt.datetime.now(dt.UTC).date()
    monday = today - dt.timedelta(days=today.weekday())
    n = 0
    try:
        with store.sessions() as session:
            set_up_teams(session)
            for weeks in range(10, 0, -1):
                start = dt.datetime.combine(monday - dt.timedelta(weeks=weeks), dt.time(9))
                scores = USUAL if weeks > 1 else DROPPED
                for i, score in enumerate(scores):
                    n += 1
                    session.add(
                        Feedback(
                            feedback_id=f"F{n}", channel="survey", row_hash="h" * 32, nps=score,
                            created_at=start + dt.timedelta(hours=i),
                        )
                    )  # fmt: skip
            session.commit()
    finally:
        store.close()
    return path


@pytest.fixture
def db_path(template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "store.db"
    _copy(template, path)
    return path


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    opened = connect(settings=Settings(database_url=f"sqlite:///{db_path}"))
    yield opened
    opened.close()


def _save_rules(store: Store, text: str = METRIC_RULES) -> None:
    with store.sessions() as session:
        rule_store.save_rules(session=session, text=text, actor="analyst", now=_now())
        session.commit()


def _scan(store: Store) -> tuple[alert_rules.ScanWithCases, alert_rules.AlertRuleCounts | None]:
    with store.sessions() as session:
        result = alert_rules.scan(session=session, settings=store.settings, now=_now())
        session.commit()
    return result, result.cases


def _cases(store: Store) -> list[Case]:
    with store.sessions() as session:
        return list(session.scalars(select(Case).order_by(Case.id)))


def _job(store: Store) -> dict[str, int]:
    outcome = jobs_tick.run(store.settings, only=["loop.evaluate_metric_alerts"])[
        "loop.evaluate_metric_alerts"
    ]
    assert outcome.error is None
    return outcome.counts


# ---------------------------------------------------------------- the rules file


def test_a_list_is_feedback_rules_only_and_a_mapping_may_hold_both_sections() -> None:
    listed = load_rules("- id: e\n  name: e\n  when: flag == 'escalation'\n  severity: high\n")
    assert [r.id for r in listed.rules] == ["e"] and listed.metric_alerts == []
    both = load_rules(METRIC_RULES)
    assert [r.id for r in both.rules] == ["escalation"]
    assert [(r.id, r.severity, r.team) for r in both.metric_alerts] == [
        ("nps-drop", "high", "客服一组"),
        ("nps-any", "low", "east"),
    ]
    alone = load_rules("metric_alerts:" + METRIC_RULES.split("metric_alerts:")[1])
    assert alone.rules == [] and len(alone.metric_alerts) == 2
    with pytest.raises(Invalid) as exc:
        load_rules("metric_alert:\n  - id: x\n")
    assert [(p.field, p.reason) for p in exc.value.problems] == [
        ("metric_alert", "is not an alert rule setting")
    ]


def test_a_drop_of_nps_matches_by_kind_in_zh_and_subject_without_case() -> None:
    rules = load_rules(METRIC_RULES)
    drop = AlertFacts(kind="drop", subject="nps", slice=slice_text("{}"), score=-8.4)
    assert [(m.rule_id, m.topic) for m in evaluate_alert(rules, drop)] == [
        ("nps-drop", "metric:nps"),
        ("nps-any", "metric:nps"),
    ]
    assert evaluate_alert(rules, drop)[0].why == ["kind = drop", "subject = nps", "slice = all"]
    east = drop.model_copy(update={"slice": slice_text('{"region": "华东"}'), "score": -2.0})
    assert east.slice == "region=华东" and evaluate_alert(rules, east) == []
    spike = AlertFacts(kind="spike", subject="nps", score=5.0)
    assert evaluate_alert(rules, spike) == []


def test_every_mistake_of_the_metric_alerts_section_is_named_at_once() -> None:
    text = """\
rules:
  - id: same
    name: a
    when: nps <= 6
    severity: high
metric_alerts:
  - id: same
    name: b
    when: nps <= 6 and kind == 'dip'
    severity: high
  - id: no-team
    name: c
    when: attributes.vip == 'yes'
    severity: urgent
  - nothing: here
"""
    with pytest.raises(Invalid) as exc:
        load_rules(text)
    found = {(p.field, str(p.value), p.reason.split(";")[0]) for p in exc.value.problems}
    assert ("metric_alerts[0].id", "same", "is used by rules[0] already (ids are unique)") in found
    assert ("metric_alerts[0].when", "nps", "is not a condition name (column 1)") in found
    assert (
        "metric_alerts[0].when",
        "dip",
        "is not a kind value (spike, drop, emerging_topic, off_target)",
    ) in found
    unknown = "is not a condition name (column 1)"
    assert ("metric_alerts[1].when", "attributes.vip", unknown) in found
    assert ("metric_alerts[1].team", "None", "is required") in found
    assert any(f == "metric_alerts[1].severity" for f, _, _ in found)
    assert any(f == "metric_alerts[2].nothing" for f, _, _ in found)
    names = next(p.reason for p in exc.value.problems if p.value == "nps")
    assert names.endswith("known: kind, subject, slice, score, value, expected")


def test_saving_refuses_an_unknown_team_after_the_feedback_rules_problems(store: Store) -> None:
    text = METRIC_RULES.replace("team: east", "team: 不存在").replace("flag ==", "flags ==")
    with store.sessions() as session, pytest.raises(Invalid) as exc:
        rule_store.save_rules(session=session, text=text, actor="a", now=_now())
    fields = [p.field for p in exc.value.problems]
    assert fields == ["rules[0].when", "metric_alerts[1].team"]
    assert exc.value.problems[1].reason.startswith("is not a team (teams: east, 客服一组")


# ---------------------------------------------------------------- on a store


def test_a_scan_that_finds_an_nps_drop_opens_one_case_and_a_rescan_none(store: Store) -> None:
    _save_rules(store)
    result, counts = _scan(store)
    assert [(a.kind, a.subject) for a in result.alerts] == [("drop", "nps")]
    assert counts is not None
    assert counts.as_counts() == {"checked": 1, "matched": 2, "opened": 1, "unchanged": 0}
    [case] = _cases(store)
    assert counts.case_ids == [case.id]
    assert counts.sentence() == (
        f"alert rules: 1 case opened: {case.id} (1 alert checked, 2 matches)"
    )
    alert = result.alerts[0]
    with store.sessions() as session:
        key = session.scalar(select(Alert.alert_key).where(Alert.id == alert.id))
        created = session.scalar(
            select(CaseEvent.data).where(CaseEvent.case_id == case.id, CaseEvent.kind == "created")
        )
    assert (case.dedupe_key, case.topic, case.rule_id) == (f"alert:{key}", "metric:nps", "nps-drop")
    assert case.customer_id is None and case.title == f"NPS 周跌 · {alert.reason}"
    assert (case.team, case.severity, case.priority, case.priority_score) == (
        "客服一组", "high", "p2", 48.0,
    )  # fmt: skip
    assert case.owner in ("wang.fang", "li.na", "zhang.wei") and case.status == "assigned"
    assert case.first_response_due is not None and case.resolution_due is not None
    assert created is not None
    assert created["alert"] == {
        "id": alert.id,
        "kind": "drop",
        "subject": "nps",
        "slice": "all",
        "period": alert.period_start.isoformat() if alert.period_start else None,
        "reason": alert.reason,
    }

    again_result, again = _scan(store)
    assert again_result.inserted == 0 and again is not None
    assert (again.opened, again.unchanged) == (0, 1)
    # the alert's numbers refreshed by a later scan, and the case resolved: still no new case
    with store.sessions() as session:
        later = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        session.execute(update(Alert).values(value=-60.0, updated_at=later))
        session.execute(update(Case).values(status="resolved"))
        session.commit()
    assert _job(store)["opened"] == 0
    assert len(_cases(store)) == 1


def test_the_job_opens_the_case_for_an_alert_another_process_stored(
    store: Store, db_path: Path
) -> None:
    _save_rules(store)
    assert _job(store) == {"checked": 0, "matched": 0, "opened": 0, "unchanged": 0}
    other = connect(settings=Settings(database_url=f"sqlite:///{db_path}"))
    try:  # another process's scan: it stores the alert and evaluates nothing
        with other.sessions() as session:
            monitoring.scan_alerts(session=session, settings=other.settings)
            session.commit()
    finally:
        other.close()
    assert _cases(store) == []
    assert _job(store)["opened"] == 1
    assert _job(store)["opened"] == 0
    [case] = _cases(store)
    assert case.topic == "metric:nps" and case.team == "客服一组"
    assert "loop.evaluate_metric_alerts" in LOOP_JOBS


def test_rules_saved_after_the_alert_open_nothing_for_it(store: Store) -> None:
    result, counts = _scan(store)
    assert counts is None and len(result.alerts) == 1  # no metric_alerts rule yet
    _save_rules(store)
    assert _job(store)["opened"] == 0
    _, rescanned = _scan(store)
    assert rescanned is not None and rescanned.as_counts() == {
        "checked": 0, "matched": 0, "opened": 0, "unchanged": 0,
    }  # fmt: skip
    assert _cases(store) == []


def test_a_failing_evaluation_keeps_the_scans_alerts_and_the_job_opens_the_case_later(
    store: Store, tmp_path: Path
) -> None:
    _save_rules(store)
    broken = store.settings.model_copy(update={"loop_routing": str(tmp_path / "missing.yaml")})
    with store.sessions() as session:
        result = alert_rules.scan(session=session, settings=broken, now=_now())
        session.commit()
    assert result.inserted == 1 and result.cases is not None
    assert result.cases.error == "Invalid" and "not applied (Invalid)" in result.cases.sentence()
    with store.sessions() as session:
        assert session.scalar(select(Alert.id)) == result.alerts[0].id  # the alert is kept
    assert _cases(store) == []
    assert _job(store)["opened"] == 1  # the job, with a readable routing setting, opens it


def test_cxloop_metrics_alerts_scan_prints_what_the_alert_rules_did(
    store: Store, db_path: Path, tmp_path: Path
) -> None:
    _save_rules(store)
    env = {"CXLOOP_DATABASE_URL": f"sqlite:///{db_path}"}
    first = run_cxloop(tmp_path, "metrics", "alerts", "scan", env=env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [
        "1 found: 1 new, 0 updated",
        "alert rules: 1 case opened: 1 (1 alert checked, 2 matches)",
    ]
    second = run_cxloop(tmp_path, "metrics", "alerts", "scan", env=env)
    assert second.stdout.splitlines()[-1] == (
        "alert rules: 0 cases opened (1 alert checked, 2 matches)"
    )
    assert len(_cases(store)) == 1


def test_the_scan_endpoint_returns_the_cases_the_rules_opened(store: Store, db_path: Path) -> None:
    _save_rules(store)
    api = build_api(db_path, seed=False)
    try:
        viewer = api.client.post("/api/v1/metrics/alerts/scan", headers=api.auth("viewer"))
        assert viewer.status_code == 403 and _cases(store) == []
        response = api.client.post("/api/v1/metrics/alerts/scan", headers=api.auth("analyst"))
        assert response.status_code == 200, response.text
        body = response.json()
        assert [a["kind"] for a in body["alerts"]] == ["drop"]
        assert body["cases"] == {
            "checked": 1, "matched": 2, "opened": 1, "unchanged": 0, "case_ids": [1],
            "error": None,
        }  # fmt: skip
        again = api.client.post("/api/v1/metrics/alerts/scan", headers=api.auth("analyst"))
        assert again.json()["cases"]["opened"] == 0
    finally:
        api.store.close()
    assert len(_cases(store)) == 1
