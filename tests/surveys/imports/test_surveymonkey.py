"""SurveyMonkey exports: the reader on every layout the samples write (parser tests on
``ParsedExport``), then the user's commands on real stores (both value modes agree, re-import
adds nothing, the NPS equals the one computed from the file)."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from cxloop.errors import Invalid
from cxloop.surveys.importers import surveymonkey
from cxloop.surveys.importers.grid import read_grid
from cxloop.surveys.importers.model import Grid, ImportOptions, ParsedExport
from cxloop.surveys.importers.registry import DefinitionFile
from tests.surveys.imports import samples_surveymonkey as samples
from tests.surveys.imports.conftest import (
    ImportStore,
    export_json,
    export_text,
    feedback_count,
    import_cli,
    import_summary,
    nps_of,
    response_count,
    run_cli,
)

UTC = dt.UTC


def parsed(path: Path, **options: object) -> ParsedExport:
    return surveymonkey.parse(read_grid(path), ImportOptions(**options))  # type: ignore[arg-type]


def by_id(export: ParsedExport) -> dict[str, dict[str, object]]:
    return {r.response_id: r.answers for r in export.responses}


def decoded_stores(answers: dict[str, dict[str, object]]) -> dict[str, dict[str, object]]:
    """Numerical-value answers with q2's option positions turned into the labels (what a survey
    listing the options in order decodes them to), so they compare with the text export's."""
    out = {}
    for rid, given in answers.items():
        copy = dict(given)
        store = copy.get("q2")
        if isinstance(store, str) and store.isdigit():
            copy["q2"] = samples.STORES[int(store) - 1]
        out[rid] = copy
    return out


def test_start_and_end_dates_are_read_in_one_order() -> None:
    """One re-save wrote both columns: a 13/9/22 start makes the end dates (which alone read
    both ways) day-first too, so no response ends a month before it starts."""
    rows = [
        ["Respondent ID", "Collector ID", "Start Date", "End Date", "Anything else?"],
        ["", "", "", "", "Open-Ended Response"],
        ["1001", "9", "13/9/22 9:00", "1/10/22 9:05", "fine"],
        ["1002", "9", "12/9/22 9:00", "5/10/22 9:05", "slow"],
    ]
    export = surveymonkey.parse(Grid(rows, "csv", name="x.csv"), ImportOptions(timezone="UTC"))
    second = export.responses[1]
    assert second.started_at == dt.datetime(2022, 9, 12, 9, 0, tzinfo=dt.UTC)
    assert second.submitted_at == dt.datetime(2022, 10, 5, 9, 5, tzinfo=dt.UTC)
    assert not any("reads both ways" in note for note in export.notes)


def test_text_export_reads_every_question_kind(tmp_path: Path) -> None:
    export = parsed(samples.write_text_csv(tmp_path))
    assert (export.tool, export.layout, export.value_mode) == (
        "surveymonkey",
        "expanded (2 header rows)",
        "actual answer text",
    )
    kinds = {q.id: (q.kind, q.scale) for q in export.questions}
    assert kinds == {
        "q1": ("nps", (0, 10)),
        "q2": ("single", None),
        "q3": ("multiple", None),
        "q4": ("matrix", (1, 5)),
        "q5": ("matrix", (1, 3)),
        "q6": ("text", None),
        "q7_1": ("text", None),
        "q7_2": ("text", None),
    }
    q2, q3, q4 = export.questions[1], export.questions[2], export.questions[3]
    assert [c.label for c in q2.options] == [*samples.STORES, samples.OTHER]
    assert [(c.label, c.other) for c in q3.options][-1] == (samples.OTHER, True)
    assert [c.label for c in q3.options[:3]] == samples.HEARD
    assert [r.label for r in q4.rows] == samples.RATE_ROWS
    assert len(export.responses) == 20 and export.rejected == []
    answers = by_id(export)
    first = samples.FIRST_ID
    assert answers[str(first)] == {
        "q1": 10,
        "q2": "上海 静安店",
        "q3": ["1", "2"],
        "q4": {"q4_1": 5, "q4_2": 5, "q4_3": 4},
        "q5": {"q5_1": 2, "q5_2": 1, "q5_3": 3},
        "q6": "店员很热情，下次还来！",
        "q7_1": "李伟",
        "q7_2": "上海",
    }
    # the quoted newline and "" survive; "other" text of a single and of a checkbox
    assert answers[str(first + 1)]["q6"] == (
        'Great coffee, but the "express" line was slow.\nStill coming back.'
    )
    assert answers[str(first + 3)]["q2"] == "other"
    assert answers[str(first + 3)]["q2.other"] == "Shenzhen, 万象城"
    assert answers[str(first + 2)]["q3"] == ["2", "4"]
    assert answers[str(first + 2)]["q3.other"] == "小红书"
    # a ranking with N/A: the unranked items are absent; a blank NPS is absent
    assert answers[str(first + 7)]["q5"] == {"q5_1": 1}
    assert "q1" not in answers[str(first + 12)]


