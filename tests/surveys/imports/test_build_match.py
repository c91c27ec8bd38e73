"""An export becomes a survey definition cxloop accepts, whatever shape a reader made; an export
is placed onto an existing survey by id, text, label, code or position, and whatever has no
place is refused by name. Pure: no store."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from cxloop.errors import Invalid
from cxloop.surveys.definitions import parse_definition
from cxloop.surveys.importers import registry
from cxloop.surveys.importers.build import build
from cxloop.surveys.importers.grid import read_grid
from cxloop.surveys.importers.match import match, normal
from cxloop.surveys.importers.model import (
    Choice,
    ImportedQuestion,
    ImportedResponse,
    ImportOptions,
    ParsedExport,
    Tool,
)
from tests.surveys.imports.test_detect import SAMPLES, _id, _writer

SEED = 20_261_206


def _choices(*pairs: str) -> list[Choice]:
    return [Choice(code, label) for code, label in (p.split("=", 1) for p in pairs)]


def questions(*, codes: bool = True) -> list[ImportedQuestion]:
    """A survey as a tool reader makes it; ``codes``: the numeric mode's recodes, else the
    text mode (labels as codes)."""

    def opts(*pairs: str) -> list[Choice]:
        made = _choices(*pairs)
        return made if codes else [Choice(c.label, c.label, c.other) for c in made]

    channel = opts("1=App", "2=网站", "4=Other, please specify")
    channel[-1].other = True
    return [
        ImportedQuestion("Q1", "您向朋友推荐我们的可能性有多大？", "nps", "Q1", scale=(0, 10)),
        ImportedQuestion(
            "Q2",
            "Where did you order?",
            "single",
            "Q2",
            options=channel,
            codes="tool_codes" if codes else "labels",
        ),
        ImportedQuestion(
            "Q3",
            "What did you like?",
            "multiple",
            "Q3",
            options=opts("1=Speed", "2=Price", "3=服务"),
            codes="tool_codes" if codes else "labels",
        ),
        ImportedQuestion(
            "Q4",
            "Rate the delivery",
            "matrix",
            "Q4",
            rows=_choices("1=Speed", "2=Packaging"),
            scale=(1, 5),
        ),
        ImportedQuestion(
            "Q5", "Rate the app", "matrix", "Q5", rows=_choices("1=Speed", "2=Looks"), scale=(1, 5)
        ),
        ImportedQuestion("Q6", "How satisfied are you overall?", "csat", "Q6", scale=(1, 5)),
        ImportedQuestion("Q7", "How happy, 0 to 10?", "rating", "Q7", scale=(0, 10)),
        ImportedQuestion("Q8", "Anything else?", "text", "Q8"),
    ]


def answers(*, codes: bool = True) -> dict[str, Any]:
    return {
        "Q1": 9,
        "Q2": "4" if codes else "Other, please specify",
        "Q2.other": "小程序, via WeChat",
        "Q3": ["3", "1"] if codes else ["服务", "Speed"],
        "Q4": {"1": 5, "2": 4},
        "Q5": {"2": 3},
        "Q6": 4,
        "Q7": 0,
        "Q8": "送货很快\n谢谢",
    }


def export(*, codes: bool = True, extra: list[ImportedResponse] | None = None) -> ParsedExport:
    first = ImportedResponse(2, "R_1", answers(codes=codes), True)
    return ParsedExport(
        "qualtrics",
        "current",
        "numeric" if codes else "choice text",
        "配送体验",
        questions(codes=codes),
        [first, *(extra or [])],
    )


def test_build_makes_a_definition_cxloop_accepts_with_types_scales_and_ids() -> None:
    plan = build(export(), "delivery")
    d = plan.definition
    assert parse_definition(d.model_dump(mode="json")) == d  # a stored copy reads back alike
    types = {q.id: q.type for q in d.questions}
    assert types == {
        "Q1": "nps",
        "Q2": "single",
        "Q3": "multiple",
        "Q4": "matrix",
        "Q5": "matrix",
        "Q6": "csat",
        "Q7": "rating",
        "Q8": "text",
    }
    q2 = d.question("Q2")
    assert q2 is not None and [o.id for o in q2.options] == ["1", "2", "4"]
    assert [o.other for o in q2.options] == [False, False, True]
    rows = [r.id for q in d.questions for r in q.rows]
    assert rows == ["Q4_1", "Q4_2", "Q5_1", "Q5_2"]  # unique across the survey: drivers
    q7 = d.question("Q7")
    assert q7 is not None and q7.scale == 11  # a 0–10 rating: 11 points, answers as given
    q8 = d.question("Q8")
    assert q8 is not None and q8.max_length == 20_000
    assert d.default_language == "zh" and d.languages == ("zh",)
    assert d.title.get("zh") == "配送体验"


def test_english_texts_make_an_english_survey_and_labels_become_position_ids() -> None:
    parsed = export(codes=False)
    parsed.title = "Delivery"
    parsed.questions[0].text = "How likely are you to recommend us?"
    parsed.questions[2].options = _choices("Speed=Speed", "Price=Price")
    d = build(parsed, "delivery").definition
    assert d.default_language == "en"
    q2 = d.question("Q2")
    assert q2 is not None and [o.id for o in q2.options] == ["o1", "o2", "o3"]
    assert [o.text.get("en") for o in q2.options] == ["App", "网站", "Other, please specify"]


def test_translate_maps_codes_to_option_and_row_ids() -> None:
    plan = build(export(), "delivery")
    stored, problems = plan.translate(ImportedResponse(2, "R_1", answers(), True))
    assert problems == []
    assert stored == {
        "Q1": 9,
        "Q2": "4",
        "Q2.other": "小程序, via WeChat",
        "Q3": ["1", "3"],  # in the options' order
        "Q4": {"Q4_1": 5, "Q4_2": 4},
        "Q5": {"Q5_2": 3},
        "Q6": 4,
        "Q7": 0,
        "Q8": "送货很快\n谢谢",
    }


def test_values_the_survey_cannot_hold_are_row_problems_naming_field_value_and_reason() -> None:
    plan = build(export(), "delivery")
    bad = ImportedResponse(7, "R_9", {"Q2": "7", "Q4": {"9": 3}, "Q6": "很好", "Q99": "x"}, True)
    _, problems = plan.translate(bad)
    found = {(p.row, p.field, p.value) for p in problems}
    assert found == {(7, "Q2", "7"), (7, "Q4", "9"), (7, "Q6", "很好"), (7, "Q99", "x")}
    reasons = {p.field: p.reason for p in problems}
    assert reasons["Q2"].startswith("is not an option of Q2")
    assert reasons["Q4"].startswith("is not a row of Q4")
    assert reasons["Q6"] == "is not a number (Q6 is csat)"


def test_a_choice_with_one_known_option_is_kept_as_text_and_said_so() -> None:
    parsed = export()
    parsed.questions.append(
        ImportedQuestion("Q9", "I agree to the terms", "multiple", "Q9", options=_choices("1=Yes"))
    )
    plan = build(parsed, "delivery")
    q9 = plan.definition.question("Q9")
    assert q9 is not None and q9.type == "text"
    assert any(n.startswith("Q9: only 1 option known ('Yes')") for n in plan.notes)
    stored, problems = plan.translate(ImportedResponse(2, "R_1", {"Q9": ["1"]}, True))
    assert problems == [] and stored == {"Q9": "Yes"}


def test_a_scale_wider_than_eleven_points_is_kept_as_text_and_a_long_ranking_is_capped() -> None:
    parsed = export()
    parsed.questions += [
        ImportedQuestion("Q10", "Slide 0 to 100", "rating", "Q10", scale=(0, 100)),
        ImportedQuestion(
            "Q11",
            "Rank these",
            "matrix",
            "Q11",
            rows=[Choice(str(i), f"item {i}") for i in range(1, 14)],
            scale=(1, 13),
        ),
    ]
    plan = build(parsed, "delivery")
    q10, q11 = plan.definition.question("Q10"), plan.definition.question("Q11")
    assert q10 is not None and q10.type == "text"
    assert q11 is not None and q11.matrix_scale == 11
    assert len(plan.notes) == 2
    stored, _ = plan.translate(ImportedResponse(2, "R", {"Q10": 73, "Q11": {"13": 13}}, True))
    assert stored == {"Q10": "73", "Q11": {"Q11_13": 13}}


def test_build_accepts_every_shape_a_reader_can_make() -> None:
    """Fuzz: odd ids, codes and labels (Chinese, spaces, repeats, empty), odd scales, too few
    options or rows — every export builds, every answer translates, nothing raises."""
    rng = random.Random(SEED)
    kinds = ["nps", "csat", "ces", "rating", "single", "multiple", "matrix", "text"]
    codes = ["1", "1", "A", "a b", "选项", "", "SQ001", "x" * 80, "-", "_", "Q1", "3.5"]
    scales: list[tuple[int, int] | None] = [None, (0, 10), (1, 5), (1, 7), (0, 100), (5, 5)]
    for attempt in range(300):
        made = []
        for i in range(rng.randint(1, 6)):
            kind = rng.choice(kinds)
            n = rng.randint(0, 4)
            choices = [Choice(rng.choice(codes), rng.choice([*codes, "标签"])) for _ in range(n)]
            made.append(
                ImportedQuestion(
                    rng.choice(["Q1", "q1", "1", "问题", "", f"Q{i}", "Q1_1"]),
                    rng.choice(["", "How likely to recommend?", "满意吗", "  "]),
                    kind,  # type: ignore[arg-type]
                    "fuzz",
                    options=choices if kind in ("single", "multiple") else [],
                    rows=choices if kind == "matrix" else [],
                    scale=rng.choice(scales),
                    codes=rng.choice(["labels", "tool_codes", "positions"]),
                )
            )
        response = ImportedResponse(
            2,
            "R",
            {
                q.id: rng.choice(
                    [5, "1", ["1", "A"], {"1": 3, "SQ001": 2}, "text", 3.5, float("nan")]
                )
                for q in made
            },
            True,
        )
        parsed = ParsedExport("wjx", "fuzz", "fuzz", rng.choice(["", "T"]), made, [response])
        plan = build(parsed, f"fuzz-{attempt}")
        plan.translate(response)


def test_match_places_an_export_by_id_text_label_code_and_position() -> None:
    survey = build(export(), "delivery").definition
    text_mode = export(codes=False)
    text_mode.questions[0].id = "QID_renamed"  # found by its text instead
    text_mode.questions[0].text = "您向朋友推荐我们的可能性有多大?"  # half-width ? (NFKC)
    for q in text_mode.questions:
        if q.id == "Q2":
            q.options = [Choice(o.code, o.label.upper(), o.other) for o in q.options]
    plan = match(text_mode, survey, 1)
    given = {k: v for k, v in answers(codes=False).items() if k != "Q1"}
    stored, problems = plan.translate(ImportedResponse(2, "R_1", {**given, "QID_renamed": 9}, True))
    expected, _ = build(export(), "delivery").translate(ImportedResponse(2, "R_1", answers(), True))
    assert problems == [] and stored == expected

    positions = export()
    positions.questions[2].codes = "positions"
    positions.questions[2].decoded = False
    positions.questions[2].options = _choices("1=1", "2=2", "3=3")
    placed = match(positions, survey, 1)
    stored, _ = placed.translate(ImportedResponse(2, "R", {"Q3": ["2"]}, True))
    assert stored == {"Q3": ["2"]}


def test_match_refuses_every_question_option_and_row_that_has_no_place() -> None:
    survey = build(export(), "delivery").definition
    other = export(codes=False)
    other.questions[1].options.append(Choice("Phone", "Phone"))
    other.questions[3].rows.append(Choice("3", "Friendliness"))
    other.questions.append(ImportedQuestion("Q42", "What is new?", "text", "Q42"))
    with pytest.raises(Invalid) as caught:
        match(other, survey, 1)
    by_field = {p.field: p for p in caught.value.problems}
    assert set(by_field) == {"Q2 option", "Q4 row", "Q42"}
    assert by_field["Q2 option"].value == "Phone"
    assert "is not an option of Q2 in survey 'delivery' version 1" in by_field["Q2 option"].reason
    assert by_field["Q4 row"].value == "Friendliness"
    assert by_field["Q42"].reason.startswith("has no question like it in survey 'delivery'")


def test_a_matrix_is_never_matched_onto_a_choice_question() -> None:
    survey = build(export(), "delivery").definition
    other = export()
    other.questions = [
        ImportedQuestion("Q2", "Where did you order?", "matrix", "Q2", rows=_choices("1=A"))
    ]
    with pytest.raises(Invalid):
        match(other, survey, 1)


def test_normal_text_ignores_width_case_spaces_and_a_closing_question_mark() -> None:
    assert normal("  Ｗhere  did you ORDER？ ") == normal("where did you order")
    assert normal("满意吗？") == normal("满意吗")


@pytest.mark.parametrize("entry", SAMPLES, ids=[f"{e[0]}-{_id(e)}" for e in SAMPLES])
def test_every_sample_export_builds_and_matches_onto_the_survey_it_built(
    entry: tuple[Tool, str, dict[str, Any]], tmp_path: Path
) -> None:
    """Each tool reader's real shapes: the built definition is valid, every response translates
    (rows refused only where the reader refused them), and the same export matches onto the
    survey it built — the re-import path — with the same answers."""
    tool, target, kwargs = entry
    path = Path(_writer(tool, target)(tmp_path, **kwargs))
    parsed = registry.reader(tool).parse(read_grid(path), ImportOptions(), None)
    plan = build(parsed, "sample")
    again = match(parsed, plan.definition, 1)
    for response in parsed.responses:
        built, problems = plan.translate(response)
        matched, _ = again.translate(response)
        assert problems == [], (response.row, problems)
        assert matched == built


def test_a_time_pushed_past_the_calendar_by_its_zone_is_no_time() -> None:
    """Year 1 in a zone east of UTC (or 9999 west of it) cannot be held as UTC: not a time,
    never an OverflowError out of every reader."""
    from cxloop.surveys.importers.common import parse_time, zone

    assert parse_time("0001-01-01 00:10:00", zone("Asia/Shanghai", "UTC")) is None
    assert parse_time("9999-12-31 23:59:00", zone("America/Denver", "UTC")) is None
    assert parse_time("2024-03-05 14:02:00", zone("UTC", "UTC")) is not None


def test_labels_as_text_is_left_out_of_the_canonical_form_unless_set() -> None:
    """Surveys stored before the flag existed keep their hash (no spurious new version when
    their YAML is created again); an import's marked question keeps its mark."""
    from cxloop.surveys.definitions import canonical, parse_definition

    plain = parse_definition(
        {"id": "s", "title": "t", "questions": [{"id": "q", "type": "text", "text": "x"}]}
    )
    assert "labels_as_text" not in canonical(plain)["questions"][0]
    marked = parse_definition(
        {
            "id": "s",
            "title": "t",
            "questions": [{"id": "q", "type": "text", "text": "x", "labels_as_text": True}],
        }
    )
    assert canonical(marked)["questions"][0]["labels_as_text"] is True
    with pytest.raises(Invalid, match="only text questions hold labels as text"):
        parse_definition(
            {
                "id": "s",
                "title": "t",
                "questions": [{"id": "q", "type": "nps", "text": "x", "labels_as_text": True}],
            }
        )


def test_two_codes_placed_on_one_option_store_it_once_in_a_multiple_answer() -> None:
    """A later export may carry one option under two codes (a relabelled duplicate, "Speed"
    and "SPEED"): both land on the survey's option, and an answer holds it once."""
    survey = build(export(), "delivery").definition
    later = export()
    later.questions[2].options = [*later.questions[2].options, Choice("9", "SPEED")]
    plan = match(later, survey, 1)
    for chosen in (["1"], ["9"], ["9", "1", "2"]):
        stored, problems = plan.translate(ImportedResponse(2, "R", {"Q3": chosen}, True))
        assert problems == []
        assert stored["Q3"] == (["1"] if len(chosen) == 1 else ["1", "2"])
