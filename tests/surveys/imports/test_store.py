"""An export, once read, is stored in a real SQLite store: a survey, its responses keyed by the
tool's response id (a re-import adds nothing), refused rows in the quarantine with field, value
and reason, and feedback rows dated with the file's times and linked to known customers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from cxloop import api
from cxloop.errors import Conflict, Invalid
from cxloop.feedback import search
from cxloop.feedback.models import Feedback
from cxloop.ingest import service as ingest_service
from cxloop.ingest.models import ImportRun, QuarantinedRow
from cxloop.surveys import service as surveys_service
from cxloop.surveys.definitions import parse_definition, read_yaml
from cxloop.surveys.importers import service, survey_choice
from cxloop.surveys.importers.model import (
    Choice,
    ImportedQuestion,
    ImportedResponse,
    ParsedExport,
    RowProblem,
)
from cxloop.surveys.importers.schemas import ImportSummary
from cxloop.surveys.models import Survey, SurveyAnswer, SurveyResponse
from tests.surveys.imports.conftest import make_import_store

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
T1 = dt.datetime(2024, 3, 5, 14, 2, 11, tzinfo=SHANGHAI)  # 06:02:11 UTC
T2 = dt.datetime(2024, 3, 6, 9, 30, tzinfo=SHANGHAI)
SHA = "ab" * 32


@pytest.fixture
def db(tmp_path: Path) -> Iterator[api.Store]:
    store = api.connect(settings=make_import_store(tmp_path / "store").settings)
    yield store
    store.close()


def questions() -> list[ImportedQuestion]:
    channel = [Choice("1", "App"), Choice("2", "网站"), Choice("3", "其他", other=True)]
    return [
        ImportedQuestion("Q1", "您向朋友推荐我们的可能性有多大？", "nps", "Q1", scale=(0, 10)),
        ImportedQuestion("Q2", "您通过哪个渠道下单？", "single", "Q2", options=channel),
        ImportedQuestion(
            "Q3", "请评价", "matrix", "Q3", rows=[Choice("1", "速度"), Choice("2", "包装")]
        ),
        ImportedQuestion("Q4", "还有什么想告诉我们的？", "text", "Q4"),
    ]


def response(row: int, rid: str, answers: dict[str, Any], **kw: Any) -> ImportedResponse:
    kw.setdefault("completed", True)
    kw.setdefault("started_at", T1 - dt.timedelta(minutes=3))
    kw.setdefault("submitted_at", T1 if kw["completed"] else None)
    return ImportedResponse(row, rid, answers, **kw)


def export(*extra: ImportedResponse, partial_done: bool = False) -> ParsedExport:
    """Four good rows (two complete, a partial with an answer, a partial with none), two bad
    rows and one the reader refused."""
    partial = (
        response(4, "R_3", {"Q1": 6, "Q4": "还行"}, completed=True, submitted_at=T2)
        if partial_done
        else response(4, "R_3", {"Q1": 3}, completed=False)
    )
    rows = [
        response(
            2,
            "R_1",
            {"Q1": 9, "Q2": "3", "Q2.other": "小程序", "Q3": {"1": 5, "2": 4}, "Q4": "送货快"},
            email="LI.NA@Example.com",
            ip="203.0.113.9",
            location="31.23,121.47",
            channel="email",
        ),
        response(3, "R_2", {"Q1": 10, "Q2": "1"}, external_reference="C2"),
        partial,
        response(5, "R_4", {}, completed=False),
        response(6, "R_5", {"Q2": "7"}),  # an option the question does not have
        response(7, "R_1", {"Q1": 1}),  # the id of row 2 again
        *extra,
    ]
    return ParsedExport(
        "qualtrics",
        "current (3 header rows)",
        "numeric",
        "配送体验",
        questions(),
        rows,
        source_survey_id="SV_delivery",
        timezone="Asia/Shanghai",
        rejected=[RowProblem(9, "Q1", "12", "is outside 0–10", {"Q1": "12"})],
        notes=["a note from the reader"],
    )


def run(db: api.Store, parsed: ParsedExport, survey_id: str = "delivery") -> ImportSummary:
    with db.sessions() as session:
        return service.import_parsed(
            session=session,
            settings=db.settings,
            parsed=parsed,
            source_name="delivery.csv",
            sha256=SHA,
            survey_id=survey_id,
            timezone="Asia/Shanghai",
        )


def count(db: api.Store, model: Any, *where: Any) -> int:
    with db.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def feedback(db: api.Store) -> dict[str, Feedback]:
    """Feedback rows by the tool's response id."""
    with db.sessions() as session:
        ids = {
            f"survey:{r.id}": (r.meta or {}).get("response_id")
            for r in session.scalars(select(SurveyResponse))
        }
        return {str(ids[f.feedback_id]): f for f in session.scalars(select(Feedback))}