def test_respondent_metadata_goes_to_its_fields_and_times_are_local(tmp_path: Path) -> None:
    export = parsed(samples.write_text_csv(tmp_path), timezone="Asia/Shanghai")
    first = export.responses[0]
    assert first.response_id == str(samples.FIRST_ID)
    assert (first.email, first.name, first.ip, first.phone, first.channel) == (
        "li.wei@example.cn",
        "李伟",  # a Chinese name: family name first, no space
        "116.228.1.10",
        "13800138000",
        "431882910",
    )
    # 2022-09-01 09:05:02 in Shanghai is 01:05:02 UTC; End Date is the submitted time
    assert first.started_at == dt.datetime(2022, 9, 1, 1, 5, 2, tzinfo=UTC)
    assert first.submitted_at == dt.datetime(2022, 9, 1, 1, 12, 2, tzinfo=UTC)
    assert first.attributes == {
        "custom_data_1": "C-1001",
        "start_date_raw": "2022-09-01 09:05:02",
        "end_date_raw": "2022-09-01 09:12:02",
    }
    assert export.mapped["Collector ID"] == "channel"
    assert export.mapped["Custom Data 1"] == "attribute custom_data_1"
    denver = parsed(samples.write_text_csv(tmp_path), timezone="America/Denver")
    assert denver.responses[0].submitted_at == dt.datetime(2022, 9, 1, 15, 12, 2, tzinfo=UTC)


def test_no_completion_flag_every_row_completed_unless_all_blank(tmp_path: Path) -> None:
    export = parsed(samples.write_text_csv(tmp_path))
    status = {r.response_id: r.completed for r in export.responses}
    assert status[str(samples.FIRST_ID + 6)] is False  # answered nothing
    assert sum(status.values()) == 19
    assert any("no completion status" in note for note in export.notes)


def test_numeric_export_gives_the_text_answers_once_positions_are_decoded(tmp_path: Path) -> None:
    text = parsed(samples.write_text_csv(tmp_path))
    numeric = parsed(samples.write_numeric_csv(tmp_path))
    assert numeric.value_mode == "numerical value"
    assert [q.id for q in numeric.questions] == [q.id for q in text.questions]
    q2 = numeric.questions[1]
    assert (q2.codes, q2.decoded) == ("positions", False)
    assert any(note.startswith("q2: answers are option positions") for note in numeric.notes)
    # checkbox options still come from row 2 in numeric mode
    assert [c.label for c in numeric.questions[2].options] == [*samples.HEARD, samples.OTHER]
    assert decoded_stores(by_id(numeric)) == by_id(text)
    # 09/01/2022 09:12:02 AM (a US account's format) is the same instant as 2022-09-01 09:12:02
    assert [r.submitted_at for r in numeric.responses] == [r.submitted_at for r in text.responses]


def test_excel_resave_loses_the_mangled_id_row_and_reads_the_rest(tmp_path: Path) -> None:
    path = samples.write_excel_resaved_csv(tmp_path, encoding="gbk")
    grid = read_grid(path)
    assert grid.encoding == "gb18030"
    export = surveymonkey.parse(grid, ImportOptions())
    assert len(export.responses) == 19
    [problem] = export.rejected
    assert (problem.row, problem.field, problem.value) == (
        3 + samples.MANGLED_ROW,
        "Respondent ID",
        "1.14123E+11",
    )
    assert "re-export" in problem.reason
    text = by_id(parsed(samples.write_text_csv(tmp_path)))
    assert by_id(export) == {rid: a for rid, a in text.items() if rid in by_id(export)}
    # 9/1/22 9:12 — Excel dropped the seconds; month first (no day in the column is over 12)
    assert export.responses[0].submitted_at == dt.datetime(2022, 9, 1, 1, 12, tzinfo=UTC)
    assert export.responses[0].attributes["end_date_raw"] == "9/1/22 9:12"


