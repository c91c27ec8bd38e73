"""Bad input is a 4xx naming the field, never a 500: regressions for what fuzzing found.

Lone surrogates (``"\\ud800"``) are legal JSON escapes but not encodable as UTF-8, so they
break whatever tries to encode them — the database driver, argon2, or the JSON error response
itself; timestamps with an offset can fall outside the years 1-9999 once converted to UTC."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cxloop.ingest.fields import KINDS
from tests.web.support import Api

SURROGATE = "\ud800"


def post_json(api: Api, url: str, body: Any, headers: dict[str, str] | None = None) -> Any:
    """POST ``body`` as JSON with escapes (what any JSON encoder sends for a lone surrogate)."""
    return api.client.post(
        url,
        content=json.dumps(body).encode("ascii"),
        headers={**(headers or {}), "Content-Type": "application/json"},
    )


def problems(response: Any) -> list[dict[str, Any]]:
    body = response.json()
    assert set(body) == {"detail"}, body
    for problem in body["detail"]:
        assert set(problem) == {"field", "value", "reason"}, problem
    return list(body["detail"])


@pytest.mark.parametrize(
    ("url", "body", "field", "role"),
    [
        ("/api/v1/auth/login", {"username": SURROGATE, "password": "x"}, "username", None),
        ("/api/v1/auth/login", {"username": "viewer", "password": SURROGATE}, "password", None),
        (
            "/api/v1/users",
            {"username": "new-user", "password": SURROGATE * 8, "role": "viewer"},
            "password",
            "admin",
        ),
        ("/api/v1/tokens", {"username": SURROGATE}, "username", "admin"),
        ("/api/v1/tokens", {"username": "viewer", "name": SURROGATE}, "name", "admin"),
        (
            "/api/v1/customers",
            {"rows": [{"customer_id": "c-9"}], "defaults": {"segment": SURROGATE}},
            "defaults.segment",
            "admin",
        ),
        (
            "/api/v1/customers",
            {"rows": [{"customer_id": "c-9"}], "defaults": {SURROGATE: "gold"}},
            None,
            "admin",
        ),
    ],
)
def test_lone_surrogates_in_request_fields_are_422(
    shared_api: Api, url: str, body: dict[str, Any], field: str | None, role: str | None
) -> None:
    headers = shared_api.auth(role) if role else {}
    response = post_json(shared_api, url, body, headers)
    assert response.status_code == 422, response.text
    found = problems(response)
    if field is not None:
        assert [p["field"] for p in found] == [field]
    else:
        assert all(p["field"].startswith("defaults.") for p in found)
    assert SURROGATE not in response.text


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/api/v1/users", {"username": "short-pw", "password": "abc", "role": "viewer"}),
        ("/api/v1/auth/login", {"username": "viewer", "password": ""}),
    ],
)
def test_rejected_passwords_are_not_echoed(shared_api: Api, url: str, body: dict[str, Any]) -> None:
    response = post_json(shared_api, url, body, shared_api.auth("admin"))
    assert response.status_code == 422, response.text
    [problem] = problems(response)
    assert problem["field"] == "password"
    assert problem["value"] is None


@pytest.mark.parametrize("bound", ["since", "until"])
@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_time_bounds_outside_utc_range_are_422(shared_api: Api, bound: str, value: str) -> None:
    response = shared_api.client.get(
        "/api/v1/feedback", params={bound: value}, headers=shared_api.auth("viewer")
    )
    assert response.status_code == 422, response.text
    [problem] = problems(response)
    assert problem["field"] == bound


def test_time_bounds_with_an_offset_are_compared_in_utc(shared_api: Api) -> None:
    # the seeded feedback was written 2024-03-01T10:00:00+08:00 = 02:00 UTC
    def total(**params: str) -> int:
        response = shared_api.client.get(
            "/api/v1/feedback", params=params, headers=shared_api.auth("viewer")
        )
        assert response.status_code == 200, response.text
        return int(response.json()["total"])

    assert total(since="2024-03-01T09:59:00+08:00") == 1
    assert total(since="2024-03-01T10:01:00+08:00") == 0
    assert total(until="2024-03-01T02:01:00Z") == 1
    assert total(until="2024-03-01T01:59:00Z") == 0


# A row with a bad value is quarantined, naming the field, whatever the field's type.

VALID_ROW = {
    "customers": {"customer_id": "c-s"},
    "accounts": {"account_id": "a-s", "name": "Acme"},
    "contacts": {"contact_id": "k-s", "account_id": "a-s", "role": "user"},
    "projects": {"project_id": "p-s", "account_id": "a-s", "name": "Rollout"},
    "milestones": {"milestone_id": "m-s", "project_id": "p-s", "name": "Go-live"},
    "identities": {"customer_id": "c-s", "kind": "email", "value": "s@example.com"},
    "orders": {"order_id": "o-s", "customer_id": "c-s", "ordered_at": "2024-01-01", "amount": 9},
    "events": {"customer_id": "c-s", "event_type": "login", "occurred_at": "2024-01-01"},
    "subscriptions": {
        "subscription_id": "s-s",
        "customer_id": "c-s",
        "plan": "pro",
        "started_at": "2024-01-01",
    },
    "feedback": {"channel": "survey", "created_at": "2024-01-01", "text": "fine"},
}
FIELDS = [
    pytest.param(kind, spec_field.name, id=f"{kind}.{spec_field.name}:{spec_field.type}")
    for kind, spec in sorted(KINDS.items())
    for spec_field in spec.fields
]


def test_valid_rows_are_valid(fresh_api: Api) -> None:
    for kind, row in VALID_ROW.items():
        response = post_json(fresh_api, f"/api/v1/{kind}", {"rows": [row]}, fresh_api.auth("admin"))
        assert response.status_code == 200, response.text
        assert response.json()["quarantined"] == 0, response.json()


@pytest.mark.parametrize(("kind", "field"), FIELDS)
def test_lone_surrogate_in_any_field_quarantines_the_row(
    shared_api: Api, kind: str, field: str
) -> None:
    row = {**VALID_ROW[kind], field: f"x{SURROGATE}y"}
    response = post_json(shared_api, f"/api/v1/{kind}", {"rows": [row]}, shared_api.auth("admin"))
    assert response.status_code == 200, response.text
    summary = response.json()
    assert summary["quarantined"] == 1, summary
    [rejected] = summary["rejected"]
    assert rejected["row"] == 1
    assert field in {p["field"] for p in rejected["problems"]}, rejected
    assert SURROGATE not in response.text
