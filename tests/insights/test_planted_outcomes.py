"""Issue 11's done-when test: a company with planted effects, exported as real files (Chinese
headers, slash dates, a subscriptions file with no ``renewed`` column), imported through the
door with text enrichment, and read back by ``cxloop insights outcomes`` in a real process:
every planted effect inside its reported interval, the confounded topic's crude effect removed
by adjustment, the null topic not significant. Plus the guards: data conditions end in a
sentence and exit code 2, never a traceback."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cxloop import engines
from cxloop.api import connect, import_file
from cxloop.config import Settings
from cxloop.errors import Invalid
from cxloop.insights import profiles, voice_reports
from cxloop.metrics.filters import Scope
from tests.insights.planted_company import (
    DELIVERY_CHURN,
    PACKAGING_PRAISE_SPEND,
    SERVICE_PRAISE_CHURN,
    PlantedCompany,
    exposure,
    generate,
)
from tests.web.support import build_api

pytestmark = pytest.mark.slow  # spawns cxloop processes; ~45 s on a quiet 2-core machine


def _import(
    folder: Path, company: PlantedCompany, kinds: tuple[str, ...], *, enrich: bool = True
) -> Settings:
    settings = Settings(database_url=f"sqlite:///{folder / 'cxloop.db'}", enrich_on_import=enrich)
    store = connect(settings=settings)
    try:
        for kind in kinds:
            summary = import_file(store, kind, company.files[kind])
            assert summary.quarantined == 0 and summary.inserted == summary.read, summary
    finally:
        store.close()
    return settings


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, PlantedCompany]:
    """3,000 customers, ~4,500 feedback rows enriched on import (about 20 s)."""
    folder = tmp_path_factory.mktemp("planted")
    company = generate(folder / "files")
    _import(folder, company, ("customers", "feedback", "orders", "subscriptions"))
    return folder, company


def _cxloop(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cxloop", *args],
        env={
            **os.environ,
            "CXLOOP_DATABASE_URL": f"sqlite:///{folder / 'cxloop.db'}",
            "COLUMNS": "200",
        },
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _outcomes(folder: Path, *args: str) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    done = _cxloop(folder, "insights", "outcomes", *args, "--boot", "100", "--format", "json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    return {row["exposure"]: row for row in report["rows"]}, report


def test_planted_churn_effects_are_recovered_from_an_export_without_renewal(
    planted: tuple[Path, PlantedCompany],
) -> None:
    folder, _ = planted
    rows, report = _outcomes(folder, "--outcome", "churn")
    complaint = rows[exposure("delivery_complaint")]
    assert complaint["exposure_kind"] == "complaint" and complaint["significant"]
    assert complaint["ci_low"] < DELIVERY_CHURN < complaint["ci_high"]
    praise = rows[exposure("service_praise")]
    assert praise["exposure_kind"] == "praise" and praise["significant"]
    assert praise["ci_low"] < SERVICE_PRAISE_CHURN < praise["ci_high"]
    # said by the segment that churns more for other reasons: crude says it matters, the
    # estimate adjusted for segment finds nothing
    confounded = rows[exposure("price_complaint")]
    assert confounded["crude_ci_low"] > 0.04
    assert confounded["ci_low"] < 0 < confounded["ci_high"] and not confounded["significant"]
    assert abs(confounded["estimate"]) < confounded["crude"] / 2
    null = rows[exposure("app_complaint")]
    assert null["ci_low"] < 0 < null["ci_high"] and not null["significant"]
    assert rows["flag: churn_intent"]["exposure_kind"] == "flag"
    assert rows["intent: complaint"]["exposure_kind"] == "intent"
    assert rows["detractor vs promoter"]["exposure_kind"] == "nps group"
    assert any("renewal unknown for" in c for c in report["caveats"])


def test_planted_spend_of_packaging_praisers_is_recovered(
    planted: tuple[Path, PlantedCompany],
) -> None:
    folder, _ = planted
    rows, report = _outcomes(folder, "--outcome", "spend", "--window", "90")
    praise = rows[exposure("packaging_praise")]
    assert praise["ci_low"] < PACKAGING_PRAISE_SPEND < praise["ci_high"] and praise["significant"]
    null = rows[exposure("app_complaint")]
    assert null["ci_low"] < 0 < null["ci_high"] and not null["significant"]
    assert report["details"]["window_days"] == 90


def test_unknown_renewal_is_churn_unless_another_subscription_follows(
    planted: tuple[Path, PlantedCompany],
) -> None:
    folder, company = planted
    backend = engines.store_backend(Settings(database_url=f"sqlite:///{folder / 'cxloop.db'}"))
    try:
        end = profiles.data_end(backend)
        assert end is not None
        state = profiles.subscription_state(backend, end)
    finally:
        backend.disconnect()
    assert state["churned"].dtype == bool
    # every ended subscription without a follower is churn; plan switchers are active members
    assert int(state["churned"].sum()) == company.churned
    assert int(state["active"].sum()) == company.n_customers - company.churned


def test_data_conditions_end_in_a_sentence_and_exit_code_2(
    planted: tuple[Path, PlantedCompany], tmp_path: Path
) -> None:
    folder, company = planted
    empty = tmp_path / "empty"
    empty.mkdir()
    assert _cxloop(empty, "init").returncode == 0
    voice_only = tmp_path / "voice-only"
    voice_only.mkdir()
    _import(voice_only, company, ("feedback",), enrich=False)  # refused before any text
    for where, args, sentence in (
        (folder, ["--window", "400"], "no customer has a full 400-day follow-up window"),
        (empty, [], "the store has no feedback, orders or events yet"),
        (voice_only, [], "no subscriptions of known customers"),
    ):
        done = _cxloop(where, "insights", "outcomes", *args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert sentence in done.stderr, (args, done.stderr)
        assert "Traceback" not in done.stderr
    # the same refusals in process (the CLI maps each Invalid to a line and exit code 2)
    planted_store = Settings(database_url=f"sqlite:///{folder / 'cxloop.db'}")
    voice_store = Settings(database_url=f"sqlite:///{voice_only / 'cxloop.db'}")
    for settings, call, sentence in (
        (planted_store, {"scope": Scope(where=(("segment", "vip"),))}, "matches no stored"),
        (planted_store, {"scope": Scope(since=dt.datetime(2026, 1, 1))}, "no feedback in scope"),
        (voice_store, {"outcome": "spend"}, "no counted orders of known customers"),
    ):
        with pytest.raises(Invalid, match=sentence):
            voice_reports.outcomes(settings=settings, **call)
    with pytest.raises(Invalid, match="no subscriptions of known customers"):
        voice_reports.churner_topics(settings=voice_store)


def test_the_api_takes_the_shared_scope_and_says_why_nothing_matches(
    planted: tuple[Path, PlantedCompany], tmp_path: Path
) -> None:
    folder, _ = planted
    copy = tmp_path / "api.db"
    shutil.copyfile(folder / "cxloop.db", copy)
    api = build_api(copy, seed=False)
    try:
        url = "/api/v1/insights/outcomes"
        budget = api.client.get(
            url,
            params={"outcome": "spend", "where": "segment=budget", "n_boot": 20},
            headers=api.auth("viewer"),
        )
        assert budget.status_code == 200, budget.text
        body = budget.json()
        assert body["details"]["scope"] == "segment=budget"
        assert {"complaint", "praise", "intent", "flag"} <= {
            row["exposure_kind"] for row in body["rows"]
        }
        wrong = api.client.get(url, params={"where": "segment=vip"}, headers=api.auth("viewer"))
        assert wrong.status_code == 422 and "vip" in wrong.text
        late = api.client.get(
            "/api/v1/insights/churner-topics",
            params={"since": "2026-01-01"},
            headers=api.auth("viewer"),
        )
        assert late.status_code == 422 and "no feedback in scope" in late.text
    finally:
        api.store.close()
