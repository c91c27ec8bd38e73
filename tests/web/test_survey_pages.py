"""Survey tracking over the API and on the pages: funnel, response rates, B2B completeness.

Every number a page shows is compared with the API's for the same survey."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cxloop import api
from tests.surveys.tracking_support import add_distribution, add_invitation, add_survey
from tests.web.support import Api, build_api

STATUSES = ["completed"] * 6 + ["sent"] * 7 + ["opened", "started", "bounced", "skipped"]


def seed(store: api.Store) -> None:
    """post-delivery: one e-mail distribution of 17 invitations (6 completed of 15 delivered);
    milestone: a B2B survey at account A-1 missing one of two required roles."""
    assert api.import_records(
        store, "accounts", [{"account_id": "A-1", "name": "华东精密", "owner": "zhao@hd.cn"}]
    ).inserted
    with store.sessions() as session:
        add_survey(session)
        mail = add_distribution(session, name="march")
        for i, status in enumerate(STATUSES):
            role = "user" if i % 3 else "decision_maker"
            reason = "capped_contact" if status == "skipped" else None
            add_invitation(session, mail, status, role=role, skip_reason=reason)
        add_survey(session, "milestone", required_roles=["decision_maker", "purchaser"])
        b2b = add_distribution(session, "milestone", account_id="A-1", milestone_id="M-1")
        add_invitation(session, b2b, "completed", role="decision_maker")
        add_invitation(session, b2b, "sent", role="purchaser")
        session.commit()


@pytest.fixture(scope="module")
def surveyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    built = build_api(tmp_path_factory.mktemp("survey-pages") / "cxloop.db", seed=False)
    seed(built.store)
    with built.client:
        yield built
    built.store.close()
    built.app.state.engine.dispose()


def test_funnel_api_for_a_viewer(surveyed: Api) -> None:
    got = surveyed.client.get(
        "/api/v1/surveys/post-delivery/funnel", headers=surveyed.auth("viewer")
    )
    assert got.status_code == 200, got.text
    body = got.json()
    (march,) = body["distributions"]
    assert (march["invited"], march["skipped"], march["delivered"], march["completed"]) == (
        17,
        1,
        15,
        6,
    )
    assert march["skip_reasons"] == {"capped_contact": 1}
    assert march["rate"]["n"] == 15 and march["rate"]["score"] == pytest.approx(0.4)
    assert march["rate"]["ci_low"] < 0.4 < march["rate"]["ci_high"]


def test_response_rates_api_by_role_and_bad_dimension(surveyed: Api) -> None:
    viewer = surveyed.auth("viewer")
    got = surveyed.client.get(
        "/api/v1/surveys/post-delivery/response-rates?by=role&min_n=1", headers=viewer
    )
    assert got.status_code == 200, got.text
    rows = {r["slice"]["role"]: (r["n"], r["completed"]) for r in got.json()}
    # i % 3 == 0 are decision makers: 0, 3 completed; 6, 9, 12 sent; 15 bounced
    assert rows == {"decision_maker": (5, 2), "user": (10, 4)}
    bad = surveyed.client.get(
        "/api/v1/surveys/post-delivery/response-rates?by=colour", headers=viewer
    )
    assert bad.status_code == 422 and "colour" in bad.text


def test_completeness_api(surveyed: Api) -> None:
    got = surveyed.client.get(
        "/api/v1/surveys/milestone/completeness", headers=surveyed.auth("viewer")
    )
    assert got.status_code == 200, got.text
    rows = [(r["account"], r["role"], r["answered"], r["missing"]) for r in got.json()]
    assert rows == [("A-1", "decision_maker", 1, False), ("A-1", "purchaser", 0, True)]
    assert {r["complete"] for r in got.json()} == {False}


def test_tracking_api_needs_a_token_and_knows_the_survey(surveyed: Api) -> None:
    assert surveyed.client.get("/api/v1/surveys/post-delivery/funnel").status_code == 401
    missing = surveyed.client.get(
        "/api/v1/surveys/nope/completeness", headers=surveyed.auth("viewer")
    )
    assert missing.status_code == 404 and "nope" in missing.text
