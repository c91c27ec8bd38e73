"""问卷星 (wjx.cn) exports: both value modes read from .xls, .xlsx and CSV into the same questions
and answers; metadata mapped (times in Asia/Shanghai, IP and place, channel); bad rows refused
with the field, the value and the reason. End to end through the CLI: both modes give the same
``surveys responses`` output, a re-import adds nothing, the NPS equals the file's."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cxloop.errors import Invalid
from cxloop.surveys.importers import wjx
from cxloop.surveys.importers.common import time_problem
from cxloop.surveys.importers.grid import read_grid
from cxloop.surveys.importers.model import Grid, ImportOptions, ParsedExport
from cxloop.surveys.importers.registry import DefinitionFile
from tests.surveys.imports import samples_wjx as samples
from tests.surveys.imports.conftest import (
    ImportStore,
    export_json,
    feedback_count,
    import_summary,
    nps_of,
    response_count,
    run_cli,
)

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
KINDS = {
    "q1": "nps",
    "q2": "single",
    "q3": "multiple",
    "q4": "matrix",
    "q5": "matrix",
    "q6": "matrix",
    "q7": "single",
    "q8": "csat",
    "q9_1": "text",
    "q9_2": "text",
    "q10": "text",
}


def _parse(path: Path, **options: Any) -> ParsedExport:
    return wjx.parse(read_grid(path), ImportOptions(**options))


def _grid(rows: list[list[object]], name: str = "x_0.csv") -> Grid:
    return Grid([[str(v) for v in row] for row in rows], "csv", name=name)


def _by_id(parsed: ParsedExport) -> dict[str, Any]:
    return {r.response_id: r for r in parsed.responses}


def _expected(r: samples.Respondent, *, positions: bool) -> dict[str, Any]:
    """The answers of one respondent as the reader must give them (codes of the mode)."""
    out: dict[str, Any] = {"q1": r.nps}
    if positions:
        out["q2"] = str(r.frequency + 1)
        out["q3"] = [str(k + 1) for k in r.reasons]
        out["q6"] = {f"q6_{k + 1}": n for n, k in enumerate(r.ranking, 1)}
        out["q7"] = str(r.takeout + 1)
    else:
        out["q2"] = samples.FREQUENCY[r.frequency]
        out["q3"] = {samples.REASONS[k] for k in r.reasons}  # order: first appearance in file
        out["q6"] = {samples.RANKED[k]: n for n, k in enumerate(r.ranking, 1)}
        out["q7"] = samples.YES_NO[r.takeout]
    if r.other:
        out["q3.other"] = r.other
    out["q4"] = {f"q4_{k}": v for k, v in enumerate(r.areas, 1)}
    out["q5"] = {f"q5_{k}": v for k, v in enumerate(r.hygiene, 1) if v}
    if r.packaging:
        out["q8"] = r.packaging
    for key, value in (("q9_1", r.name), ("q9_2", r.city), ("q10", r.advice)):
        if value:
            out[key] = value.replace("\r\n", "\n")  # one line end whatever the file kind
    return out


@pytest.mark.parametrize("name", list(samples.WRITERS))
def test_every_sample_is_read_whole_in_its_value_mode(name: str, tmp_path: Path) -> None:
    path = samples.WRITERS[name](tmp_path)
    grid = read_grid(path)
    assert wjx.detect(grid) >= 0.8
    parsed = wjx.parse(grid, ImportOptions())
    positions = "positions" in name
    assert parsed.value_mode == ("按选项序号" if positions else "按选项文本")
    assert parsed.tool == "wjx" and parsed.title.startswith("门店回访")
    assert {q.id: q.kind for q in parsed.questions} == KINDS
    assert parsed.rejected == [] and parsed.excluded == {}
    people = samples.respondents()
    assert len(parsed.responses) == len(people) == 34
    got = _by_id(parsed)
    for person in people:
        answers = dict(got[str(person.number)].answers)
        if not positions:
            answers["q3"] = set(answers["q3"])
        assert answers == _expected(person, positions=positions), person.number


def test_the_text_mode_keeps_option_texts_and_the_other_text(tmp_path: Path) -> None:
    parsed = _parse(samples.text_csv(tmp_path))
    questions = {q.id: q for q in parsed.questions}
    reasons = questions["q3"]
    assert {o.label for o in reasons.options} == set(samples.REASONS)
    assert [o.label for o in reasons.options if o.other] == ["其他"]
    assert questions["q2"].text == "您多久光顾一次我们的门店？"  # "(单选题 *必答)" stripped
    assert questions["q4"].text == "请对以下方面打分"
    assert [r.label for r in questions["q4"].rows] == samples.AREAS  # bare sub-item headers
    assert [r.label for r in questions["q5"].rows] == samples.HYGIENE  # "5、子项" headers
    assert questions["q1"].scale == (0, 10) and questions["q8"].scale == (1, 5)
    ranking = questions["q6"]
    assert {r.label for r in ranking.rows} == set(samples.RANKED) and ranking.scale == (1, 4)
    third = _by_id(parsed)["3"]
    assert third.answers["q3.other"] == '看到"新店开业"活动'
    assert _by_id(parsed)["7"].answers["q10"] == '菜品"好吃"，但是排队太久,\n希望增加座位 (7)'


def test_the_position_mode_decodes_what_its_headers_say_and_keeps_single_choices_raw(
    tmp_path: Path,
) -> None:
    parsed = _parse(samples.positions_xls(tmp_path))
    questions = {q.id: q for q in parsed.questions}
    assert [o.label for o in questions["q3"].options] == samples.REASONS
    assert [r.label for r in questions["q6"].rows] == samples.RANKED
    assert questions["q3"].decoded and questions["q3"].codes == "positions"
    for qid in ("q2", "q7"):
        assert not questions[qid].decoded and questions[qid].codes == "positions"
        assert any(note.startswith(f"{qid}: ") and "--survey" in note for note in parsed.notes)
    assert [o.code for o in questions["q7"].options] == ["1", "2"]
    # the NPS is written score + 1: a 0 is code 1, a 10 is code 11
    scores = {r.response_id: r.answers["q1"] for r in parsed.responses}
    assert scores["3"] == 0 and scores["1"] == 10


def test_metadata_is_read_by_name_in_either_order(tmp_path: Path) -> None:
    for path in (samples.text_xls(tmp_path), samples.text_xlsx(tmp_path)):
        parsed = _parse(path)
        first = _by_id(parsed)["1"]
        assert first.submitted_at == dt.datetime(2024, 1, 5, 9, 3, 7, tzinfo=SHANGHAI)
        assert first.attributes["submitted_raw"] == "2024/1/5 9:03:07"
        seconds = int(first.attributes["duration_s"])
        assert first.started_at == first.submitted_at - dt.timedelta(seconds=seconds)
        assert (first.ip, first.location) == ("183.192.0.10", "上海-上海")
        assert (first.channel, first.attributes["source_detail"]) == ("手机提交", "微信")
        assert first.completed is True
        fifth = _by_id(parsed)["5"]
        assert fifth.location is None and fifth.ip == "183.192.4.14"  # "(未知)"
        assert "source_detail" not in _by_id(parsed)["3"].attributes  # 直接访问: no detail
    extra = _by_id(_parse(samples.text_xlsx(tmp_path)))["2"].attributes
    assert extra["自定义字段"] == "store=sh02"
    assert parsed.mapped["来自IP"].startswith("ip + location")


def test_times_are_read_in_the_stated_zone(tmp_path: Path) -> None:
    parsed = _parse(samples.positions_xls(tmp_path), timezone="Europe/London")
    first = _by_id(parsed)["1"]
    assert first.submitted_at == dt.datetime(2024, 1, 5, 9, 3, 7, tzinfo=dt.UTC)  # GMT in winter
    assert parsed.timezone == "Europe/London"
    with pytest.raises(Invalid, match="Mars/Olympus"):
        _parse(samples.positions_xls(tmp_path), timezone="Mars/Olympus")


def test_an_excel_resave_s_dates_are_read_in_one_order_for_the_whole_file() -> None:
    """Excel re-saves 2024/1/5 9:03:07 as 1/5/24 9:03: one row's 13/1/24 makes every row
    day-first (not each row its own guess); a stated order wins; ##### is explained."""
    rows = [
        ["序号", "提交答卷时间", "1、您还有什么建议？"],
        ["1", "5/1/24 9:03", "好"],
        ["2", "13/1/24 10:00", "好"],
        ["3", "#####", "好"],
    ]
    parsed = wjx.parse(_grid(rows), ImportOptions())
    times = {r.response_id: r.submitted_at for r in parsed.responses}
    assert times == {
        "1": dt.datetime(2024, 1, 5, 9, 3, tzinfo=SHANGHAI),
        "2": dt.datetime(2024, 1, 13, 10, 0, tzinfo=SHANGHAI),
    }
    (refused,) = parsed.rejected
    assert (refused.row, refused.value) == (4, "#####") and "too narrow" in refused.reason
    stated = wjx.parse(_grid(rows), ImportOptions(day_first=False))
    assert stated.responses[0].submitted_at == dt.datetime(2024, 5, 1, 9, 3, tzinfo=SHANGHAI)
    assert "day 13 in a month-first column" in stated.rejected[0].reason
    both_ways = wjx.parse(_grid(rows[:2]), ImportOptions())
    assert any(n.startswith("提交答卷时间: every date reads both ways") for n in both_ways.notes)