def test_day_and_month_order_is_decided_from_the_whole_column(tmp_path: Path) -> None:
    path = samples.write_excel_resaved_csv(tmp_path, day_first=True, name="dmy.csv")
    export = parsed(path)
    # row 1 is 1/9/2022 (ambiguous alone): 27/9/2022 later in the column says day first
    assert export.responses[0].submitted_at == dt.datetime(2022, 9, 1, 1, 12, tzinfo=UTC)
    assert export.responses[-1].submitted_at.date() == dt.date(2022, 9, 27)  # type: ignore[union-attr]
    # the user may state the order
    stated = parsed(path, day_first=False)
    assert stated.responses[0].submitted_at == dt.datetime(2022, 1, 9, 1, 12, tzinfo=UTC)


def test_cp1252_resave_turns_chinese_into_question_marks_but_reads(tmp_path: Path) -> None:
    export = parsed(samples.write_excel_resaved_csv(tmp_path, encoding="cp1252"))
    assert len(export.responses) == 19
    assert export.questions[0].kind == "nps"
    assert str(export.responses[0].answers["q6"]).strip("?，！") == ""


def test_xlsx_export_keeps_ids_as_strings_and_gives_the_csv_answers(tmp_path: Path) -> None:
    xlsx = parsed(samples.write_xlsx(tmp_path))
    text = parsed(samples.write_text_csv(tmp_path))
    assert [r.response_id for r in xlsx.responses] == [r.response_id for r in text.responses]
    assert xlsx.responses[0].response_id == "114123456780"
    assert by_id(xlsx) == by_id(text)
    assert [r.submitted_at for r in xlsx.responses] == [r.submitted_at for r in text.responses]


def test_odd_export_rejects_rows_naming_field_value_and_reason(tmp_path: Path) -> None:
    export = parsed(samples.write_odd_csv(tmp_path))
    problems = {(p.row, p.field, p.value) for p in export.rejected}
    assert problems == {
        (9, "Respondent ID", None),
        (10, "Respondent ID", "220000000001"),
        (11, "End Date", "#####"),
    }
    reasons = " ".join(p.reason for p in export.rejected)
    assert "repeats the response on row 3" in reasons and "too narrow" in reasons
    assert [q.id for q in export.questions] == ["q1", "q2_1", "q2_2", "q2_3", "q3"]
    assert export.questions[0].kind == "csat"  # 1–5 and "satisfied"
    assert [c.label for c in export.questions[1].options] == ["Very good", "Good", "Poor"]
    assert any("matrix answered with labels" in note for note in export.notes)
    first, last = export.responses[0], export.responses[-1]
    assert first.answers == {
        "q1": 5,
        "q2_1": "Very good",
        "q2_2": "Very good",
        "q2_3": "Good",
        "q3": "Fast, friendly",
    }
    assert first.attributes["custom_data_2"] == "wave 1"
    assert "Custom Data 2" in export.kept_raw
    assert (last.response_id, last.completed, last.answers) == ("220000000100", False, {})


def test_condensed_layout_splits_joined_choices(tmp_path: Path) -> None:
    export = parsed(samples.write_condensed_csv(tmp_path))
    assert export.layout == "condensed (2 header rows)"
    q1 = export.questions[0]
    assert q1.kind == "multiple"
    assert [c.label for c in q1.options] == samples.HEARD
    assert export.responses[0].answers["q1"] == ["Friends / family", "微信"]
    assert any("condensed export" in note for note in export.notes)