def attrs(row: Any) -> dict[str, Any]:
    """A feedback row's attributes (a stored row or a search item)."""
    return dict(row.attributes or {})


def test_an_export_becomes_a_survey_responses_quarantine_and_feedback(db: api.Store) -> None:
    summary = run(db, export())
    assert summary.survey_created and summary.survey_version == 1 and summary.questions == 4
    assert (summary.inserted, summary.updated, summary.unchanged) == (4, 0, 0)
    assert summary.quarantined == 3 and summary.responses_read == 7
    assert summary.feedback_stored == 3  # the partial with no answer makes no feedback row
    assert summary.notes == ["a note from the reader"]
    assert [(p.row, p.field, p.value) for p in summary.rejected] == [
        (6, "Q2", "7"),
        (7, "response id", "R_1"),
        (9, "Q1", "12"),
    ]
    with db.sessions() as session:
        quarantined = session.scalars(
            select(QuarantinedRow).order_by(QuarantinedRow.row_number)
        ).all()
        assert [(q.kind, q.row_number, q.field, q.value) for q in quarantined] == [
            ("survey_responses", 6, "Q2", "7"),
            ("survey_responses", 7, "response id", "R_1"),
            ("survey_responses", 9, "Q1", "12"),
        ]
        assert quarantined[0].reason.startswith("is not an option of Q2")
        assert quarantined[1].reason == "is the id of row 2 too: each response is stored once"
        assert quarantined[2].raw == {"Q1": "12"}
        run_row = session.get(ImportRun, summary.import_run_id)
        assert run_row is not None and run_row.status == "finished" and run_row.inserted == 4
        # the quarantine listing reads these rows too (masked for a role without PII)
        shown = ingest_service.quarantine_page(session=session, reveal_pii=False)
        assert {r.row_number for r in shown} == {6, 7, 9}
        stored = {r.external_id: r for r in session.scalars(select(SurveyResponse))}
        first = stored["qualtrics:R_1"]
        assert first.origin == "qualtrics" and first.status == "completed"
        assert first.answers == {
            "Q1": 9,
            "Q2": "3",
            "Q2.other": "小程序",
            "Q3": {"Q3_1": 5, "Q3_2": 4},
            "Q4": "送货快",
        }
        assert first.completed_at == dt.datetime(2024, 3, 5, 6, 2, 11)  # naive UTC
        assert first.started_at == dt.datetime(2024, 3, 5, 5, 59, 11)
        assert first.meta is not None and first.meta["ip"] == "203.0.113.9"
        assert stored["qualtrics:R_3"].status == "partial"
        assert stored["qualtrics:R_4"].step == 0
        answers = session.scalars(
            select(SurveyAnswer).where(SurveyAnswer.response_id == first.id)
        ).all()
        assert {(a.question_id, a.item) for a in answers} == {
            ("Q1", ""),
            ("Q2", ""),
            ("Q2", "3"),
            ("Q3", "Q3_1"),
            ("Q3", "Q3_2"),
            ("Q4", ""),
        }
    rows = feedback(db)
    assert set(rows) == {"R_1", "R_2", "R_3"}
    assert rows["R_1"].created_at == dt.datetime(2024, 3, 5, 6, 2, 11)  # the file's time
    assert rows["R_1"].nps == 9 and rows["R_2"].nps == 10 and rows["R_3"].nps == 3
    assert attrs(rows["R_1"])["imported_from"] == "qualtrics"
    assert attrs(rows["R_1"])["collector"] == "email"
    assert attrs(rows["R_3"])["completed"] == "false"
    assert rows["R_3"].created_at == dt.datetime(2024, 3, 5, 5, 59, 11)  # started: no submit


def test_reimporting_the_same_export_adds_nothing(db: api.Store) -> None:
    run(db, export())
    before = {name: count(db, model) for name, model in _TABLES.items()}
    again = run(db, export())
    assert not again.survey_created and again.survey_version == 1
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 4)
    assert again.quarantined == 3 and again.feedback_stored == 0
    after = {name: count(db, model) for name, model in _TABLES.items()}
    assert after == before  # the quarantine holds the latest import of the file, once


_TABLES = {
    "responses": SurveyResponse,
    "answers": SurveyAnswer,
    "feedback": Feedback,
    "quarantine": QuarantinedRow,
    "surveys": Survey,
}