def _text_rows() -> list[list[object]]:
    return samples.text_rows(samples.respondents(6))


def test_bad_rows_are_refused_with_field_value_and_reason() -> None:
    rows = _text_rows()
    header = [str(h) for h in rows[0]]
    nps, time, number = header.index(f"1、{samples.NPS_TEXT}"), 1, 0
    rows[1][nps] = "12"
    rows[2][time] = "yesterday"
    rows[3][number] = ""
    rows[4][number] = "1"  # kept: the first 序号 1 (row 2) was refused
    rows[5][number] = "1"  # the same 序号 as row 5
    parsed = wjx.parse(_grid(rows), ImportOptions())
    problems = {(p.row, p.field, p.value, p.reason) for p in parsed.rejected}
    assert problems == {
        (2, "q1", "12", "is not a score 0–10"),
        (3, "提交答卷时间", "yesterday", time_problem("yesterday", None)),
        (4, "序号", None, "is empty: 问卷星's response number is the respondent id"),
        (6, "序号", "1", "is the same as row 5's"),
    }
    assert [(r.row, r.response_id) for r in parsed.responses] == [(5, "1"), (7, "6")]
    assert parsed.rejected[0].raw["序号"] == "1" and parsed.rejected[0].raw["来源"] == "手机提交"


def test_a_position_outside_the_scale_is_refused() -> None:
    rows = samples.position_rows(samples.respondents(4))
    header = [str(h) for h in rows[0]]
    rows[1][header.index(f"1、{samples.NPS_TEXT}")] = 13
    rows[2][header.index("第3题(价格实惠)")] = 2
    parsed = wjx.parse(_grid(rows, "x_2.csv"), ImportOptions())
    first = parsed.rejected[0]
    assert (first.row, first.field, first.value) == (2, "q1", "13")
    assert "1–11" in first.reason and "按选项序号" in first.reason
    assert [p.row for p in parsed.rejected] == [2, 3]
    assert parsed.rejected[1].field == "q3[价格实惠]"


