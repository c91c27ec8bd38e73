"""Where feedback enters, the alert rules run before the caller hears back: the API's
POST /api/v1/feedback answers after the case is stored (owner, priority, SLA due time), and
``cxloop import feedback`` prints what the rules did in one line."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from cxloop.db.session import session_scope
from cxloop.loop import rule_store, teams
from cxloop.loop.models import Case
from tests.loop.case_support import EAST, SERVICE
from tests.loop.evaluation_support import RULES_YAML
from tests.surveys.imports.conftest import make_import_store, run_cli
from tests.web.support import Api, build_api


def rules_and_teams(sessions: object) -> None:
    with session_scope(sessions) as session:  # type: ignore[arg-type]
        teams.save_team(session=session, team_in=SERVICE)
        teams.save_team(session=session, team_in=EAST)
        rule_store.save_rules(
            session=session, text=RULES_YAML, actor="analyst", now=dt.datetime.now(dt.UTC)
        )


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    built = build_api(tmp_path_factory.mktemp("entry") / "api.db")
    rules_and_teams(built.store.sessions)
    with built.client:
        yield built
    built.store.close()


def detractor(key: str, text: str = "客服态度很差，问了半天没人理") -> dict[str, object]:
    return {
        "feedback_id": key,
        "channel": "survey",
        "created_at": dt.datetime.now(dt.UTC).isoformat(),
        "customer_id": "c-1",
        "nps": 2,
        "text": text,
    }


def test_a_posted_detractor_answer_has_its_case_stored_when_the_response_returns(
    api: Api,
) -> None:
    response = api.client.post(
        "/api/v1/feedback", json={"rows": [detractor("api-1")]}, headers=api.auth("analyst")
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["inserted"] == 1
    assert body["cases"] == {
        "checked": 1, "matched": 1, "opened": 1, "attached": 0, "unchanged": 0, "skipped": 0,
        "error": None,
    }  # fmt: skip
    with session_scope(api.store.sessions) as session:  # another connection: it is committed
        case = session.scalar(select(Case).where(Case.origin_feedback_id == ":api-1"))
        assert case is not None and case.rule_id == "detractor-service"
        assert case.owner and case.priority and case.resolution_due and case.first_response_due
    again = api.client.post(
        "/api/v1/feedback",
        json={"rows": [detractor("api-2", "客服态度还是很差")]},
        headers=api.auth("analyst"),
    )
    assert again.json()["cases"]["attached"] == 1  # same customer and topic: no second case


def test_other_kinds_carry_no_case_counts(api: Api) -> None:
    response = api.client.post(
        "/api/v1/customers",
        json={"rows": [{"customer_id": "c-9", "name": "周杰"}]},
        headers=api.auth("analyst"),
    )
    assert response.status_code == 200, response.text
    assert response.json()["cases"] is None


def test_cxloop_import_feedback_prints_what_the_rules_did(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = make_import_store(tmp_path / "cli")
    from cxloop.api import connect

    opened = connect(settings=store.settings, upgrade=False)
    rules_and_teams(opened.sessions)
    opened.close()
    answers = tmp_path / "answers.csv"
    answers.write_text(
        "反馈id,渠道,客户id,提交时间,NPS,内容\n"
        f"a1,问卷,C-1,{dt.date.today()},2,客服态度很差，问了半天没人理\n"
        f"a2,问卷,C-1,{dt.date.today()},1,客服态度还是很差\n"
        f"a3,问卷,C-2,{dt.date.today()},10,很好\n",
        encoding="utf-8",
    )
    run = run_cli(store, "import", "feedback", answers)
    assert run.code == 0, run.output
    assert "Alert rules: 1 case opened, 1 attached to open cases" in run.stdout
    assert "(3 feedback rows checked, 2 matches)" in run.stdout
    again = run_cli(store, "import", "feedback", answers, "--json")
    assert again.code == 0, again.output
    assert '"cases": {"checked": 0' in again.stdout  # unchanged rows: not looked at twice
    # the case the rules opened is filed under the configured root causes, not the built-in
    causes = tmp_path / "causes.yaml"
    causes.write_text("courier_lost: {en: Courier lost it, zh: 快递丢件}\n", encoding="utf-8")
    monkeypatch.setenv("CXLOOP_LOOP_ROOT_CAUSES", str(causes))
    filed = run_cli(store, "cases", "root-cause", "1", "courier_lost")
    assert filed.code == 0, filed.output
    refused = run_cli(store, "cases", "root-cause", "1", "delivery")
    assert refused.code == 2 and "is not a root cause (courier_lost)" in refused.stderr


def test_a_survey_answer_meets_the_rules_when_the_drain_stores_it(tmp_path: Path) -> None:
    from cxloop.web.survey_drain import OutboxDrain
    from tests.surveys.respond_support import make_world

    world = make_world(tmp_path, drain=False)
    rules_and_teams(world.store.sessions)
    made = world.link(customer_id="c-7")
    sent = world.client.post(
        f"/api/v1/respond/{made.token}",
        json={"answers": {"nps": 2, "why": "客服态度很差，问了半天没人理", "channel": "app"}},
    )
    assert sent.status_code == 200, sent.text
    drain = OutboxDrain(world.settings, world.store.sessions)
    try:
        assert drain.drain() == 1
    finally:
        drain.close()
    with session_scope(world.store.sessions) as session:
        case = session.scalar(select(Case).where(Case.customer_id == "c-7"))
        assert case is not None and case.rule_id == "detractor-service" and case.owner
    world.store.close()
