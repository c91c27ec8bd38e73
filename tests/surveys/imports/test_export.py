"""``cxloop surveys responses``: the documented shape, in JSON and CSV, of a store filled with
two versions of a survey, imported and cxloop-collected responses, a partial, an "other" text
and personal data in a text answer (masked for roles without ``read_pii``)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from cxloop import api
from cxloop.surveys import export as survey_export
from tests.surveys.imports.conftest import ImportStore, export_json, export_text, run_cli
from tests.surveys.imports.export_support import fill


@pytest.fixture
def filled(store: ImportStore) -> ImportStore:
    fill(store.settings)
    return store


def test_json_export_has_the_documented_shape_in_a_stable_order(filled: ImportStore) -> None:
    exported = export_json(filled, "store-visit")
    assert exported["survey"] == "store-visit"
    assert [q["id"] for q in exported["questions"]] == [
        "nps",
        "sat",
        "channel",
        "liked",
        "rate",
        "why",
    ]
    channel = next(q for q in exported["questions"] if q["id"] == "channel")
    assert channel == {
        "id": "channel",
        "text": "您通过哪个渠道下单？",
        "type": "single",
        "options": ["手机应用", "官网", "其他"],  # the current version's labels
    }
    rate = next(q for q in exported["questions"] if q["id"] == "rate")
    assert rate["options"] == ["整洁", "排队"] and rate["type"] == "matrix"
    ids = [r["response_id"] for r in exported["responses"]]
    assert ids[:3] == ["R_1a", "R_0z", "R_2b"]  # by time, then id; the tool's prefix dropped
    assert len(ids) == 4 and ids[3].startswith("survey:")
    partial, half, full, collected = exported["responses"]
    assert partial == {
        "response_id": "R_1a",
        "submitted_at": "2025-03-01T08:30:00+00:00",
        "completed": False,
        "answers": {"nps": 10},
    }
    assert half["answers"] == {"nps": 7.5, "liked": ["店员, 服务"]}
    assert full["answers"] == {
        "nps": 9,  # stored 9.0: an integral score is an int
        "channel": "其他",
        "channel.other": "小程序",
        "liked": ["价格", "速度"],  # definition order, not the order stored
        "rate": {"整洁": 5, "排队": 2},
        "why": "店员很好，电话 13812345678 回访我",  # the CLI runs as admin: unmasked
    }
    assert list(full["answers"]) == ["nps", "channel", "channel.other", "liked", "rate", "why"]
    # each response is read with the version it answered: 'web' was renamed in version 2
    assert collected["answers"] == {
        "nps": 3,
        "sat": 2,
        "channel": "官网",
        "why": "排队太久, \n下次再说",
    }


def test_two_runs_export_the_same_bytes(filled: ImportStore) -> None:
    first = export_text(filled, "store-visit", "--format", "json")
    assert first == export_text(filled, "store-visit", "--format", "json")
    assert first.endswith("}\n") and "门店" not in first  # survey id, not the title
    assert "手机应用" in first  # not \\u-escaped


def test_completed_only_leaves_partials_out(filled: ImportStore) -> None:
    ids = [
        r["response_id"]
        for r in export_json(filled, "store-visit", "--completed-only")["responses"]
    ]
    assert "R_1a" not in ids and len(ids) == 3


def test_csv_has_a_column_per_question_matrix_row_and_other_text(filled: ImportStore) -> None:
    rows = list(csv.reader(io.StringIO(export_text(filled, "store-visit", "--format", "csv"))))
    assert rows[0] == [
        "response_id",
        "submitted_at",
        "completed",
        "nps",
        "sat",
        "channel",
        "channel.other",
        "liked",
        "rate[整洁]",
        "rate[排队]",
        "why",
    ]
    by_id = {r[0]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    assert len(by_id) == 4
    full = by_id["R_2b"]
    assert full["liked"] == "价格 | 速度"
    assert (full["rate[整洁]"], full["rate[排队]"], full["completed"]) == ("5", "2", "true")
    assert full["channel.other"] == "小程序"
    assert by_id["R_1a"]["completed"] == "false" and by_id["R_1a"]["sat"] == ""
    collected = next(v for k, v in by_id.items() if k.startswith("survey:"))
    assert collected["why"] == "排队太久, \n下次再说"  # quoted newline and comma survive


def test_output_file_gets_a_bom_for_excel_and_a_line_saying_so(
    filled: ImportStore, tmp_path: Path
) -> None:
    target = tmp_path / "answers.csv"
    run = run_cli(
        filled, "surveys", "responses", "store-visit", "--format", "csv", "--output", target
    )
    assert run.code == 0, run.output
    assert "wrote 4 responses of store-visit to" in run.stdout
    assert target.read_bytes().startswith(b"\xef\xbb\xbfresponse_id,")


def test_an_unknown_survey_is_one_line_and_exit_2(filled: ImportStore) -> None:
    run = run_cli(filled, "surveys", "responses", "none-such")
    assert run.code == 2
    assert run.stderr.startswith("error: ") and "none-such" in run.stderr
    assert "Traceback" not in run.output


def test_text_answers_are_masked_for_readers_without_pii(filled: ImportStore) -> None:
    connected = api.connect(settings=filled.settings)
    try:
        with connected.sessions() as session:
            masked = survey_export.responses(
                session=session, survey_id="store-visit", reveal_pii=False
            )
    finally:
        connected.close()
    why = next(r for r in masked.responses if r.response_id == "R_2b").answers["why"]
    assert "13812345678" not in why and why.startswith("店员很好，电话 138") and "5678" in why


def test_two_rows_with_one_label_keep_both_answers() -> None:
    """Tools allow the same statement twice; ``{row label: value}`` must not drop one."""
    from cxloop.surveys.definitions import parse_definition

    definition = parse_definition(
        {
            "id": "dup",
            "title": "dup",
            "questions": [
                {
                    "id": "m",
                    "type": "matrix",
                    "text": "rate",
                    "rows": [{"id": "a", "text": "Other"}, {"id": "b", "text": "Other"}],
                }
            ],
        }
    )
    shown = survey_export.shown_answers(definition, {"m": {"b": 2.0, "a": 4}})
    assert shown == {"m": {"Other (a)": 4, "Other (b)": 2}}


def test_one_id_from_two_tools_at_one_time_exports_alike_whatever_the_stored_order(
    tmp_path: Path,
) -> None:
    """LimeSurvey and 问卷星 both number responses 1, 2, 3: a survey holding both tools' answers
    has two responses "1"; at the same second, the tool (``external_id``) orders them, not the
    order the store happens to return."""
    import datetime as dt

    from cxloop.surveys import definitions
    from cxloop.surveys import service as surveys_service
    from cxloop.surveys.models import SurveyResponse
    from tests.surveys.imports.conftest import make_import_store
    from tests.surveys.imports.export_support import V1

    at = dt.datetime(2025, 3, 2, 8, 30)
    tools = {"limesurvey": 9, "wjx": 3}
    exports = []
    for name, order in (("a", list(tools)), ("b", list(reversed(tools)))):
        store = make_import_store(tmp_path / name)
        connected = api.connect(settings=store.settings)
        try:
            with connected.sessions() as session:
                surveys_service.create(session=session, definition=definitions.parse_definition(V1))
                for tool in order:
                    session.add(
                        SurveyResponse(
                            survey_id="store-visit",
                            version=1,
                            language="zh",
                            step=1,
                            status="completed",
                            started_at=at,
                            updated_at=at,
                            completed_at=at,
                            external_id=f"{tool}:1",
                            origin=tool,
                            answers={"nps": tools[tool]},
                        )
                    )
                session.commit()
        finally:
            connected.close()
        exports.append(export_text(store, "store-visit", "--format", "json"))
    assert exports[0] == exports[1]
    assert exports[0].index('"nps": 9') < exports[0].index('"nps": 3')  # limesurvey, then wjx