def test_hints_groups_and_quiz_columns() -> None:
    """A header as real exports write it: a multi-blank fill-in, items grouped under one number
    holding free text, a hint that makes a one-answer column a multiple choice, 总分."""
    rows = [
        ["序号", "提交答卷时间", "1、(1)入学年份___", "1、(2)专业___", "2、学校地点—办学地点",
         "2、实际校区", "3、爱好(多选题 *必答)", "4、得分情况(本题必答)", "总分", "来自IP"],
        ["7", "2026/9/18 19:20:55", "2026", "物理学", "湖南-长沙市-岳麓区", "南院", "跑步",
         "(空)", "85", "10.0.0.1"],
        ["8", "2026/9/19 0:39:00", "2025", "市场营销", "江苏-淮安市-涟水县", "主校区",
         "跑步┋读书〖小说〗", "好", "90", ""],
        ["9", "2026/9/19 1:56:57", "2024", "数学", "(空)", "(空)", "其他〖爬山〗┋跑步",
         "(跳过)", "", "(空)"],
    ]  # fmt: skip
    parsed = wjx.parse(_grid(rows, "v2.csv"), ImportOptions())
    questions = {q.id: q for q in parsed.questions}
    assert [(q.id, q.kind) for q in parsed.questions] == [
        ("q1_1", "text"),
        ("q1_2", "text"),
        ("q2_1", "text"),
        ("q2_2", "text"),
        ("q3", "multiple"),
        ("q4", "text"),
    ]
    assert questions["q1_2"].text == "专业___"
    assert questions["q2_2"].text == "学校地点—实际校区"
    assert questions["q4"].text == "得分情况"
    first, second, third = parsed.responses
    assert first.answers == {
        "q1_1": "2026",
        "q1_2": "物理学",
        "q2_1": "湖南-长沙市-岳麓区",
        "q2_2": "南院",
        "q3": ["跑步"],
    }
    assert second.answers["q3"] == ["跑步", "读书"]
    assert [o.label for o in questions["q3"].options if o.other] == ["其他"]
    assert second.attributes["q3.读书"] == "小说"  # written beside an option that is not "other"
    assert third.answers == {
        "q1_1": "2024",
        "q1_2": "数学",
        "q3": ["跑步", "其他"],
        "q3.other": "爬山",
    }
    assert first.attributes["total_score"] == "85" and first.ip == "10.0.0.1"
    assert second.ip is None and first.location is None


