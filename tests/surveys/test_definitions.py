"""Survey definitions: YAML as people write it is read; every problem is named by its path, the
value and the rule, all at once; display logic may only look back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cxloop.errors import Invalid
from cxloop.surveys import definitions
from cxloop.surveys.definitions import SurveyDefinition, parse_definition

EXAMPLES = Path(__file__).parents[2] / "examples" / "surveys"


def survey(*questions: dict[str, Any], **header: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"id": "s1", "title": {"zh": "调查", "en": "Survey"}}
    data["questions"] = list(questions) or [{"id": "nps", "type": "nps", "text": "NPS"}]
    data.update(header)
    return data


def problems(data: object) -> dict[str, tuple[Any, str]]:
    with pytest.raises(Invalid) as caught:
        parse_definition(data)
    found = {p.field: (p.value, p.reason) for p in caught.value.problems}
    assert len(found) == len(caught.value.problems), "one problem per path"
    return found


def q(qid: str, kind: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": qid,
        "type": kind,
        "text": {"zh": f"问题 {qid}", "en": f"Question {qid}"},
        **fields,
    }


def test_the_issue_example_with_question_marks_in_flow_mappings_is_read() -> None:
    # PyYAML refuses "us?}" inside {…}; YAML 1.2 (ruamel) reads it as the issue writes it
    definition = definitions.load_definition(EXAMPLES / "post-delivery.yaml")
    assert definition.id == "post-delivery"
    assert definition.questions[0].text.get("en") == "How likely are you to recommend us?"
    assert definition.questions[1].show_if == "nps <= 6"
    assert definition.questions[1].max_length == definitions.DEFAULT_TEXT_LENGTH


@pytest.mark.parametrize("name", ["post-delivery", "b2b-milestone", "support-ces"])
def test_every_example_is_valid_and_round_trips(name: str) -> None:
    definition = definitions.load_definition(EXAMPLES / f"{name}.yaml")
    assert parse_definition(definitions.canonical(definition)) == definition
    assert definitions.warnings(definition) == []


def test_the_b2b_example_declares_roles_and_matrix_rows_that_name_drivers() -> None:
    definition = definitions.load_definition(EXAMPLES / "b2b-milestone.yaml")
    assert definition.required_roles == ["decision_maker", "purchaser", "user"]
    matrix = definition.question("delivery")
    assert matrix is not None and matrix.bounds == (1, 5)
    assert [r.id for r in matrix.rows] == ["quality", "timeliness", "communication", "expertise"]
    assert definition.layout == "all_on_one" and definition.reminders.after_hours == 48


def test_a_plain_string_counts_for_both_languages() -> None:
    definition = parse_definition(survey(title="Plain"))
    assert definition.title.root == {"zh": "Plain", "en": "Plain"}
    assert definition.title.get("en") == "Plain"


def test_a_text_missing_a_listed_language_is_named_and_one_language_surveys_pass() -> None:
    found = problems(survey(q("nps", "nps", text={"zh": "推荐吗"}), title={"zh": "调查"}))
    assert set(found) == {"title", "questions[0].text"}
    assert "has no en text" in found["title"][1]
    only_zh = survey(q("nps", "nps", text={"zh": "推荐吗"}), title={"zh": "调查"}, languages=["zh"])
    assert parse_definition(only_zh).languages == ("zh",)
    found = problems(survey(languages=["zh"], default_language="en"))
    assert found == {"default_language": ("en", "is not among languages (zh)")}


def test_every_problem_is_reported_at_once_in_file_order() -> None:
    data = survey(
        q("nps", "nps", required=True, scale=7),
        q("why", "text", show_if="nps <== 6"),
        q("later_ref", "text", show_if="score > 3"),
        q("score", "rating", scale=12),
        q(
            "pick",
            "multiple",
            max_choices=3,
            options=[{"id": "a", "text": "A"}, {"id": "b", "text": "B"}],
        ),
        q("1st", "text"),
        q("nps", "csat"),
        {"id": "typo", "type": "text", "text": "x", "shw_if": "nps > 1"},
        id="bad id",
    )
    with pytest.raises(Invalid) as caught:
        parse_definition(data)
    fields = [p.field for p in caught.value.problems]
    assert fields == [
        "id",
        "questions[0].scale",
        "questions[1].show_if",
        "questions[2].show_if",
        "questions[3].scale",
        "questions[4].max_choices",
        "questions[5].id",
        "questions[6].id",
        "questions[7].shw_if",
    ]
    by = {p.field: p for p in caught.value.problems}
    assert by["questions[1].show_if"].value == "nps <== 6"
    assert by["questions[1].show_if"].reason.startswith("expected a comparison")
    assert (
        "'<=='" in by["questions[1].show_if"].reason
        and "column 5" in by["questions[1].show_if"].reason
    )
    assert "comes after this question" in by["questions[2].show_if"].reason
    assert by["questions[3].scale"].reason == "a rating has 2 to 11 points"
    assert by["questions[4].max_choices"].reason == "must be 1 to 2 (the options)"
    assert by["questions[6].id"].reason == "is already the id of questions[0]"
    assert "show_if" in by["questions[7].shw_if"].reason  # the known fields are listed


@pytest.mark.parametrize(
    ("show_if", "reason"),
    [
        ("nps <= 6 and", "expected a value after 'and' (column 13)"),
        ("(nps <= 6", "expected ')' (column 10)"),
        ("nps = 6", "expected a comparison (==, !=, <, <=, >, >=), found '=' (column 5)"),
        ("nps <= 6 6", "unexpected '6' (expected 'and', 'or' or the end) (column 10)"),
        ("nps in 6", "expected a list like ['a', 'b'] after 'in' (column 8)"),
        ("nps in [x]", "a list holds values, not names: quote it ('x') (column 9)"),
        ("'x", "unclosed quote ' (column 1)"),
        ("nps & 1", "unexpected '&' (column 5)"),
        ("__import__('os')", "unexpected '(' (expected 'and', 'or' or the end) (column 11)"),
    ],
)
def test_show_if_syntax_errors_say_where_and_what_was_expected(show_if: str, reason: str) -> None:
    found = problems(survey(q("nps", "nps"), q("why", "text", show_if=show_if)))
    assert found == {"questions[1].show_if": (show_if, reason)}


@pytest.mark.parametrize(
    ("show_if", "reason"),
    [
        ("why == 'x'", "'why' is this question: show_if can only use earlier answers"),
        ("later > 1", "'later' comes after this question: show_if can only use earlier answers"),
        ("nsp <= 6", "'nsp' is not an earlier question (nps, pick, grid)"),
        ("nps <= 11", "11 is outside nps's scale 0–10"),
        ("nps == 'six'", "nps is a number: compare it with a number, not 'six'"),
        ("pick == 'd'", "'d' is not an option of pick (a, b, c)"),
        ("pick in ['a', 'z']", "'z' is not an option of pick (a, b, c)"),
        ("pick > 'a'", "pick's options have no order: use ==, != or in"),
        ("grid.nosuch >= 3", "'grid.nosuch': grid has no row 'nosuch' (rows: speed, price)"),
        ("grid.speed > 6", "6 is outside grid.speed's scale 1–5"),
        ("nps.speed > 1", "'nps.speed': nps has no row 'speed' (only a matrix has rows)"),
        ("shop.region == 'north'", "'shop.region' is not an earlier question"),
    ],
)
def test_show_if_names_and_values_are_checked(show_if: str, reason: str) -> None:
    data = survey(
        q("nps", "nps"),
        q("pick", "single", options=[{"id": x, "text": x.upper()} for x in "abc"]),
        q("grid", "matrix", rows=[{"id": "speed", "text": "S"}, {"id": "price", "text": "P"}]),
        q("why", "text", show_if=show_if),
        q("later", "nps"),
    )
    found = problems(data)
    assert list(found) == ["questions[3].show_if"]
    assert found["questions[3].show_if"][1].startswith(reason)


def test_show_if_over_attributes_earlier_answers_and_rows_is_accepted() -> None:
    data = survey(
        q("nps", "nps"),
        q("pick", "multiple", options=[{"id": "a", "text": "A"}, {"id": "b", "text": "B"}]),
        q("grid", "matrix", rows=[{"id": "speed", "text": "S"}]),
        q(
            "why",
            "text",
            show_if="(nps <= 6 or grid.speed < 3) and not pick == 'b' "
            "and contact.role in ['decision_maker', 'user'] and customer.segment != 'vip' "
            "and 10 >= nps and pick and order.amount > 100",
        ),
    )
    assert parse_definition(data).questions[3].show_if is not None


def test_question_fields_that_do_not_fit_the_type_are_named() -> None:
    found = problems(
        survey(
            q("nps", "nps", options=[{"id": "a", "text": "A"}, {"id": "b", "text": "B"}]),
            q("txt", "text", rows=[{"id": "r", "text": "R"}], max_choices=2),
            q("one", "single", options=[{"id": "a", "text": "A"}], max_length=10),
            q("grid", "matrix", matrix_scale=1),
        )
    )
    assert found == {
        "questions[0].options": (["a", "b"], "only single and multiple questions have options"),
        "questions[1].rows": (["r"], "only matrix questions have rows"),
        "questions[1].max_choices": (2, "only multiple questions have max_choices"),
        "questions[2].max_length": (10, "only text questions have max_length"),
        "questions[2].options": (1, "needs at least two options"),
        "questions[3].matrix_scale": (1, "must be 2 to 11 points"),
        "questions[3].rows": (None, "a matrix needs at least one row to rate"),
    }


def test_options_rows_and_choices_rules() -> None:
    opts = [{"id": "a", "text": "A", "other": True}, {"id": "a", "text": "B", "other": True}]
    found = problems(
        survey(
            q("pick", "multiple", options=opts, min_choices=2, max_choices=1),
            q(
                "grid",
                "matrix",
                rows=[{"id": "pick", "text": "P"}, {"id": "ok", "text": "O", "other": True}],
            ),
            q("grid2", "matrix", rows=[{"id": "ok", "text": "O"}, {"id": "x-y", "text": "X"}]),
        )
    )
    assert found["questions[0].options[1].other"][1].startswith("only one option may be 'other'")
    assert found["questions[0].options[1].id"] == ("a", "is already the id of option [0]")
    assert found["questions[0].min_choices"] == (2, "is more than max_choices (1)")
    assert found["questions[1].rows[0].id"][1].startswith("is already the id of questions[0]")
    assert found["questions[1].rows[1].other"] == (True, "rows cannot be 'other'")
    assert found["questions[2].rows[0].id"][1].startswith(
        "is already the id of questions[1].rows[1]"
    )
    assert found["questions[2].rows[1].id"][1].startswith("a row id names a driver")


def test_required_roles_are_spelled_as_contacts_are_imported() -> None:
    definition = parse_definition(survey(required_roles=["Decision Maker", "使用者", "purchaser"]))
    assert definition.required_roles == ["decision_maker", "user", "purchaser"]
    # the issue's own example roles: project lead and end user are contact roles too
    issue = parse_definition(survey(required_roles=["decision maker", "project lead", "end user"]))
    assert issue.required_roles == ["decision_maker", "project_lead", "user"]
    found = problems(survey(required_roles=["team captain", "决策者", "decision_maker"]))
    assert set(found) == {"required_roles[2]"}  # a role cxloop has no name for is no error
    assert found["required_roles[2]"] == (
        "decision_maker",
        "is the same role as required_roles[1]",
    )


def test_a_required_role_cxloop_has_no_name_for_is_kept_with_a_warning() -> None:
    """Contact roles are open (行政助理 is imported as written), so a survey may require one;
    only contacts imported with that role can answer it, and the warning says so."""
    definition = parse_definition(
        survey(required_roles=["决策者", "行政助理", " Office  Manager ", "end user"])
    )
    assert definition.required_roles == ["decision_maker", "行政助理", "office manager", "user"]
    found = {p.field: (p.value, p.reason) for p in definitions.warnings(definition)}
    assert set(found) == {"required_roles[1]", "required_roles[2]"}
    value, reason = found["required_roles[1]"]
    assert value == "行政助理"
    assert "is not a role cxloop knows (decision_maker" in reason
    assert "import contacts with this role" in reason
    assert definitions.warnings(parse_definition(survey(required_roles=["决策者"]))) == []
    again = problems(survey(required_roles=["Office Manager", "office_manager"]))
    assert again["required_roles[1]"][1] == "is the same role as required_roles[0]"


@pytest.mark.parametrize(
    ("data", "field", "reason"),
    [
        ([1, 2], "definition", "must be a mapping with id, title and questions"),
        (None, "definition", "must be a mapping with id, title and questions"),
        ({"title": "x", "questions": []}, "id", "is required"),
        (
            {"id": "x", "title": "x", "questions": []},
            "questions",
            "List should have at least 1 item after validation, not 0",
        ),
        (
            {"id": "x", "title": "  ", "questions": [q("a", "nps")]},
            "title",
            "needs a text (a string, or {zh: …, en: …})",
        ),
        (
            {"id": "x", "title": {"fr": "x"}, "questions": [q("a", "nps")]},
            "title.fr",
            "is not a language (use zh or en)",
        ),
        (
            survey(q("a", "smiley")),
            "questions[0].type",
            "is not a question type (nps, csat, ces, rating, single, multiple, matrix, text)",
        ),
        (
            survey(reminders={"after_hours": 0}),
            "reminders.after_hours",
            "Input should be greater than or equal to 1",
        ),
        (
            survey(reminders={"every": 3}),
            "reminders.every",
            "is not a field here (known: after_hours, max)",
        ),
        (survey(layout="carousel"), "layout", "Input should be 'one_per_page' or 'all_on_one'"),
        (survey(link_days=0), "link_days", "Input should be greater than or equal to 1"),
    ],
)
def test_shape_problems_are_named(data: object, field: str, reason: str) -> None:
    found = problems(data)
    assert field in found, found
    assert found[field][1] == reason


def test_a_question_that_fails_its_shape_is_not_reported_again_as_unknown() -> None:
    found = problems(survey(q("nps", "smiley"), q("why", "text", show_if="nps <= 6")))
    assert list(found) == ["questions[0].type"]


def test_an_api_dump_with_every_default_written_out_passes() -> None:
    definition = definitions.load_definition(EXAMPLES / "b2b-milestone.yaml")
    dumped = definition.model_dump(mode="json")
    assert dumped["questions"][0]["scale"] is None and dumped["questions"][4]["max_length"] == 2000
    assert parse_definition(dumped) == definition


def test_bad_yaml_is_named_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("id: x\ntitle: [unclosed\nquestions: []\n", encoding="utf-8")
    with pytest.raises(Invalid) as caught:
        definitions.load_definition(path)
    (problem,) = caught.value.problems
    assert problem.field.startswith("line ") and "is not valid YAML" in problem.reason


def test_a_key_written_twice_is_refused_not_silently_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "twice.yaml"
    path.write_text("id: x\ntitle: a\ntitle: b\nquestions: []\n", encoding="utf-8")
    with pytest.raises(Invalid) as caught:
        definitions.load_definition(path)
    (problem,) = caught.value.problems
    assert problem.field == "line 3, column 1" and "duplicate key" in problem.reason


def test_missing_and_non_utf8_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(Invalid, match="no such file"):
        definitions.load_definition(tmp_path / "nosuch.yaml")
    gbk = tmp_path / "gbk.yaml"
    gbk.write_bytes("id: 调查\n".encode("gbk"))
    with pytest.raises(Invalid, match="is not UTF-8 text"):
        definitions.load_definition(gbk)


def test_unknown_piped_values_are_warnings_not_errors() -> None:
    definition = parse_definition(
        survey(
            q(
                "nps",
                "nps",
                text={"zh": "{customer.name}，{shop.name} 推荐吗", "en": "{order.order_id}?"},
            ),
            intro="{milestone.name} {weather.today}",
        )
    )
    warned = [(w.field, w.value) for w in definitions.warnings(definition)]
    assert warned == [("intro", "{weather.today}"), ("questions[0].text", "{shop.name}")]


def test_the_model_reads_back_what_was_stored() -> None:
    definition = parse_definition(survey(q("r", "rating"), q("t", "text")))
    assert definition.questions[0].scale == 5 and definition.questions[0].bounds == (1, 5)
    again = SurveyDefinition.model_validate(definitions.canonical(definition))
    assert again == definition


def test_a_bad_survey_field_does_not_hide_the_meaning_of_the_others() -> None:
    found = problems(
        survey(
            q("nps", "nps", text={"zh": "推荐吗"}),
            layout="carousel",
            required_roles=["user", "使用者"],
        )
    )
    assert set(found) == {"layout", "questions[0].text", "required_roles[1]"}
    # a bad language list: which texts lack a language is unknown, so only the roles are checked
    found = problems(
        survey(q("nps", "nps", text={"zh": "推荐吗"}), languages=["fr"], required_roles=["x", "X"])
    )
    assert set(found) == {"languages[0]", "required_roles[1]"}
    found = problems({"id": "bad id", "questions": "nps", "title": {"zh": "调查"}})
    assert set(found) == {"id", "questions", "title"}


def test_deeply_nested_or_self_referencing_yaml_is_refused_with_a_sentence() -> None:
    with pytest.raises(Invalid, match="nested too deeply"):
        definitions.read_yaml("[" * 5000)
    cyclic = definitions.read_yaml("id: a\ntitle: &t {zh: *t}\nquestions: &q [*q]\n")
    found = problems(cyclic)
    assert found["title.zh"] == (None, "Input should be a valid string")  # no cyclic echo
