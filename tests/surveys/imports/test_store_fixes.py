"""What a new user's trial of survey imports found in the store and service step: one export
downloaded twice is one survey, a poorer value mode keeps what a richer one stored, a big import
adds a handful of feedback runs, and undo refuses what it cannot undo."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text, update

from cxloop import api
from cxloop.ingest.models import ImportRun
from cxloop.surveys.definitions import parse_definition, read_yaml
from cxloop.surveys.importers import service, survey_choice
from cxloop.surveys.importers.model import ImportedQuestion, ImportedResponse, ParsedExport
from cxloop.surveys.importers.store import kept_other_texts
from cxloop.surveys.models import SurveyResponse
from cxloop.surveys.response_feedback import ingest_pending
from tests.surveys.imports import samples_qualtrics, samples_wjx
from tests.surveys.imports.conftest import (
    ImportStore,
    export_json,
    export_text,
    feedback_count,
    import_summary,
    make_import_store,
    run_cli,
)

T0 = dt.datetime(2024, 3, 5, 6, 0, tzinfo=dt.UTC)


def nps_rows(store: ImportStore) -> int:
    return int(store.scalar("SELECT count(*) FROM feedback WHERE nps IS NOT NULL"))


# --- one export, two download names: one survey ---------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Lieferumfrage_March 28, 2024_10.15.csv", "Lieferumfrage"),
        ("Lieferumfrage_April 2, 2024_09.00.csv", "Lieferumfrage"),
        ("Delivery+feedback_March+28,+2024_10.15.csv", "Delivery_feedback"),
        ("Customer survey_2024-03-28.csv", "Customer_survey"),
        ("Customer survey_20240328_1015.csv", "Customer_survey"),
        ("Data_All_220905.csv", "Data_All_220905"),  # SurveyMonkey's: the date is all it says
        ("results_123456.csv", "results_123456"),  # six digits: a LimeSurvey sid
        ("export_12345678.csv", "export_12345678"),  # eight digits that are not a date
        ("Lieferumfrage_March 28, 2024_10.15 (1).csv", "Lieferumfrage"),
        ("门店满意度_2.xls", "qualtrics_门店满意度"),
        ("Q3 2024 (final).csv", "Q3_2024_final"),
        ("2024.csv", "2024"),
    ],
)
def test_the_default_survey_id_leaves_out_download_dates_and_times(
    name: str, expected: str
) -> None:
    parsed = ParsedExport("qualtrics", "current", "numeric", "t", [], [])
    assert survey_choice.default_survey_id(parsed, Path(name)) == expected


def test_one_export_downloaded_twice_under_dated_names_is_one_survey(
    store: ImportStore, tmp_path: Path
) -> None:
    first = samples_qualtrics.write_csv(
        tmp_path, numeric=False, name="Lieferumfrage_March 28, 2024_10.15.csv"
    )
    second = samples_qualtrics.write_csv(
        tmp_path, numeric=False, name="Lieferumfrage_April 2, 2024_09.00.csv"
    )
    one = import_summary(store, first)
    scores = nps_rows(store)
    two = import_summary(store, second)
    assert one["survey_id"] == two["survey_id"] == "Lieferumfrage"
    assert two["inserted"] == 0 and two["unchanged"] == one["inserted"] > 0
    assert store.scalar("SELECT count(*) FROM surveys") == 1
    assert nps_rows(store) == scores > 0


def test_an_export_under_another_name_goes_to_the_survey_holding_its_responses(
    store: ImportStore, tmp_path: Path
) -> None:
    first = samples_qualtrics.write_csv(tmp_path, numeric=True, name="Lieferumfrage.csv")
    renamed = samples_qualtrics.write_csv(tmp_path, numeric=True, name="delivery-export.csv")
    one = import_summary(store, first)
    scores = nps_rows(store)
    two = import_summary(store, renamed)
    assert two["survey_id"] == "Lieferumfrage" and not two["survey_created"]
    assert two["inserted"] == 0 and two["unchanged"] == one["inserted"]
    assert any(
        "matched survey Lieferumfrage by its response ids" in note and "delivery-export" in note
        for note in two["notes"]
    ), two["notes"]
    assert store.scalar("SELECT count(*) FROM surveys") == 1
    assert nps_rows(store) == scores


def test_a_named_survey_sharing_response_ids_with_another_says_so(
    store: ImportStore, tmp_path: Path
) -> None:
    path = samples_qualtrics.write_csv(tmp_path, numeric=True, name="Lieferumfrage.csv")
    one = import_summary(store, path)
    two = import_summary(store, path, "--survey", "copy")
    assert two["survey_id"] == "copy" and two["inserted"] == one["inserted"]
    assert any(
        f"stored in survey Lieferumfrage ({one['inserted']}) too" in n for n in two["notes"]
    ), two["notes"]


def test_responses_held_by_two_surveys_are_refused_without_survey(
    store: ImportStore, tmp_path: Path
) -> None:
    path = samples_qualtrics.write_csv(tmp_path, numeric=True, name="Lieferumfrage.csv")
    import_summary(store, path, "--survey", "one")
    import_summary(store, path, "--survey", "two")
    other = samples_qualtrics.write_csv(tmp_path, numeric=True, name="third.csv")
    run = run_cli(store, "surveys", "import", other)
    assert run.code == 2, run.output
    assert "more than one survey" in run.output and "one (" in run.output
    assert "--survey" in run.output and "Traceback" not in run.output
    assert store.scalar("SELECT count(*) FROM surveys") == 2


# --- big imports: a handful of feedback runs; undo refuses a survey import -------------------


def nps_export(count: int) -> ParsedExport:
    question = ImportedQuestion(
        "Q1", "How likely are you to recommend us?", "nps", "Q1", scale=(0, 10)
    )
    responses = [
        ImportedResponse(
            i + 2,
            f"R_{i:05d}",
            {"Q1": i % 11},
            completed=True,
            submitted_at=T0 + dt.timedelta(minutes=i),
        )
        for i in range(count)
    ]
    return ParsedExport("qualtrics", "current", "numeric", "Big", [question], responses)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[api.Store]:
    store = api.connect(settings=make_import_store(tmp_path / "store").settings)
    yield store
    store.close()


def feedback_runs(db: api.Store) -> list[ImportRun]:
    with db.sessions() as session:
        return list(
            session.scalars(
                select(ImportRun).where(ImportRun.kind == "feedback").order_by(ImportRun.id)
            )
        )


def test_a_big_import_adds_a_feedback_run_per_thousand_responses(db: api.Store) -> None:
    with db.sessions() as session:
        summary = service.import_parsed(
            session=session,
            settings=db.settings,
            parsed=nps_export(2_150),
            source_name="big.csv",
            sha256="cd" * 32,
            survey_id="big",
            timezone="UTC",
        )
    assert summary.inserted == 2_150 and summary.feedback_stored == 2_150
    runs = feedback_runs(db)
    assert [r.rows_read for r in runs] == [1_000, 1_000, 150]


def test_more_than_a_hundred_refused_rows_in_one_batch_are_each_named(db: api.Store) -> None:
    with db.sessions() as session:
        service.import_parsed(
            session=session,
            settings=db.settings,
            parsed=nps_export(400),
            source_name="big.csv",
            sha256="ef" * 32,
            survey_id="big",
            timezone="UTC",
        )
        ids = list(session.scalars(select(SurveyResponse.id).order_by(SurveyResponse.id)))
        broken = set(ids[::2])  # 200 rows ingest refuses (a language longer than feedback allows)
        session.execute(
            update(SurveyResponse)
            .where(SurveyResponse.id.in_(ids))
            .values(feedback_id=None, ingest_error=None)
        )
        session.execute(
            update(SurveyResponse).where(SurveyResponse.id.in_(broken)).values(language="x" * 40)
        )
        session.commit()
        assert (
            ingest_pending(session=session, settings=db.settings, limit=1_000, batch=1_000) == 200
        )
        session.commit()
        rows = session.scalars(select(SurveyResponse)).all()
        refused = {r.id for r in rows if r.ingest_error and "language" in r.ingest_error}
        stored = {r.id for r in rows if r.feedback_id is not None}
        assert refused == broken
        assert stored == set(ids) - broken
        assert (
            session.scalar(
                select(func.count()).select_from(ImportRun).where(ImportRun.kind == "feedback")
            )
            == 2
        )


def test_undo_refuses_a_survey_responses_run_with_a_sentence(
    store: ImportStore, tmp_path: Path
) -> None:
    path = samples_qualtrics.write_csv(tmp_path, numeric=True, name="Lieferumfrage.csv")
    summary = import_summary(store, path)
    before = store.scalar("SELECT count(*) FROM survey_responses")
    run = run_cli(store, "imports", "undo", str(summary["import_run_id"]))
    assert run.code == 2, run.output
    assert "survey responses" in run.output and "nothing was undone" in run.output
    assert "Traceback" not in run.output
    assert store.scalar("SELECT count(*) FROM survey_responses") == before
    status = store.scalar(
        "SELECT status FROM import_runs WHERE id = :id", id=summary["import_run_id"]
    )
    assert status == "finished"


def test_undo_refuses_the_runs_that_made_survey_answers_feedback(
    store: ImportStore, tmp_path: Path
) -> None:
    """Undoing a 'feedback ← survey' run would delete the feedback while the responses stay
    marked as sent (feedback_id set), so their answers would never reach the metrics again."""
    path = samples_qualtrics.write_csv(tmp_path, numeric=True, name="Lieferumfrage.csv")
    import_summary(store, path)
    feedback_run = store.scalar(
        "SELECT max(id) FROM import_runs WHERE kind = 'feedback' AND source_name = 'survey'"
    )
    before = feedback_count(store)
    run = run_cli(store, "imports", "undo", str(feedback_run))
    assert run.code == 2, run.output
    assert "feedback of survey responses" in run.output and "nothing was undone" in run.output
    assert feedback_count(store) == before > 0


# --- a poorer value mode keeps what a richer one stored --------------------------------------


def positions_without_other_texts(folder: Path) -> Path:
    """问卷星 按选项序号 as a download that does not carry the "other" texts (``1`` where the
    sample writes ``1〖爬山〗``)."""
    rows = samples_wjx.position_rows(samples_wjx.respondents(), dates=True)
    bare = [[1 if isinstance(v, str) and v.startswith("1〖") else v for v in row] for row in rows]
    assert bare != rows  # the sample has other texts to lose
    folder.mkdir(parents=True, exist_ok=True)
    return samples_wjx.write_xls(folder / "门店回访_2.xls", bare)


def wjx_store(new_store: Callable[[str], ImportStore], name: str, folder: Path) -> ImportStore:
    store = new_store(name)
    folder.mkdir(parents=True, exist_ok=True)
    definition = folder / "wjx-store.yaml"
    definition.write_text(samples_wjx.SURVEY_YAML, encoding="utf-8")
    assert run_cli(store, "surveys", "create", definition).code == 0
    return store


def test_a_mode_without_other_texts_keeps_them_in_either_order(
    new_store: Callable[[str], ImportStore], tmp_path: Path
) -> None:
    (tmp_path / "files").mkdir()
    text_file = samples_wjx.text_xls(tmp_path / "files")
    numbers = positions_without_other_texts(tmp_path / "files")
    with_other = sum(1 for r in samples_wjx.respondents() if r.other and 4 in r.reasons)
    assert with_other > 0
    survey = ("--survey", samples_wjx.SURVEY_ID)
    first = wjx_store(new_store, "text-first", tmp_path / "a")
    import_summary(first, text_file, *survey)
    stored = export_json(first, samples_wjx.SURVEY_ID)
    again = import_summary(first, numbers, *survey)
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, 34)
    second = wjx_store(new_store, "numbers-first", tmp_path / "b")
    import_summary(second, numbers, *survey)
    richer = import_summary(second, text_file, *survey)
    assert (richer["inserted"], richer["updated"]) == (0, with_other)
    kept = export_json(first, samples_wjx.SURVEY_ID)
    assert kept == stored == export_json(second, samples_wjx.SURVEY_ID)
    texts = [a["q3.other"] for a in (r["answers"] for r in kept["responses"]) if "q3.other" in a]
    assert len(texts) == with_other
    assert export_text(first, samples_wjx.SURVEY_ID, "--format", "csv") == export_text(
        second, samples_wjx.SURVEY_ID, "--format", "csv"
    )
    assert stored_answers(first) == stored_answers(second)


def stored_answers(store: ImportStore) -> dict[str, Any]:
    """Every response's stored answers by external id, read with plain SQL."""
    engine = create_engine(store.url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT external_id, answers FROM survey_responses"))
            return {key: json.loads(answers) for key, answers in rows}
    finally:
        engine.dispose()


def test_a_changed_answer_drops_the_old_other_text() -> None:
    definition = parse_definition(read_yaml(samples_wjx.SURVEY_YAML))
    question = next(q for q in definition.questions if any(o.other for o in q.options))
    other = next(o.id for o in question.options if o.other)
    plain = next(o.id for o in question.options if not o.other)
    qid = question.id
    value: Any = [other] if question.type == "multiple" else other
    changed: Any = [plain] if question.type == "multiple" else plain
    stored = {qid: value, f"{qid}.other": "爬山"}
    assert kept_other_texts(stored, {qid: value}, definition) == stored
    assert kept_other_texts(stored, {qid: changed}, definition) == {qid: changed}
    assert kept_other_texts(stored, {}, definition) == {}
    newer = {qid: value, f"{qid}.other": "跑步"}
    assert kept_other_texts(stored, newer, definition) == newer


def test_an_update_from_a_file_without_metadata_keeps_the_stored_metadata(db: api.Store) -> None:
    question = ImportedQuestion("Q1", "How likely are you to recommend us?", "nps", "Q1")
    question.scale = (0, 10)

    def one(answer: int, **meta: Any) -> ParsedExport:
        response = ImportedResponse(
            2, "R_1", {"Q1": answer}, completed=True, submitted_at=T0, **meta
        )
        return ParsedExport("qualtrics", "current", "numeric", "M", [question], [response])

    rich = one(6, email="li.na@example.com", ip="10.0.0.1", attributes={"store": "S1"})
    poor = one(7, attributes={"wave": "2"})
    for parsed in (rich, poor):
        with db.sessions() as session:
            service.import_parsed(
                session=session,
                settings=db.settings,
                parsed=parsed,
                source_name="m.csv",
                sha256="aa" * 32,
                survey_id="meta",
                timezone="UTC",
            )
    with db.sessions() as session:
        (row,) = session.scalars(select(SurveyResponse)).all()
        assert row.answers == {"Q1": 7}  # the file's answer wins
        assert row.meta is not None
        assert (row.meta["email"], row.meta["ip"]) == ("li.na@example.com", "10.0.0.1")
        assert row.meta["attributes"] == {"store": "S1", "wave": "2"}


def test_a_second_file_bringing_the_e_mails_the_first_lacked_links_the_respondent(
    db: api.Store,
) -> None:
    """The same answers downloaded again with personal data included: the e-mail is stored
    and the feedback row sent again, so the respondent is linked to the customer."""
    from cxloop.feedback.models import Feedback
    from cxloop.ingest import service as ingest_service

    with db.sessions() as session:
        ingest_service.import_records(
            session=session,
            settings=db.settings,
            kind="customers",
            records=[{"customer_id": "C1", "name": "李娜", "email": "li.na@example.com"}],
        )
    question = ImportedQuestion("Q1", "How likely are you to recommend us?", "nps", "Q1")
    question.scale = (0, 10)

    def one(**meta: Any) -> ParsedExport:
        response = ImportedResponse(2, "R_1", {"Q1": 9}, completed=True, submitted_at=T0, **meta)
        return ParsedExport("qualtrics", "current", "numeric", "M", [question], [response])

    summaries = []
    for parsed in (one(attributes={"wave": "1"}), one(email="li.na@example.com")):
        with db.sessions() as session:
            summaries.append(
                service.import_parsed(
                    session=session,
                    settings=db.settings,
                    parsed=parsed,
                    source_name="m.csv",
                    sha256="ab" * 32,
                    survey_id="linked",
                    timezone="UTC",
                )
            )
    assert (summaries[1].updated, summaries[1].unchanged) == (1, 0)
    with db.sessions() as session:
        (row,) = session.scalars(select(SurveyResponse)).all()
        assert row.meta is not None and row.meta["email"] == "li.na@example.com"
        (feedback,) = session.scalars(select(Feedback)).all()
        assert feedback.customer_id == "C1"
    with db.sessions() as session:  # the same file a third time: nothing new
        again = service.import_parsed(
            session=session,
            settings=db.settings,
            parsed=one(email="li.na@example.com"),
            source_name="m.csv",
            sha256="ab" * 32,
            survey_id="linked",
            timezone="UTC",
        )
    assert (again.updated, again.unchanged) == (0, 1)


def test_a_reader_failing_in_an_unforeseen_way_ends_in_a_sentence(
    store: ImportStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever a reader raises on a layout it missed (OverflowError, zlib.error, ParseError…)
    the user gets one sentence naming the file and the tool, never a traceback."""
    from cxloop.surveys.importers import qualtrics

    def broken(*_args: object, **_kwargs: object) -> None:
        raise OverflowError("int too large to convert to float")

    monkeypatch.setattr(qualtrics, "parse", broken)
    path = samples_qualtrics.write_csv(tmp_path, numeric=True, name="Lieferumfrage.csv")
    run = run_cli(store, "surveys", "import", str(path))
    assert run.code == 2, run.output
    assert "could not be read as a qualtrics export (OverflowError" in run.output
    assert "Traceback" not in run.output
