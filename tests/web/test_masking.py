"""Personal data per kind: masked for analysts and viewers, company names left alone."""

from __future__ import annotations

from cxloop import api
from tests.web.support import Api


def test_quarantined_rows_show_pii_masked_to_analysts_and_clear_to_admins(fresh_api: Api) -> None:
    row = {
        "customer_id": "c-9",
        "email": "zhang.wei@example.com",
        "phone": "13800138000",
        "姓名": "张伟",
        "birth_date": "not a date",
    }
    assert api.import_records(fresh_api.store, "customers", [row]).quarantined == 1
    seen = {}
    for role in ("admin", "analyst"):
        response = fresh_api.client.get(
            "/api/v1/quarantine?kind=customers", headers=fresh_api.auth(role)
        )
        assert response.status_code == 200
        seen[role] = response.json()[0]
    assert seen["admin"]["raw"]["email"] == "zhang.wei@example.com"
    assert seen["admin"]["value"] == "not a date"
    masked = seen["analyst"]
    assert masked["raw"]["email"] == "z***@example.com"
    assert masked["raw"]["姓名"] == "张**"
    assert "13800138000" not in str(masked)
    assert masked["field"] == "birth_date" and masked["value"] != "not a date"
    assert masked["raw"]["customer_id"] == "c-9"  # identifiers that are not PII stay readable


def test_company_and_project_names_are_not_masked(fresh_api: Api) -> None:
    api.import_records(fresh_api.store, "accounts", [{"account_id": "A1", "name": "华星科技"}])
    response = fresh_api.client.get("/api/v1/accounts", headers=fresh_api.auth("viewer"))
    assert response.json()["items"][0]["name"] == "华星科技"
