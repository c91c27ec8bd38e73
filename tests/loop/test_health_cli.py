"""``cxloop loop health`` (in-process) and ``GET /api/v1/loop/health`` on the scripted week of
``health_support``: the same computation, a table a person reads, JSON a program reads, and bad
options ending in one sentence (exit 2), never a traceback.

Both run on the real clock, so only the numbers that do not depend on "now" are asserted (the
week's cases are all resolved, closed or open; an open case's SLA is judged against now)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.loop.health_support import scripted_store
from tests.surveys.imports.conftest import CliRun, ImportStore, run_cli
from tests.web.support import Api, build_api

PERIOD = ("--since", "2026-12-07", "--until", "2026-12-10")


@pytest.fixture(scope="module")
def scripted(tmp_path_factory: pytest.TempPathFactory) -> ImportStore:
    folder: Path = tmp_path_factory.mktemp("health-cli")
    settings, _ = scripted_store(folder)
    return ImportStore(database=folder / "health.db", settings=settings)


@pytest.fixture(scope="module")
def web(scripted: ImportStore) -> Iterator[Api]:
    api = build_api(scripted.database, seed=False)
    yield api
    api.store.close()


def health(scripted: ImportStore, *args: str) -> CliRun:
    return run_cli(scripted, "loop", "health", *args)


def rows(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["group"]: r for r in body["rows"]}


def test_the_table_shows_each_group_and_says_too_few(scripted: ImportStore) -> None:
    run = health(scripted, "--by", "team", *PERIOD, "--min-n", "3")
    assert run.code == 0, run.output
    out = run.stdout
    assert "loop health · cases opened 2026-12-07 00:00 … 2026-12-11 00:00 UTC" in out
    assert "business hours of the SLA calendar (CN holidays, Asia/Shanghai" in out
    for group in ("(all)", "east", "客服一组"):
        assert group in out
    lines = {line.split("│")[1].strip(): line for line in out.splitlines() if "│" in line}
    assert "5.0 · 14.6 (n 3)" in lines["resolution h, business (median · p90)"]
    assert "too few (n 2)" in lines["first response h, business (median · p90)"]
    assert "33 % (1/3)" in lines["reopened / resolved"]
    assert "too few (1/2)" in lines["detractors recovered"]
    assert "does the loop keep customers? cannot compare churn" in out


def test_json_is_the_apis_answer(scripted: ImportStore, web: Api) -> None:
    run = health(scripted, "--by", "priority", *PERIOD, "--format", "json")
    assert run.code == 0, run.output
    printed = json.loads(run.stdout)
    response = web.client.get(
        "/api/v1/loop/health",
        params={"by": "priority", "since": "2026-12-07", "until": "2026-12-10"},
        headers=web.auth("viewer"),
    )
    assert response.status_code == 200, response.text
    served = response.json()
    assert (served["by"], served["min_n"], served["since"]) == ("priority", 10, printed["since"])
    for group in ("(all)", "p2", "p3"):
        for measure in ("cases", "resolution_hours", "reopen", "verification", "recovery"):
            assert rows(served)[group][measure] == rows(printed)[group][measure], (group, measure)
    assert rows(served)["p2"]["resolution_hours"]["median"] == 10.5  # A 4 h, B 17 h
    assert rows(served)["(all)"]["recovery"]["rate"] == 0.5


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--by", "region"), "'region' is not one of"),
        (("--since", "2026-13-01"), "since"),
        (("--since", "2026-12-10", "--until", "2026-12-01"), "since"),
        (("--min-n", "0"), "--min-n"),
    ],
)
def test_bad_options_end_in_a_sentence(
    scripted: ImportStore, args: tuple[str, ...], said: str
) -> None:
    run = health(scripted, *args)
    assert run.code == 2, run.output
    assert "Traceback" not in run.output
    assert said in run.stderr


def test_the_api_refuses_a_bad_dimension_naming_it(web: Api) -> None:
    response = web.client.get("/api/v1/loop/health?by=region", headers=web.auth("analyst"))
    assert response.status_code == 422
    assert any("by" in str(p["field"]) for p in response.json()["detail"])