def test_position_integers_are_read_by_hint_and_wording() -> None:
    """按选项序号 has no option texts: a satisfaction score, a "which … most" choice, an age and
    an 11-option single choice all arrive as integers."""
    rows = [
        ["序号", "提交答卷时间", "1、您最满意的是哪方面？", "2、您对本次服务满意吗？",
         "3、您的年龄", "4、您向朋友推荐我们的可能性有多大？", "5、所在城市(单选题)",
         "6、请评价—口味", "分量"],
        ["1", "2024/1/5 9:03:07", "1", "5", "18", "11", "11", "2", "3"],
        ["2", "2024/1/5 9:04:07", "3", "4", "70", "99", "2", "5", "-3"],
        ["3", "2024/1/5 9:05:07", "5", "1", "35", "1", "1", "1", "1"],
        ["4", "2024/1/5 9:06:07", "2", "2", "22", "8", "3", "4", "4"],
    ]  # fmt: skip
    parsed = wjx.parse(_grid(rows, "a_2.csv"), ImportOptions())
    kinds = {q.id: (q.kind, q.scale, q.decoded) for q in parsed.questions}
    assert kinds == {
        "q1": ("single", None, False),
        "q2": ("csat", (1, 5), True),
        "q3": ("text", None, True),
        "q4": ("nps", (0, 10), True),
        "q5": ("single", None, False),
        "q6": ("matrix", (1, 5), True),
    }
    assert [(p.row, p.field, p.value) for p in parsed.rejected] == [(3, "q4", "99")]
    answers = {r.response_id: r.answers for r in parsed.responses}
    assert answers["1"] == {
        "q1": "1",
        "q2": 5,
        "q3": "18",
        "q4": 10,
        "q5": "11",
        "q6": {"q6_1": 2, "q6_2": 3},
    }
    assert answers["3"]["q4"] == 0 and answers["4"]["q6"] == {"q6_1": 4, "q6_2": 4}


