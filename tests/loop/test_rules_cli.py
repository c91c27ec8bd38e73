"""``cxloop rules`` as a user runs it: a file checked whole (exit 1, every problem, nothing
stored), saved as versions, shown back as written, and dry-run over the store's past feedback;
data conditions end in sentences, never a traceback."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cxloop import api
from cxloop.config import Settings
from cxloop.loop import case_access
from cxloop.loop.hours import read_yaml
from tests.cli.support import run_cxloop

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "loop"
RULES = EXAMPLES / "rules.yaml"
MINE = """\
# 我们的规则
- id: 贬损者
  name: 贬损者（NPS 0–6）
  when: nps <= 6
  severity: 高
  team: 客服一组
  window_hours: 48
- id: app-review
  name: App review, 1–2 stars
  when: channel == 'app_review' and rating <= 2
  severity: medium
"""
BAD = """\
- id: a
  name: 甲
  when: nps_grop == 'detractor'
  severity: urgent
  team: 售后三组
- id: a
  name: 乙
  when: nps <= 6
  severity: low
"""


def ok(folder: Path, *args: str) -> str:
    result = run_cxloop(folder, *args)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def failed(folder: Path, code: int, *args: str) -> str:
    result = run_cxloop(folder, *args)
    printed = result.stdout + result.stderr
    assert result.returncode == code, printed
    assert "Traceback" not in printed
    return " ".join(result.stderr.split())


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with the example teams and six feedback rows of November 2026."""
    folder = tmp_path_factory.mktemp("rules-cli")
    store = api.connect(settings=Settings(database_url=f"sqlite:///{folder / 'cli.db'}"))
    rows = [
        {"feedback_id": "s-1", "channel": "survey", "created_at": "2026-11-02T09:00:00Z",
         "customer_id": "c1", "nps": 3},
        {"feedback_id": "s-2", "channel": "survey", "created_at": "2026-11-03T08:00:00Z",
         "customer_id": "c1", "nps": 5},  # 23 h later: joins s-1's case
        {"feedback_id": "s-3", "channel": "survey", "created_at": "2026-11-09T08:00:00Z",
         "customer_id": "c1", "nps": 2},  # a week later: a case of its own
        {"feedback_id": "s-4", "channel": "survey", "created_at": "2026-11-10T08:00:00Z",
         "customer_id": "c2", "nps": 9},
        {"feedback_id": "r-1", "channel": "app_review", "created_at": "2026-11-11T08:00:00Z",
         "rating": 1},
        {"feedback_id": "s-5", "channel": "survey", "created_at": "2026-12-01T08:00:00Z",
         "customer_id": "c2", "nps": 0},  # December: outside the window
    ]  # fmt: skip
    assert api.import_records(store, "feedback", rows).inserted == 6
    teams = read_yaml((EXAMPLES / "teams.yaml").read_text(encoding="utf-8"))
    with store.sessions() as session:
        case_access.save_teams(session=session, teams_in=case_access.parse_teams(teams, where=""))
        session.commit()
    store.close()  # the file is whole (nothing left in a WAL) before it is copied
    return folder


@pytest.fixture
def shop(template: Path, tmp_path: Path) -> Path:
    shutil.copy(template / "cli.db", tmp_path / "cli.db")
    (tmp_path / "mine.yaml").write_text(MINE, encoding="utf-8")
    (tmp_path / "bad.yaml").write_text(BAD, encoding="utf-8")
    return tmp_path


def test_check_without_a_store_checks_the_file_and_creates_nothing(tmp_path: Path) -> None:
    printed = ok(tmp_path, "rules", "check", str(RULES))
    assert "valid — 6 rules (5 on): detractor-service" in printed
    assert (
        "any-detractor (off); 3 metric-alert rules (3 on): score-drop, complaint-spike, "
        "nps-off-target; teams not checked (no store)"
    ) in printed
    assert not (tmp_path / "cli.db").exists()


