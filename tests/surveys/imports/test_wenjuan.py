"""问卷网 and unrecognised layouts read through a confirmed column mapping: the reader on the
腾讯问卷-like samples (GB18030 CSV, xlsx with a title row), every mapping mistake refused with
the mapping field and value, then the user's commands on real stores (CSV and xlsx agree,
re-import adds nothing, the NPS equals the one computed from the file)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from cxloop.errors import Invalid
from cxloop.surveys.importers import registry, wenjuan
from cxloop.surveys.importers.common import time_problem
from cxloop.surveys.importers.grid import read_grid
from cxloop.surveys.importers.model import Grid, ImportOptions, ParsedExport
from cxloop.surveys.importers.registry import DefinitionFile
from tests.surveys.imports import samples_wenjuan as samples
from tests.surveys.imports.conftest import (
    ImportStore,
    export_text,
    feedback_count,
    import_cli,
    import_summary,
    nps_of,
    response_count,
)

SURVEY = "store-visit"


def parsed(path: Path, columns: dict[str, Any] | None = None, **kw: Any) -> ParsedExport:
    return wenjuan.parse(read_grid(path), ImportOptions(columns=columns or samples.mapping(**kw)))


def by_id(export: ParsedExport) -> dict[str, dict[str, object]]:
    return {r.response_id: r.answers for r in export.responses}


def refused(grid: Grid, columns: dict[str, Any] | None, **kw: Any) -> list[tuple[str, Any, str]]:
    with pytest.raises(Invalid) as caught:
        wenjuan.parse(grid, ImportOptions(columns=columns), **kw)
    return [(p.field, p.value, p.reason) for p in caught.value.problems]


def test_mapped_csv_reads_questions_answers_and_metadata(tmp_path: Path) -> None:
    export = parsed(samples.write_csv(tmp_path))
    assert (export.tool, export.layout, export.value_mode, export.title) == (
        "wenjuan",
        "column mapping (header row 1)",
        "labels",
        "门店满意度调查",
    )
    assert [(q.id, q.kind, q.scale) for q in export.questions] == [
        ("nps", "nps", (0, 10)),
        ("q2", "csat", (1, 5)),
        ("q3", "multiple", None),
        ("q4", "text", None),
        ("q5", "matrix", (1, 5)),
        ("q6", "single", None),
    ]
    matrix = export.questions[4]
    assert matrix.text == "5.请评价"
    assert [(r.code, r.label) for r in matrix.rows] == [
        ("q5_r1", "环境"),
        ("q5_r2", "服务"),
        ("q5_r3", "价格"),
    ]
    assert [c.label for c in export.questions[2].options] == list(samples.REASONS)
    assert [c.label for c in export.questions[5].options] == ["女", "男"]  # first seen
    answers = by_id(export)
    assert answers["1"] == {
        "nps": 10,
        "q2": 5,
        "q3": ["服务好", "离家近"],
        "q4": "很好，继续保持",
        "q5": {"q5_r1": 5, "q5_r2": 5, "q5_r3": 4},
        "q6": "女",
    }
    assert answers["6"]["q3"] == ["价格实惠", "服务好", "朋友推荐"]  # option order
    assert answers["3"]["q4"] == '排队太久,"等了半小时"\n希望增加窗口'
    assert answers["8"] == {"nps": 7, "q2": 3, "q5": {"q5_r2": 3}}  # blanks are absent
    first = export.responses[0]
    assert first.started_at == dt.datetime(2024, 5, 1, 1, 0, tzinfo=dt.UTC)  # 09:00 in Shanghai
    assert first.submitted_at == dt.datetime(2024, 5, 1, 1, 1, 5, tzinfo=dt.UTC)
    assert first.attributes["submitted_raw"] == "2024/05/01 09:01:05"
    assert (first.location, first.external_reference) == ("中国-上海-上海", "wx-001")
    assert first.attributes["答题时长"] == "65秒"
    assert export.responses[6].location is None  # every location column empty
    assert export.kept_raw == ["答题时长"]
    assert export.mapped["地理位置省"] == "location (personal)"
    assert export.rejected == []


def test_xlsx_with_a_title_row_reads_like_the_csv(tmp_path: Path) -> None:
    csv_export = parsed(samples.write_csv(tmp_path / "csv"))
    xlsx_export = parsed(samples.write_xlsx(tmp_path / "xlsx"), header_row=2)
    assert by_id(csv_export) == by_id(xlsx_export)
    assert xlsx_export.responses[0].row == 3  # file rows counted from the title row


def test_values_outside_the_mapping_are_refused_rows(tmp_path: Path) -> None:
    export = parsed(samples.write_csv(tmp_path, (*samples.ANSWERS, *samples.BAD)))
    assert [(p.row, p.field, p.value, p.reason) for p in export.rejected] == [
        (14, samples.Q_NPS, "11", "is outside 0–10"),
        (
            15,
            samples.Q_WHY,
            "外卖",
            "is not one of the options (价格实惠, 服务好, 离家近, 朋友推荐)",
        ),
    ]
    assert export.rejected[0].raw["编号"] == "13"
    assert len(export.responses) == len(samples.ANSWERS)


def test_without_options_the_choices_seen_are_the_options(tmp_path: Path) -> None:
    export = parsed(samples.write_csv(tmp_path, (*samples.ANSWERS, *samples.BAD)), options=False)
    assert [c.label for c in export.questions[2].options] == [
        "服务好", "离家近", "价格实惠", "朋友推荐", "外卖",
    ]  # fmt: skip
    assert [p.row for p in export.rejected] == [14]


def test_row_problems_name_the_column_value_and_reason(tmp_path: Path) -> None:
    grid = read_grid(samples.write_csv(tmp_path))
    rows = [list(r) for r in grid.rows]
    rows[0].append("状态")
    for k, row in enumerate(rows[1:], start=1):
        row += [""] * (len(rows[0]) - 1 - len(row)) + ["已完成" if k != 3 else "未完成"]
    rows[2][0] = ""  # no id
    rows[4][2] = "昨天"  # not a time
    rows[5][0] = "1"  # the id of row 2 again
    rows[6][-1] = "也许"  # not a completion flag
    columns = {**samples.mapping(), "completed_column": "状态"}
    export = wenjuan.parse(Grid(rows, "csv", name=grid.name), ImportOptions(columns=columns))
    assert [(p.row, p.field, p.value, p.reason) for p in export.rejected] == [
        (3, "编号", "", "is empty: no response id"),
        (
            5,
            "结束答题时间",
            "昨天",
            f"{time_problem('昨天', None)} (or set time_format in the mapping)",
        ),
        (6, "编号", "1", "appears twice (rows 2 and 6)"),
        (7, "状态", "也许", "is not a completion flag (是/yes or 否/no)"),
    ]
    assert [r.completed for r in export.responses if r.response_id == "3"] == [False]


def test_an_excel_resave_s_dates_are_read_in_one_order_and_the_stated_order_wins(
    tmp_path: Path,
) -> None:
    """Excel re-saves 2024/01/05 09:03:00 as 1/5/24 9:03: one row's 13/1/24 makes every row
    day-first; a stated --date-order was ignored and now wins; a year-1 time_format date is a
    refused row, not an OverflowError."""
    grid = read_grid(samples.write_csv(tmp_path))
    rows = [list(r) for r in grid.rows[:3]]
    rows[1][1:3] = ["5/1/24 9:00", "5/1/24 9:03"]
    rows[2][1:3] = ["13/1/24 9:55", "13/1/24 10:00"]
    columns = samples.mapping()
    export = wenjuan.parse(Grid(rows, "csv", name=grid.name), ImportOptions(columns=columns))
    shanghai = dt.timezone(dt.timedelta(hours=8))
    assert [r.submitted_at for r in export.responses] == [
        dt.datetime(2024, 1, 5, 9, 3, tzinfo=shanghai),
        dt.datetime(2024, 1, 13, 10, 0, tzinfo=shanghai),
    ]
    stated = wenjuan.parse(
        Grid(rows, "csv", name=grid.name), ImportOptions(columns=columns, day_first=False)
    )
    assert stated.responses[0].submitted_at == dt.datetime(2024, 5, 1, 9, 3, tzinfo=shanghai)
    assert "day 13 in a month-first column" in stated.rejected[0].reason
    rows[1][2] = "0001-01-01"
    dated = {**columns, "time_format": "%Y-%m-%d", "start_column": None}
    export = wenjuan.parse(Grid(rows, "csv", name=grid.name), ImportOptions(columns=dated))
    assert (export.rejected[0].row, export.rejected[0].value) == (2, "0001-01-01")


def test_a_time_format_reads_odd_dates_and_refuses_others(tmp_path: Path) -> None:
    grid = read_grid(samples.write_csv(tmp_path))
    rows = [list(r) for r in grid.rows]
    rows[1][2] = "2024年05月01日 09:01"
    columns = {**samples.mapping(), "time_format": "%Y年%m月%d日 %H:%M", "start_column": None}
    export = wenjuan.parse(Grid(rows, "csv", name=grid.name), ImportOptions(columns=columns))
    assert export.responses[0].submitted_at == dt.datetime(2024, 5, 1, 1, 1, tzinfo=dt.UTC)
    assert export.rejected[0].field == "结束答题时间"
    assert export.rejected[0].reason == "does not match time_format '%Y年%m月%d日 %H:%M'"


def test_mapping_mistakes_are_refused_naming_the_mapping_field(tmp_path: Path) -> None:
    grid = read_grid(samples.write_csv(tmp_path))
    good = samples.mapping()
    problems = refused(grid, {**good, "id_column": "ID", "location_columns": ["省份"]})
    assert [(f, v) for f, v, _ in problems] == [
        ("columns.id_column", "ID"),
        ("columns.location_columns[0]", "省份"),
    ]
    assert (
        "is not a column of header row 1 of 门店满意度调查.csv (columns: 编号, 开始答题时间"
        in (problems[0][2])
    )
    questions = [
        {"column": samples.Q_WHY, "type": "multiple"},
        {"column": samples.Q_MATRIX[0], "type": "matrix"},
        {"columns": [samples.Q_NPS], "type": "nps"},
        {"column": samples.Q_NPS, "type": "score"},
        {"column": samples.Q_NPS, "type": "rating", "scale": [5, 1]},
    ]
    found = refused(grid, {**good, "questions": questions, "header_row": 0, "colums": []})
    fields = {f: r for f, _, r in found}
    assert fields["columns.header_row"] == "Input should be greater than or equal to 1"
    assert fields["columns.colums"] == "Extra inputs are not permitted"
    assert fields["columns.questions[0]"] == (
        "a multiple question needs the separator between its choices"
    )
    assert fields["columns.questions[1]"] == "a matrix needs columns: one column per row"
    assert fields["columns.questions[2]"] == "a nps question reads one column: use column"
    assert fields["columns.questions[3].type"].startswith("Input should be 'nps'")
    assert fields["columns.questions[4]"].startswith("scale must be [lowest, highest]")
    assert refused(grid, {**good, "header_row": 40}) == [
        ("columns.header_row", 40, "is past the end of 门店满意度调查.csv (13 rows)")
    ]
    assert refused(grid, {**good, "timezone": "Mars/Base"}) == [
        ("columns.timezone", "Mars/Base", "is not a known IANA zone (e.g. Asia/Shanghai)")
    ]
    assert refused(grid, None)[0][0] == "--columns"
    definition = DefinitionFile("x.lss", b"<x/>")
    assert refused(grid, good, definition=definition)[0][:2] == ("--definition", "x.lss")


def test_never_sniffed_and_no_other_reader_claims_the_samples(tmp_path: Path) -> None:
    for write in samples.WRITERS:
        grid = read_grid(write(tmp_path / write.__name__))
        assert wenjuan.detect(grid) == 0.0
        scores = registry.scores(grid)
        assert all(s <= 0.3 for s in scores.values()), scores
        with pytest.raises(Invalid):
            registry.detect_tool(grid)


# --- the user's commands on real stores ----------------------------------------------------


def test_csv_and_xlsx_give_identical_surveys_responses_output(
    new_store: Callable[[str], ImportStore], tmp_path: Path
) -> None:
    outputs = []
    for name, write, row in (("csv", samples.write_csv, 1), ("xlsx", samples.write_xlsx, 2)):
        store = new_store(name)
        mapping = samples.write_mapping(tmp_path, header_row=row)
        summary = import_summary(
            store,
            write(tmp_path / name),
            "--tool",
            "wenjuan",
            "--columns",
            mapping,
            "--survey",
            SURVEY,
        )
        assert (summary["tool"], summary["inserted"], summary["quarantined"]) == (
            "wenjuan",
            len(samples.ANSWERS),
            0,
        )
        outputs.append(export_text(store, SURVEY, "--format", "json"))
    assert outputs[0] == outputs[1]
    first = json.loads(outputs[0])["responses"][0]
    assert (first["response_id"], first["submitted_at"]) == ("1", "2024-05-01T01:01:05+00:00")
    assert first["answers"]["q5"] == {"环境": 5, "服务": 5, "价格": 4}


def _import(store: ImportStore, path: Path, tmp_path: Path) -> dict[str, Any]:
    mapping = samples.write_mapping(tmp_path)
    return import_summary(
        store, path, "--tool", "wenjuan", "--columns", mapping, "--survey", SURVEY
    )


def test_reimport_of_the_same_file_adds_nothing(store: ImportStore, tmp_path: Path) -> None:
    path = samples.write_csv(tmp_path, (*samples.ANSWERS, *samples.BAD))
    first = _import(store, path, tmp_path)
    assert (first["inserted"], first["quarantined"]) == (len(samples.ANSWERS), 2)
    stored = feedback_count(store, SURVEY)
    assert stored == len(samples.ANSWERS)
    again = _import(store, path, tmp_path)
    assert (again["inserted"], again["updated"], again["unchanged"]) == (
        0,
        0,
        len(samples.ANSWERS),
    )
    assert feedback_count(store, SURVEY) == stored
    assert response_count(store, SURVEY) == len(samples.ANSWERS)


def test_imported_nps_equals_the_nps_computed_from_the_file(
    store: ImportStore, tmp_path: Path
) -> None:
    path = samples.write_csv(tmp_path, (*samples.ANSWERS, *samples.BAD))
    text = path.read_bytes().decode("gb18030")
    scores = [
        int(v)
        for record in csv.DictReader(io.StringIO(text, newline=""))
        if (v := record[samples.Q_NPS]).isdigit() and int(v) <= 10
    ]
    expected = 100 * (sum(s >= 9 for s in scores) - sum(s <= 6 for s in scores)) / len(scores)
    _import(store, path, tmp_path)
    assert nps_of(store) == pytest.approx(expected)


def test_a_mapping_naming_a_missing_column_stops_before_any_work(
    store: ImportStore, tmp_path: Path
) -> None:
    path = samples.write_csv(tmp_path)
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(
        "id_column: 编号\ntime_column: 提交时间\nquestions:\n  - {column: 1.题目, type: text}\n",
        encoding="utf-8",
    )
    code, output = import_cli(store, path, "--tool", "wenjuan", "--columns", mapping)
    assert code == 2, output
    assert "columns.time_column: '提交时间' is not a column of header row 1" in output
    assert "Traceback" not in output
    assert response_count(store, SURVEY) == 0


def plain_nps_csv(folder: Path) -> Path:
    """A plain CSV no tool wrote: an e-mail as the only key, a score, a date, a comment."""
    path = folder / "nps_scores.csv"
    path.write_text(
        "customer_email,score,date,comment\n"
        "c0@example.com,10,2024-02-01,love it\n"
        'c1@example.com,9,2024-02-02,"fast, friendly"\n'
        "c2@example.com,3,2024-02-03,\n",
        encoding="utf-8",
    )
    return path


def test_a_bad_mapping_reports_every_problem_at_once(tmp_path: Path) -> None:
    grid = read_grid(plain_nps_csv(tmp_path))
    bad = {
        "id_column": "customer_mail",
        "time_column": "date",
        "questions": [
            {"column": "score", "type": "nps", "separator": "x"},
            {"column": "comment", "type": "texte"},
            {"column": "rating", "type": "matrix", "separator": ","},
        ],
    }
    problems = {field: (value, reason) for field, value, reason in refused(grid, bad)}
    assert set(problems) == {
        "columns.questions[0]",
        "columns.questions[1].type",
        "columns.questions[2]",
        "columns.id_column",
        "columns.questions[2].column",
    }
    assert problems["columns.questions[0]"][1] == (
        "separator is read only for a multiple question, not nps"
    )
    assert problems["columns.questions[1].type"][0] == "texte"
    assert problems["columns.questions[2]"][1] == (
        "a matrix needs columns: one column per row; "
        "separator is read only for a multiple question, not matrix"
    )
    assert problems["columns.id_column"] == (
        "customer_mail",
        "is not a column of header row 1 of nps_scores.csv "
        "(columns: customer_email, score, date, comment)",
    )


def test_a_bad_mapping_file_lists_every_problem_on_the_command_line(
    store: ImportStore, tmp_path: Path
) -> None:
    mapping = tmp_path / "bad.yaml"
    mapping.write_text(
        "id_column: customer_mail\ntime_column: date\nquestions:\n"
        "  - {column: score, type: nps, separator: x}\n  - {column: comment, type: texte}\n",
        encoding="utf-8",
    )
    code, output = import_cli(store, plain_nps_csv(tmp_path), "--columns", mapping)
    assert code == 2, output
    errors = [line for line in output.splitlines() if line.startswith("error:")]
    assert len(errors) == 3, output
    assert any("columns.id_column: 'customer_mail' is not a column" in e for e in errors)
    assert any("columns.questions[1].type: 'texte'" in e for e in errors)
    assert "Traceback" not in output


def test_a_plain_csv_is_read_through_the_mapping_not_announced_as_wenjuan(
    store: ImportStore, tmp_path: Path
) -> None:
    mapping = tmp_path / "nps.yaml"
    mapping.write_text(
        "id_column: customer_email\ntime_column: date\nemail_column: customer_email\n"
        "questions:\n  - {column: score, id: nps, type: nps}\n"
        "  - {column: comment, id: why, type: text}\n",
        encoding="utf-8",
    )
    code, output = import_cli(store, plain_nps_csv(tmp_path), "--columns", mapping)
    assert code == 0, output
    assert "nps_scores.csv: read through your column mapping (header row 1), labels" in output
    assert "wenjuan export" not in output
    assert response_count(store, "nps_scores") == 3


def test_the_readme_mapping_example_shows_every_field_and_reads_its_file() -> None:
    folder = Path(__file__).resolve().parents[3] / "examples" / "imports"
    raw = yaml.safe_load((folder / "store-visits-columns.yaml").read_text(encoding="utf-8"))
    assert set(raw) == set(wenjuan.ColumnMapping.model_fields)
    shown = {key for q in raw["questions"] for key in q}
    assert shown == set(wenjuan.QuestionColumns.model_fields)
    export = wenjuan.parse(read_grid(folder / "store-visits.csv"), ImportOptions(columns=raw))
    assert [r.response_id for r in export.responses] == ["V001", "V002", "V003", "V004"]
    assert [(p.row, p.field, p.value) for p in export.rejected] == [(7, "推荐意愿", "11")]
    assert export.responses[2].completed is False
