"""What an imported survey shows and downloads: personal data inside answers masked wherever the
answer is shown (feedback text, ``answer.*`` attributes, stored records, a response id that is
an e-mail), CSV cells a spreadsheet would run as formulas defanged, downloads of Chinese survey
ids, and API errors that name the API's own form fields instead of CLI options.

The export is a plain CSV read through a column mapping whose response id is the e-mail column
(a shape users really have: an NPS list keyed by customer e-mail), with an e-mail, a Chinese
mobile and formula-like texts in its comments."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from tests.surveys.imports import samples_qualtrics
from tests.surveys.imports.conftest import ImportStore, import_cli, import_summary, run_cli
from tests.web.support import Api, build_api

MAIL = "hans.mueller@example.de"
MOBILE = "13912345678"
ROWS = [  # customer e-mail (also the response id), score, day, comment
    ("c0@example.com", "10", "2024-02-01", f"Mail mich: {MAIL}"),
    ("c1@example.com", "9", "2024-02-02", f"客服电话 {MOBILE}"),
    ("c2@example.com", "0", "2024-02-03", '=HYPERLINK("http://evil","点我")'),
    ("c3@example.com", "7", "2024-02-04", "+1 to the above"),
    ("c4@example.com", "8", "2024-02-05", "@team please fix"),
    ("c5@example.com", "6", "2024-02-06", "-5 stars, meh"),
]
FORMULAS = {row[3] for row in ROWS[2:]}
MAPPING = {
    "id_column": "customer_email",
    "time_column": "date",
    "email_column": "customer_email",
    "questions": [
        {"column": "score", "id": "nps", "type": "nps", "text": "推荐的可能性？"},
        {"column": "comment", "id": "why", "type": "text", "text": "还有什么想说的？"},
    ],
}
FILE_NAME = "门店反馈.csv"


def _export_bytes() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["customer_email", "score", "date", "comment"])
    writer.writerows(ROWS)
    return out.getvalue().encode("utf-8")


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Api, str]]:
    """The app with the export imported through the API; yields it and the survey's id."""
    built = build_api(tmp_path_factory.mktemp("privacy-downloads") / "cxloop.db", seed=False)
    with built.client:
        response = built.client.post(
            "/api/v1/surveys/import",
            files={"file": (FILE_NAME, _export_bytes(), "text/csv")},
            data={"tool": "wenjuan", "columns": json.dumps(MAPPING)},
            headers=built.auth("analyst"),
        )
        assert response.status_code == 200, response.text
        summary = response.json()
        assert summary["inserted"] == len(ROWS) and summary["quarantined"] == 0, summary
        yield built, summary["survey_id"]
    built.store.close()
    built.app.state.engine.dispose()


def _feedback(api: Api, role: str) -> list[dict[str, Any]]:
    response = api.client.get("/api/v1/feedback?limit=50", headers=api.auth(role))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    assert len(items) == len(ROWS)
    return items


# --- 1. answers copied into feedback attributes ------------------------------------------------


@pytest.mark.parametrize(
    ("role", "masked"), [("admin", False), ("agent", False), ("analyst", True), ("viewer", True)]
)
def test_answer_attributes_are_masked_like_the_feedback_text(
    web: tuple[Api, str], role: str, masked: bool
) -> None:
    api, _ = web
    items = _feedback(api, role)
    shown = json.dumps(items, ensure_ascii=False)
    assert (MAIL in shown) is not masked
    assert (MOBILE in shown) is not masked
    by_score = {item["nps"]: item for item in items}
    mail_item, phone_item = by_score[10], by_score[9]
    assert mail_item["attributes"]["answer.why"] == mail_item["text"]  # the same words alike
    assert phone_item["attributes"]["answer.why"] == phone_item["text"]
    if masked:
        assert mail_item["text"] == "Mail mich: h***@example.de"
        assert phone_item["attributes"]["answer.why"] == "客服电话 139****5678"
        assert phone_item["attributes"]["answer.nps"] == "9"  # non-personal values untouched


