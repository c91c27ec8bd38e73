"""The import and export over HTTP, through the real app: an upload stores what the CLI stores,
readers download responses (texts masked for roles without personal data), roles that may not
are refused."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.surveys.imports.export_support import SURVEY, fill
from tests.web.support import Api, build_api

PHONE = "13812345678"


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    built = build_api(tmp_path_factory.mktemp("imports-api") / "cxloop.db", seed=False)
    fill(built.store.settings)
    with built.client:
        yield built
    built.store.close()
    built.app.state.engine.dispose()


@pytest.mark.parametrize(
    ("role", "masked"), [("admin", False), ("agent", False), ("analyst", True), ("viewer", True)]
)
def test_every_reader_gets_responses_with_pii_masked_by_role(
    web: Api, role: str, masked: bool
) -> None:
    response = web.client.get(f"/api/v1/surveys/{SURVEY}/responses", headers=web.auth(role))
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"survey", "questions", "responses"}
    full = next(r for r in body["responses"] if r["response_id"] == "R_2b")
    assert (PHONE in full["answers"]["why"]) is not masked
    assert full["answers"]["why"].startswith("店员很好")
    assert full["answers"]["liked"] == ["价格", "速度"]


def test_the_api_and_the_cli_export_the_same_answers(web: Api, tmp_path: Path) -> None:
    from tests.surveys.imports.conftest import ImportStore, export_json

    database = Path(web.store.settings.database_url.removeprefix("sqlite:///"))
    cli = export_json(ImportStore(database, web.store.settings), SURVEY)
    api = web.client.get(f"/api/v1/surveys/{SURVEY}/responses", headers=web.auth("admin"))
    assert api.json() == cli


def test_csv_download_is_an_attachment_with_one_row_per_response(web: Api) -> None:
    response = web.client.get(
        f"/api/v1/surveys/{SURVEY}/responses?format=csv&completed_only=true",
        headers=web.auth("viewer"),
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert f'filename="{SURVEY}-responses.csv"' in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 3 and all(r["completed"] == "true" for r in rows)
    assert PHONE not in response.text  # a viewer's download is masked too


@pytest.mark.parametrize(
    ("query", "status"), [("?format=xml", 422), ("?completed_only=maybe", 422)]
)
def test_bad_query_values_are_422(web: Api, query: str, status: int) -> None:
    response = web.client.get(
        f"/api/v1/surveys/{SURVEY}/responses{query}", headers=web.auth("admin")
    )
    assert response.status_code == status, response.text


def test_an_unknown_survey_is_404_naming_it(web: Api) -> None:
    response = web.client.get("/api/v1/surveys/none-such/responses", headers=web.auth("agent"))
    assert response.status_code == 404
    assert "none-such" in response.json()["detail"][0]["reason"]


@pytest.mark.parametrize("role", ["agent", "viewer"])
def test_readers_may_not_import(web: Api, role: str) -> None:
    response = web.client.post(
        "/api/v1/surveys/import",
        files={"file": ("answers.csv", b"ResponseId,Q1\nR_1,9\n", "text/csv")},
        headers=web.auth(role),
    )
    assert response.status_code == 403, response.text
    assert role in response.json()["detail"][0]["reason"]
