"""``cxloop surveys validate|create|list|show`` as a user runs them, and the ``surveys`` group
every owner registers commands in (one line each in ``cli.app.SurveyCommands``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer
import typer.main

from cxloop.cli.app import Commands, SurveyCommands, app
from tests.cli.support import run_cxloop

EXAMPLES = Path(__file__).parents[2] / "examples" / "surveys"
HEAVY = ("pandas", "ibis", "sklearn", "scipy", "numpy", "jieba", "duckdb", "sqlalchemy")


@pytest.mark.parametrize("name", sorted(SurveyCommands.lazy))
def test_each_survey_command_loads_and_its_listed_help_is_its_own(name: str) -> None:
    root = typer.main.get_command(app)
    assert isinstance(root, Commands)
    group = root.get_command(typer.Context(root), "surveys")
    assert isinstance(group, SurveyCommands)
    command = group.get_command(typer.Context(group), name)
    assert command is not None and command.name == name
    real = " ".join((command.short_help or command.help or "").split("\n\n")[0].split())
    assert SurveyCommands.lazy[name].help == real


PROBE = """
import json, sys
sys.argv = ["cxloop", *json.loads(sys.argv[1])]
from cxloop.cli.app import main
try:
    main()
except SystemExit as exit:
    code = exit.code
