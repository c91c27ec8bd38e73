"""The alert rules API on a real SQLite store: rules sent as the YAML file or as JSON, saved as
versions, read back by every role; refusals name the field, the value and the reason; a dry run
counts what the rules would have done to the store's past feedback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.loop.case_support import EAST, SERVICE
from tests.web.support import Api, build_api

RULES = """\
# 告警规则
- id: detractor
  name: 贬损者
  when: nps_group == '贬损者'
  severity: 高
  team: 客服一组
"""
YAML = {"Content-Type": "application/yaml"}


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """One store for the module (a customer, a detractor's feedback of 2024-03-01, the case
    tests' teams); each test reads versions relative to what it finds."""
    built = build_api(tmp_path_factory.mktemp("rules-api") / "rules.db")
    with built.client:
        teams = [t.model_dump() for t in (SERVICE, EAST)]
        saved = built.client.put("/api/v1/teams", json=teams, headers=built.auth("admin"))
        assert saved.status_code == 200, saved.text
        yield built
    built.store.close()


def call(api: Api, who: str, method: str, url: str, **kwargs: Any) -> Any:
    headers = {**kwargs.pop("headers", {}), **api.auth(who)}
    return api.client.request(method, f"/api/v1{url}", headers=headers, **kwargs)


def problems(response: Any) -> dict[tuple[str, Any], str]:
    assert response.status_code == 422, response.text
    return {(p["field"], p["value"]): p["reason"] for p in response.json()["detail"]}


def latest(api: Api) -> int:
    version = call(api, "viewer", "GET", "/rules").json()["version"]
    return int(version or 0)


def test_a_yaml_body_is_saved_as_the_next_version_and_read_back_by_a_viewer(api: Api) -> None:
    before = latest(api)
    text = RULES.replace("贬损者\n", "贬损者（YAML）\n")
    saved = call(api, "analyst", "PUT", "/rules?note=首版", content=text.encode(), headers=YAML)
    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert (body["version"], body["changed"], body["note"]) == (before + 1, True, "首版")
    assert body["created_by"] == "analyst" and body["rules"][0]["severity"] == "high"
    read = call(api, "viewer", "GET", "/rules").json()
    assert read["version"] == before + 1 and read["yaml"].startswith("# 告警规则")
    again = call(api, "admin", "PUT", "/rules", content=text.encode(), headers=YAML).json()
    assert (again["version"], again["changed"]) == (before + 1, False)


def test_a_json_body_saves_and_the_versions_list_newest_first(api: Api) -> None:
    before = latest(api)
    text = RULES.replace("severity: 高", "severity: critical")
    saved = call(api, "admin", "PUT", "/rules", json={"yaml": text, "note": "升级"})
    assert saved.status_code == 200 and saved.json()["version"] == before + 1
    versions = call(api, "agent", "GET", "/rules/versions").json()
    assert versions[0]["version"] == before + 1 and versions[0]["current"]
    assert [v["version"] for v in versions] == list(range(before + 1, 0, -1))
    assert not any(v["current"] for v in versions[1:])
    one = call(api, "viewer", "GET", f"/rules/versions/{before + 1}").json()
    assert one["note"] == "升级" and "critical" in one["yaml"]
    missing = call(api, "viewer", "GET", "/rules/versions/99")
    assert missing.status_code == 404 and "no rules version 99" in missing.text


def test_bad_rules_are_refused_with_every_problem_and_nothing_is_saved(api: Api) -> None:
    before = latest(api)
    bad = (
        "- id: a\n  name: 甲\n  when: nps <= 6 and 情绪 == 'x'\n  severity: 高\n  team: 售后三组\n"
        "- id: a\n  name: 乙\n  when: flag == 'angry'\n  severity: low\n  colour: red\n"
    )
    found = problems(call(api, "analyst", "PUT", "/rules", json={"yaml": bad}))
    assert found[("rules[0].team", "售后三组")] == "is not a team (teams: east, 客服一组)"
    assert "is not a condition name" in found[("rules[0].when", "情绪")]
    assert "is used by rules[0] already" in found[("rules[1].id", "a")]
    assert "is not a flag value" in found[("rules[1].when", "angry")]
    assert "is not an alert rule setting" in found[("rules[1].colour", "red")]
    assert latest(api) == before


@pytest.mark.parametrize(
    ("kwargs", "field", "reason"),
    [
        ({"json": {"yaml": RULES, "colour": 1}}, "colour", "Extra inputs are not permitted"),
        ({"json": {"note": "x"}}, "yaml", "Field required"),
        ({"content": b"{not json", "headers": {"Content-Type": "application/json"}}, "body", ""),
        ({"content": b"- id: a\n\tname: b\n", "headers": YAML}, "line 2", "not valid"),
        ({"content": b"\xff\xfe", "headers": YAML}, "body", "is not UTF-8 text"),
        ({"content": b"a: 2026-02-30\n", "headers": YAML}, "yaml", "day is out of range"),
        ({"content": b"&a [*a]\n", "headers": YAML}, "yaml", "refers to itself"),
        ({"content": b"", "headers": YAML}, "rules", "save an empty list"),
    ],
)
def test_a_body_that_is_not_rules_is_a_422_naming_why(
    api: Api, kwargs: dict[str, Any], field: str, reason: str
) -> None:
    response = call(api, "admin", "PUT", "/rules", **kwargs)
    assert response.status_code == 422, response.text
    assert any(p["field"] == field and reason in p["reason"] for p in response.json()["detail"])


def test_who_may_not_save_rules_is_refused_before_the_body_is_read(api: Api) -> None:
    bad = {"content": b"\xff" * 10, "headers": YAML}
    assert api.client.put("/api/v1/rules", **bad).status_code == 401
    assert call(api, "viewer", "PUT", "/rules", **bad).status_code == 403
    assert call(api, "agent", "PUT", "/rules", **bad).status_code == 403
    assert call(api, "admin", "PUT", "/rules", **bad).status_code == 422


def test_an_empty_list_switches_every_rule_off(api: Api) -> None:
    saved = call(api, "admin", "PUT", "/rules", content=b"rules: []\n", headers=YAML).json()
    assert (saved["rule_count"], saved["rules"]) == (0, [])
    report = call(api, "admin", "POST", "/rules/dry-run", json={"since": "2024-01-01"}).json()
    assert report["rules_from"] == f"version {saved['version']}"
    assert (report["looked_at"], report["would_open"]) == (1, 0)


def test_a_dry_run_counts_the_stored_detractor_and_names_its_example(api: Api) -> None:
    body = {"yaml": RULES, "since": "2024-03", "until": "2024-03"}
    response = call(api, "analyst", "POST", "/rules/dry-run", json=body)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["since"].startswith("2024-03-01") and report["until"].startswith("2024-04-01")
    assert (report["looked_at"], report["matched"], report["would_open"]) == (1, 1, 1)
    assert report["by_severity"]["high"] == 1 and report["vip_cases"] == 0
    [rule] = report["rules"]
    assert rule["examples"] == [":fb-1"] and rule["opened"] == 1
    outside = call(api, "analyst", "POST", "/rules/dry-run", json=body | {"since": "2024-03-02"})
    assert outside.json()["looked_at"] == 0


def test_a_dry_run_names_bad_rules_and_a_bad_window(api: Api) -> None:
    body = {"yaml": "- id: x\n  name: x\n  when: nps <= 11\n  severity: low\n"}
    found = problems(call(api, "admin", "POST", "/rules/dry-run", json=body))
    assert "is outside nps's range 0–10" in found[("rules[0].when", 11)]
    window = {"yaml": RULES, "since": "last tuesday", "until": "2024-13"}
    found = problems(call(api, "admin", "POST", "/rules/dry-run", json=window))
    assert {field for field, _ in found} == {"since", "until"}


def test_the_example_rules_save_on_a_store_with_the_example_teams(api: Api) -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "loop" / "rules.yaml"
    saved = call(api, "admin", "PUT", "/rules", content=example.read_bytes(), headers=YAML)
    assert saved.status_code == 200, saved.text
    assert saved.json()["enabled_count"] == 5