def test_detect_is_sure_on_every_sample_and_not_on_other_layouts(tmp_path: Path) -> None:
    for writer in samples.ALL_WRITERS:
        path = writer(tmp_path)
        assert surveymonkey.detect(read_grid(path)) >= 0.8, path.name
    qualtrics = Grid(
        [
            ["StartDate", "EndDate", "ResponseId", "Q1"],
            ["Start Date", "End Date", "Response ID", "?"],
        ],
        "csv",
    )
    wjx = Grid(
        [["序号", "提交答卷时间", "所用时间", "1、您的性别"], ["1", "2024/3/5 14:02:11", "", "男"]],
        "csv",
    )
    assert surveymonkey.detect(qualtrics) <= 0.3 and surveymonkey.detect(wjx) <= 0.3


def test_unreadable_layouts_and_definition_files_are_refused_with_a_sentence(
    tmp_path: Path,
) -> None:
    grid = read_grid(samples.write_text_csv(tmp_path))
    with pytest.raises(Invalid, match="SurveyMonkey has no definition file"):
        surveymonkey.parse(grid, ImportOptions(), DefinitionFile("survey.qsf", b"{}"))
    with pytest.raises(Invalid, match="not a SurveyMonkey export"):
        surveymonkey.parse(
            Grid([["id", "score"], ["1", "9"]], "csv", name="x.csv"), ImportOptions()
        )
    broken = Grid([[*samples.META, "Q"], [""] * 9 + ["", "Response"]], "csv", name="b.csv")
    with pytest.raises(Invalid, match="column 11 has 'Response' in row 2"):
        surveymonkey.parse(broken, ImportOptions())


# --- the user's commands on real stores -------------------------------------------------------

SURVEY_YAML = """\
id: store-visit
title: {zh: 门店回访, en: Store visit}
questions:
  - id: q1
    type: nps
    text: How likely is it that you would recommend 我们的门店 to a friend or colleague?
  - id: q2
    type: single
    text: Which store did you visit last?
    options:
      - {id: jingan, text: 上海 静安店}
      - {id: sanlitun, text: "Beijing, Sanlitun"}
      - {id: online, text: Online shop}
      - {id: other, text: Other, other: true}
  - id: q3
    type: multiple
    text: How did you hear about us? 您是如何了解我们的？
    options:
      - {id: friends, text: Friends / family}
      - {id: wechat, text: 微信}
      - {id: search, text: Search engine}
      - {id: elsewhere, text: Other, other: true}
  - id: q4
    type: matrix
    matrix_scale: 5
    text: Please rate us on each (1 = poor, 5 = excellent)
    rows:
      - {id: speed, text: Speed of service}
      - {id: staff, text: 店员态度}
      - {id: price, text: Price}
  - id: q5
    type: matrix
    matrix_scale: 3
    text: Rank what matters most to you
    rows:
      - {id: rank_price, text: Price}
      - {id: rank_quality, text: Quality}
      - {id: rank_service, text: 服务}
  - {id: q6, type: text, text: Anything else you would like to tell us?}
  - {id: q7_1, type: text, text: Contact information — Name}
  - {id: q7_2, type: text, text: Contact information — City/Town}
"""


def survey_store(new_store: Callable[[str], ImportStore], name: str, tmp_path: Path) -> ImportStore:
    """A fresh store holding the survey as designed in SurveyMonkey, written as cxloop YAML
    (its options in order: what decodes a numerical-value export)."""
    store = new_store(name)
    definition = tmp_path / "store-visit.yaml"
    definition.write_text(SURVEY_YAML, encoding="utf-8")
    run = run_cli(store, "surveys", "create", definition)
    assert run.code == 0, run.output
    return store


def test_both_value_modes_give_the_same_surveys_responses_output(
    new_store: Callable[[str], ImportStore], tmp_path: Path
) -> None:
    files = {
        "text": samples.write_text_csv(tmp_path),
        "numeric": samples.write_numeric_csv(tmp_path),
        "xlsx": samples.write_xlsx(tmp_path),
    }
    outputs = {}
    for name, path in files.items():
        store = survey_store(new_store, name, tmp_path)
        summary = import_summary(store, path, "--survey", "store-visit")
        assert (summary["inserted"], summary["quarantined"]) == (20, 0), summary
        outputs[name] = (
            export_json(store, "store-visit"),
            export_text(store, "store-visit", "--format", "csv"),
        )
    assert outputs["numeric"] == outputs["text"]
    assert outputs["xlsx"] == outputs["text"]
    exported = outputs["text"][0]
    first = exported["responses"][0]
    assert first["response_id"] == str(samples.FIRST_ID)
    assert first["answers"]["q2"] == "上海 静安店"
    assert first["answers"]["q3"] == ["Friends / family", "微信"]
    assert first["answers"]["q4"] == {"Speed of service": 5, "店员态度": 5, "Price": 4}
    third = next(r for r in exported["responses"] if r["response_id"] == str(samples.FIRST_ID + 3))
    assert (third["answers"]["q2"], third["answers"]["q2.other"]) == ("Other", "Shenzhen, 万象城")


