"""The import's ``encoding`` and ``date_order`` form fields over HTTP (issue 13 trial, findings
4 and 9): what ``--encoding`` and ``--date-order`` do for the CLI, named as the API names them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.surveys.imports.test_reader_files import AMBIGUOUS, write_monkey
from tests.web.support import Api, build_api


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    built = build_api(tmp_path_factory.mktemp("reader-api") / "cxloop.db", seed=False)
    with built.client:
        yield built
    built.store.close()
    built.app.state.engine.dispose()


def _upload(web: Api, path: Path, **data: str) -> Any:
    return web.client.post(
        "/api/v1/surveys/import",
        files={"file": (path.name, path.read_bytes(), "text/csv")},
        data=data,
        headers=web.auth("admin"),
    )


def _days(web: Api, survey: str) -> list[str]:
    response = web.client.get(f"/api/v1/surveys/{survey}/responses", headers=web.auth("admin"))
    assert response.status_code == 200, response.text
    return sorted(r["submitted_at"][:10] for r in response.json()["responses"])


def test_date_order_and_encoding_fields_read_a_uk_western_export(web: Api, tmp_path: Path):
    path = write_monkey(tmp_path, AMBIGUOUS, encoding="cp1252", name="uk.csv")
    response = _upload(web, path, date_order="day-first", encoding="cp1252", survey="uk")
    assert response.status_code == 200, response.text
    summary = response.json()
    assert summary["inserted"] == 4
    assert not any("Windows-1252" in n for n in summary["notes"])  # named, not sniffed
    assert _days(web, "uk") == ["2022-09-05", "2022-09-06", "2022-09-07", "2022-09-08"]


def test_without_date_order_the_setting_reads_month_first_with_a_note(web: Api, tmp_path):
    path = write_monkey(tmp_path, AMBIGUOUS, encoding="cp1252", name="us.csv")
    response = _upload(web, path, survey="us")
    assert response.status_code == 200, response.text
    assert any("month-first" in n for n in response.json()["notes"])
    assert _days(web, "us")[0] == "2022-05-09"


@pytest.mark.parametrize(
    ("data", "field"),
    [({"encoding": "klingon-8"}, "encoding"), ({"date_order": "dmy"}, "date_order")],
)
def test_bad_encoding_or_date_order_is_422_naming_the_field(
    web: Api, tmp_path: Path, data: dict[str, str], field: str
):
    response = _upload(web, write_monkey(tmp_path, AMBIGUOUS), **data)
    assert response.status_code == 422, response.text
    fields = [str(p.get("field") or p.get("loc")) for p in response.json()["detail"]]
    assert any(field in f for f in fields), response.text
    assert not any(f.startswith("--") for f in fields), response.text
