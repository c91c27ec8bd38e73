"""Saved alert rules on a real SQLite store: every problem of a file named at once (bad shapes,
unknown fields and teams, duplicate ids, tabs), versions that start applying when saved, the same
text saved twice stored once, and an empty list that switches every rule off."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cxloop import api
from cxloop.config import Settings
from cxloop.errors import Invalid, NotFound
from cxloop.loop import rule_store
from cxloop.loop.models import RuleSetVersion
from tests.loop.case_support import set_up_teams

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "loop" / "rules.yaml"
NOW = dt.datetime(2026, 12, 7, 9, 30, tzinfo=dt.UTC)
RULES = """\
- id: 贬损者-配送
  name: 贬损者抱怨配送
  when: nps_group == '贬损者' and aspect == 'delivery:负面'
  severity: 高
  team: 客服一组
- id: escalation
  name: Escalation threat
  when: flag == 'escalation'
  severity: critical
"""


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated store with the case tests' two teams, made once and copied per test."""
    path = tmp_path_factory.mktemp("rules") / "template.db"
    store = api.connect(settings=Settings(database_url=f"sqlite:///{path}"))
    with store.sessions() as session:
        set_up_teams(session)
        session.commit()
    store.close()
    return path


@pytest.fixture
def session(template: Path, tmp_path: Path) -> Iterator[Session]:
    path = tmp_path / "store.db"
    shutil.copy(template, path)
    store = api.connect(settings=Settings(database_url=f"sqlite:///{path}"))
    with store.sessions() as opened:
        yield opened
    store.close()


def problems(exc: pytest.ExceptionInfo[Invalid]) -> list[tuple[str, object, str]]:
    return [(p.field, p.value, p.reason) for p in exc.value.problems]


def test_saving_stores_version_one_in_force_from_now(session: Session) -> None:
    saved = rule_store.save_rules(
        session=session, text=RULES, actor="analyst", now=NOW, note=" 首版 "
    )
    assert (saved.version, saved.rule_count, saved.enabled_count) == (1, 2, 2)
    assert saved.changed and saved.current and saved.note == "首版"
    assert saved.applies_from == dt.datetime(2026, 12, 7, 9, 30)  # naive UTC, as stored
    assert [r.id for r in saved.rules] == ["贬损者-配送", "escalation"]
    assert saved.rules[0].severity == "high" and saved.rules[0].team == "客服一组"
    current = rule_store.current_rules(session)
    assert current is not None and current.version == 1
    assert [r.id for r in current.rules.rules] == ["贬损者-配送", "escalation"]
    assert current.applies_from == saved.applies_from


def test_no_rules_saved_means_none_in_force(session: Session) -> None:
    assert rule_store.current_rules(session) is None
    assert rule_store.list_versions(session) == []
    empty = rule_store.current_read(session)
    assert empty.version is None and empty.rules == [] and empty.yaml == ""


def test_the_same_text_again_is_not_a_new_version(session: Session) -> None:
    rule_store.save_rules(session=session, text=RULES, actor="a", now=NOW)
    later = NOW + dt.timedelta(days=1)
    again = rule_store.save_rules(
        session=session, text=RULES.replace("\n", "\r\n") + "\n\n", actor="b", now=later
    )
    assert again.version == 1 and not again.changed
    assert again.applies_from == dt.datetime(2026, 12, 7, 9, 30)  # not moved to `later`
    assert session.scalar(select(func.count()).select_from(RuleSetVersion)) == 1


def test_a_changed_text_is_the_next_version_and_older_ones_stay_readable(
    session: Session,
) -> None:
    rule_store.save_rules(session=session, text=RULES, actor="a", now=NOW)
    changed = RULES.replace("severity: critical", "severity: high")
    second = rule_store.save_rules(
        session=session, text=changed, actor="b", now=NOW + dt.timedelta(hours=2), note="降级"
    )
    assert second.version == 2 and second.changed
    versions = rule_store.list_versions(session)
    assert [(v.version, v.current, v.created_by, v.note) for v in versions] == [
        (2, True, "b", "降级"),
        (1, False, "a", None),
    ]
    first = rule_store.get_version(session, 1)
    assert not first.current and "severity: critical" in first.yaml
    current = rule_store.current_rules(session)
    assert current is not None and current.rules.rule("escalation").severity == "high"
    with pytest.raises(NotFound, match=r"no rules version 7 \(versions 1–2\)"):
        rule_store.get_version(session, 7)