def test_one_feedback_read_by_id_masks_its_answer_attributes(web: tuple[Api, str]) -> None:
    api, _ = web
    [item] = [i for i in _feedback(api, "admin") if i["nps"] == 10]
    one = api.client.get(f"/api/v1/feedback/{item['feedback_id']}", headers=api.auth("viewer"))
    assert one.status_code == 200, one.text
    assert one.json()["attributes"]["answer.why"] == "Mail mich: h***@example.de"


def test_stored_feedback_records_mask_text_and_answers_for_roles_without_pii(
    web: tuple[Api, str],
) -> None:
    from cxloop.ingest import service as ingest_service

    api, _ = web
    with api.store.sessions() as session:
        masked, _ = ingest_service.browse(session=session, kind="feedback", filters={})
        full, _ = ingest_service.browse(
            session=session, kind="feedback", filters={}, reveal_pii=True
        )
    shown = json.dumps(masked, ensure_ascii=False, default=str)
    assert MAIL not in shown and MOBILE not in shown
    assert "Mail mich: h***@example.de" in shown
    assert {r["attributes"]["answer.why"] for r in masked} >= {"客服电话 139****5678"}
    assert MAIL in json.dumps(full, ensure_ascii=False, default=str)


# --- 10. a response id that is personal data --------------------------------------------------


@pytest.mark.parametrize("role", ["analyst", "viewer"])
def test_response_ids_that_are_e_mails_are_masked_for_roles_without_pii(
    web: tuple[Api, str], role: str
) -> None:
    api, survey = web
    body = api.client.get(f"/api/v1/surveys/{survey}/responses", headers=api.auth(role)).json()
    ids = [r["response_id"] for r in body["responses"]]
    assert ids == ["c***@example.com"] * len(ROWS)
    assert [r["answers"]["nps"] for r in body["responses"]] == [int(r[1]) for r in ROWS]
    download = api.client.get(
        f"/api/v1/surveys/{survey}/responses?format=csv", headers=api.auth(role)
    )
    assert "c0@example.com" not in download.text and MAIL not in download.text


def test_an_agent_sees_the_response_ids_as_imported(web: tuple[Api, str]) -> None:
    api, survey = web
    body = api.client.get(f"/api/v1/surveys/{survey}/responses", headers=api.auth("agent")).json()
    assert [r["response_id"] for r in body["responses"]] == [r[0] for r in ROWS]


# --- 3. a download named after a Chinese survey id --------------------------------------------


@pytest.mark.parametrize("role", ["analyst", "viewer"])
def test_csv_download_of_a_chinese_survey_id_names_the_file_in_utf8(
    web: tuple[Api, str], role: str
) -> None:
    api, survey = web
    assert not survey.isascii()
    response = api.client.get(
        f"/api/v1/surveys/{survey}/responses?format=csv", headers=api.auth(role)
    )
    assert response.status_code == 200, response.text
    disposition = response.headers["content-disposition"]
    assert disposition.isascii()
    fallback, encoded = disposition.split("; filename*=UTF-8''")
    assert unquote(encoded) == f"{survey}-responses.csv"
    assert fallback.startswith('attachment; filename="') and fallback.endswith('-responses.csv"')
    assert len(list(csv.DictReader(io.StringIO(response.text)))) == len(ROWS)


# --- 2. formula injection ---------------------------------------------------------------------


def _defanged(cells: list[str]) -> None:
    """Each formula-like answer is in ``cells`` with a ``'`` in front, never bare."""
    for formula in FORMULAS:
        assert "'" + formula in cells, (formula, cells)
        assert formula not in cells


def test_the_api_csv_download_defangs_formulas_and_keeps_scores_numbers(
    web: tuple[Api, str],
) -> None:
    api, survey = web
    response = api.client.get(
        f"/api/v1/surveys/{survey}/responses?format=csv", headers=api.auth("admin")
    )
    rows = list(csv.DictReader(io.StringIO(response.text)))
    _defanged([r["why"] for r in rows])
    assert [r["nps"] for r in rows] == [r[1] for r in ROWS]


