"""The import and export over HTTP, through the real app: an upload stores what the CLI stores,
readers download responses (texts masked for roles without personal data), roles that may not
are refused."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.surveys.imports import samples_qualtrics
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


# --- upload ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def qualtrics_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes]:
    folder = tmp_path_factory.mktemp("qualtrics")
    export = samples_qualtrics.write_csv(folder, numeric=True)
    return export.read_bytes(), samples_qualtrics.write_qsf(folder).read_bytes()


def _upload(web: Api, role: str, files: tuple[bytes, bytes], **data: str) -> Any:
    export, qsf = files
    return web.client.post(
        "/api/v1/surveys/import",
        files={
            "file": ("Delivery feedback.csv", export, "text/csv"),
            "definition": ("Delivery.qsf", qsf, "application/json"),
        },
        data=data,
        headers=web.auth(role),
    )


def test_an_upload_imports_like_the_cli_and_again_adds_nothing(
    web: Api, qualtrics_files: tuple[bytes, bytes]
) -> None:
    first = _upload(web, "analyst", qualtrics_files, survey="api-delivery")
    assert first.status_code == 200, first.text
    summary = first.json()
    assert (summary["tool"], summary["value_mode"], summary["survey_id"]) == (
        "qualtrics",
        "numeric",
        "api-delivery",
    )
    assert summary["file"] == "Delivery feedback.csv"  # the upload's own name
    assert summary["survey_created"] and summary["inserted"] == summary["responses_read"] > 0
    assert summary["excluded"] == {"preview": 1, "spam": 1}
    again = _upload(web, "admin", qualtrics_files, survey="api-delivery").json()
    assert (again["inserted"], again["unchanged"]) == (0, summary["inserted"])
    exported = web.client.get(
        "/api/v1/surveys/api-delivery/responses", headers=web.auth("agent")
    ).json()
    assert len(exported["responses"]) == summary["inserted"]
    assert {q["type"] for q in exported["questions"]} >= {"nps", "matrix", "multiple"}


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"tool": "typeform"}, "tool"),
        ({"columns": "{not json"}, "columns"),
        ({"columns": "[1, 2]"}, "columns"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"survey": "客户 调查"}, "survey"),
        ({"tool": "surveymonkey"}, "file"),  # the content is Qualtrics'
    ],
)
def test_bad_form_fields_are_422_naming_the_field(
    web: Api, qualtrics_files: tuple[bytes, bytes], data: dict[str, str], field: str
) -> None:
    response = _upload(web, "admin", qualtrics_files, **data)
    assert response.status_code == 422, response.text
    fields = [str(p.get("field") or p.get("loc")) for p in response.json()["detail"]]
    assert any(field in f for f in fields), response.text
    assert not any(f.startswith("--") for f in fields), response.text  # the API's own names


@pytest.mark.parametrize(
    ("name", "content"), [("empty.csv", b""), ("picture.png", b"\x89PNG\r\n\x1a\n\x00")]
)
def test_a_file_that_is_no_export_is_refused_with_a_reason(
    web: Api, name: str, content: bytes
) -> None:
    response = web.client.post(
        "/api/v1/surveys/import",
        files={"file": (name, content, "application/octet-stream")},
        headers=web.auth("admin"),
    )
    assert response.status_code in (400, 422), response.text
    [problem] = response.json()["detail"]
    assert problem["reason"]


@pytest.mark.parametrize("name", ["客户满意度" * 60 + ".csv", "a" * 300 + ".csv"])
def test_an_upload_under_a_name_no_disk_holds_is_still_read(
    web: Api, qualtrics_files: tuple[bytes, bytes], name: str
) -> None:
    """A file name longer than the disk allows (255 bytes) is the client's to choose: the
    upload is read under a shortened name with its extension, not refused with a 500."""
    export, _ = qualtrics_files
    response = web.client.post(
        "/api/v1/surveys/import",
        files={"file": (name, export, "text/csv")},
        data={"survey": "long-names"},
        headers=web.auth("admin"),
    )
    assert response.status_code == 200, response.text
    summary = response.json()
    assert summary["file"].endswith(".csv") and len(summary["file"].encode()) <= 200
    assert summary["file"][:4] in ("客户满意", "aaaa")
