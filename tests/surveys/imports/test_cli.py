"""``cxloop surveys import`` as a user runs it: option mistakes refused before any work (one
line each, exit 2, no store created), files that are no export refused with a sentence (never a
traceback), and the summary printed readably."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from cxloop.config import Settings
from tests.surveys.imports import samples_qualtrics
from tests.surveys.imports.conftest import ImportStore, import_cli, import_summary, run_cli

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


# --- files that are no export ----------------------------------------------------------------


@pytest.mark.parametrize("tool", ["auto", "qualtrics", "surveymonkey", "limesurvey", "wjx"])
@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("empty.csv", b""),
        ("picture.png", PNG),
        ("picture.csv", PNG),  # a PNG under a CSV name
        ("one-column.csv", "姓名\n王芳\nLi Na\n".encode()),
        ("blank-lines.csv", b"\r\n\r\n,,\r\n"),
        ("not-excel.xlsx", b"ResponseId,Q1\nR_1,9\n"),
    ],
)
def test_a_file_that_is_no_export_is_one_sentence_and_exit_2(
    store: ImportStore, tmp_path: Path, tool: str, name: str, content: bytes
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    run = run_cli(store, "surveys", "import", path, "--tool", tool)  # a traceback raises here
    assert run.code == 2, run.output
    assert run.stderr.startswith("error: ") and name in run.stderr
    assert run.stdout == ""
    assert store.scalar("SELECT count(*) FROM surveys") == 0


def test_a_definition_that_is_no_qsf_is_refused(store: ImportStore, tmp_path: Path) -> None:
    export = samples_qualtrics.write_csv(tmp_path, numeric=True)
    picture = tmp_path / "survey.qsf"
    picture.write_bytes(PNG)
    run = run_cli(store, "surveys", "import", export, "--definition", picture)
    assert run.code == 2
    assert run.stderr.startswith("error: --definition: ") and "survey.qsf" in run.stderr
    assert store.scalar("SELECT count(*) FROM survey_responses") == 0


# --- the summary ---------------------------------------------------------------------------


def test_the_summary_says_what_was_read_stored_left_out_and_mapped(
    store: ImportStore, tmp_path: Path
) -> None:
    export = samples_qualtrics.write_csv(tmp_path, numeric=True, name="delivery.csv")
    definition = samples_qualtrics.write_qsf(tmp_path)
    code, output = import_cli(store, export, "--definition", definition, "--survey", "delivery")
    assert code == 0, output
    lines = output.splitlines()
    assert lines[0] == "delivery.csv: qualtrics export, current (3 header rows), numeric"
    assert lines[1].startswith("survey delivery version 1 (created), 7 questions")
    assert "America/Denver" in lines[1]  # the zone the file states
    header = next(line for line in lines if "responses read" in line)
    assert [c.strip() for c in header.strip("┃ ").split("┃")] == [
        "responses read",
        "inserted",
        "updated",
        "unchanged",
        "quarantined",
        "feedback stored",
    ]
    stored = store.scalar("SELECT count(*) FROM survey_responses WHERE survey_id = 'delivery'")
    counts = next(line for line in lines if line.startswith("│"))
    read, inserted, updated, unchanged, quarantined, feedback = (
        int(c.strip().replace(",", "")) for c in counts.strip("│ ").split("│")
    )
    assert read == inserted == stored > 0 and updated == unchanged == quarantined == 0
    assert feedback == store.scalar("SELECT count(*) FROM feedback")
    assert "left out on purpose (not stored): preview 1, spam 1" in output
    assert "  IPAddress → ip (personal)" in lines
    assert "Q1_NPS_GROUP" in next(line for line in lines if line.startswith("kept raw: "))
    assert len([n for n in lines if n.startswith("note: ")]) == len(
        {n for n in lines if n.startswith("note: ")}
    )
    for person in ("@", "192.168.", "Recipient"):  # personal values are never printed
        assert not any(person in line and "→" not in line for line in lines), person
    again = import_summary(store, export, "--definition", definition, "--survey", "delivery")
    assert (again["inserted"], again["unchanged"]) == (0, stored)
    assert again["survey_created"] is False


def test_rows_refused_are_named_and_the_import_still_exits_0(
    store: ImportStore, tmp_path: Path
) -> None:
    """Like ``cxloop import``: good rows stored, refused rows quarantined and listed, exit 0."""
    rows = samples_qualtrics.current_rows(numeric=True)
    q1, rid = rows[0].index("Q1"), rows[0].index("ResponseId")
    rows[3][q1] = 12
    rows[4][rid] = ""
    export = tmp_path / "with-bad-rows.csv"
    with export.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows(rows)
    code, output = import_cli(store, export, "--survey", "bad-rows")
    assert code == 0, output
    assert "row 4, field Q1: '12'" in output
    assert "row 5, field ResponseId:" in output
    run_id = store.scalar("SELECT max(id) FROM import_runs WHERE kind = 'survey_responses'")
    assert f"2 rows quarantined: cxloop quarantine list --run {run_id}" in output
    listed = run_cli(store, "quarantine", "list", "--run", str(run_id), "--json")
    assert listed.code == 0 and '"Q1"' in listed.stdout


def test_the_clis_copies_of_the_tools_and_the_survey_id_rule_match_the_importers() -> None:
    """The CLI keeps its own list and rule (option errors load no importer): they must not
    drift from what the import service accepts."""
    from cxloop.cli import surveys_import
    from cxloop.surveys.importers import survey_choice
    from cxloop.surveys.importers.model import TOOLS

    assert ("auto", *TOOLS) == surveys_import.TOOL_NAMES
    assert surveys_import.SURVEY_ID.pattern == survey_choice._SURVEY_ID.pattern
