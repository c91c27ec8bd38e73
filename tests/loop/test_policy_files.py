"""The files the settings name for cases: routing rules and root-cause codes, each read once
per text, and every problem named with the setting or the file, the field and the value."""

from __future__ import annotations

from pathlib import Path

import pytest

from cxloop.config import Settings
from cxloop.errors import Invalid
from cxloop.loop import policy
from cxloop.loop.root_causes import ROOT_CAUSES


def test_no_routing_file_means_the_rule_or_first_team_decides() -> None:
    assert policy.routing_rules(Settings()) is None


def test_a_routing_file_is_read_and_an_edit_is_read_anew(tmp_path: Path) -> None:
    path = tmp_path / "routing.yaml"
    path.write_text("default_team: 客服一组\nrules:\n  - {region: 华东, team: east}\n", "utf-8")
    settings = Settings(loop_routing=str(path))
    assert policy.routing_rules(settings) is policy.routing_rules(settings)  # parsed once
    first = policy.routing_rules(settings)
    assert first is not None and first.default_team == "客服一组"
    path.write_text("default_team: east\n", "utf-8")
    again = policy.routing_rules(settings)
    assert again is not None and again.default_team == "east"


def test_a_bad_routing_file_names_the_file_the_field_and_the_value(tmp_path: Path) -> None:
    path = tmp_path / "routing.yaml"
    path.write_text("default_team: 客服一组\nstrategy: fastest\n", "utf-8")
    with pytest.raises(Invalid) as caught:
        policy.routing_rules(Settings(loop_routing=str(path)))
    (problem,) = caught.value.problems
    assert problem.field == f"{path}: strategy" and problem.value == "fastest"
    with pytest.raises(Invalid) as missing:
        policy.routing_rules(Settings(loop_routing=str(tmp_path / "nope.yaml")))
    assert missing.value.problems[0].field == "CXLOOP_LOOP_ROUTING"
    assert "is not a file" in str(missing.value)


def test_root_causes_come_from_the_file_else_the_built_in_list(tmp_path: Path) -> None:
    assert policy.root_causes(Settings()) == ROOT_CAUSES
    path = tmp_path / "causes.yaml"
    path.write_text(
        "courier_lost: {en: Courier lost it, zh: 快递丢件}\nrefund_slow: 退款慢\n", "utf-8"
    )
    causes = policy.root_causes(Settings(loop_root_causes=str(path)))
    assert causes == {
        "courier_lost": {"en": "Courier lost it", "zh": "快递丢件"},
        "refund_slow": {"en": "退款慢", "zh": "退款慢"},
    }
    path.write_text("- Bad Code\n", "utf-8")
    with pytest.raises(Invalid) as caught:
        policy.root_causes(Settings(loop_root_causes=str(path)))
    assert caught.value.problems[0].value == "Bad Code"
    assert caught.value.problems[0].field.startswith(str(path))