def test_a_matrix_answered_with_labels_becomes_one_choice_per_row() -> None:
    rows = [
        ["序号", "提交答卷时间", "1、服务评价—态度(矩阵单选题)", "1、速度"],
        ["1", "2024/1/5 9:03:07", "满意", "一般"],
        ["2", "2024/1/5 9:04:07", "一般", "(空)"],
    ]
    parsed = wjx.parse(_grid(rows), ImportOptions())
    assert [(q.id, q.kind, q.text) for q in parsed.questions] == [
        ("q1_1", "single", "服务评价—态度"),
        ("q1_2", "single", "服务评价—速度"),
    ]
    assert parsed.notes and parsed.notes[0].startswith("q1: a matrix answered with labels")
    assert [r.answers for r in parsed.responses] == [
        {"q1_1": "满意", "q1_2": "一般"},
        {"q1_1": "一般"},
    ]


def test_free_text_comments_are_text_not_single_choices() -> None:
    """Comments typed again by a few respondents (each a sentence) and a 矩阵文本题 row of
    comments stay text (``common.looks_like_free_text``), as in the other readers; short labels
    given again and again are still a single choice."""
    praise = "服务员态度很好，上菜也很快，下次还会再来"
    price = "价格有点贵，希望以后能多一些优惠活动"
    rows = [
        ["序号", "提交答卷时间", "1、您还有什么建议？", "2、门店评价—环境(矩阵文本题)", "2、服务",
         "3、您多久来一次"],
        ["1", "2024/1/5 9:03:07", praise, praise, "好", "每周一次"],
        ["2", "2024/1/5 9:04:07", price, price, "好", "每周一次"],
        ["3", "2024/1/5 9:05:07", praise, praise, "一般", "每月一次"],
        ["4", "2024/1/5 9:06:07", price, price, "一般", "每月一次"],
    ]  # fmt: skip
    parsed = wjx.parse(_grid(rows), ImportOptions())
    assert [(q.id, q.kind) for q in parsed.questions] == [
        ("q1", "text"),
        ("q2_1", "text"),
        ("q2_2", "single"),
        ("q3", "single"),
    ]
    assert parsed.responses[1].answers["q1"] == price
    assert parsed.responses[1].answers["q2_1"] == price


def test_a_digit_run_past_a_float_is_text_not_a_crash() -> None:
    """``float("9" * 400)`` is infinity: such a cell is not a number, so its column is read as
    text like any column with a non-number in it (it was an OverflowError from int(inf) that
    stopped the whole import)."""
    huge = "9" * 400
    rows = [
        ["序号", "提交答卷时间", f"1、{samples.NPS_TEXT}", "2、请评价—口味", "分量"],
        ["1", "2024/1/5 9:03:07", "10", "4", "5"],
        ["2", "2024/1/5 9:04:07", huge, "3", "4"],
        ["3", "2024/1/5 9:05:07", "7", huge, "2"],
    ]
    for name in ("x_0.csv", "x_2.csv"):
        parsed = wjx.parse(_grid(rows, name), ImportOptions())
        kinds = {q.id: q.kind for q in parsed.questions}
        assert kinds["q1"] == kinds["q2_1"] == "text", name
        assert [r.response_id for r in parsed.responses] == ["1", "2", "3"], name
        assert parsed.responses[1].answers["q1"] == huge and not parsed.rejected, name


def test_the_value_mode_falls_back_to_the_file_name_then_says_it_guessed() -> None:
    rows = [["序号", "提交答卷时间", f"1、{samples.NPS_TEXT}"], ["1", "2024/1/5 9:03:07", "10"]]
    assert wjx.parse(_grid(rows, "a_2.xls"), ImportOptions()).responses[0].answers == {"q1": 9}
    assert wjx.parse(_grid(rows, "a_0.xls"), ImportOptions()).responses[0].answers == {"q1": 10}
    guessed = wjx.parse(_grid(rows, "a.csv"), ImportOptions())
    assert guessed.value_mode == "按选项文本" and "_2" in guessed.notes[0]
    # the content outranks the name: -3 (skipped) is 按选项序号's; (空) is written by both modes
    rows += [["2", "2024/1/5 9:04:07", "-3"], ["3", "2024/1/5 9:05:07", "(空)"]]
    read = wjx.parse(_grid(rows, "a_0.xls"), ImportOptions())
    assert read.value_mode == "按选项序号" and read.notes == [
        "q1: a 0–10 scale written 1–11 by 按选项序号: score = code − 1"
    ]
    assert [r.answers for r in read.responses] == [{"q1": 9}, {}, {}]