def test_numeric_export_decodes_against_an_earlier_text_import(store: ImportStore) -> None:
    folder = store.database.parent
    text = samples.write_text_csv(folder)
    assert import_summary(store, text)["survey_created"] is True
    before = export_json(store, "Data_All_220930")
    summary = import_summary(
        store, samples.write_numeric_csv(folder), "--survey", "Data_All_220930"
    )
    assert (summary["inserted"], summary["quarantined"], summary["survey_created"]) == (0, 0, False)
    # the raw date strings differ (a US account's format), the answers do not
    assert export_json(store, "Data_All_220930") == before


def test_reimport_of_the_same_file_adds_nothing(store: ImportStore) -> None:
    path = samples.write_text_csv(store.database.parent)
    first = import_summary(store, path)
    assert (first["inserted"], first["feedback_stored"]) == (20, 19)  # the blank partial: none
    feedback = feedback_count(store)
    again = import_summary(store, path)
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, 20)
    assert feedback_count(store) == feedback == 19
    assert response_count(store, "Data_All_220930") == 20


def test_imported_nps_equals_the_nps_computed_from_the_file(store: ImportStore) -> None:
    path = samples.write_text_csv(store.database.parent)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    column = rows[0].index(samples.NPS_TEXT)
    scores = [int(row[column]) for row in rows[2:] if row[column].strip()]
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    expected = 100 * (promoters - detractors) / len(scores)
    import_summary(store, path)
    assert nps_of(store) == pytest.approx(expected)
    assert len(scores) == 18 and expected == pytest.approx(100 / 18)


def test_excel_resaved_file_quarantines_the_mangled_id_and_stores_the_rest(
    store: ImportStore,
) -> None:
    path = samples.write_excel_resaved_csv(store.database.parent)
    code, output = import_cli(store, path)
    assert code in (0, 1), output  # the rows that could be read are stored either way
    assert "1.14123E+11" in output and "re-export" in output
    assert "Traceback" not in output
    assert response_count(store, "resaved_gbk") == 19
    assert "row 8, field Respondent ID: '1.14123E+11'" in output
    quarantined = store.scalar(
        "SELECT field || '=' || value FROM quarantined_rows WHERE row_number = 8"
    )
    assert quarantined == "Respondent ID=1.14123E+11"


def test_multi_select_matrix_reads_as_checkboxes_and_numbers_only_say_so() -> None:
    meta = [""] * len(samples.META)
    grid = Grid(
        [
            [*samples.META, "Which contact suits you for each?", "", "", "Overall rating"],
            [*meta, "App - Email", "App - SMS", "Web - Email", "Response"],
            ["114000000001", "1", "", "", "", "", "", "", "", "Email", "SMS", "", "4"],
            ["114000000002", "1", "", "", "", "", "", "", "", "", "SMS", "Email", "5"],
        ],
        "csv",
        name="matrix.csv",
    )
    export = surveymonkey.parse(grid, ImportOptions())
    q1 = export.questions[0]
    assert (q1.kind, [c.label for c in q1.options]) == (
        "multiple",
        ["App - Email", "App - SMS", "Web - Email"],
    )
    assert [r.answers["q1"] for r in export.responses] == [["1", "2"], ["2", "3"]]
    header = [*samples.META, "Overall rating"]
    numbers = Grid([header, [*meta, "Response"], ["114000000003", *[""] * 8, "4"]], "csv")
    export = surveymonkey.parse(numbers, ImportOptions())
    assert export.questions[0].kind == "rating"
    assert any("value mode cannot be told" in note for note in export.notes)
