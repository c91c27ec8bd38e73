"""Who may call what: every API operation against every role, written out here as the
specification (deliberately not read from ``cxloop.privacy.roles``), plus PII masking, import
error reporting, token storage and the web login page."""

from __future__ import annotations

import hashlib
import itertools
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import text

from cxloop.ingest.fields import KINDS
from tests.web.case_endpoints import CASE_OPERATIONS
from tests.web.dashboard_endpoints import DASHBOARD_OPERATIONS
from tests.web.loop_health_endpoints import LOOP_HEALTH_OPERATIONS
from tests.web.rule_endpoints import RULE_OPERATIONS
from tests.web.support import CUSTOMER, FEEDBACK, PASSWORD, ROLES, Api
from tests.web.survey_endpoints import SURVEY_OPERATIONS

ALL = frozenset(ROLES)
ADMIN = frozenset({"admin"})
IMPORTERS = frozenset({"admin", "analyst"})
LIST_MANAGERS = frozenset({"admin", "analyst"})
PII_ROLES = frozenset({"admin", "agent"})
CUSTOMER_ID = CUSTOMER["customer_id"]


def _new_user() -> dict[str, Any]:
    name = f"u-{uuid.uuid4().hex[:10]}"
    return {"username": name, "password": "a long password", "role": "viewer"}