def test_what_cannot_be_read_is_refused_with_a_sentence(tmp_path: Path) -> None:
    path = samples.text_csv(tmp_path)
    with pytest.raises(Invalid, match="--definition"):
        wjx.parse(read_grid(path), ImportOptions(), DefinitionFile("s.qsf", b"{}"))
    with pytest.raises(Invalid, match="序号"):
        wjx.parse(_grid([["提交答卷时间", "1、好吗"], ["2024/1/5 9:03:07", "好"]]), ImportOptions())
    with pytest.raises(Invalid, match="question columns"):
        wjx.parse(_grid([["序号", "提交答卷时间"], ["1", "2024/1/5 9:03:07"]]), ImportOptions())


@pytest.mark.parametrize(
    "header",
    [
        ["编号", "开始答题时间", "结束答题时间", "答题时长", "1.您的满意度"],  # 腾讯问卷
        ["StartDate", "EndDate", "Status", "ResponseId", "Q1"],  # Qualtrics
        ["id", "submitdate", "lastpage", "startlanguage", "Q1"],  # LimeSurvey
        ["Respondent ID", "Collector ID", "Start Date", "End Date", "Q1"],  # SurveyMonkey
    ],
)
def test_other_tools_headers_are_not_taken_for_wjx(header: list[str]) -> None:
    assert wjx.detect(_grid([header, ["1"] * len(header)])) <= 0.3


# --- end to end: the CLI on real stores ---------------------------------------------------------

Writer = Callable[[Path], Path]


def _with_questionnaire(store: ImportStore, folder: Path) -> None:
    """``cxloop surveys create`` with the questionnaire's YAML: the options in their order."""
    folder.mkdir(parents=True, exist_ok=True)
    definition = folder / "wjx-store.yaml"
    definition.write_text(samples.SURVEY_YAML, encoding="utf-8")
    run = run_cli(store, "surveys", "create", definition)
    assert run.code == 0, run.output


def _shown(r: samples.Respondent) -> dict[str, Any]:
    """One respondent as ``surveys responses`` must show them: labels, numbers, row labels."""
    out: dict[str, Any] = {
        "q1": r.nps,
        "q2": samples.FREQUENCY[r.frequency],
        "q3": [samples.REASONS[k] for k in r.reasons],
        "q4": dict(zip(samples.AREAS, r.areas, strict=True)),
        "q5": {label: v for label, v in zip(samples.HYGIENE, r.hygiene, strict=True) if v},
        "q6": {samples.RANKED[k]: n for n, k in enumerate(r.ranking, 1)},
        "q7": samples.YES_NO[r.takeout],
    }
    if r.other:
        out["q3.other"] = r.other
    if r.packaging:
        out["q8"] = r.packaging
    for key, value in (("q9_1", r.name), ("q9_2", r.city), ("q10", r.advice)):
        if value:
            out[key] = value.replace("\r\n", "\n")
    return out


@pytest.mark.parametrize(
    ("text", "positions"),
    [
        (samples.text_xls, samples.positions_xls),
        (samples.text_xlsx, samples.positions_csv_gb18030),
        (samples.text_csv, samples.positions_xlsx),
    ],
    ids=["xls+xls", "xlsx+gb18030-csv", "bom-csv+xlsx"],
)
def test_both_value_modes_give_the_same_responses_output(
    text: Writer, positions: Writer, new_store: Callable[[str], ImportStore], tmp_path: Path
) -> None:
    exported = []
    for name, writer in (("text", text), ("positions", positions)):
        store = new_store(name)
        _with_questionnaire(store, tmp_path / name)
        summary = import_summary(store, writer(tmp_path / name), "--survey", samples.SURVEY_ID)
        assert (summary["survey_created"], summary["inserted"], summary["quarantined"]) == (
            False,
            34,
            0,
        )
        exported.append(export_json(store, samples.SURVEY_ID))
    assert exported[0] == exported[1]
    people = {str(r.number): r for r in samples.respondents()}
    for response in exported[0]["responses"]:
        assert response["answers"] == _shown(people[response["response_id"]])
        assert response["completed"] is True
    first = next(r for r in exported[0]["responses"] if r["response_id"] == "1")
    assert first["submitted_at"] == "2024-01-05T01:03:07+00:00"  # 09:03:07 in Shanghai