def test_a_partial_completed_since_is_updated_and_its_feedback_row_rewritten(
    db: api.Store,
) -> None:
    run(db, export())
    later = run(db, export(partial_done=True))
    assert (later.inserted, later.updated, later.unchanged) == (0, 1, 3)
    assert later.feedback_stored == 1
    rows = feedback(db)
    assert len(rows) == 3
    assert rows["R_3"].nps == 6 and attrs(rows["R_3"])["completed"] == "true"
    assert rows["R_3"].created_at == dt.datetime(2024, 3, 6, 1, 30)
    assert rows["R_3"].text == "还行"


def test_respondents_link_to_customers_by_email_and_by_a_stored_customer_id(db: api.Store) -> None:
    with db.sessions() as session:
        ingest_service.import_records(
            session=session,
            settings=db.settings,
            kind="customers",
            records=[
                {"customer_id": "C1", "name": "李娜", "email": "li.na@example.com"},
                {"customer_id": "C2", "name": "Tom"},
            ],
        )
    unknown = response(8, "R_8", {"Q1": 7}, external_reference="C404")
    run(db, export(unknown))
    rows = feedback(db)
    assert rows["R_1"].customer_id == "C1"  # by the e-mail, case and all
    assert rows["R_2"].customer_id == "C2"  # the tool carried a stored customer's id
    assert rows["R_8"].customer_id is None
    assert attrs(rows["R_8"])["external_reference"] == "C404"  # kept, not invented