modules = sorted({m.split(".")[0] for m in sys.modules})
print("\\nPROBE " + json.dumps({"code": code, "modules": modules}))
"""


@pytest.mark.parametrize(
    "args",
    [("surveys", "--help"), ("surveys", "validate", str(EXAMPLES / "b2b-milestone.yaml"))],
)
def test_listing_and_validating_import_no_data_library(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={"CXLOOP_DATABASE_URL": f"sqlite:///{tmp_path}/missing.db", "COLUMNS": "120"},
    )
    probe = json.loads(result.stdout.rsplit("PROBE ", 1)[1])
    assert probe["code"] in (0, None), result.stderr
    assert not set(probe["modules"]) & set(HEAVY)
    assert not (tmp_path / "missing.db").exists()


def test_validate_lists_every_problem_and_exits_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "id: post-delivery\n"
        "title: {zh: 配送体验调查, en: Delivery survey}\n"
        "questions:\n"
        "  - {id: nps, type: nps, scale: 7, text: 推荐?}\n"
        '  - {id: why, type: text, show_if: "nps <== 6", text: 为什么?}\n'
        '  - {id: how, type: single, show_if: "later > 1", text: 如何?,\n'
        "     options: [{id: a, text: A}]}\n"
        "  - {id: later, type: csat, text: 满意?}\n",
        encoding="utf-8",
    )
    result = run_cxloop(tmp_path, "surveys", "validate", str(bad))
    assert result.returncode == 1, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0] == f"{bad}: 4 problems"
    assert lines[1:] == [
        "error: questions[0].scale: 7 — only rating questions have a scale (nps is 0–10, csat 1–5, "
        "ces 1–7)",
        "error: questions[1].show_if: 'nps <== 6' — expected a comparison (==, !=, <, <=, >, >=), "
        "found '<==' (column 5)",
        "error: questions[2].options: 1 — needs at least two options",
        "error: questions[2].show_if: 'later > 1' — 'later' comes after this question: show_if can "
        "only use earlier answers",
    ]
    assert "Traceback" not in result.stderr
    missing = run_cxloop(tmp_path, "surveys", "validate", "nosuch.yaml")
    assert missing.returncode == 1
    assert missing.stderr.splitlines() == [
        "nosuch.yaml: 1 problem",
        "error: file: 'nosuch.yaml' — no such file",
    ]


def test_create_list_show_and_versions(tmp_path: Path) -> None:
    source = (EXAMPLES / "b2b-milestone.yaml").read_text(encoding="utf-8")
    path = tmp_path / "milestone.yaml"
    path.write_text(source, encoding="utf-8")
    valid = run_cxloop(tmp_path, "surveys", "validate", str(path))
    assert valid.returncode == 0
    assert (
        "valid — survey 'milestone-review', 5 questions: nps (nps), delivery (matrix)"
        in valid.stdout
    )
    assert not (tmp_path / "cli.db").exists()  # validating opens no store

    first = run_cxloop(tmp_path, "surveys", "create", str(path))
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "survey milestone-review version 1 (new)"
    again = run_cxloop(tmp_path, "surveys", "create", str(path))
    assert again.stdout.strip() == "survey milestone-review version 1 (unchanged)"
    path.write_text(source.replace("max_choices: 2", "max_choices: 3"), encoding="utf-8")
    edited = run_cxloop(tmp_path, "surveys", "create", str(path))
    assert edited.stdout.strip() == "survey milestone-review version 2 (new)"

    listed = run_cxloop(tmp_path, "surveys", "list")
    assert listed.returncode == 0
    row = next(line for line in listed.stdout.splitlines() if "milestone-review" in line)
    assert "项目里程碑评价 / Project milestone review" in row and "active" in row
    assert [cell.strip() for cell in row.split("│")][3:5] == ["2", "5"]

    shown = run_cxloop(tmp_path, "surveys", "show", "milestone-review", "--lang", "en")
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout
    assert "milestone-review v2 (active): Project milestone review" in out
    assert "nps <= 6 or delivery.timeliness <= 2" in out
    assert "other: Other (please specify) (+ text)" in out
    assert "[choose 0–3]" in out and "quality: Quality of the deliverable" in out
    assert "required roles: decision_maker, purchaser, user" in out
    old = run_cxloop(tmp_path, "surveys", "show", "milestone-review", "--version", "1")
    assert (
        "milestone-review v1 (active): 项目里程碑评价" in old.stdout
        and "[choose 0–2]" in old.stdout
    )

    archived = run_cxloop(tmp_path, "surveys", "archive", "milestone-review")
    assert archived.returncode == 0
    assert archived.stdout.startswith("survey milestone-review archived at version 2")
    listed = run_cxloop(tmp_path, "surveys", "list").stdout.splitlines()
    assert "archived" in next(line for line in listed if "milestone-review" in line)


def test_list_shows_a_title_written_once_for_both_languages_once(tmp_path: Path) -> None:
    file = tmp_path / "plain.yaml"
    file.write_text(
        "id: plain\ntitle: 门店回访\nquestions:\n  - {id: nps, type: nps, text: 推荐吗}\n",
        encoding="utf-8",
    )
    assert run_cxloop(tmp_path, "surveys", "create", str(file)).returncode == 0
    listed = run_cxloop(tmp_path, "surveys", "list")
    row = next(line for line in listed.stdout.splitlines() if "plain" in line)
    assert "门店回访" in row and "/" not in row, listed.stdout


def test_show_refuses_unknown_surveys_versions_and_languages(tmp_path: Path) -> None:
    run_cxloop(tmp_path, "surveys", "create", str(EXAMPLES / "post-delivery.yaml"))
    unknown = run_cxloop(tmp_path, "surveys", "show", "nosuch")
    assert unknown.returncode == 2
    assert "error: no survey 'nosuch' (stored: post-delivery)" in unknown.stderr
    version = run_cxloop(tmp_path, "surveys", "show", "post-delivery", "--version", "3")
    assert version.returncode == 2 and "has no version 3 (versions: 1)" in version.stderr
    lang = run_cxloop(tmp_path, "surveys", "show", "post-delivery", "--lang", "fr")
    assert lang.returncode == 2 and "error: --lang: 'fr' must be zh or en" in lang.stderr
    for result in (unknown, version, lang):
        assert "Traceback" not in result.stderr


def test_list_on_a_missing_store_says_so(tmp_path: Path) -> None:
    result = run_cxloop(tmp_path, "surveys", "list")
    assert result.returncode == 2 and "no cxloop store" in result.stderr
    assert not (tmp_path / "cli.db").exists()
