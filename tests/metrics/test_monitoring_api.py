"""``/api/v1/metrics/targets|alerts|accounts``: analysts write, viewers read, and errors name
field, value and reason."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cxloop import api
from tests.web.support import Api, build_api

ROWS = [
    {
        "feedback_id": f"m-{i}",
        "channel": "survey",
        "account_id": "A1",
        "created_at": f"2026-05-{1 + i:02d}T10:00:00+00:00",
        "nps": [10, 10, 9, 3, 8, 2][i],
    }
    for i in range(6)
]


@pytest.fixture(scope="module")
def monitoring_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    built = build_api(tmp_path_factory.mktemp("monitoring") / "cxloop.db", seed=False)
    assert api.import_records(built.store, "feedback", ROWS).inserted == len(ROWS)
    with built.client:
        yield built
    built.store.close()
    built.app.state.engine.dispose()


def test_analyst_sets_targets_viewer_reads_status(monitoring_api: Api) -> None:
    client = monitoring_api.client
    body = {"targets": [{"metric": "nps", "slice": {"channel": "survey"}, "target": 30}]}
    denied = client.put("/api/v1/metrics/targets", json=body, headers=monitoring_api.auth("viewer"))
    assert denied.status_code == 403, denied.text
    stored = client.put(
        "/api/v1/metrics/targets", json=body, headers=monitoring_api.auth("analyst")
    )
    assert stored.status_code == 200, stored.text
    assert stored.json()[0]["slice"] == {"channel": "survey"}
    listed = client.get("/api/v1/metrics/targets", headers=monitoring_api.auth("viewer"))
    assert [t["target"] for t in listed.json()] == [30.0]
    status = client.get(
        "/api/v1/metrics/targets/status", params={"min_n": 5}, headers=monitoring_api.auth("viewer")
    )
    assert status.status_code == 200, status.text
    [row] = status.json()["rows"]
    assert (row["n"], row["estimate"]) == (6, pytest.approx(100 * (3 - 2) / 6))
    assert row["status"] == "not_significant_off" and status.json()["method"]


def test_bad_target_is_422_naming_field_value_and_reason(monitoring_api: Api) -> None:
    body = {"targets": [{"metric": "nps", "target": 300}]}
    response = monitoring_api.client.put(
        "/api/v1/metrics/targets", json=body, headers=monitoring_api.auth("admin")
    )
    assert response.status_code == 422, response.text
    [problem] = response.json()["detail"]
    assert problem["field"].startswith("targets.0") and "outside" in problem["reason"]


def test_scan_then_list_and_accounts(monitoring_api: Api) -> None:
    client = monitoring_api.client
    assert (
        client.post(
            "/api/v1/metrics/alerts/scan", headers=monitoring_api.auth("viewer")
        ).status_code
        == 403
    )
    scan = client.post("/api/v1/metrics/alerts/scan", headers=monitoring_api.auth("analyst"))
    assert scan.status_code == 200, scan.text
    alerts = client.get(
        "/api/v1/metrics/alerts", params={"status": "open"}, headers=monitoring_api.auth("viewer")
    )
    assert alerts.status_code == 200 and len(alerts.json()) == scan.json()["found"]
    bad = client.get(
        "/api/v1/metrics/alerts", params={"status": "gone"}, headers=monitoring_api.auth("viewer")
    )
    assert bad.status_code == 422
    accounts = client.get(
        "/api/v1/metrics/accounts",
        params={"weights": "user=1"},
        headers=monitoring_api.auth("viewer"),
    )
    assert accounts.status_code == 200, accounts.text
    assert accounts.json()["weights"] == {"user": 1.0}
    refused = client.get(
        "/api/v1/metrics/accounts",
        params={"weights": "user=x"},
        headers=monitoring_api.auth("viewer"),
    )
    assert refused.status_code == 422 and refused.json()["detail"][0]["value"] == "user=x"


def test_unknown_slice_value_is_422_with_close_matches_and_status_names_its_period(
    monitoring_api: Api,
) -> None:
    client, analyst = monitoring_api.client, monitoring_api.auth("analyst")
    typo = {"targets": [{"metric": "nps", "slice": {"channel": "survy"}, "target": 0}]}
    refused = client.put("/api/v1/metrics/targets", json=typo, headers=analyst)
    assert refused.status_code == 422, refused.text
    assert "targets[0].slice.channel" in refused.text and "close matches: survey" in refused.text
    monthly = {"targets": [{"metric": "nps", "period": "month", "target": 0}]}
    assert client.put("/api/v1/metrics/targets", json=monthly, headers=analyst).is_success
    status = client.get(
        "/api/v1/metrics/targets/status", params={"min_n": 1}, headers=analyst
    ).json()
    [row] = [r for r in status["rows"] if r["period"] == "month"]
    assert row["period_label"] == "2026-05" and row["n"] == 6
    assert row["note"].startswith("status for 2026-05, the last complete month in the data")
    dated = client.get(
        "/api/v1/metrics/targets/status",
        params={"min_n": 1, "as_of": "2026-05-04T00:00:00"},
        headers=analyst,
    ).json()
    [row] = [r for r in dated["rows"] if r["period"] == "month"]
    assert row["period_label"] == "2026-04" and row["status"] == "no_data"