def test_check_names_every_problem_with_exit_1_and_stores_nothing(shop: Path) -> None:
    said = failed(shop, 1, "rules", "check", "bad.yaml")
    assert said.startswith("bad.yaml: 4 problems")
    assert "error: rules[0].when: 'nps_grop' — is not a condition name" in said
    assert "did you mean nps_group?" in said
    assert "error: rules[0].severity: 'urgent' — is not a severity" in said
    assert "error: rules[0].team: '售后三组' — is not a team (teams: 华东服务组, 客服一组)" in said
    assert "error: rules[1].id: 'a' — is used by rules[0] already" in said
    assert json.loads(ok(shop, "rules", "versions", "--format", "json")) == []


def test_set_saves_versions_and_show_prints_them_back(shop: Path) -> None:
    printed = ok(shop, "rules", "set", "mine.yaml", "--note", "首版")
    assert printed.startswith("rules version 1 saved: 2 rules (2 on), in force for feedback")
    again = ok(shop, "rules", "set", "mine.yaml")
    assert again.startswith("unchanged: the same text as version 1 (2 rules (2 on)")
    assert ok(shop, "rules", "show") == MINE
    both = ok(shop, "rules", "set", str(RULES))
    assert both.startswith(
        "rules version 2 saved: 6 rules (5 on), 3 metric-alert rules (3 on), in force for "
        "feedback and metric alerts stored from"
    )
    versions = json.loads(ok(shop, "rules", "versions", "--format", "json"))
    assert [(v["version"], v["current"], v["note"]) for v in versions] == [
        (2, True, None),
        (1, False, "首版"),
    ]
    first = json.loads(ok(shop, "rules", "show", "--version", "1", "--format", "json"))
    assert [r["id"] for r in first["rules"]] == ["贬损者", "app-review"]
    assert first["rules"][0]["severity"] == "high" and not first["current"]
    table = ok(shop, "rules", "versions")
    assert "首版" in table and "yes" in table
    said = failed(shop, 2, "rules", "show", "--version", "9")
    assert said == "error: no rules version 9 (versions 1–2)"


def test_set_refuses_a_bad_file_with_every_problem(shop: Path) -> None:
    said = failed(shop, 1, "rules", "set", "bad.yaml")
    assert said.startswith("bad.yaml: 4 problems")
    assert "no rules saved yet" in ok(shop, "rules", "show")


def test_a_missing_file_is_one_sentence(shop: Path) -> None:
    said = failed(shop, 2, "rules", "check", "nowhere.yaml")
    assert said == "error: FILE: 'nowhere.yaml' is not a file (FileNotFoundError)"


def test_dry_run_counts_what_the_rules_would_have_done(shop: Path) -> None:
    report = json.loads(
        ok(shop, "rules", "dry-run", "mine.yaml", "--since", "2026-11", "--until", "2026-11",
           "--format", "json")
    )  # fmt: skip
    assert (report["looked_at"], report["matched"]) == (5, 4)
    assert (report["would_open"], report["would_attach"]) == (3, 1)
    by_rule = {r["rule_id"]: (r["matches"], r["opened"], r["attached"]) for r in report["rules"]}
    assert by_rule == {"贬损者": (3, 2, 1), "app-review": (1, 1, 0)}
    assert report["by_severity"] == {"critical": 0, "high": 2, "medium": 1, "low": 0}
    text = ok(shop, "rules", "dry-run", "mine.yaml", "--since", "2026-11", "--until", "2026-11")
    assert text.startswith(
        "rules mine.yaml: would have opened 3 cases in 2026-11-01 … 2026-11-30 UTC, 0 for VIPs;"
        " 1 more feedback would have joined open cases (4 of 5 feedback matched)"
    )


def test_dry_run_without_a_file_needs_saved_rules(shop: Path) -> None:
    said = failed(shop, 2, "rules", "dry-run", "--since", "2026-11")
    assert said.startswith("error: no rules saved yet")
    ok(shop, "rules", "set", "mine.yaml")
    printed = ok(shop, "rules", "dry-run", "--since", "2026-11", "--until", "2026-11-30")
    assert printed.startswith("rules version 1: would have opened 3 cases")


def test_dry_run_names_a_bad_window(shop: Path) -> None:
    said = failed(shop, 2, "rules", "dry-run", "mine.yaml", "--since", "yesterday")
    assert said.startswith("error: since: 'yesterday'")
