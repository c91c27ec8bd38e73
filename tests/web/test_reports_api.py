"""Reports over the API and the /reports page on the demo store: downloads hold the view's API
numbers for the same query string, for every role; schedules are for list managers only (API,
page form); bad values are answered in words."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

import pytest
from openpyxl import load_workbook

from tests.reports.pdf_text import pdf_text
from tests.web.overview_support import ROLES, app_on, demo_copy, log_in
from tests.web.support import Api

QUERY = "since=2026-03&until=2026-10&metric=csat&where=region%3D上海"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    found = app_on(demo_copy(tmp_path_factory, "reports-api"))
    yield found
    found.store.close()


@pytest.mark.parametrize("role", ROLES)
def test_journey_csv_holds_the_api_cells_for_every_role(served: Api, role: str) -> None:
    api = served.client.get(f"/api/v1/dashboard/journey?{QUERY}", headers=served.auth(role))
    assert api.status_code == 200
    got = served.client.get(
        f"/api/v1/reports/export/journey.csv?{QUERY}", headers=served.auth(role)
    )
    assert got.status_code == 200, got.text
    assert got.headers["content-type"].startswith("text/csv")
    assert "attachment" in got.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(got.content.decode("utf-8-sig"))))
    cells = api.json()["cells"]
    assert len(rows) == len(cells) > 0
    for row, cell in zip(rows, cells, strict=True):
        assert (row["journey_stage"] or None, row["touchpoint"] or None, int(row["n"])) == (
            cell["journey_stage"], cell["touchpoint"], cell["n"],
        )  # fmt: skip
        assert (float(row["score"]) if row["score"] else None) == cell["score"]


def test_overview_xlsx_tiles_equal_the_api(served: Api) -> None:
    query = "since=2026-03&until=2026-10"
    api = served.client.get(f"/api/v1/dashboard/overview?{query}", headers=served.auth("viewer"))
    got = served.client.get(
        f"/api/v1/reports/export/overview.xlsx?{query}", headers=served.auth("viewer")
    )
    assert got.status_code == 200
    book = load_workbook(io.BytesIO(got.content))
    assert {"tiles", "trends", "about"} <= set(book.sheetnames)
    sheet = book["tiles"]
    header = [c.value for c in sheet[1]]
    shown = [
        {h: c.value for h, c in zip(header, row, strict=True)} for row in sheet.iter_rows(min_row=2)
    ]
    tiles = api.json()["tiles"]
    # openpyxl writes 16 significant digits: the last bit of a double may differ
    assert [(r["metric"], r["n"], pytest.approx(r["score"], rel=1e-14)) for r in shown] == [
        (t["metric"], t["n"], t["score"]) for t in tiles
    ]
    about = {r[0].value: r[1].value for r in book["about"].iter_rows(min_row=2)}
    assert about["view"] == "overview" and about["since"] == "2026-03"


def test_bad_requests_are_answered_in_words(served: Api) -> None:
    client, auth = served.client, served.auth("viewer")
    assert client.get("/api/v1/reports/export/journey.csv").status_code == 401
    bad = client.get("/api/v1/reports/export/weather.csv", headers=auth)
    assert bad.status_code == 422 and "is not a view that exports" in bad.text
    bad = client.get("/api/v1/reports/export/journey.csv?where=region%3D火星", headers=auth)
    assert bad.status_code == 422 and "火星" in bad.json()["detail"][0]["value"]
    bad = client.get("/api/v1/reports/export/journey.pdf", headers=auth)
    assert bad.status_code == 422
    bad = client.get("/api/v1/reports/export/overview.csv?table=nope", headers=auth)
    assert bad.status_code == 422 and "table" in bad.text


def test_report_pdf_over_the_api(served: Api) -> None:
    got = served.client.get(
        "/api/v1/reports/render?format=pdf&lang=en&since=2026-03&until=2026-10",
        headers=served.auth("agent"),
    )
    assert got.status_code == 200 and got.headers["content-type"] == "application/pdf"
    assert "Customer experience report" in pdf_text(got.content)


def test_schedules_are_for_list_managers(served: Api) -> None:
    client = served.client
    body = {
        "name": "Weekly CX", "frequency": "weekly", "weekday": "mon", "query": QUERY,
        "recipients": ["lead@example.com"], "role": "viewer", "sections": ["journey"],
    }  # fmt: skip
    for role in ("viewer", "agent"):
        assert (
            client.post(
                "/api/v1/reports/schedules", json=body, headers=served.auth(role)
            ).status_code
            == 403
        )
        assert client.get("/api/v1/reports/schedules", headers=served.auth(role)).status_code == 403
    made = client.post("/api/v1/reports/schedules", json=body, headers=served.auth("analyst"))
    assert made.status_code == 201, made.text
    assert made.json()["when"] == "weekly mon 08:00"
    bad = client.post(
        "/api/v1/reports/schedules",
        json=body | {"weekday": "someday", "recipients": ["nobody"], "timezone": "Mars/Base"},
        headers=served.auth("admin"),
    )
    assert bad.status_code == 422
    assert {p["field"] for p in bad.json()["detail"]} == {"weekday", "recipients", "timezone"}
    nowhere = client.post(
        "/api/v1/reports/schedules", json=body | {"query": "where=region%3D火星"},
        headers=served.auth("admin"),
    )  # fmt: skip
    assert nowhere.status_code == 422 and nowhere.json()["detail"][0]["field"] == "where.region"
    listed = client.get("/api/v1/reports/schedules", headers=served.auth("admin")).json()
    assert [s["name"] for s in listed] == ["Weekly CX"]
    gone = client.delete(
        f"/api/v1/reports/schedules/{made.json()['id']}", headers=served.auth("admin")
    )
    assert gone.status_code == 204
    again = client.delete(
        f"/api/v1/reports/schedules/{made.json()['id']}", headers=served.auth("admin")
    )
    assert again.status_code == 404


def test_page_shows_the_schedule_form_only_to_list_managers(served: Api) -> None:
    client = served.client
    for role in ROLES:
        log_in(client, role)
        page = client.get("/reports?since=2026-03&lang=en")
        assert page.status_code == 200
        assert ('id="schedule-form"' in page.text) == (role in ("admin", "analyst"))
        assert "/api/v1/reports/export/journey.csv?since=2026-03" in page.text
    log_in(client, "viewer")
    form = {"name": "x", "frequency": "daily", "recipients": "a@example.com"}
    assert client.post("/reports/schedules", data=form).status_code == 403
    log_in(client, "analyst")
    crossed = client.post("/reports/schedules", data=form, headers={"Origin": "http://evil.test"})
    assert crossed.status_code == 403
    made = client.post(
        "/reports/schedules", data=form | {"query": "since=2026-03"}, follow_redirects=False
    )
    assert made.status_code == 303
    page = client.get("/reports")
    assert "a@example.com" in page.text and "since=2026-03" in page.text
    bad = client.post("/reports/schedules", data=form | {"at": "25:00", "timezone": "Mars/Base"})
    assert bad.status_code == 422 and "Mars/Base" in bad.text
    pdf = client.get("/reports/overview.pdf?since=2026-03&until=2026-10&sections=journey")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert client.get("/reports/overview.html?sections=weather").status_code == 422


def test_a_target_list_exports_its_members(served: Api) -> None:
    client, auth = served.client, served.auth("analyst")
    body = {"name": "vip-risk", "query": {"value_top_share": 0.1}}
    assert client.post("/api/v1/targets", json=body, headers=auth).status_code == 201
    refreshed = client.post("/api/v1/targets/vip-risk/refresh", headers=auth)
    assert refreshed.status_code == 200
    got = client.get("/api/v1/reports/export/target_list.csv?name=vip-risk", headers=auth)
    assert got.status_code == 200, got.text
    rows = list(csv.DictReader(io.StringIO(got.content.decode("utf-8-sig"))))
    assert len(rows) == refreshed.json()["members"] > 0
    assert "name" not in rows[0] and "email" not in rows[0]  # ids and facts, no contacts
    missing = client.get("/api/v1/reports/export/target_list.csv?name=nope", headers=auth)
    assert missing.status_code == 404


def test_page_names_a_bad_filter(served: Api) -> None:
    log_in(served.client, "viewer")
    page = served.client.get("/reports?since=yesterday-ish&lang=en")
    assert page.status_code == 422
    assert "since" in page.text and "yesterday-ish" in page.text
    page = served.client.get("/reports?where=region%3D火星&lang=en")
    assert page.status_code == 422 and "火星" in page.text


def test_an_analyst_cannot_schedule_a_report_with_personal_data(served: Api) -> None:
    """An analyst (no read_pii) would otherwise mail an agent's unmasked verbatims anywhere."""
    body = {"name": "PII", "frequency": "daily", "recipients": ["me@example.com"]}
    for role in ("agent", "admin"):
        refused = served.client.post(
            "/api/v1/reports/schedules", json=body | {"role": role},
            headers=served.auth("analyst"),
        )  # fmt: skip
        assert refused.status_code == 422, refused.text
        assert refused.json()["detail"][0]["field"] == "role"
    made = served.client.post(
        "/api/v1/reports/schedules", json=body | {"role": "agent"}, headers=served.auth("admin")
    )
    assert made.status_code == 201, made.text
    served.client.delete(
        f"/api/v1/reports/schedules/{made.json()['id']}", headers=served.auth("admin")
    )


