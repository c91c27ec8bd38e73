"""Formbricks exports: the reader on every layout the samples write (parser tests on
``ParsedExport``), then the user's commands on real stores (CSV and XLSX agree, with and without
Option ID columns agree, re-import adds nothing, the NPS equals the one computed from the file)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from pathlib import Path

import pytest

from cxloop.errors import Invalid
from cxloop.surveys.importers import formbricks
from cxloop.surveys.importers.common import time_problem
from cxloop.surveys.importers.grid import read_grid, text_grid
from cxloop.surveys.importers.model import Grid, ImportOptions, ParsedExport
from cxloop.surveys.importers.registry import DefinitionFile
from tests.surveys.imports import samples_formbricks as samples
from tests.surveys.imports.conftest import (
    ImportStore,
    export_text,
    feedback_count,
    import_summary,
    nps_of,
    response_count,
)

SURVEY = samples.SURVEY_ID


def parsed(path: Path, zone: str = "UTC") -> ParsedExport:
    return formbricks.parse(read_grid(path), ImportOptions(timezone=zone, timezone_stated=True))


def by_id(export: ParsedExport) -> dict[str, dict[str, object]]:
    return {r.response_id: r.answers for r in export.responses}


def labelled(export: ParsedExport) -> dict[str, dict[str, object]]:
    """Answers with codes turned into labels (what ``surveys responses`` prints)."""
    out: dict[str, dict[str, object]] = {}
    for response in export.responses:
        row: dict[str, object] = {}
        for q in export.questions:
            value = response.answers.get(q.id)
            options = {c.code: c.label for c in q.options}
            rows = {c.code: c.label for c in q.rows}
            if value is None:
                continue
            if q.kind == "single":
                value = options[str(value)]
            elif q.kind == "multiple":
                value = [options[v] for v in value]  # type: ignore[attr-defined]
            elif q.kind == "matrix":
                value = {rows[k]: v for k, v in value.items()}  # type: ignore[attr-defined]
            row[q.id] = value
        out[response.response_id] = row
    return out


def edited(grid: Grid, changes: dict[tuple[int, str], str]) -> Grid:
    """The grid with cells replaced: (row number in the file, header) → new text."""
    rows = [list(r) for r in grid.rows]
    for (line, column), value in changes.items():
        rows[line - 1][rows[0].index(column)] = value
    return Grid(rows, grid.file_format, name=grid.name)


def test_current_export_reads_questions_types_and_option_ids(tmp_path: Path) -> None:
    export = parsed(samples.write_csv(tmp_path))
    assert (export.tool, export.layout, export.value_mode) == (
        "formbricks",
        "current (Option ID columns)",
        "labels + option ids",
    )
    assert export.title == "customer pulse" and export.source_survey_id == SURVEY
    kinds = {q.id: (q.kind, q.scale) for q in export.questions}
    assert kinds == {
        "q1": ("nps", (0, 10)),
        "q2": ("single", None),
        "q3": ("multiple", None),
        "q4": ("text", None),
        "q5": ("csat", (1, 5)),
        "q6_r1": ("single", None),
        "q6_r2": ("single", None),
        "q6_r3": ("single", None),
        "q7": ("matrix", (1, 3)),
        "q8_firstName": ("text", None),
        "q8_lastName": ("text", None),
        "q8_email": ("text", None),
        "q9": ("text", None),
    }
    q2, q3 = export.questions[1], export.questions[2]
    assert [(c.code, c.label, c.other) for c in q2.options] == [
        ("c1plpro", "Pro", False),
        ("c1plent", "企业版", False),
        ("c1plbasic", "Basic", False),
        ("other", "Other", True),
    ]
    assert "Dashboards, charts" in [c.label for c in q3.options]  # a label holding a comma
    q6 = export.questions[6]
    assert q6.text == "How do you rate us - Price - value"  # a row label holding " - "
    assert [c.label for c in q6.options] == ["Good", "OK", "Poor"]
    assert any("one single-choice question per row" in n for n in export.notes)
    assert [(r.code, r.label) for r in export.questions[8].rows] == [
        ("q7_r1", "Speed"),
        ("q7_r2", "Price"),
        ("q7_r3", "Support 支持"),
    ]
    assert export.rejected == [] and len(export.responses) == len(samples.RESPONDENTS)


def test_answers_use_option_ids_other_texts_ranks_and_undefanged_cells(tmp_path: Path) -> None:
    answers = by_id(parsed(samples.write_csv(tmp_path)))
    assert answers["r01aa"]["q3"] == ["c2usrep", "c2usdash"]
    assert answers["r01aa"]["q7"] == {"q7_r1": 1, "q7_r2": 2, "q7_r3": 3}
    assert answers["r02bb"]["q7"] == {"q7_r2": 1, "q7_r1": 2, "q7_r3": 3}
    assert answers["r04dd"]["q2"] == "other"
    assert answers["r04dd"]["q2.other"] == "Startup plan, custom"
    assert answers["r05ee"]["q3"] == ["c2usrep", "other"]
    assert answers["r05ee"]["q3.other"] == "Slack digests"
    assert answers["r03cc"]["q4"] == 'Line one\nLine two, with "quotes"'
    assert answers["r04dd"]["q4"] == "=SUM(A1:A3) is what our finance team types"
    assert answers["r05ee"]["q4"] == "-too expensive"
    assert answers["r13mm"]["q4"] == "@team please add SSO"
    assert answers["r04dd"]["q8_email"] == "li.wei@example.cn"
    assert answers["r02bb"]["q9"] == "clicked"
    assert "q4" not in answers["r14nn"]  # unanswered is absent, never ""
    assert answers["r09ii"] == {}  # a partial that answered nothing


def test_defanging_is_undone_only_before_a_formula_character() -> None:
    assert formbricks.defang("'=1+1") == "=1+1"
    assert formbricks.defang("'\tx") == "\tx"
    assert formbricks.defang("'quoted'") == "'quoted'"
    assert formbricks.defang("it's") == "it's"


def test_metadata_goes_to_personal_fields_and_the_rest_is_kept_raw(tmp_path: Path) -> None:
    export = parsed(samples.write_csv(tmp_path))
    first = {r.response_id: r for r in export.responses}
    r1, r6 = first["r01aa"], first["r06ff"]
    assert (r1.email, r1.location, r1.external_reference, r1.channel) == (
        "ann@example.com",
        "CN",
        "cust-001",
        "link",
    )
    assert first["r04dd"].email == "li.wei@example.cn"  # from the contact-info question
    assert r1.attributes["tags"] == "vip, 回访"
    assert r1.attributes["campaign"] == "spring"  # hidden field
    assert r1.attributes["person.plan"] == "paid"
    assert r1.attributes["submitted_raw"] == "2024-06-01 09:00:05"
    assert r1.completed is True and r6.completed is False
    assert export.mapped["Verified Email"] == "email (personal)"
    assert export.mapped["country"] == "location (personal)"
    assert {"Tags", "url", "campaign", "person.plan", "score"} <= set(export.kept_raw)


def test_times_are_read_in_the_exporters_zone(tmp_path: Path) -> None:
    path = samples.write_csv(tmp_path, tz="Asia/Shanghai")
    export = parsed(path, zone="Asia/Shanghai")
    when = {r.response_id: r.submitted_at for r in export.responses}
    assert when["r15oo"] == dt.datetime(2024, 6, 9, 23, 59, 5, tzinfo=dt.UTC)
    assert export.timezone == "Asia/Shanghai"
    assert {r.response_id: r.attributes["submitted_raw"] for r in export.responses}[
        "r15oo"
    ] == "2024-06-10 07:59:05"


def test_csv_and_xlsx_read_alike(tmp_path: Path) -> None:
    a = parsed(samples.write_csv(tmp_path / "csv"))
    b = parsed(samples.write_xlsx(tmp_path / "xlsx"))
    assert by_id(a) == by_id(b)
    assert [(q.id, q.kind, q.scale) for q in a.questions] == [
        (q.id, q.kind, q.scale) for q in b.questions
    ]


def test_older_export_without_option_ids_gives_the_same_labelled_answers(tmp_path: Path) -> None:
    current = parsed(samples.write_csv(tmp_path / "new", samples.without_other()))
    older = parsed(samples.write_older_csv(tmp_path / "old"))
    assert older.layout == "older (no Option ID columns)" and older.value_mode == "labels"
    assert labelled(current) == labelled(older)
    assert [(q.id, q.kind, [c.label for c in q.options]) for q in current.questions] == [
        (q.id, q.kind, [c.label for c in q.options]) for q in older.questions
    ]


def test_without_option_ids_an_other_text_cannot_be_told_from_an_option(tmp_path: Path) -> None:
    older = parsed(samples.write_csv(tmp_path, option_ids=False))
    q2 = next(q for q in older.questions if q.id == "q2")
    assert "Startup plan, custom" in [c.label for c in q2.options]
    assert by_id(older)["r04dd"]["q2"] == "Startup plan, custom"


def test_oldest_export_with_date_only_timestamps(tmp_path: Path) -> None:
    export = parsed(samples.write_oldest_csv(tmp_path))
    assert export.layout.startswith("oldest")
    assert any("date only" in note for note in export.notes)
    r1 = next(r for r in export.responses if r.response_id == "r01aa")
    assert r1.submitted_at == dt.datetime(2024, 6, 1, tzinfo=dt.UTC)
    assert r1.attributes["submitted_raw"] == "Sat Jun 01 2024"


def test_bad_rows_are_rejected_naming_field_value_and_reason(tmp_path: Path) -> None:
    grid = read_grid(samples.write_csv(tmp_path, (*samples.RESPONDENTS, samples.BAD_NPS)))
    grid = edited(
        grid,
        {
            (2, "Response ID"): "",
            (3, "Finished"): "Maybe",
            (4, "Timestamp"): "yesterday",
            (5, "Response ID"): "r01aa",
            (6, samples.Q_CSAT): "9",
            (7, samples.Q_NPS): "ten",
        },
    )
    export = formbricks.parse(grid, ImportOptions(timezone="UTC"))
    found = {(p.row, p.field, p.value, p.reason) for p in export.rejected}
    assert (2, "Response ID", "", "is empty: no response id") in found
    assert (3, "Finished", "Maybe", "is not Yes or No") in found
    assert (4, "Timestamp", "yesterday", time_problem("yesterday", None)) in found
    assert (5, "Response ID", "r01aa", "appears twice (rows 2 and 5)") not in found  # row 2 bad
    assert (6, "q5", "9", "is outside 1–5") in found
    assert (7, "q1", "ten", "is not a number") in found
    assert (18, "q1", "12", "is outside 0–10") in found
    assert all(p.raw["Response ID"] is not None for p in export.rejected)
    assert len(export.responses) == len(samples.RESPONDENTS) + 1 - 6


def test_a_repeated_response_id_is_refused(tmp_path: Path) -> None:
    grid = edited(read_grid(samples.write_csv(tmp_path)), {(5, "Response ID"): "r01aa"})
    export = formbricks.parse(grid, ImportOptions(timezone="UTC"))
    assert [(p.row, p.field, p.value, p.reason) for p in export.rejected] == [
        (5, "Response ID", "r01aa", "appears twice (rows 2 and 5)")
    ]


def _grid(text: str) -> Grid:
    head = '"No.","Response ID","Timestamp","Finished","Survey ID","Formbricks ID (internal)",'
    return text_grid((head + text).encode(), "export-x-2024-01-01.csv")


def test_types_are_read_from_values_and_wording() -> None:
    rows = [
        '"1. Rate the app","2. How satisfied are you with delivery","3. Score 0-10",'
        '"4. Quality - Food","4. Quality - Drinks"',
    ]
    for k, (a, b, c, d, e) in enumerate(
        [(4, 7, 0, 3, 5), (5, 6, 10, 4, 4), (2, 1, 7, 1, 2), (3, 7, 5, 5, 3)], start=1
    ):
        rows.append(f'{k},"id{k}","2024-01-0{k} 10:00:00","Yes","s","",{a},{b},{c},{d},{e}')
    export = formbricks.parse(_grid("\n".join(rows)), ImportOptions(timezone="UTC"))
    kinds = {q.id: (q.kind, q.scale) for q in export.questions}
    assert kinds == {
        "q1": ("rating", (1, 5)),
        "q2": ("rating", (1, 7)),  # satisfaction on 1–7 is not CSAT
        "q3": ("rating", (0, 10)),  # 0–10 without "recommend" is not NPS
        "q4": ("matrix", (1, 5)),
    }
    assert by_id(export)["id1"]["q4"] == {"q4_r1": 3, "q4_r2": 5}


def test_an_excel_resave_s_timestamps_are_read_in_one_order_for_the_whole_file() -> None:
    """Excel re-saves 2024-01-05 09:03:00 as 1/5/24 9:03: one row's 13/1/24 makes every row
    day-first; a stated --date-order wins (it was ignored) and a date against it says why."""
    rows = [
        '"1. Comments"',
        '1,"id1","5/1/24 9:03","Yes","s","","ok"',
        '2,"id2","13/1/24 10:00","Yes","s","","ok"',
    ]
    export = formbricks.parse(_grid("\n".join(rows)), ImportOptions(timezone="UTC"))
    assert [r.submitted_at for r in export.responses] == [
        dt.datetime(2024, 1, 5, 9, 3, tzinfo=dt.UTC),
        dt.datetime(2024, 1, 13, 10, 0, tzinfo=dt.UTC),
    ]
    stated = formbricks.parse(
        _grid("\n".join(rows)), ImportOptions(timezone="UTC", day_first=False)
    )
    assert stated.responses[0].submitted_at == dt.datetime(2024, 5, 1, 9, 3, tzinfo=dt.UTC)
    assert "day 13 in a month-first column" in stated.rejected[0].reason
    both_ways = formbricks.parse(_grid("\n".join(rows[:2])), ImportOptions(timezone="UTC"))
    assert any(n.startswith("Timestamp: every date reads both ways") for n in both_ways.notes)


def test_unreadable_layouts_and_definition_files_are_refused(tmp_path: Path) -> None:
    grid = text_grid(b"name,age\nAnn,3\n", "people.csv")
    with pytest.raises(Invalid) as caught:
        formbricks.parse(grid, ImportOptions())
    problem = caught.value.problems[0]
    assert problem.field == "file" and problem.value == "people.csv"
    assert "is not a Formbricks export: no 'Response ID' or 'Timestamp' column" in problem.reason
    definition = DefinitionFile("survey.qsf", b"{}")
    with pytest.raises(Invalid) as caught:
        formbricks.parse(read_grid(samples.write_csv(tmp_path)), ImportOptions(), definition)
    assert caught.value.problems[0].field == "--definition"
    assert formbricks.detect(grid) <= 0.3
    assert formbricks.detect(text_grid(b"\n", "empty.csv")) == 0.0


# --- the user's commands on real stores ----------------------------------------------------


def test_csv_and_xlsx_give_identical_surveys_responses_output(
    new_store: Callable[[str], ImportStore], tmp_path: Path
) -> None:
    outputs = []
    for name, write in (("csv", samples.write_csv), ("xlsx", samples.write_xlsx)):
        store = new_store(name)
        summary = import_summary(store, write(tmp_path / name), "--timezone", "UTC")
        assert (summary["tool"], summary["inserted"], summary["quarantined"]) == (
            "formbricks",
            len(samples.RESPONDENTS),
            0,
        )
        outputs.append(
            (
                export_text(store, SURVEY, "--format", "json"),
                export_text(store, SURVEY, "--format", "csv"),
            )
        )
    assert outputs[0] == outputs[1]
    assert '"q2.other": "Startup plan, custom"' in outputs[0][0]


def test_with_and_without_option_ids_give_identical_output(
    new_store: Callable[[str], ImportStore], tmp_path: Path
) -> None:
    files = {
        "current": samples.write_csv(tmp_path / "current", samples.without_other()),
        "older": samples.write_older_csv(tmp_path / "older"),
    }
    outputs = []
    for name, path in files.items():
        store = new_store(name)
        import_summary(store, path, "--timezone", "UTC")
        outputs.append(export_text(store, SURVEY, "--format", "json"))
    assert outputs[0] == outputs[1]


def test_reimport_of_the_same_file_adds_nothing(store: ImportStore, tmp_path: Path) -> None:
    path = samples.write_csv(tmp_path, (*samples.RESPONDENTS, samples.BAD_NPS))
    first = import_summary(store, path, "--timezone", "UTC")
    assert (first["inserted"], first["quarantined"]) == (len(samples.RESPONDENTS), 1)
    stored = feedback_count(store, SURVEY)
    assert stored == len(samples.RESPONDENTS) - 1  # the partial with no answer makes none
    again = import_summary(store, path, "--timezone", "UTC")
    assert (again["inserted"], again["updated"], again["unchanged"]) == (
        0,
        0,
        len(samples.RESPONDENTS),
    )
    assert feedback_count(store, SURVEY) == stored
    assert response_count(store, SURVEY) == len(samples.RESPONDENTS)


def test_imported_nps_equals_the_nps_computed_from_the_file(
    store: ImportStore, tmp_path: Path
) -> None:
    path = samples.write_csv(tmp_path, (*samples.RESPONDENTS, samples.BAD_NPS))
    scores = []
    for record in csv.DictReader(io.StringIO(path.read_text("utf-8"), newline="")):
        value = record[samples.Q_NPS]
        if value.isdigit() and int(value) <= 10:
            scores.append(int(value))
    expected = 100 * (sum(s >= 9 for s in scores) - sum(s <= 6 for s in scores)) / len(scores)
    import_summary(store, path, "--timezone", "UTC")
    assert nps_of(store) == pytest.approx(expected)


def test_times_default_to_utc_when_no_zone_is_stated(tmp_path: Path) -> None:
    """Formbricks exports in UTC unless its user chose a zone: the store's own default zone
    (Asia/Shanghai) must not shift them by eight hours."""
    path = samples.write_csv(tmp_path)
    export = formbricks.parse(read_grid(path), ImportOptions(timezone="Asia/Shanghai"))
    r1 = next(r for r in export.responses if r.attributes["submitted_raw"] == "2024-06-01 09:00:05")
    assert r1.submitted_at == dt.datetime(2024, 6, 1, 9, 0, 5, tzinfo=dt.UTC)
    assert export.timezone == "UTC"
