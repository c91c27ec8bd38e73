"""Qualtrics exports read as a user downloads them: every layout and value mode gives the same
answers, recodes are decoded with the .qsf, preview/spam rows are counted and left out, and the
imported NPS equals the figure computed from the file by hand."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest

from cxloop.errors import Invalid
from cxloop.surveys.importers import qualtrics
from cxloop.surveys.importers.grid import read_grid, text_grid
from cxloop.surveys.importers.model import Grid, ImportOptions, ParsedExport
from cxloop.surveys.importers.registry import DefinitionFile
from tests.surveys.imports import samples_qualtrics as samples
from tests.surveys.imports.conftest import (
    ImportStore,
    export_json,
    export_text,
    feedback_count,
    import_summary,
    nps_of,
    response_count,
)

OPTIONS = ImportOptions()
SURVEY = samples.SURVEY_ID


def _qsf(folder: Path) -> DefinitionFile:
    path = samples.write_qsf(folder)
    return DefinitionFile(path.name, path.read_bytes())


def _parse(path: Path, definition: DefinitionFile | None = None) -> ParsedExport:
    return qualtrics.parse(read_grid(path), OPTIONS, definition)


def _by_id(export: ParsedExport) -> dict[str, dict[str, Any]]:
    return {r.response_id: r.answers for r in export.responses}


def _labelled(export: ParsedExport) -> dict[str, dict[str, Any]]:
    """Answers with choice codes replaced by labels and matrix row codes by statements — what a
    reader of both value modes must agree on."""
    labels = {q.id: {o.code: o.label for o in q.options} for q in export.questions}
    rows = {q.id: {r.code: r.label for r in q.rows} for q in export.questions}
    out: dict[str, dict[str, Any]] = {}
    for response in export.responses:
        answers: dict[str, Any] = {}
        for key, value in response.answers.items():
            names = labels.get(key, {})
            if isinstance(value, list):
                answers[key] = [names.get(v, v) for v in value]
            elif isinstance(value, dict):
                answers[key] = {rows[key].get(k, k): v for k, v in value.items()}
            elif isinstance(value, str) and value in names:
                answers[key] = names[value]
            else:
                answers[key] = value
        out[response.response_id] = answers
    return out


# --- reading the file -------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(samples.SAMPLES))
def test_every_layout_is_recognised_as_qualtrics(tmp_path: Path, name: str) -> None:
    assert qualtrics.detect(read_grid(samples.SAMPLES[name](tmp_path))) >= 0.8


def test_other_files_are_not_taken_for_qualtrics() -> None:
    monkey = Grid(
        [
            ["Respondent ID", "Collector ID", "Start Date", "End Date", "Q1"],
            ["", "", "", "", "Response"],
            ["114", "4321", "2024-01-01", "", "9"],
        ],
        "csv",
    )
    lime = Grid(
        [["id", "submitdate", "lastpage", "startlanguage", "Q1"], ["1", "", "1", "zh", "A1"]],
        "csv",
    )
    assert qualtrics.detect(monkey) <= 0.3
    assert qualtrics.detect(lime) <= 0.3
    with pytest.raises(Invalid, match="row 3 should hold"):
        qualtrics.parse(monkey, OPTIONS)


def test_numeric_export_with_qsf_decodes_recodes_into_types_and_labels(tmp_path: Path) -> None:
    export = _parse(samples.write_csv(tmp_path, numeric=True), _qsf(tmp_path))
    assert (export.layout, export.value_mode) == ("current (3 header rows)", "numeric")
    assert (export.source_survey_id, export.title) == (SURVEY, samples.SURVEY_NAME)
    kinds = {q.id: q.kind for q in export.questions}
    assert kinds == {"Q1": "nps", "Q2": "single", "Q3": "single", "Q4": "multiple",
                     "Q5": "matrix", "Q6": "csat", "Q7": "text"}  # fmt: skip
    q2, q3, q4, q5 = export.questions[1:5]
    assert [(o.code, o.label, o.other) for o in q2.options][-1] == (
        "9",
        "Other, please specify",
        True,
    )
    assert [(o.code, o.label) for o in q3.options][1] == ("2", "neutral (0)")
    assert [o.label for o in q4.options][1] == "Price, value for money"
    assert q5.scale == (1, 5) and [r.label for r in q5.rows][2] == "包装完好"
    assert all(q.decoded for q in export.questions)
    answers = _by_id(export)
    assert answers["R_3c4D5e6F7g8H9i0"] == {
        "Q1": 3,
        "Q2": "9",
        "Q2.other": "WeChat mini program, 小程序",
        "Q3": "1",
        # reversed recodes 5..1: "Strongly disagree" is written 5 and is position 1
        "Q5": {"Q5_1": 1, "Q5_2": 2, "Q5_3": 2},
        "Q6": 1,  # "1 - Very dissatisfied" coded 2
        "Q7": "Cold food, late; refund?",
    }
    assert answers["R_2b3C4d5E6f7G8h9"]["Q4"] == ["12", "14"]
    assert answers["R_1a2B3c4D5e6F7g8"]["Q7"] == 'Great, fast.\nThe rider said "hi"'
    assert answers["R_Cm3N4o5P6q7R8s9"] == {}  # every question blank: nothing invented
    assert "Q4_DO" in export.notes[-1] and "Q8_First Click" in export.notes[-1]
    assert any(k.startswith("store") for k in export.kept_raw)


def test_metadata_times_personal_data_and_excluded_rows(tmp_path: Path) -> None:
    export = _parse(samples.write_csv(tmp_path, numeric=True), _qsf(tmp_path))
    assert export.excluded == {"preview": 1, "spam": 1}
    assert export.rejected == []
    assert len(export.responses) == 15
    assert export.timezone == "America/Denver"
    first, dst = export.responses[0], export.responses[1]
    assert first.started_at == dt.datetime(2024, 3, 9, 16, 2, 11, tzinfo=dt.UTC)  # MST −7
    assert dst.submitted_at == dt.datetime(2024, 3, 10, 9, 15, 2, tzinfo=dt.UTC)  # MDT −6
    assert dst.attributes["submitted_raw"] == "2024-03-10 03:15:02"
    assert (first.email, first.name, first.external_reference) == (
        "li.na@example.cn",
        "李娜",  # family name first, no space (common.person_name), as SurveyMonkey reads it
        "C1001",
    )
    assert (first.ip, first.location, first.channel) == (
        "203.0.113.7",
        "39.7392,-104.9903",
        "email",
    )
    assert (first.language, export.responses[2].language) == ("zh", "en")
    assert (
        first.attributes["store"] == "上海一店" and first.attributes["q1_nps_group"] == "promoter"
    )
    partial = next(r for r in export.responses if r.response_id == "R_0j1K2l3M4n5O6p7")
    assert partial.completed is False and partial.answers == {"Q1": 5}
    # RecordedDate (not the last interaction) is when the partial was recorded
    assert partial.submitted_at == dt.datetime(2024, 3, 17, 20, 0, 41, tzinfo=dt.UTC)
    assert sum(r.completed for r in export.responses) == 14


def test_numeric_without_qsf_keeps_codes_raw_and_says_which_questions(tmp_path: Path) -> None:
    export = _parse(samples.write_csv(tmp_path, numeric=True))
    raw = [q.id for q in export.questions if not q.decoded]
    assert raw == ["Q2", "Q3", "Q4", "Q5", "Q6"]
    assert any(n.startswith("Q2, Q3, Q4, Q5, Q6: numeric codes kept raw") for n in export.notes)
    assert export.questions[0].kind == "nps"  # confirmed by its Q1_NPS_GROUP column
    assert _by_id(export)["R_2b3C4d5E6f7G8h9"]["Q4"] == ["12", "14"]


def test_choice_text_alone_reads_the_same_answers_as_numeric_with_qsf(tmp_path: Path) -> None:
    decoded = _labelled(_parse(samples.write_csv(tmp_path, numeric=True), _qsf(tmp_path)))
    text = _parse(samples.write_csv(tmp_path, numeric=False))
    assert text.value_mode == "choice text"
    kinds = {q.id: q.kind for q in text.questions}
    assert kinds["Q1"] == "nps" and kinds["Q6"] == "csat" and kinds["Q4"] == "multiple"
    # a matrix whose scale is labels only: one single question per statement
    assert [k for k in kinds if k.startswith("Q5")] == ["Q5_1", "Q5_2", "Q5_3"]
    read = _labelled(text)
    for rid, answers in decoded.items():
        matrix = answers.pop("Q5", {})
        got = dict(read[rid])
        rows = {got.pop(f"Q5_{i}") for i in "123" if f"Q5_{i}" in got}
        assert got == answers, rid
        assert len(rows) <= len(matrix)
    # the label "Price, value for money" is not split at its comma
    assert read["R_2b3C4d5E6f7G8h9"]["Q4"] == ["Price, value for money", "服务态度"]


@pytest.mark.parametrize(
    "write",
    [
        lambda d: samples.write_csv(d, numeric=False),
        lambda d: samples.write_csv(d, numeric=True, german=True),
        lambda d: samples.write_tsv(d, numeric=True),
        lambda d: samples.write_tsv(d, numeric=False, utf16=False),
        lambda d: samples.write_xlsx(d, numeric=True),
        lambda d: samples.write_xlsx(d, numeric=False),
        lambda d: samples.write_legacy(d, numeric=True),
        lambda d: samples.write_legacy(d, numeric=False),
    ],
    ids=[
        "text csv",
        "german",
        "utf16 tsv",
        "utf8 tsv",
        "xlsx",
        "text xlsx",
        "legacy",
        "legacy text",
    ],
)
def test_every_layout_with_qsf_reads_the_same_answers(tmp_path: Path, write: Any) -> None:
    definition = _qsf(tmp_path)
    reference = _parse(samples.write_csv(tmp_path, numeric=True), definition)
    other = _parse(write(tmp_path), definition)
    assert _by_id(other) == _by_id(reference)
    assert [(q.id, q.kind) for q in other.questions] == [
        (q.id, q.kind) for q in reference.questions
    ]
    assert other.excluded == {"preview": 1, "spam": 1}
    assert [r.completed for r in other.responses] == [r.completed for r in reference.responses]


def test_legacy_file_states_no_zone_so_the_default_is_used_and_said(tmp_path: Path) -> None:
    export = qualtrics.parse(
        read_grid(samples.write_legacy(tmp_path)), ImportOptions(timezone="Asia/Shanghai")
    )
    assert export.layout == "legacy (2 header rows)" and export.timezone == "Asia/Shanghai"
    assert any("states no time zone" in n for n in export.notes)
    first = export.responses[0]
    assert first.submitted_at == dt.datetime(2024, 3, 9, 1, 5, 40, tzinfo=dt.UTC)  # EndDate
    assert (first.name, first.location) == ("李, 娜", "39.7392,-104.9903")
    # without the .qsf the split multiple answer is still decoded from row 2, and a comment
    # column (no _TEXT suffix in this layout) is told from a choice by its values
    kinds = {q.id: (q.kind, q.decoded) for q in export.questions}
    assert kinds["Q4"] == ("multiple", True) and kinds["Q7"] == ("text", True)
    assert kinds["Q2"] == ("single", False)


def test_choice_text_in_the_account_language_keeps_real_rows(tmp_path: Path) -> None:
    """Choice text follows the account language: a Status nobody listed that is on most rows
    is the real one (said in a note); Finished "Wahr"/"Falsch" is read."""
    rows = samples.current_rows(numeric=False, german=True)
    status, finished = rows[0].index("Status"), rows[0].index("Finished")
    for row in rows[3:]:
        row[status] = {"IP Address": "IP-Adresse", "Spam": "Spam"}.get(row[status], "Vorschau")
        row[finished] = {"True": "Wahr", "False": "Falsch"}[row[finished]]
    data = io.StringIO()
    csv.writer(data).writerows(rows)
    export = qualtrics.parse(text_grid(data.getvalue().encode(), "de.csv"), OPTIONS)
    assert len(export.responses) == 15
    assert export.excluded == {"status Vorschau": 1, "spam": 1}
    assert "Status 'IP-Adresse' (on most rows) read as a real response" in export.notes
    assert sum(not r.completed for r in export.responses) == 1


def test_bad_rows_are_rejected_naming_field_value_and_reason(tmp_path: Path) -> None:
    people = samples.respondents()[:3]
    rows = samples.current_rows(numeric=False, people=people)
    rows[3][rows[0].index("Q1")] = 12  # NPS out of range
    rows[4][rows[0].index("Q3")] = "very neutral"  # not one of the choices
    rows[5][rows[0].index("ResponseId")] = ""
    rows[3][rows[0].index("Q1_NPS_GROUP")] = "Detractor"  # says 12 is a detractor: not checked
    rows[4][rows[0].index("Q1_NPS_GROUP")] = "Detractor"  # a 9 is a promoter
    rows.append(list(rows[3]))  # the same response twice
    rows[-1][rows[0].index("Q1")] = 9
    data = io.StringIO()
    csv.writer(data).writerows(rows)
    grid = text_grid(data.getvalue().encode(), "bad.csv")
    export = qualtrics.parse(grid, OPTIONS, _qsf(tmp_path))
    assert export.responses == []
    found = {(p.row, p.field, p.value) for p in export.rejected}
    assert found == {
        (4, "Q1", "12"),
        (5, "Q3", "very neutral"),
        (6, "ResponseId", None),
        (7, "ResponseId", "R_1a2B3c4D5e6F7g8"),
    }
    assert export.rejected[-1].reason == "appears again (first on row 4)"
    assert export.rejected[0].raw["ResponseId"] == "R_1a2B3c4D5e6F7g8"
    reasons = {p.field: p.reason for p in export.rejected}
    assert reasons["Q1"] == "is outside 0–10" and "Q3's choices" in reasons["Q3"]
    export = qualtrics.parse(grid, OPTIONS)  # without the .qsf Q3 is any label: row 5 is read
    assert [r.response_id for r in export.responses] == ["R_2b3C4d5E6f7G8h9"]
    assert "Q1_NPS_GROUP disagrees with its score on row(s) 5: scores kept" in export.notes


def test_a_file_that_is_not_a_qsf_is_refused_by_name(tmp_path: Path) -> None:
    path = samples.write_csv(tmp_path, numeric=True)
    with pytest.raises(Invalid, match=r"not a Qualtrics \.qsf"):
        _parse(path, DefinitionFile("survey.qsf", b"<xml/>"))
    with pytest.raises(Invalid, match="no SurveyElements"):
        _parse(path, DefinitionFile("survey.qsf", b'{"SurveyEntry": {}}'))


# --- through the commands ---------------------------------------------------------------------


def _import(store: ImportStore, path: Path, *args: str | Path) -> dict[str, Any]:
    return import_summary(store, path, *args)


def test_numeric_and_choice_text_exports_give_identical_responses(
    tmp_path: Path, new_store: Any
) -> None:
    qsf = samples.write_qsf(tmp_path)
    numeric, text, alone = new_store("numeric"), new_store("text"), new_store("alone")
    a = _import(numeric, samples.write_csv(tmp_path, numeric=True), "--definition", qsf)
    b = _import(text, samples.write_csv(tmp_path, numeric=False), "--definition", qsf)
    assert (a["value_mode"], b["value_mode"]) == ("numeric", "choice text")
    assert a["inserted"] == b["inserted"] == 15
    assert a["excluded"] == {"preview": 1, "spam": 1}
    for shape in ("json", "csv"):  # byte for byte, as printed
        printed = export_text(numeric, SURVEY, "--format", shape)
        assert printed == export_text(text, SURVEY, "--format", shape)
    first = export_json(numeric, SURVEY)
    assert len(first["responses"]) == 15
    assert [q["type"] for q in first["questions"]] == [
        "nps", "single", "single", "multiple", "matrix", "csat", "text"
    ]  # fmt: skip
    assert first["questions"][3]["options"][1] == "Price, value for money"
    # choice text without the .qsf: the same answers except the matrix (labels only)
    c = _import(alone, samples.write_csv(tmp_path, numeric=False), "--survey", SURVEY)
    assert c["inserted"] == 15
    third = export_json(alone, SURVEY)
    for one, other in zip(first["responses"], third["responses"], strict=True):
        expected = {k: v for k, v in one["answers"].items() if k != "Q5"}
        got = {k: v for k, v in other["answers"].items() if not k.startswith("Q5")}
        assert got == expected, one["response_id"]
        assert (one["response_id"], one["submitted_at"], one["completed"]) == (
            other["response_id"],
            other["submitted_at"],
            other["completed"],
        )


def test_reimport_adds_nothing_and_partials_are_stored_as_partial(
    store: ImportStore, tmp_path: Path
) -> None:
    qsf = samples.write_qsf(tmp_path)
    path = samples.write_csv(tmp_path, numeric=True)
    first = _import(store, path, "--definition", qsf)
    feedback = feedback_count(store, SURVEY)
    again = _import(store, path, "--definition", qsf)
    assert (again["inserted"], again["unchanged"], again["updated"]) == (0, 15, 0)
    assert feedback_count(store, SURVEY) == feedback == first["feedback_stored"]
    assert response_count(store, SURVEY) == 15  # preview and spam never stored
    exported = export_json(store, SURVEY)
    partial = [r for r in exported["responses"] if not r["completed"]]
    assert [r["response_id"] for r in partial] == ["R_0j1K2l3M4n5O6p7"]
    assert partial[0]["answers"] == {"Q1": 5}


def test_imported_nps_equals_the_figure_computed_from_the_file(
    store: ImportStore, tmp_path: Path
) -> None:
    path = samples.write_csv(tmp_path, numeric=False)
    _import(store, path, "--definition", samples.write_qsf(tmp_path))
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    header, data = rows[0], rows[3:]
    status, score = header.index("Status"), header.index("Q1")
    scores = [int(r[score]) for r in data if r[status] == "IP Address" and r[score] != ""]
    promoters = sum(s >= 9 for s in scores)
    detractors = sum(s <= 6 for s in scores)
    by_hand = 100 * (promoters - detractors) / len(scores)
    assert nps_of(store) == pytest.approx(by_hand)


def test_an_nps_selector_whose_choices_are_words_reads_its_numbers_as_written(
    tmp_path: Path,
) -> None:
    """An NPS element whose choice labels hold no number (edited, translated) gave min() of
    nothing (ValueError); it is a 0–10 NPS whose numeric export codes are read as written."""
    doc = samples.qsf()
    nps = next(e for e in doc["SurveyElements"] if e.get("PrimaryAttribute") == "QID1")
    for k, choice in nps["Payload"]["Choices"].items():
        choice["Display"] = f"choice {chr(97 + int(k))}"
    definition = DefinitionFile("words.qsf", json.dumps(doc).encode())
    parsed = _parse(samples.write_csv(tmp_path, numeric=True), definition)
    question = next(q for q in parsed.questions if q.id == "Q1")
    assert (question.kind, question.scale) == ("nps", (0, 10))
    alone = _parse(samples.write_csv(tmp_path, numeric=True))
    assert not parsed.rejected
    assert [r.answers.get("Q1") for r in parsed.responses] == [
        r.answers.get("Q1") for r in alone.responses
    ]


def test_sliders_rankings_forms_and_unknown_types_with_the_qsf() -> None:
    """Less common question types: a slider is a rating on its own range, a rank order a matrix
    of ranks, a form one text per field; a type cxloop does not hold is left out and named."""

    def sq(qid: str, kind: str, selector: str, choices: list[str], **more: Any) -> dict[str, Any]:
        payload = {
            "QuestionID": qid,
            "DataExportTag": qid.replace("QID", "Q"),
            "QuestionType": kind,
            "Selector": selector,
            "QuestionText": f"<p>{qid} text</p>",
            "Choices": [{"Display": c} for c in choices],
            **more,
        }
        return {"Element": "SQ", "PrimaryAttribute": qid, "Payload": payload}

    elements = [
        sq("QID1", "Slider", "HSLIDER", ["Speed"], Configuration={"CSSliderMax": 10}),
        sq("QID2", "RO", "DND", ["Price", "Taste", "Speed"]),
        sq("QID3", "TE", "FORM", ["Name", "City"]),
        sq("QID4", "SBS", "SBSMatrix", ["x"]),
    ]
    definition = DefinitionFile("s.qsf", json.dumps({"SurveyElements": elements}).encode())
    ids = ["_recordId", "QID1_1", "QID2_1", "QID2_2", "QID2_3", "QID3_1", "QID3_2", "QID4#1_1"]
    rows = [
        ["ResponseId", "Q1_1", "Q2_1", "Q2_2", "Q2_3", "Q3_1", "Q3_2", "Q4#1_1"],
        ["Response ID", *(f"text - {i}" for i in range(7))],
        [json.dumps({"ImportId": i}) for i in ids],
        ["R_1", "7.5", "2", "1", "3", "王芳", "上海", "1"],
        ["R_2", "11", "", "", "", "", "Paris", ""],
    ]
    export = qualtrics.parse(Grid(rows, "csv", name="s.csv"), OPTIONS, definition)
    kinds = {q.id: (q.kind, q.scale) for q in export.questions}
    assert kinds == {
        "Q1": ("rating", (0, 10)),
        "Q2": ("matrix", (1, 3)),
        "Q3_1": ("text", None),
        "Q3_2": ("text", None),
    }
    first = export.responses[0].answers
    assert first["Q1"] == 7.5
    assert first["Q2"] == {"Q2_1": 2, "Q2_2": 1, "Q2_3": 3}
    assert (first["Q3_1"], first["Q3_2"]) == ("王芳", "上海")
    assert [(p.row, p.field, p.value, p.reason) for p in export.rejected] == [
        (5, "Q1_1", "11", "is outside 0–10")
    ]
    assert any(k.startswith("Q4_1") and "left out" in k for k in export.kept_raw), export.kept_raw


def test_seen_but_unanswered_minus_99_is_absent_not_a_problem(tmp_path: Path) -> None:
    rows = samples.current_rows(numeric=True, people=samples.respondents()[:2])
    for tag in ("Q3", "Q5_2", "Q6", "Q4"):
        rows[3][rows[0].index(tag)] = -99
    data = io.StringIO()
    csv.writer(data).writerows(rows)
    export = qualtrics.parse(text_grid(data.getvalue().encode(), "u.csv"), OPTIONS, _qsf(tmp_path))
    assert export.rejected == []
    answers = export.responses[0].answers
    assert "Q3" not in answers and "Q6" not in answers and "Q4" not in answers
    assert answers["Q5"] == {"Q5_1": 5, "Q5_3": 5}


def test_the_other_formats_of_one_export_change_nothing_once_imported(
    store: ImportStore, tmp_path: Path
) -> None:
    """CSV, UTF-16 TSV, XLSX in choice text and a German row 2 are one export: after the first,
    each of the others finds every response unchanged."""
    qsf = samples.write_qsf(tmp_path)
    _import(store, samples.write_csv(tmp_path, numeric=True), "--definition", qsf)
    feedback = feedback_count(store, SURVEY)
    for path in (
        samples.write_tsv(tmp_path, numeric=True),
        samples.write_xlsx(tmp_path, numeric=False),
        samples.write_csv(tmp_path, numeric=False, german=True),
    ):
        summary = _import(store, path, "--definition", qsf)
        assert (summary["inserted"], summary["updated"], summary["unchanged"]) == (0, 0, 15)
    assert feedback_count(store, SURVEY) == feedback