def test_cli_csv_outputs_defang_formulas(tmp_path: Path, store: ImportStore) -> None:
    export = tmp_path / FILE_NAME
    export.write_bytes(_export_bytes())
    mapping = tmp_path / "columns.json"
    mapping.write_text(json.dumps(MAPPING), encoding="utf-8")
    summary = import_summary(store, export, "--tool", "wenjuan", "--columns", mapping)
    survey = summary["survey_id"]
    responses = run_cli(store, "surveys", "responses", survey, "--format", "csv")
    assert responses.code == 0, responses.output
    rows = list(csv.DictReader(io.StringIO(responses.stdout.lstrip("\ufeff"))))
    _defanged([r["why"] for r in rows])
    assert [r["nps"] for r in rows] == [r[1] for r in ROWS]
    listed = run_cli(store, "feedback", "list", "--all", "--format", "csv")
    assert listed.code == 0, listed.output
    items = list(csv.DictReader(io.StringIO(listed.stdout)))
    _defanged([r["text"] for r in items])
    assert sorted(int(r["nps"]) for r in items) == sorted(int(r[1]) for r in ROWS)


# --- 13. API errors speak the API's words ------------------------------------------------------


@pytest.fixture(scope="module")
def qualtrics_numeric(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return samples_qualtrics.write_csv(tmp_path_factory.mktemp("q"), numeric=True).read_bytes()


@pytest.mark.parametrize(
    ("data", "field"),
    [({"timezone": "Mars/Olympus"}, "timezone"), ({"survey": "客户 调查"}, "survey")],
)
def test_api_errors_name_form_fields_not_cli_options(
    web: tuple[Api, str], qualtrics_numeric: bytes, data: dict[str, str], field: str
) -> None:
    api, _ = web
    response = api.client.post(
        "/api/v1/surveys/import",
        files={"file": ("Delivery.csv", qualtrics_numeric, "text/csv")},
        data=data,
        headers=api.auth("admin"),
    )
    assert response.status_code == 422, response.text
    [problem] = response.json()["detail"]
    assert problem["field"] == field
    assert "--" not in problem["reason"]


def test_the_cli_still_names_its_options(tmp_path: Path, store: ImportStore) -> None:
    export = tmp_path / "Delivery.csv"
    export.write_bytes(_export_bytes())
    code, output = import_cli(store, export, "--timezone", "Mars/Olympus")
    assert code == 2
    assert "--timezone" in output


def test_api_import_notes_name_the_definition_field(
    web: tuple[Api, str], qualtrics_numeric: bytes
) -> None:
    api, _ = web
    response = api.client.post(
        "/api/v1/surveys/import",
        files={"file": ("Delivery.csv", qualtrics_numeric, "text/csv")},
        data={"survey": "delivery-numeric"},
        headers=api.auth("admin"),
    )
    assert response.status_code == 200, response.text
    notes = response.json()["notes"]
    assert any('the "definition" field' in n for n in notes), notes
    assert not any("--definition" in n for n in notes), notes


def test_quarantine_export_defangs_the_rejected_values(tmp_path: Path, store: ImportStore) -> None:
    export = tmp_path / "answers.csv"
    bad = "=1+cmd|' /C calc'!A0"
    export.write_text(
        "customer_email,score,date,comment\n"
        f'c9@example.com,"{bad}",2024-03-01,+86 138 0013 8000\n'
        "c8@example.com,8,2024-03-02,fine\n",
        encoding="utf-8",
    )
    mapping = tmp_path / "columns.json"
    mapping.write_text(json.dumps(MAPPING), encoding="utf-8")
    summary = import_summary(store, export, "--tool", "wenjuan", "--columns", mapping)
    assert summary["quarantined"] == 1, summary
    out = tmp_path / "rejected.csv"
    run = run_cli(store, "quarantine", "export", out)
    assert run.code == 0, run.output
    [row] = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert row["score"] == "'" + bad
    assert row["comment"] == "+86 138 0013 8000"  # a phone number computes nothing: kept
