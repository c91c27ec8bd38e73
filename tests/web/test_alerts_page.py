"""The alerts page over a real SQLite store: no alerts said in words; a scan by the page's
button (analysts and admins only) stores the NPS drop and the alert rules open its case, which
the page links; alerts, their cases and the targets' status equal the API's for every role."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from cxloop.feedback.models import Feedback
from cxloop.loop import alert_rules, rule_store
from cxloop.metrics import target_store
from cxloop.metrics.targets import TargetSpec
from cxloop.web.pages.alerts import STATUSES, WORDS
from tests.loop.case_support import set_up_teams
from tests.loop.test_alert_rules import DROPPED, METRIC_RULES, USUAL
from tests.web.support import ROLES, Api, build_api
from tests.web.test_target_pages import copy_site, get, post


def _plant(api_: Api) -> None:
    """Two teams, ten weeks of 30 NPS answers (the last complete week a drop), the alert
    rules of the loop tests and a weekly NPS target of 40."""
    today = dt.datetime.now(dt.UTC).date()
    monday = today - dt.timedelta(days=today.weekday())
    now = dt.datetime.now(dt.UTC)
    with api_.store.sessions() as session:
        set_up_teams(session)
        n = 0
        for weeks in range(10, 0, -1):
            start = dt.datetime.combine(monday - dt.timedelta(weeks=weeks), dt.time(9))
            for i, score in enumerate(USUAL if weeks > 1 else DROPPED):
                n += 1
                session.add(
                    Feedback(
                        feedback_id=f"F{n}", channel="survey", row_hash="h" * 32, nps=score,
                        created_at=start + dt.timedelta(hours=i),
                    )
                )  # fmt: skip
        session.flush()
        rule_store.save_rules(session=session, text=METRIC_RULES, actor="analyst", now=now)
        spec = TargetSpec.model_validate({"metric": "nps", "period": "week", "target": 40})
        target_store.set_targets(session=session, targets_in=[spec])
        session.commit()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    folder = tmp_path_factory.mktemp("alerts-page")
    api_ = build_api(folder / "cxloop.db")
    _plant(api_)
    api_.store.close()
    return folder / "cxloop.db", api_.tokens


@pytest.fixture
def quiet(built: tuple[Path, dict[str, str]], tmp_path: Path) -> Iterator[Api]:
    """The planted store, never scanned."""
    api_ = copy_site(built, tmp_path)
    with api_.client:
        yield api_
    api_.store.close()


@pytest.fixture(scope="module")
def scanned(
    built: tuple[Path, dict[str, str]], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Api]:
    """The planted store after one scan (the drop stored, its case opened)."""
    api_ = copy_site(built, tmp_path_factory.mktemp("alerts-scanned"))
    with api_.store.sessions() as session:
        alert_rules.scan(session=session, settings=api_.store.settings, now=dt.datetime.now(dt.UTC))
        session.commit()
    with api_.client:
        yield api_
    api_.store.close()


def cells(html: str, table: str, attribute: str) -> list[str]:
    body = html.split(f'id="{table}"', 1)[1].split("</table>", 1)[0]
    return re.findall(rf'{attribute}="([^"]*)"', body)


def test_no_alerts_yet_is_said_and_only_managers_get_the_scan_button(quiet: Api) -> None:
    for role in ROLES:
        page = get(quiet, role, "/alerts?lang=en")
        assert page.status_code == 200, role
        assert 'id="no-alerts"' in page.text and "No alerts are stored yet" in page.text
        assert ('id="scan"' in page.text) is (role in ("admin", "analyst"))
    refused = post(quiet, "viewer", "/alerts/scan?lang=en", {})
    assert refused.status_code == 403 and "may not scan" in refused.text
    assert quiet.client.get("/api/v1/metrics/alerts", headers=quiet.auth("admin")).json() == []


def test_the_scan_button_stores_the_drop_and_the_page_links_the_case_it_opened(
    quiet: Api,
) -> None:
    done = post(quiet, "analyst", "/alerts/scan", {})
    assert done.status_code == 303
    said = {k: v[0] for k, v in parse_qs(urlsplit(done.headers["location"]).query).items()}
    assert int(said["found"]) >= 1 and int(said["opened"]) >= 1
    page = get(quiet, "analyst", done.headers["location"] + "&lang=en")
    assert 'id="scanned"' in page.text
    cases = [c for c in cells(page.text, "alerts", "data-case") if c]
    assert cases and all(f'href="/cases/{c}"' in page.text for c in cases)


def test_alerts_cases_and_targets_equal_the_api_for_every_role(scanned: Api) -> None:
    for role in ROLES:
        page = get(scanned, role, "/alerts?lang=zh")
        assert page.status_code == 200, role
        auth = scanned.auth(role)
        alerts = scanned.client.get("/api/v1/metrics/alerts?status=open", headers=auth).json()
        view = scanned.client.get("/api/v1/dashboard/alerts?status=open", headers=auth).json()
        shown = [int(a) for a in cells(page.text, "alerts", "data-alert")]
        assert sorted(shown) == sorted(a["id"] for a in alerts) and shown
        case_of = {r["alert"]["id"]: r["case_id"] for r in view["alerts"]}
        links = cells(page.text, "alerts", "data-case")
        assert links == [str(case_of[a] or "") for a in shown]
        assert any(case_of.values())
        status = scanned.client.get("/api/v1/metrics/targets/status", headers=auth).json()
        n_shown = cells(page.text, "targets", 'data-field="n" data-value')
        assert [int(n) for n in n_shown] == [r["n"] for r in status["rows"]]
        assert cells(page.text, "targets", "data-status") == [r["status"] for r in status["rows"]]
        counts = dict(re.findall(r'data-status="(\w+)" data-value="(\d+)"', page.text))
        assert {k: int(v) for k, v in counts.items()} == view["counts"]


def test_an_unknown_status_is_named_in_words(scanned: Api) -> None:
    page = get(scanned, "viewer", "/alerts?status=gone&lang=en")
    assert page.status_code == 422
    assert "is not one of: open, acknowledged, resolved" in unescape(page.text)
    every = get(scanned, "viewer", "/alerts?status=all")
    assert every.status_code == 200


def test_an_empty_store_says_there_are_no_alerts_and_no_targets(tmp_path: Path) -> None:
    api_ = build_api(tmp_path / "empty.db", seed=False)
    try:
        with api_.client:
            page: Any = get(api_, "viewer", "/alerts?lang=en")
        assert page.status_code == 200
        assert 'id="no-alerts"' in page.text and 'id="no-targets"' in page.text
    finally:
        api_.store.close()


def test_codes_read_as_words_on_the_page_never_as_stored(scanned: Api) -> None:
    """Statuses, kinds and target statuses go through the catalog as words (``off target``,
    not ``off_target``)."""
    page = get(scanned, "viewer", "/alerts?status=all&lang=en")
    shown = re.findall(r'<span class="status-(\w+)">([^<]*)</span>', page.text)
    status = scanned.client.get("/api/v1/metrics/targets/status", headers=scanned.auth("viewer"))
    assert shown == [(r["status"], WORDS[r["status"]]) for r in status.json()["rows"]]
    options = re.findall(r'<option value="(\w+)"[^>]*>([^<]*)</option>', page.text)
    assert options == [(s, WORDS[s]) for s in STATUSES]
    kinds = re.findall(r"<tr data-alert=.*?</th>\s*<td>([^<]*)</td>", page.text, re.S)
    assert kinds and not {k for k in kinds if "_" in k}
