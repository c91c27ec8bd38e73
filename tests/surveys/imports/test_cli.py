"""``cxloop surveys import`` as a user runs it: option mistakes refused before any work (one
line each, exit 2, no store created), files that are no export refused with a sentence (never a
traceback), and the summary printed readably."""

from __future__ import annotations

from pathlib import Path

import pytest

from cxloop.config import Settings
from tests.surveys.imports.conftest import ImportStore, import_cli, run_cli

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"


@pytest.fixture
def nowhere(tmp_path: Path) -> ImportStore:
    """A store that does not exist yet: a refused command must not create it."""
    database = tmp_path / "never" / "cxloop.db"
    database.parent.mkdir()
    return ImportStore(database, Settings(database_url=f"sqlite:///{database}"))


@pytest.fixture
def export(tmp_path: Path) -> Path:
    path = tmp_path / "answers.csv"
    path.write_text("ResponseId,Q1\nR_1,9\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("args", "field", "reason"),
    [
        (("--tool", "typeform"), "--tool", "is not a tool; use auto, qualtrics"),
        (("--tool", "Qualtrics "), "--tool", "is not a tool"),
        (("--timezone", "Mars/Olympus"), "--timezone", "is not a known IANA zone"),
        (("--survey", "客户 调查"), "--survey", "is not a survey id"),
        (("--survey", "x" * 65), "--survey", "at most 64"),
        (("--survey", "-dash-first"), "--survey", "is not a survey id"),
        (("--definition", "missing.qsf"), "--definition", "no such file"),
        (("--columns", "missing.yaml"), "--columns", "no such file"),
    ],
)
def test_option_mistakes_are_refused_before_any_work(
    nowhere: ImportStore, export: Path, args: tuple[str, ...], field: str, reason: str
) -> None:
    run = run_cli(nowhere, "surveys", "import", export, *args)
    assert run.code == 2, run.output
    assert run.stderr.startswith(f"error: {field}: "), run.stderr
    assert reason in run.stderr
    assert run.stdout == ""
    assert not nowhere.database.exists()  # refused before the store was opened


def test_every_option_mistake_is_named_at_once(nowhere: ImportStore, tmp_path: Path) -> None:
    run = run_cli(
        nowhere,
        "surveys",
        "import",
        tmp_path / "gone.csv",
        "--tool",
        "typeform",
        "--timezone",
        "nowhere",
    )
    assert run.code == 2
    lines = run.stderr.splitlines()
    assert [line.split(":")[1].strip() for line in lines] == ["--tool", "--timezone", "file"]
    assert "gone.csv" in lines[2] and "no such file" in lines[2]


def test_a_folder_is_not_an_export(nowhere: ImportStore, tmp_path: Path) -> None:
    run = run_cli(nowhere, "surveys", "import", tmp_path)
    assert run.code == 2
    assert "is a folder, not a file" in run.stderr


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("", "must be a mapping"),
        ("- a\n- b\n", "must be a mapping"),
        ("{a: [1, 2\n", "line 2, column 1: is not valid YAML"),
    ],
)
def test_a_columns_file_that_is_no_mapping_is_refused(
    nowhere: ImportStore, export: Path, tmp_path: Path, content: str, reason: str
) -> None:
    columns = tmp_path / "columns.yaml"
    columns.write_text(content, encoding="utf-8")
    run = run_cli(nowhere, "surveys", "import", export, "--columns", columns)
    assert run.code == 2, run.output
    assert run.stderr.startswith("error: --columns: ") and str(columns) in run.stderr
    assert reason in run.stderr
    assert not nowhere.database.exists()


def test_responses_of_a_store_that_does_not_exist_is_one_line(nowhere: ImportStore) -> None:
    run = run_cli(nowhere, "surveys", "responses", "any")
    assert run.code == 2
    assert run.stderr.startswith("error: no cxloop store at")
    assert not nowhere.database.exists()


def test_responses_refuses_an_unknown_format(store: ImportStore) -> None:
    run = run_cli(store, "surveys", "responses", "any", "--format", "xml")
    assert run.code == 2
    assert "'xml' is not one of 'json', 'csv'" in run.output


def test_import_cli_helper_reports_exit_and_output(store: ImportStore, tmp_path: Path) -> None:
    code, output = import_cli(store, tmp_path / "absent.csv")
    assert code == 2 and "no such file" in output
