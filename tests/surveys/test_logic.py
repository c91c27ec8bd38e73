"""Answers checked the same on every door (form, API): each refusal names the question, the value
and the rule; display logic reads earlier answers and attributes without eval; piped values."""

from __future__ import annotations

from typing import Any

import pytest

from cxloop.errors import Invalid
from cxloop.surveys import logic
from cxloop.surveys.definitions import Question, SurveyDefinition, parse_definition


def question(kind: str, **fields: Any) -> Question:
    return Question.model_validate({"id": "q", "type": kind, "text": "Q", **fields})


OPTIONS = [
    {"id": "price", "text": "Price"},
    {"id": "speed", "text": "Speed"},
    {"id": "x", "text": "Other", "other": True},
]
ROWS = [{"id": "quality", "text": "Quality"}, {"id": "timeliness", "text": "On time"}]


def refusal(q: Question, raw: object) -> tuple[str, object, str]:
    with pytest.raises(Invalid) as caught:
        logic.check_answer(q, raw)
    (problem,) = caught.value.problems
    return problem.field, problem.value, problem.reason


@pytest.mark.parametrize(
    ("kind", "fields", "raw", "clean"),
    [
        ("nps", {}, "0", 0),
        ("nps", {}, "10", 10),
        ("nps", {}, 7, 7),
        ("nps", {}, " 9 ", 9),
        ("nps", {}, 8.0, 8),
        ("nps", {}, "8.0", 8),
        ("csat", {}, "1", 1),
        ("csat", {}, "5", 5),
        ("ces", {}, "7", 7),
        ("rating", {"scale": 10}, "10", 10),
        ("rating", {}, "5", 5),
        ("single", {"options": OPTIONS}, "speed", "speed"),
        ("single", {"options": OPTIONS}, ["price"], "price"),
        ("multiple", {"options": OPTIONS}, ["speed", "price", "speed"], ["price", "speed"]),
        ("multiple", {"options": OPTIONS}, "x", ["x"]),
        ("multiple", {"options": OPTIONS}, ["price", ""], ["price"]),
        (
            "matrix",
            {"rows": ROWS},
            {"timeliness": "2", "quality": 5},
            {"quality": 5, "timeliness": 2},
        ),
        ("matrix", {"rows": ROWS}, {"quality": "4", "timeliness": ""}, {"quality": 4}),
        ("text", {}, "  送货太慢了  ", "送货太慢了"),
        ("text", {"max_length": 5}, "12345", "12345"),
    ],
)
def test_clean_values(kind: str, fields: dict[str, Any], raw: object, clean: object) -> None:
    assert logic.check_answer(question(kind, **fields), raw) == clean


@pytest.mark.parametrize(
    ("kind", "fields", "raw", "refused"),
    [
        ("nps", {}, "11", ("q", "11", "is outside 0–10")),
        ("nps", {}, "-1", ("q", "-1", "is outside 0–10")),
        ("nps", {}, "7.5", ("q", "7.5", "is not a whole number from 0 to 10")),
        ("nps", {}, "seven", ("q", "seven", "is not a whole number from 0 to 10")),
        ("nps", {}, "nan", ("q", "nan", "is not a whole number from 0 to 10")),
        ("nps", {}, "inf", ("q", "inf", "is not a whole number from 0 to 10")),
        ("nps", {}, True, ("q", True, "is not a whole number from 0 to 10")),
        ("nps", {}, ["3", "4"], ("q", None, "must be one number")),
        ("csat", {}, "0", ("q", "0", "is outside 1–5")),
        ("csat", {}, "6", ("q", "6", "is outside 1–5")),
        ("ces", {}, "8", ("q", "8", "is outside 1–7")),
        ("rating", {"scale": 3}, "4", ("q", "4", "is outside 1–3")),
        (
            "single",
            {"options": OPTIONS},
            "cheap",
            ("q", "cheap", "is not an option (price, speed, x)"),
        ),
        ("single", {"options": OPTIONS}, ["price", "speed"], ("q", None, "must be one option")),
        ("single", {"options": OPTIONS}, {"a": 1}, ("q", None, "must be one option")),
        (
            "multiple",
            {"options": OPTIONS, "max_choices": 2},
            ["price", "speed", "x"],
            ("q", ["price", "speed", "x"], "is too many choices (3; at most 2)"),
        ),
        (
            "multiple",
            {"options": OPTIONS, "min_choices": 2},
            ["price"],
            ("q", ["price"], "is too few choices (1; at least 2)"),
        ),
        (
            "multiple",
            {"options": OPTIONS},
            ["price", "cheap"],
            ("q", "cheap", "is not an option (price, speed, x)"),
        ),
        ("matrix", {"rows": ROWS}, "5", ("q", "5", "must give a rating per row ({row: rating})")),
        ("matrix", {"rows": ROWS}, {"quality": "9"}, ("q.quality", "9", "is outside 1–5")),
        (
            "matrix",
            {"rows": ROWS, "matrix_scale": 7},
            {"quality": "0"},
            ("q.quality", "0", "is outside 1–7"),
        ),
        (
            "matrix",
            {"rows": ROWS},
            {"looks": "3"},
            ("q.looks", "3", "is not a row (quality, timeliness)"),
        ),
        (
            "text",
            {"max_length": 5},
            "123456",
            ("q", "123456", "is too long (6 characters; at most 5)"),
        ),
        ("text", {}, 42, ("q", None, "must be text")),
    ],
)
def test_refusals_name_the_question_the_value_and_the_rule(
    kind: str, fields: dict[str, Any], raw: object, refused: tuple[str, object, str]
) -> None:
    assert refusal(question(kind, **fields), raw) == refused