def test_an_empty_list_switches_every_rule_off_but_an_empty_file_is_refused(
    session: Session,
) -> None:
    rule_store.save_rules(session=session, text=RULES, actor="a", now=NOW)
    with pytest.raises(Invalid) as empty:
        rule_store.save_rules(session=session, text="  \n# nothing\n", actor="a", now=NOW)
    assert "save an empty list" in problems(empty)[0][2]
    off = rule_store.save_rules(session=session, text="rules: []\n", actor="a", now=NOW)
    assert (off.version, off.rule_count) == (2, 0)
    current = rule_store.current_rules(session)
    assert current is not None and current.rules.rules == []


def test_every_problem_of_a_bad_file_is_named_at_once_and_nothing_is_stored(
    session: Session,
) -> None:
    bad = """\
rules:
  - id: ok-rule
    name: 正常
    when: nps <= 6
    severity: low
  - id: ok-rule
    name: 重复的 id
    when: sentiment == 'angry'
    severity: urgent
    colour: red
  - id: vip
    name: 不存在的团队
    when: value_percentile >= 80 and nps_grop == 'detractor'
    severity: high
    team: 售后三组
  - name: 没有 id
    when: nps <=
    severity: low
"""
    with pytest.raises(Invalid) as caught:
        rule_store.save_rules(session=session, text=bad, actor="a", now=NOW)
    found = problems(caught)
    fields = [field for field, _, _ in found]
    assert fields == sorted(fields, key=lambda f: f[:8])  # in the file's order
    by_field = {(field, str(value)): reason for field, value, reason in found}
    assert "is used by rules[0] already" in by_field[("rules[1].id", "ok-rule")]
    assert "is not a sentiment value" in by_field[("rules[1].when", "angry")]
    assert "is not a severity" in by_field[("rules[1].severity", "urgent")]
    assert "is not an alert rule setting" in by_field[("rules[1].colour", "red")]
    assert "did you mean nps_group?" in by_field[("rules[2].when", "nps_grop")]
    assert by_field[("rules[2].team", "售后三组")] == "is not a team (teams: east, 客服一组)"
    assert by_field[("rules[3].id", "None")] == "is required"
    assert any(f == "rules[3].when" and "column" in r for f, _, r in found)
    assert rule_store.current_rules(session) is None


def test_tabs_and_broken_yaml_name_the_line(session: Session) -> None:
    with pytest.raises(Invalid) as caught:
        rule_store.check_rules(session=session, text="- id: a\n\tname: b\n")
    [(field, _, reason)] = problems(caught)
    assert field == "line 2" and "is not valid YAML" in reason


def test_a_mapping_that_is_not_rules_is_refused(session: Session) -> None:
    with pytest.raises(Invalid) as caught:
        rule_store.check_rules(session=session, text="rule:\n  - id: a\n")
    [(field, value, reason)] = problems(caught)
    assert (field, value) == ("rule", [{"id": "a"}]) and "is not an alert rule setting" in reason


def test_a_team_is_checked_only_against_a_store(session: Session) -> None:
    text = RULES.replace("客服一组", "no-such-team")
    assert len(rule_store.check_rules(session=None, text=text).rules) == 2
    with pytest.raises(Invalid, match="no-such-team"):
        rule_store.check_rules(session=session, text=text)


def test_the_example_rules_are_valid_on_a_store_with_the_example_teams(
    session: Session,
) -> None:
    saved = rule_store.save_rules(
        session=session, text=EXAMPLE.read_text(encoding="utf-8"), actor="a", now=NOW
    )
    assert saved.rule_count == 6 and saved.enabled_count == 5
    assert {r.id for r in saved.rules} >= {"detractor-service", "vip-delivery", "safety"}


def test_an_id_yaml_reads_as_a_switch_is_named_with_the_fix(session: Session) -> None:
    with pytest.raises(Invalid) as caught:
        rule_store.check_rules(
            session=session, text="- {id: off, name: no, when: nps <= 6, severity: low}\n"
        )
    found = {field: reason for field, _, reason in problems(caught)}
    assert found.keys() == {"rules[0].id", "rules[0].name"}
    assert all("put it in quotes" in reason for reason in found.values())