def test_a_reimport_adds_nothing(new_store: Callable[[str], ImportStore], tmp_path: Path) -> None:
    store = new_store("store")
    _with_questionnaire(store, tmp_path)
    path = samples.positions_xls(tmp_path)
    assert import_summary(store, path, "--survey", samples.SURVEY_ID)["inserted"] == 34
    feedback = feedback_count(store, samples.SURVEY_ID)
    assert feedback == 34
    again = import_summary(store, path, "--survey", samples.SURVEY_ID)
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, 34)
    assert feedback_count(store, samples.SURVEY_ID) == feedback
    assert response_count(store, samples.SURVEY_ID) == 34


def test_the_other_modes_file_changes_nothing(
    new_store: Callable[[str], ImportStore], tmp_path: Path
) -> None:
    """The same responses in the other value mode (metadata in another order, times as text
    instead of date cells): the same answers, status and times, so nothing changes."""
    store = new_store("store")
    _with_questionnaire(store, tmp_path)
    first = samples.positions_xls(tmp_path)
    assert import_summary(store, first, "--survey", samples.SURVEY_ID)["inserted"] == 34
    other = import_summary(store, samples.text_csv(tmp_path), "--survey", samples.SURVEY_ID)
    assert (other["inserted"], other["updated"], other["unchanged"]) == (0, 0, 34)
    assert feedback_count(store, samples.SURVEY_ID) == 34


def _nps_from_file(path: Path, encoding: str, *, positions: bool) -> float:
    """The file's NPS by hand: the ``1、`` column, ``9分`` or ``9`` (按选项序号: code − 1)."""
    rows = list(csv.reader(io.StringIO(path.read_bytes().decode(encoding), newline="")))
    column = next(i for i, name in enumerate(rows[0]) if name.startswith("1、"))
    scores = [int(row[column].removesuffix("分")) - (1 if positions else 0) for row in rows[1:]]
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    return 100.0 * (promoters - detractors) / len(scores)


def test_the_imported_nps_is_the_files_own(
    new_store: Callable[[str], ImportStore], tmp_path: Path
) -> None:
    text = samples.text_csv(tmp_path)
    positions = samples.positions_csv_gb18030(tmp_path)
    expected = _nps_from_file(text, "utf-8-sig", positions=False)
    assert expected == _nps_from_file(positions, "gb18030", positions=True)
    for name, path in (("text", text), ("positions", positions)):
        store = new_store(name)
        summary = import_summary(store, path, "--survey", "wjx-nps")
        assert summary["survey_created"] is True and summary["quarantined"] == 0
        assert nps_of(store) == pytest.approx(expected, abs=0.01)


def test_without_the_questionnaire_positions_stay_positions(
    new_store: Callable[[str], ImportStore], tmp_path: Path
) -> None:
    """A new survey from the 按选项序号 file alone: what its headers name is decoded (the NPS,
    the multiple choice, the ranking), the single choices keep their positions and say so."""
    store = new_store("store")
    summary = import_summary(store, samples.positions_xls(tmp_path), "--survey", "wjx-raw")
    assert summary["value_mode"] == "按选项序号" and summary["inserted"] == 34
    assert any(note.startswith("q2: ") and "--survey" in note for note in summary["notes"])
    exported = export_json(store, "wjx-raw")
    questions = {q["id"]: q for q in exported["questions"]}
    assert questions["q2"]["options"] == ["1", "2", "3", "4"]
    assert questions["q3"]["options"] == samples.REASONS
    assert questions["q6"]["options"] == samples.RANKED
    third = next(r for r in exported["responses"] if r["response_id"] == "3")
    assert third["answers"]["q1"] == 0 and third["answers"]["q2"] == "4"