@dataclass(frozen=True)
class Endpoint:
    """One OpenAPI operation and who may call it.

    ``roles`` is None for operations that need no token at all; ``ok`` is the status an allowed
    caller gets for the request made with ``url`` and ``body``."""

    method: str
    path: str
    roles: frozenset[str] | None
    ok: int = 200
    url: str | None = None
    body: Callable[[], Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"

    def request(self, api: Api, headers: dict[str, str] | None = None) -> Any:
        kwargs: dict[str, Any] = {"headers": headers or {}}
        if self.body is not None:
            kwargs["json"] = self.body()
        return api.client.request(self.method, self.url or self.path, **kwargs)


ENDPOINTS = (
    Endpoint("GET", "/healthz", None),
    Endpoint(
        "POST",
        "/api/v1/auth/login",
        None,
        body=lambda: {"username": "viewer", "password": PASSWORD},
    ),
    Endpoint("GET", "/api/v1/me", ALL),
    Endpoint("GET", "/api/v1/kinds", ALL),
    Endpoint("GET", "/api/v1/overview", ALL),
    Endpoint("GET", "/api/v1/dashboard/overview", ALL, url="/api/v1/dashboard/overview?last=1y"),
    Endpoint("GET", "/api/v1/metrics/{name}", ALL, url="/api/v1/metrics/nps?by=channel"),
    Endpoint("GET", "/api/v1/metrics/index/{name}", ALL, url="/api/v1/metrics/index/cx_index"),
    Endpoint(
        "GET", "/api/v1/metrics/compare", ALL, url="/api/v1/metrics/compare?metric=nps&by=channel"
    ),
    Endpoint("GET", "/api/v1/metrics/targets", ALL),
    Endpoint(
        "PUT",
        "/api/v1/metrics/targets",
        LIST_MANAGERS,
        body=lambda: {"targets": [{"metric": "nps", "slice": {}, "target": 20}]},
    ),
    Endpoint(
        "DELETE",
        "/api/v1/metrics/targets/{target_id}",
        LIST_MANAGERS,
        ok=404,  # allowed, but there is no such target
        url="/api/v1/metrics/targets/999999",
    ),
    Endpoint("GET", "/api/v1/metrics/targets/status", ALL),
    Endpoint("POST", "/api/v1/metrics/alerts/scan", LIST_MANAGERS),
    Endpoint("GET", "/api/v1/metrics/alerts", ALL),
    Endpoint(
        "PATCH",
        "/api/v1/metrics/alerts/{alert_id}",
        LIST_MANAGERS,
        ok=404,
        url="/api/v1/metrics/alerts/999999",
        body=lambda: {"status": "acknowledged"},
    ),
    Endpoint("GET", "/api/v1/metrics/accounts", ALL),
    # insights: the shared store holds one customer and one answer, so most analyses are
    # refused (422, naming what is missing) once the role check has let the caller through
    Endpoint("GET", "/api/v1/insights/drivers", ALL, ok=422),
    Endpoint("GET", "/api/v1/insights/outcomes", ALL, ok=422),  # no subscriptions: says so
    Endpoint("GET", "/api/v1/insights/churner-topics", ALL, ok=422),
    Endpoint("GET", "/api/v1/insights/clv", ALL, ok=422),
    Endpoint("GET", "/api/v1/insights/account-churn", ALL, ok=422),
    Endpoint("GET", "/api/v1/insights/segments", ALL, ok=422),
    Endpoint(
        "GET", "/api/v1/insights/funnel", ALL, ok=422, url="/api/v1/insights/funnel?steps=a&steps=b"
    ),
    Endpoint(
        "GET", "/api/v1/insights/paths", ALL, ok=422, url="/api/v1/insights/paths?start=a&end=b"
    ),
    Endpoint("GET", "/api/v1/insights/cohorts", ALL, ok=422),
    Endpoint("GET", "/api/v1/insights/rules", ALL),
    Endpoint("GET", "/api/v1/insights/churn", ALL, ok=422),
    Endpoint("POST", "/api/v1/insights/churn", LIST_MANAGERS, ok=422),
    Endpoint(
        "POST",
        "/api/v1/insights/abtest",
        ALL,
        body=lambda: {
            "rows": [{"v": "a", "x": 1}, {"v": "b", "x": 0}] * 20,
            "variant": "v",
            "metric": "share",
            "column": "x",
        },
    ),
    Endpoint("GET", "/api/v1/targets", ALL),
    Endpoint(
        "POST",
        "/api/v1/targets",
        LIST_MANAGERS,
        ok=201,
        body=lambda: {"name": f"list-{uuid.uuid4().hex[:8]}", "query": {"churned": False}},
    ),
    Endpoint("POST", "/api/v1/targets/preview", ALL, body=lambda: {"value_top_share": 0.5}),
    Endpoint("GET", "/api/v1/targets/{name}", ALL, ok=404, url="/api/v1/targets/none-such"),
    Endpoint(
        "DELETE", "/api/v1/targets/{name}", LIST_MANAGERS, ok=404, url="/api/v1/targets/none-such"
    ),
    Endpoint(
        "POST",
        "/api/v1/targets/{name}/refresh",
        LIST_MANAGERS,
        ok=404,
        url="/api/v1/targets/none-such/refresh",
    ),
    Endpoint(
        "GET",
        "/api/v1/targets/{name}/members",
        ALL,
        ok=404,
        url="/api/v1/targets/none-such/members",
    ),
    Endpoint("GET", "/api/v1/feedback", ALL),
    Endpoint("GET", "/api/v1/feedback/channels", ALL),
    Endpoint("GET", "/api/v1/feedback/{feedback_id}", ALL, url="/api/v1/feedback/:fb-1"),
    Endpoint("GET", "/api/v1/{kind}", ALL, url="/api/v1/customers"),
    Endpoint("GET", "/api/v1/{kind}/{key}", ALL, url=f"/api/v1/customers/{CUSTOMER_ID}"),
    Endpoint(
        "POST",
        "/api/v1/{kind}",
        IMPORTERS,
        url="/api/v1/customers",
        body=lambda: {"rows": [{"customer_id": "c-import", "name": "Zhao Lei"}]},
    ),
    Endpoint("GET", "/api/v1/imports", IMPORTERS),
    Endpoint(
        "POST",
        "/api/v1/imports/{run_id}/undo",
        IMPORTERS,
        ok=404,  # an unknown run: the shared store's runs stay as they are
        url="/api/v1/imports/999999/undo",
    ),
    Endpoint("GET", "/api/v1/quarantine", IMPORTERS),
    Endpoint("GET", "/api/v1/users", ADMIN),
    Endpoint("POST", "/api/v1/users", ADMIN, ok=201, body=_new_user),
    Endpoint("POST", "/api/v1/tokens", ADMIN, ok=201, body=lambda: {"username": "viewer"}),
    *(
        Endpoint(method, path, roles, ok=ok, url=url, body=body)
        for method, path, roles, ok, url, body in SURVEY_OPERATIONS
    ),
    *(
        Endpoint(method, path, roles, ok=ok, url=url, body=body)
        for method, path, roles, ok, url, body in CASE_OPERATIONS
    ),
    *(
        Endpoint(method, path, roles, ok=ok, url=url, body=body)
        for method, path, roles, ok, url, body in RULE_OPERATIONS
    ),
    *(
        Endpoint(method, path, roles, ok=ok, url=url, body=body)
        for method, path, roles, ok, url, body in LOOP_HEALTH_OPERATIONS
    ),
    *(
        Endpoint(method, path, roles, ok=ok, url=url, body=body)
        for method, path, roles, ok, url, body in DASHBOARD_OPERATIONS
    ),
)
PROTECTED = [e for e in ENDPOINTS if e.roles is not None]
PUBLIC = [e for e in ENDPOINTS if e.roles is None]
MATRIX = [
    pytest.param(endpoint, role, id=f"{endpoint.id} as {role}")
    for endpoint, role in itertools.product(PROTECTED, ROLES)
]


def assert_problem_body(response: Any) -> list[dict[str, Any]]:
    """The error body every failure has: ``{"detail": [{"field", "value", "reason"}, ...]}``."""
    assert response.headers["content-type"].startswith("application/json"), response.text
    body = response.json()
    assert set(body) == {"detail"}, body
    assert isinstance(body["detail"], list) and body["detail"], body
    for problem in body["detail"]:
        assert set(problem) == {"field", "value", "reason"}, problem
        assert isinstance(problem["reason"], str) and problem["reason"], problem
    return body["detail"]


def test_the_matrix_covers_exactly_the_operations_in_the_openapi_document(shared_api: Api) -> None:
    document = shared_api.client.get("/openapi.json").json()
    published = {
        f"{method.upper()} {path}"
        for path, operations in document["paths"].items()
        for method in operations
        if method in {"get", "post", "put", "patch", "delete", "head", "options"}
    }
    assert published == {e.id for e in ENDPOINTS}
    assert all(path == "/healthz" or path.startswith("/api/v1/") for path in document["paths"])


@pytest.mark.parametrize(("endpoint", "role"), MATRIX)
def test_role_matrix(shared_api: Api, endpoint: Endpoint, role: str) -> None:
    assert endpoint.roles is not None
    response = endpoint.request(shared_api, shared_api.auth(role))
    if role in endpoint.roles:
        assert response.status_code == endpoint.ok, response.text
    else:
        assert response.status_code == 403, response.text
        [problem] = assert_problem_body(response)
        assert role in problem["reason"]


@pytest.mark.parametrize("endpoint", PROTECTED, ids=lambda e: e.id)
@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no token"),
        pytest.param({"Authorization": "Bearer cxl_not-a-real-token"}, id="wrong token"),
        pytest.param({"Authorization": "Basic YWRtaW46YWRtaW4="}, id="not bearer"),
        pytest.param({"Cookie": "cxloop_token=cxl_forged"}, id="wrong cookie"),
    ],
)
def test_unauthenticated_calls_get_401(
    shared_api: Api, endpoint: Endpoint, headers: dict[str, str]
) -> None:
    response = endpoint.request(shared_api, headers)
    assert response.status_code == 401, response.text
    assert response.headers.get("www-authenticate") == "Bearer"
    assert_problem_body(response)