def test_a_long_refused_text_is_not_echoed_whole() -> None:
    field, value, reason = refusal(question("text"), "很" * 4001)
    assert field == "q"
    assert reason == "is too long (4,001 characters; at most 4,000)"
    assert isinstance(value, str) and len(value) == logic.SHOWN + 1 and value.endswith("…")


@pytest.mark.parametrize("empty", [None, "", "   ", [], [""], {}, {"quality": ""}])
def test_empty_answers_are_none_or_required(empty: object) -> None:
    for kind, fields in [
        ("nps", {}),
        ("multiple", {"options": OPTIONS}),
        ("matrix", {"rows": ROWS}),
        ("text", {}),
    ]:
        assert logic.check_answer(question(kind, **fields), empty) is None
        assert refusal(question(kind, required=True, **fields), empty) == ("q", None, "is required")


def test_a_required_matrix_needs_every_row_and_names_each_missing_one() -> None:
    grid = question("matrix", rows=[*ROWS, {"id": "price", "text": "P"}], required=True)
    with pytest.raises(Invalid) as caught:
        logic.check_answer(grid, {"quality": "4", "timeliness": "12"})
    assert [(p.field, p.reason) for p in caught.value.problems] == [
        ("q.timeliness", "is outside 1–5"),
        ("q.price", "is required"),
    ]


def test_a_required_multiple_needs_one_choice_unless_min_says_more() -> None:
    pick = question("multiple", options=OPTIONS, required=True)
    assert logic.check_answer(pick, ["speed"]) == ["speed"]


def test_other_please_specify() -> None:
    pick = question("single", options=OPTIONS)
    assert logic.check_other(pick, "x", "  the box was wet ") == "the box was wet"
    assert logic.check_other(pick, "price", "ignored") is None
    with pytest.raises(Invalid) as caught:
        logic.check_other(pick, "x", " ")
    assert caught.value.problems[0].field == "q.other"
    assert caught.value.problems[0].reason == "please specify the other answer"
    many = question("multiple", options=OPTIONS)
    assert logic.check_other(many, ["price", "x"], "colour") == "colour"
    with pytest.raises(Invalid, match="at most 500"):
        logic.check_other(many, ["x"], "y" * 501)


SURVEY: SurveyDefinition = parse_definition(
    {
        "id": "s",
        "title": "S",
        "questions": [
            {"id": "nps", "type": "nps", "text": "NPS", "required": True},
            {"id": "why", "type": "text", "text": "Why?", "show_if": "nps <= 6", "required": True},
            {"id": "grid", "type": "matrix", "text": "Rate", "rows": ROWS},
            {
                "id": "late",
                "type": "single",
                "text": "Late?",
                "show_if": "grid.timeliness <= 2",
                "options": OPTIONS,
            },
            {
                "id": "boss",
                "type": "text",
                "text": "Boss",
                "show_if": "contact.role == 'decision_maker'",
            },
            {
                "id": "vip",
                "type": "csat",
                "text": "VIP",
                "show_if": "customer.segment in ['gold', 'vip'] and not nps < 9",
            },
        ],
    }
)


def _visible(answers: dict[str, Any], attributes: dict[str, Any] | None = None) -> list[str]:
    return [q.id for q in SURVEY.questions if logic.visible(q, answers, attributes)]


def test_display_logic_reads_earlier_answers_rows_and_attributes() -> None:
    assert _visible({}) == ["nps", "grid"]  # nothing answered: comparisons are false
    assert _visible({"nps": 3}) == ["nps", "why", "grid"]
    assert _visible({"nps": 7, "grid": {"timeliness": 2}}) == ["nps", "grid", "late"]
    assert _visible({"nps": 9}, {"contact": {"role": "Decision_Maker"}}) == ["nps", "grid", "boss"]
    assert _visible({"nps": 9}, {"customer.segment": "gold"}) == ["nps", "grid", "vip"]
    assert _visible({"nps": 8}, {"customer": {"segment": "gold"}}) == ["nps", "grid"]
    assert _visible({"nps": 10}, {"customer": {"segment": None}}) == ["nps", "grid"]


