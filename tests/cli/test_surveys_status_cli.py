"""``cxloop surveys status`` and ``cxloop surveys rates`` as a user runs them, on a real store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cxloop import api
from cxloop.config import Settings
from cxloop.surveys import tracking
from tests.cli.support import run_cxloop
from tests.surveys.tracking_support import add_distribution, add_invitation, add_survey


def _cells(line: str) -> list[str]:
    """A rich table row's cells, without the borders."""
    return [c.strip() for c in line.strip().strip("│").split("│")]


@pytest.fixture
def surveyed(tmp_path: Path) -> Path:
    """A B2C survey sent by e-mail (12 invitations) and a B2B survey at one account."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'cli.db'}")
    store = api.connect(settings=settings)
    api.import_records(
        store, "accounts", [{"account_id": "A-1", "name": "华东精密", "owner": "zhao@hd.cn"}]
    )
    with store.sessions() as session:
        add_survey(session)
        mail = add_distribution(session, name="march")
        statuses = ["completed"] * 4 + ["sent"] * 5 + ["bounced", "skipped", "skipped"]
        for i, status in enumerate(statuses):
            role = "user" if i % 2 else "decision_maker"
            reason = "opted_out" if status == "skipped" else None
            add_invitation(session, mail, status, role=role, skip_reason=reason)
        add_survey(session, "milestone", required_roles=["decision_maker", "purchaser"])
        b2b = add_distribution(session, "milestone", account_id="A-1", milestone_id="M-1")
        add_invitation(session, b2b, "completed", role="decision_maker")
        add_invitation(session, b2b, "sent", role="purchaser")
        session.commit()
    store.close()
    return tmp_path


def test_status_shows_the_funnel_and_the_rate_with_its_interval(surveyed: Path) -> None:
    shown = run_cxloop(surveyed, "surveys", "status", "post-delivery", "--min-n", "5")
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout
    assert "post-delivery: delivery" in out and "post-delivery: responses" in out
    # 12 invited, 2 skipped, 10 sent, 9 delivered, 1 bounced, 4 completed: 4/9 = 44.4%
    delivery, responses = (_cells(line) for line in out.splitlines() if "march" in line)
    assert delivery == ["#1 march", "12", "2", "10", "9", "1", "0", "email"]
    assert responses == ["#1 march", "9", "4", "4", "4", "0", "44.4%", "18.9% … 73.3%"]
    assert "skipped: opted_out 2" in out
    assert "B2B completeness" not in out  # no required roles: no completeness table


def test_status_marks_missing_roles(surveyed: Path) -> None:
    shown = run_cxloop(surveyed, "surveys", "status", "milestone")
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    purchaser = next(line for line in lines if "purchaser" in line)
    maker = next(line for line in lines if "decision_maker" in line)
    assert "MISSING" in purchaser and "answered" in maker
    assert "A-1 华东精密" in shown.stdout
    assert "0 complete, 1 incomplete" in shown.stdout


def test_status_leaves_customer_sends_out_and_shows_unreached_accounts_apart(
    surveyed: Path,
) -> None:
    """A ``--where`` send of the B2B survey is no account's answer; an account whose every
    invitation was skipped was not reached, which is not the same as incomplete."""
    store = api.connect(settings=Settings(database_url=f"sqlite:///{surveyed / 'cli.db'}"))
    with store.sessions() as session:
        customers = add_distribution(session, "milestone", audience_kind="where")
        add_invitation(session, customers, "completed", account_id="A-1", customer_id="C-1")
        capped = add_distribution(session, "milestone", account_id="A-1", milestone_id="M-2")
        add_invitation(session, capped, "skipped", role="decision_maker", skip_reason="capped")
        session.commit()
    store.close()
    shown = run_cxloop(surveyed, "surveys", "status", "milestone")
    assert shown.returncode == 0, shown.stderr
    assert "unknown" not in shown.stdout and "None" not in shown.stdout
    m2 = next(line for line in shown.stdout.splitlines() if "M-2" in line)
    assert "not reached" in m2
    assert "0 complete, 1 incomplete (every required role must answer); 1 not reached" in (
        shown.stdout
    )


def test_status_json_carries_the_service_numbers(surveyed: Path) -> None:
    shown = run_cxloop(surveyed, "surveys", "status", "post-delivery", "--format", "json")
    assert shown.returncode == 0, shown.stderr
    payload = json.loads(shown.stdout)
    store = api.connect(settings=Settings(database_url=f"sqlite:///{surveyed / 'cli.db'}"))
    with store.sessions() as session:
        expected = tracking.funnel(session=session, survey_id="post-delivery")
    store.close()
    assert payload["funnel"] == expected.model_dump(mode="json")
    assert payload["completeness"] == []


def test_rates_by_role(surveyed: Path) -> None:
    shown = run_cxloop(surveyed, "surveys", "rates", "--by", "role", "--survey", "post-delivery")
    assert shown.returncode == 0, shown.stderr
    rows = {c[0]: c[1:] for c in map(_cells, shown.stdout.splitlines()) if len(c) == 5}
    # decision makers: 2 completed, 3 sent, 1 skipped; users: 2 completed, 2 sent, 1 bounced,
    # 1 skipped — bounced and skipped were never delivered
    assert rows["decision_maker"] == ["5", "2", "40.0% *", "11.8% … 76.9%"]
    assert rows["user"] == ["4", "2", "50.0% *", "15.0% … 85.0%"]


def test_unknown_survey_and_dimension_end_in_a_sentence(surveyed: Path) -> None:
    missing = run_cxloop(surveyed, "surveys", "status", "nope")
    assert missing.returncode != 0 and "Traceback" not in missing.stderr
    assert "no survey 'nope'" in missing.stderr + missing.stdout
    wrong = run_cxloop(surveyed, "surveys", "rates", "--by", "colour")
    assert wrong.returncode != 0 and "Traceback" not in wrong.stderr
    assert "colour" in wrong.stderr + wrong.stdout and "segment" in wrong.stderr + wrong.stdout


def test_a_missing_store_is_refused(tmp_path: Path) -> None:
    shown = run_cxloop(tmp_path, "surveys", "rates")
    assert shown.returncode == 2 and "Traceback" not in shown.stderr