@pytest.mark.parametrize("endpoint", PUBLIC, ids=lambda e: e.id)
def test_public_operations_need_no_token(shared_api: Api, endpoint: Endpoint) -> None:
    response = endpoint.request(shared_api)
    assert response.status_code == endpoint.ok, response.text


def test_login_issues_a_token_for_the_users_role(shared_api: Api) -> None:
    response = shared_api.client.post(
        "/api/v1/auth/login", json={"username": "agent", "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    issued = response.json()
    assert issued["username"] == "agent" and issued["role"] == "agent"
    assert issued["expires_at"] is not None
    me = shared_api.client.get("/api/v1/me", headers={"Authorization": f"Bearer {issued['token']}"})
    assert me.status_code == 200 and me.json()["role"] == "agent"


@pytest.mark.parametrize(
    "credentials",
    [
        {"username": "agent", "password": "wrong password"},
        {"username": "nobody", "password": PASSWORD},
    ],
)
def test_login_with_wrong_credentials_is_401(shared_api: Api, credentials: dict[str, str]) -> None:
    response = shared_api.client.post("/api/v1/auth/login", json=credentials)
    assert response.status_code == 401, response.text
    assert_problem_body(response)


def test_token_of_a_user_without_a_password_cannot_log_in(shared_api: Api) -> None:
    user = {"username": f"bot-{uuid.uuid4().hex[:8]}", "role": "viewer"}
    created = shared_api.client.post("/api/v1/users", json=user, headers=shared_api.auth("admin"))
    assert created.status_code == 201, created.text
    response = shared_api.client.post(
        "/api/v1/auth/login", json={"username": user["username"], "password": "anything-at-all"}
    )
    assert response.status_code == 401


def test_me_names_the_caller(shared_api: Api) -> None:
    for role in ROLES:
        response = shared_api.client.get("/api/v1/me", headers=shared_api.auth(role))
        assert response.status_code == 200
        assert response.json()["username"] == role and response.json()["role"] == role


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_can_be_listed_by_every_role(shared_api: Api, kind: str, role: str) -> None:
    response = shared_api.client.get(f"/api/v1/{kind}", headers=shared_api.auth(role))
    assert response.status_code == 200, response.text
    page = response.json()
    expected = {"items", "total", "limit", "offset"} | ({"notes"} if kind == "feedback" else set())
    assert set(page) == expected


@pytest.mark.parametrize("role", sorted(ALL - IMPORTERS))
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_no_kind_can_be_imported_by_readers(shared_api: Api, kind: str, role: str) -> None:
    response = shared_api.client.post(
        f"/api/v1/{kind}", json={"rows": []}, headers=shared_api.auth(role)
    )
    assert response.status_code == 403, response.text
    assert_problem_body(response)


def test_missing_record_is_404_for_an_allowed_reader(shared_api: Api) -> None:
    response = shared_api.client.get(
        "/api/v1/customers/no-such-id", headers=shared_api.auth("viewer")
    )
    assert response.status_code == 404
    assert_problem_body(response)


# --- PII ---------------------------------------------------------------------------------------

PII = {
    "customers": {"name": CUSTOMER["name"], "email": CUSTOMER["email"], "phone": CUSTOMER["phone"]},
    "feedback": {
        "author": FEEDBACK["author"],
        "author_email": FEEDBACK["author_email"],
        "author_phone": FEEDBACK["author_phone"],
    },
}


def _stored_row(api: Api, kind: str, role: str) -> dict[str, Any]:
    """The seeded row of ``kind`` as ``role`` sees it in the list."""
    response = api.client.get(f"/api/v1/{kind}", headers=api.auth(role))
    assert response.status_code == 200, response.text
    if kind == "customers":
        rows = [r for r in response.json()["items"] if r["customer_id"] == CUSTOMER["customer_id"]]
    else:
        rows = [r for r in response.json()["items"] if r["text"] == FEEDBACK["text"]]
    assert len(rows) == 1, response.json()
    return rows[0]


def _assert_pii(row: dict[str, Any], kind: str, role: str) -> None:
    for column, clear in PII[kind].items():
        shown = row[column]
        if role in PII_ROLES:
            assert shown == clear, (column, shown)
        else:
            assert shown and shown != clear, (column, shown)
            if "@" in clear:
                local, _, domain = clear.partition("@")
                assert local not in shown and shown.endswith(domain), (column, shown)
            elif clear.startswith("+"):
                assert clear[3:-4] not in shown, (column, shown)
            else:
                assert all(part not in shown for part in clear.split()), (column, shown)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kind", ["customers", "feedback"])
def test_pii_masked_in_lists_unless_role_may_read_it(shared_api: Api, kind: str, role: str) -> None:
    row = _stored_row(shared_api, kind, role)
    _assert_pii(row, kind, role)
    # what is not PII is never masked
    if kind == "customers":
        assert row["segment"] == CUSTOMER["segment"]
    else:
        assert row["text"] == FEEDBACK["text"] and row["channel"] == "survey"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kind", ["customers", "feedback"])
def test_pii_masked_in_single_reads_unless_role_may_read_it(
    shared_api: Api, kind: str, role: str
) -> None:
    key_column = "customer_id" if kind == "customers" else "feedback_id"
    key = _stored_row(shared_api, kind, "admin")[key_column]
    response = shared_api.client.get(f"/api/v1/{kind}/{key}", headers=shared_api.auth(role))
    assert response.status_code == 200, response.text
    _assert_pii(response.json(), kind, role)


def test_overview_counts_match_the_lists(fresh_api: Api) -> None:
    response = fresh_api.client.get("/api/v1/overview", headers=fresh_api.auth("viewer"))
    assert response.status_code == 200, response.text
    overview = response.json()
    assert overview["feedback_by_channel"] == {"survey": 1}
    for kind in KINDS:
        listed = fresh_api.client.get(f"/api/v1/{kind}", headers=fresh_api.auth("viewer"))
        assert overview["rows"][kind] == listed.json()["total"], kind
    assert overview["rows"]["customers"] == 1 and overview["rows"]["feedback"] == 1


# --- imports and errors ------------------------------------------------------------------------


def test_batch_with_good_and_bad_rows_quarantines_the_bad_ones(fresh_api: Api) -> None:
    """A missing id and a bad date quarantine their rows; a mistyped optional email does not:
    that row is stored without it and the email comes back as a warning."""
    rows = [
        {"customer_id": "c-good", "name": "Sun Li", "email": "sun.li@example.com"},
        {"customer_id": "c-bad-email", "email": "not-an-email"},
        {"name": "no id at all"},
        {"customer_id": "c-bad-date", "birth_date": "31/31/2020"},
    ]
    response = fresh_api.client.post(
        "/api/v1/customers", json={"rows": rows}, headers=fresh_api.auth("analyst")
    )
    assert response.status_code == 200, response.text
    summary = response.json()
    assert summary["status"] == "finished"
    assert summary["read"] == 4
    assert summary["inserted"] == 2
    assert summary["quarantined"] == 2
    rejected = {r["row"]: r["problems"] for r in summary["rejected"]}
    assert set(rejected) == {3, 4}, summary["rejected"]
    for problems in rejected.values():
        for problem in problems:
            assert set(problem) == {"field", "value", "reason"} and problem["reason"]
    assert [p["field"] for p in rejected[3]] == ["customer_id"]
    assert [(p["field"], p["value"]) for p in rejected[4]] == [("birth_date", "31/31/2020")]
    assert summary["warned"] == 1
    row_warnings = [w for w in summary["warnings"] if w["row"] is not None]
    assert [(w["row"], w["field"], w["value"]) for w in row_warnings] == [
        (2, "email", "not-an-email")
    ]
    assert row_warnings[0]["reason"]

    quarantine = fresh_api.client.get(
        "/api/v1/quarantine",
        params={"run_id": summary["run_id"]},
        headers=fresh_api.auth("analyst"),
    )
    assert quarantine.status_code == 200, quarantine.text
    stored = {(q["row_number"], q["field"]) for q in quarantine.json()}
    assert stored == {(3, "customer_id"), (4, "birth_date")}
    runs = fresh_api.client.get("/api/v1/imports", headers=fresh_api.auth("analyst")).json()
    assert runs[0]["id"] == summary["run_id"] and runs[0]["quarantined"] == 2

    good = fresh_api.client.get("/api/v1/customers/c-good", headers=fresh_api.auth("admin"))
    assert good.status_code == 200 and good.json()["email"] == "sun.li@example.com"
    bad = fresh_api.client.get("/api/v1/customers/c-bad-email", headers=fresh_api.auth("admin"))
    assert bad.status_code == 200 and not bad.json()["email"]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_unknown_kind_is_422_naming_the_field(shared_api: Api, method: str) -> None:
    response = shared_api.client.request(
        method, "/api/v1/gizmos", json={"rows": []}, headers=shared_api.auth("admin")
    )
    assert response.status_code == 422, response.text
    [problem] = assert_problem_body(response)
    assert problem["field"].split(".")[-1] == "kind"
    assert problem["value"] == "gizmos"
    assert "customers" in problem["reason"]


FILTERS = {
    "customer_id",
    "account_id",
    "contact_id",
    "project_id",
    "channel",
    "source",
    "segment",
    "region",
    "role",
    "event_type",
    "plan",
    "status",
    "touchpoint",
    "journey_stage",
    "link_method",
}


def test_every_filter_is_a_documented_query_parameter(shared_api: Api) -> None:
    document = shared_api.client.get("/openapi.json").json()
    operation = document["paths"]["/api/v1/{kind}"]["get"]
    query = {p["name"] for p in operation["parameters"] if p["in"] == "query"}
    assert query == FILTERS | {"limit", "offset", "since", "until", "linked"}


@pytest.mark.parametrize(
    ("kind", "params", "expected"),
    [
        ("customers", {"segment": "gold"}, 1),
        ("customers", {"segment": "silver"}, 0),
        ("customers", {"customer_id": "c-1"}, 1),
        ("feedback", {"channel": "survey"}, 1),
        ("feedback", {"channel": "review"}, 0),
        ("feedback", {"since": "2024-03-01T00:00:00Z"}, 1),
        ("feedback", {"since": "2024-03-02T00:00:00Z"}, 0),
        ("feedback", {"until": "2024-03-01T00:00:00Z"}, 0),
    ],
)
def test_filters_filter(fresh_api: Api, kind: str, params: dict[str, str], expected: int) -> None:
    response = fresh_api.client.get(
        f"/api/v1/{kind}", params=params, headers=fresh_api.auth("admin")
    )
    assert response.status_code == 200, response.text
    assert response.json()["total"] == expected
    assert len(response.json()["items"]) == expected


@pytest.mark.parametrize(
    ("kind", "params", "field"),
    [
        ("customers", {"event_type": "login"}, "event_type"),
        ("customers", {"linked": "true"}, "linked"),
        ("identities", {"since": "2024-01-01T00:00:00Z"}, "since"),
        ("customers", {"limit": "0"}, "query.limit"),
        ("customers", {"since": "yesterday"}, "query.since"),
    ],
)
def test_unusable_filters_are_422_naming_the_field(
    shared_api: Api, kind: str, params: dict[str, str], field: str
) -> None:
    response = shared_api.client.get(
        f"/api/v1/{kind}", params=params, headers=shared_api.auth("admin")
    )
    assert response.status_code == 422, response.text
    [problem] = assert_problem_body(response)
    assert problem["field"] == field


# --- tokens and passwords are stored hashed ----------------------------------------------------


def _all_cells(api: Api, table: str) -> list[str]:
    with api.store.engine.connect() as connection:
        rows = connection.execute(text(f"SELECT * FROM {table}")).all()
    return [str(cell) for row in rows for cell in row]


def test_tokens_and_passwords_are_stored_hashed(fresh_api: Api) -> None:
    issued = fresh_api.client.post(
        "/api/v1/tokens", json={"username": "analyst", "days": 7}, headers=fresh_api.auth("admin")
    )
    assert issued.status_code == 201, issued.text
    token = issued.json()["token"]
    login = fresh_api.client.post(
        "/api/v1/auth/login", json={"username": "viewer", "password": PASSWORD}
    )
    assert login.status_code == 200
    clear_tokens = [token, login.json()["token"], *fresh_api.tokens.values()]

    cells = _all_cells(fresh_api, "api_tokens")
    assert cells
    for clear in clear_tokens:
        assert len(clear) >= 40
        assert not any(clear in cell for cell in cells), "a clear token is stored"
        assert not any(cell and cell in clear and len(cell) > 16 for cell in cells)
        assert hashlib.sha256(clear.encode()).hexdigest() in cells
    assert not any(PASSWORD in cell for cell in _all_cells(fresh_api, "users"))

    me = fresh_api.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["role"] == "analyst"


def test_expired_tokens_and_inactive_users_are_401(fresh_api: Api) -> None:
    issued = fresh_api.client.post(
        "/api/v1/tokens", json={"username": "agent", "days": 1}, headers=fresh_api.auth("admin")
    ).json()["token"]
    headers = {"Authorization": f"Bearer {issued}"}
    assert fresh_api.client.get("/api/v1/me", headers=headers).status_code == 200
    digest = hashlib.sha256(issued.encode()).hexdigest()
    with fresh_api.store.engine.begin() as connection:
        connection.execute(
            text("UPDATE api_tokens SET expires_at = '2000-01-01 00:00:00' WHERE token_hash = :h"),
            {"h": digest},
        )
    assert fresh_api.client.get("/api/v1/me", headers=headers).status_code == 401

    viewer = fresh_api.auth("viewer")
    assert fresh_api.client.get("/api/v1/me", headers=viewer).status_code == 200
    with fresh_api.store.engine.begin() as connection:
        connection.execute(text("UPDATE users SET active = false WHERE username = 'viewer'"))
    response = fresh_api.client.get("/api/v1/me", headers=viewer)
    assert response.status_code == 401
    assert_problem_body(response)
    login = fresh_api.client.post(
        "/api/v1/auth/login", json={"username": "viewer", "password": PASSWORD}
    )
    assert login.status_code == 401


def test_creating_a_user_twice_is_409(shared_api: Api) -> None:
    user = _new_user()
    first = shared_api.client.post("/api/v1/users", json=user, headers=shared_api.auth("admin"))
    assert first.status_code == 201, first.text
    second = shared_api.client.post("/api/v1/users", json=user, headers=shared_api.auth("admin"))
    assert second.status_code == 409, second.text
    assert_problem_body(second)


def test_token_for_unknown_user_is_404(shared_api: Api) -> None:
    response = shared_api.client.post(
        "/api/v1/tokens", json={"username": "ghost"}, headers=shared_api.auth("admin")
    )
    assert response.status_code == 404, response.text
    assert_problem_body(response)


# --- the web page ------------------------------------------------------------------------------


def test_home_redirects_to_login_without_a_cookie(fresh_api: Api) -> None:
    response = fresh_api.client.get("/", follow_redirects=False)
    assert response.status_code in (302, 303, 307)
    assert response.headers["location"].endswith("/login")
    form = fresh_api.client.get("/login")
    assert form.status_code == 200 and "<form" in form.text


def test_home_with_a_forged_cookie_redirects_to_login(fresh_api: Api) -> None:
    fresh_api.client.cookies.set("cxloop_token", "cxl_forged")
    response = fresh_api.client.get("/", follow_redirects=False)
    assert response.status_code in (302, 303, 307)
    assert response.headers["location"].endswith("/login")


def test_login_page_sets_cookie_and_shows_the_counts(fresh_api: Api) -> None:
    response = fresh_api.client.post(
        "/login", data={"username": "viewer", "password": PASSWORD}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("cxloop_token=cxl_")
    assert "httponly" in cookie.lower()

    assert fresh_api.client.get("/", follow_redirects=False).status_code == 200  # the overview
    page = fresh_api.client.get("/data", follow_redirects=False)  # what is loaded
    assert page.status_code == 200, page.text
    assert 'id="rows-per-kind"' in page.text
    assert 'id="feedback-by-channel"' in page.text
    rows = re.search(r'id="rows-per-kind".*?</table>', page.text, re.S)
    assert rows and re.search(r"<td>customers</td>\s*<td[^>]*>1</td>", rows.group(0))
    channels = re.search(r'id="feedback-by-channel".*?</table>', page.text, re.S)
    assert channels and re.search(r"<td>survey</td>\s*<td[^>]*>1</td>", channels.group(0))


def test_login_page_with_wrong_password_is_401(fresh_api: Api) -> None:
    response = fresh_api.client.post(
        "/login", data={"username": "viewer", "password": "wrong"}, follow_redirects=False
    )
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("text/html")
    assert "<form" in response.text
    assert "cxloop_token" not in response.headers.get("set-cookie", "")
    assert fresh_api.client.get("/", follow_redirects=False).status_code in (302, 303, 307)


def test_logout_clears_the_cookie(fresh_api: Api) -> None:
    fresh_api.client.post("/login", data={"username": "viewer", "password": PASSWORD})
    response = fresh_api.client.post("/logout", follow_redirects=False)
    assert response.status_code == 303
    assert "cxloop_token" in response.headers["set-cookie"]
    assert fresh_api.client.get("/", follow_redirects=False).status_code in (302, 303, 307)