@pytest.mark.parametrize(
    ("show_if", "answers", "shown"),
    [
        ("pick == 'a'", {"pick": ["a", "b"]}, True),
        ("pick == 'c'", {"pick": ["a", "b"]}, False),
        ("pick != 'c'", {"pick": ["a", "b"]}, True),
        ("pick in ['c', 'b']", {"pick": ["a", "b"]}, True),
        ("pick not in ['c', 'b']", {"pick": ["a", "b"]}, False),
        ("pick not in ['c']", {"pick": "a"}, True),
        ("pick not in ['c']", {}, False),
        ("not pick == 'a'", {}, True),
        ("pick", {"pick": []}, False),
        ("pick", {"pick": ["a"]}, True),
        ("n >= 3 and n < 5 or n == 9", {"n": 4}, True),
        ("n >= 3 and (n < 5 or n == 9)", {"n": 9}, True),
        ("n >= 3 and (n < 5 or n == 9)", {"n": 6}, False),
        ("n > 'abc'", {"n": 4}, False),  # a number has no order against a word
        ("order.amount > 100", {}, False),
        ("order.amount > 100", {"order": {"amount": "250.5"}}, True),
        ("customer.vip == true", {"customer": {"vip": True}}, True),
        ("customer.vip", {"customer": {"vip": False}}, False),
    ],
)
def test_the_expression_language(show_if: str, answers: dict[str, Any], shown: bool) -> None:
    q = Question.model_validate({"id": "z", "type": "text", "text": "Z", "show_if": show_if})
    attributes = {k: v for k, v in answers.items() if k in ("order", "customer")}
    given = {k: v for k, v in answers.items() if k not in attributes}
    assert logic.visible(q, given, attributes) is shown


def test_check_answers_drops_hidden_answers_and_reports_every_problem() -> None:
    clean = logic.check_answers(
        SURVEY,
        {
            "nps": "9",
            "why": "hidden, dropped",
            "grid": {"timeliness": "1"},
            "late": "x",
            "late.other": "rain",
        },
    )
    assert clean == {"nps": 9, "grid": {"timeliness": 1}, "late": "x", "late.other": "rain"}
    with pytest.raises(Invalid) as caught:
        logic.check_answers(
            SURVEY, {"nps": "3", "grid": {"timeliness": "1"}, "late": "x", "nosuch": 1}
        )
    assert [(p.field, p.reason) for p in caught.value.problems] == [
        ("nosuch", "is not a question of this survey"),
        ("why", "is required"),
        ("late.other", "please specify the other answer"),
    ]


def test_check_answers_uses_attributes_for_visibility() -> None:
    with pytest.raises(Invalid) as caught:
        logic.check_answers(SURVEY, {"nps": "10", "vip": "6"}, {"customer": {"segment": "vip"}})
    assert [(p.field, p.value, p.reason) for p in caught.value.problems] == [
        ("vip", "6", "is outside 1–5")
    ]
    assert logic.check_answers(SURVEY, {"nps": "10", "vip": "6"}) == {"nps": 10}


@pytest.mark.parametrize(
    ("text", "context", "piped"),
    [
        ("Hi {customer.name}!", {"customer": {"name": "李娜"}}, "Hi 李娜!"),
        ("Order {order.order_id}", {"order.order_id": "o-1"}, "Order o-1"),
        ("{milestone.name} done", {"milestone": {"name": "UAT"}}, "UAT done"),
        ("Hi {customer.name}", {}, "Hi "),
        ("{order.amount} yuan", {"order": {"amount": 120.0}}, "120 yuan"),
        ("{a} {x.y.z} {{literal}}", {"x": {"y": {"z": 1}}}, "{a} 1 {{literal}}"),
        ("{customer.name}", {"customer": {"name": None}}, ""),
        ("{customer}", {"customer": {"name": "x"}}, "{customer}"),
    ],
)
def test_pipe(text: str, context: dict[str, Any], piped: str) -> None:
    assert logic.pipe(text, context) == piped


def test_matrix_rows_are_drivers_that_key_driver_analysis_ranks() -> None:
    import random

    import pandas as pd

    from cxloop.insights.drivers import key_drivers

    milestone = parse_definition(
        {
            "id": "m",
            "title": "M",
            "questions": [
                {"id": "nps", "type": "nps", "text": "NPS", "required": True},
                {"id": "grid", "type": "matrix", "text": "Rate", "rows": ROWS},
                {
                    "id": "more",
                    "type": "matrix",
                    "text": "More",
                    "rows": [{"id": "price", "text": "P"}],
                },
            ],
        }
    )
    assert logic.drivers(milestone) == ["quality", "timeliness", "price"]
    draw = random.Random(7)
    rows = []
    for _ in range(120):
        raw = {
            "grid": {r: str(draw.randint(1, 5)) for r in ("quality", "timeliness")},
            "more": {"price": str(draw.randint(1, 5))},
        }
        clean = logic.check_answers(milestone, {**raw, "nps": "5"})
        values = logic.driver_values(milestone, clean)
        nps = min(
            10, max(0, round(2 * values["quality"] + 0.3 * values["price"] + draw.gauss(0, 1) - 1))
        )
        rows.append({"nps": nps, **values})
    result = key_drivers(
        pd.DataFrame(rows), outcome="nps", drivers=logic.drivers(milestone), n_boot=20
    )
    assert result.table["driver"].tolist()[:1] == ["quality"]
    assert logic.driver_values(milestone, {"grid": {"quality": 4}}) == {"quality": 4}