def test_a_crash_between_storing_responses_and_feedback_heals_on_the_next_run(
    db: api.Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    def power_cut(**_: Any) -> int:
        raise RuntimeError("power cut")

    monkeypatch.setattr(service, "ingest_pending", power_cut)
    with pytest.raises(RuntimeError):
        run(db, export())
    assert count(db, SurveyResponse) == 4 and count(db, Feedback) == 0
    monkeypatch.undo()
    healed = run(db, export())
    assert (healed.inserted, healed.unchanged) == (0, 4)
    assert healed.feedback_stored == 3
    assert set(feedback(db)) == {"R_1", "R_2", "R_3"}


def test_personal_data_of_a_respondent_is_masked_for_roles_without_pii(db: api.Store) -> None:
    run(db, export())
    feedback_id = next(k for k, v in _ids(db).items() if v == "R_1")
    with db.sessions() as session:
        masked = search.get(session=session, feedback_id=feedback_id, reveal_pii=False)
        shown = search.get(session=session, feedback_id=feedback_id, reveal_pii=True)
    assert attrs(shown)["ip_address"] == "203.0.113.9"
    assert attrs(shown)["geo_location"] == "31.23,121.47"
    assert attrs(masked)["ip_address"] != "203.0.113.9"
    assert attrs(masked)["geo_location"] != "31.23,121.47"
    assert "203.0.113.9" not in str(masked.model_dump())
    assert attrs(masked)["imported_from"] == "qualtrics"  # not personal: shown


def _ids(db: api.Store) -> dict[str, str]:
    with db.sessions() as session:
        return {
            f"survey:{r.id}": (r.meta or {}).get("response_id", "")
            for r in session.scalars(select(SurveyResponse))
        }


def test_an_existing_survey_takes_the_export_only_when_it_holds_every_question(
    db: api.Store,
) -> None:
    yaml = """
id: store-visit
title: 门店回访
questions:
  - {id: nps, type: nps, text: 您向朋友推荐我们的可能性有多大？}
  - id: where
    type: single
    text: 您通过哪个渠道下单？
    options: [{id: app, text: App}, {id: web, text: 网站}, {id: other, text: 其他, other: true}]
"""
    with db.sessions() as session:
        surveys_service.create(session=session, definition=parse_definition(read_yaml(yaml)))
        session.commit()
    with pytest.raises(Invalid) as caught:
        run(db, export(), survey_id="store-visit")
    fields = {p.field for p in caught.value.problems}
    assert fields == {"Q3", "Q4"}  # the matrix and the text have no place in store-visit
    assert count(db, SurveyResponse) == 0 and count(db, ImportRun) == 0

    fitting = export()
    fitting.questions = fitting.questions[:2]
    for r in fitting.responses:
        r.answers = {k: v for k, v in r.answers.items() if k in ("Q1", "Q2", "Q2.other")}
    summary = run(db, fitting, survey_id="store-visit")
    assert not summary.survey_created and summary.inserted == 4
    with db.sessions() as session:
        stored = session.scalar(
            select(SurveyResponse).where(SurveyResponse.external_id == "qualtrics:R_1")
        )
        assert stored is not None
        assert stored.answers == {"nps": 9, "where": "other", "where.other": "小程序"}


def test_configuration_mistakes_are_refused_before_the_file_is_read(
    db: api.Store, tmp_path: Path
) -> None:
    missing = tmp_path / "nothing.csv"
    cases: list[tuple[dict[str, Any], str]] = [
        ({"tool": "typeform"}, "--tool"),
        ({"timezone": "Mars/Olympus"}, "--timezone"),
        ({"survey_id": "含 空格/slash"}, "--survey"),
        ({"definition_path": tmp_path / "no.qsf"}, "--definition"),
        # a mapping is read by the mapping reader only: never ignored in silence
        ({"tool": "qualtrics", "columns": {"id_column": "ID"}}, "--tool"),
    ]
    for options, field in cases:
        with db.sessions() as session, pytest.raises(Invalid) as caught:
            service.import_export(session=session, settings=db.settings, path=missing, **options)
        assert (caught.value.problems[0].field or "input") == field, options
    with db.sessions() as session, pytest.raises(Invalid) as caught:
        service.import_export(session=session, settings=db.settings, path=missing)
    assert "nothing.csv: cannot be read" in caught.value.problems[0].reason  # then the file
    assert count(db, ImportRun) == 0 and count(db, Survey) == 0


def test_the_default_survey_id_is_the_tools_else_the_file_name_without_wjx_suffix() -> None:
    parsed = export()
    assert survey_choice.default_survey_id(parsed, Path("x.csv")) == "SV_delivery"
    parsed.source_survey_id = None
    assert survey_choice.default_survey_id(parsed, Path("门店回访_2.xls")) == "qualtrics_门店回访"
    assert survey_choice.default_survey_id(parsed, Path("2024门店回访_0.xls")) == "2024门店回访"
    assert survey_choice.default_survey_id(parsed, Path("Q3 2024 (final).csv")) == "Q3_2024_final"
    assert survey_choice.default_survey_id(parsed, Path("___.csv")) == "qualtrics_import"


# --- two imports of one export at once ---------------------------------------------------------


def test_an_import_racing_another_for_the_same_responses_is_refused_with_a_sentence(
    db: api.Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other import stored the responses between this one's look-up and its insert: the
    unique (survey, external_id) index refuses it, and the user reads why, not a traceback."""
    first = run(db, export())
    from cxloop.surveys.importers import store

    monkeypatch.setattr(store, "_existing", lambda *_: {})  # looked before the other stored
    with pytest.raises(Conflict, match="another import stored responses of survey delivery"):
        run(db, export())
    assert count(db, SurveyResponse) == first.inserted  # nothing twice
    with db.sessions() as session:
        failed = session.scalars(select(ImportRun).order_by(ImportRun.id.desc())).first()
        assert failed is not None and failed.status == "failed"
        assert failed.message is not None and "another import" in failed.message
        assert "Example.com" not in failed.message  # no answer or e-mail from the statement


def test_an_import_racing_another_to_create_the_survey_is_refused_with_a_sentence(
    db: api.Store,
) -> None:
    run(db, export())
    with db.sessions() as session:
        real_get = session.get

        def get(model: Any, key: Any, *args: Any, **kwargs: Any) -> Any:
            # looked before the other import created the survey
            return None if model is Survey else real_get(model, key, *args, **kwargs)

        session.get = get  # type: ignore[method-assign]
        with pytest.raises(Conflict, match="another import stored responses of survey delivery"):
            service.import_parsed(
                session=session,
                settings=db.settings,
                parsed=export(),
                source_name="delivery.csv",
                sha256=SHA,
                survey_id="delivery",
                timezone="Asia/Shanghai",
            )
    assert count(db, Survey) == 1


def test_a_failed_runs_message_names_a_database_error_without_its_parameters() -> None:
    from sqlalchemy.exc import IntegrityError

    error = IntegrityError(
        "INSERT INTO survey_responses (meta) VALUES (?)",
        ({"email": "li.na@example.com"},),
        Exception("UNIQUE constraint failed: survey_responses.id\nDETAIL: Key (id)=(7)"),
    )
    message = service._failure(error)
    assert message == "IntegrityError: UNIQUE constraint failed: survey_responses.id"
    assert service._failure(ValueError("bad")) == "ValueError: bad"


def test_an_unzoned_time_is_utc_in_meta_as_in_the_stored_times(
    db: api.Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``_naive`` stores an unzoned time as UTC; the raw copy in ``meta`` must say the same
    moment, not read it in the zone of the machine the import runs on."""
    import time

    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        naive = dt.datetime(2024, 3, 5, 6, 2, 11)
        parsed = export()
        parsed.responses = [response(2, "R_9", {"Q1": 8}, submitted_at=naive, started_at=naive)]
        parsed.rejected = []
        run(db, parsed)
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    with db.sessions() as session:
        row = session.scalars(select(SurveyResponse)).one()
        assert row.completed_at == naive
        assert (row.meta or {})["submitted_at"] == "2024-03-05T06:02:11+00:00"