def test_an_english_topics_download_and_report_name_topics_in_english(served: Api) -> None:
    auth = served.auth("viewer")
    api = served.client.get("/api/v1/dashboard/topics?lang=en", headers=auth).json()
    got = served.client.get("/api/v1/reports/export/topics.csv?lang=en", headers=auth)
    rows = list(csv.DictReader(io.StringIO(got.content.decode("utf-8-sig"))))
    assert [r["name"] for r in rows] == [t["name"] for t in api["topics"]]
    assert rows[0]["name"] == rows[0]["name_en"] != rows[0]["name_zh"]
    html = served.client.get("/api/v1/reports/render?lang=en&sections=topics", headers=auth).text
    first = rows[0]
    assert f"<td>{first['path']}</td><td>–</td><td>1</td><td>{first['name']}</td>" in html


def test_the_schedule_form_offers_only_the_roles_its_creator_may_render_as(served: Api) -> None:
    """An analyst (no read_pii) is offered only masked roles, as create_schedule allows; the
    weekday and role choices read in the page's language."""
    client = served.client

    def offered(html: str, name: str) -> list[str]:
        select = re.search(rf'<select id="s-{name}" name="{name}">(.*?)</select>', html, re.S)
        assert select, html[-2000:]
        return re.findall(r'<option value="([^"]+)"', select.group(1))

    log_in(client, "analyst")
    page = client.get("/reports?lang=en").text
    assert offered(page, "role") == ["viewer", "analyst"]
    assert '<option value="mon">Monday</option>' in page
    assert 'value="viewer">Viewer (masked)</option>' in page
    log_in(client, "admin")
    assert offered(client.get("/reports?lang=en").text, "role") == [
        "viewer", "analyst", "agent", "admin",
    ]  # fmt: skip
