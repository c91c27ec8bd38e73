"""Question types the readers guessed wrong without a definition file (issue 13 trial, findings 5
and 6): NPS worded in Dutch, German or Chinese, "not applicable" in the export's language, free
text comments, and label-scale matrices whose labels must never become the customer's words."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from cxloop.surveys.importers.common import (
    blank,
    file_day_first,
    looks_like_free_text,
    number,
    person_name,
    scored_kind,
)
from tests.surveys.imports.conftest import ImportStore, export_json, import_summary, nps_of

LS_HEAD = [
    "Respons ID",
    "Datum verstuurd",
    "Laatste pagina",
    "Starttaal",
    "Datum gestart",
    "Datum laatste actie",
    "Hoe waarschijnlijk is het dat u ons aanbeveelt aan een vriend?",
    "Welke producten koopt u? [Brood]",
    "Welke producten koopt u? [Kaas]",
    "Hoe tevreden bent u over: [Service]",
    "Hoe tevreden bent u over: [Prijs]",
    "Opmerkingen",
]
LS_ROWS = [
    ["1", "2023-11-02 10:15:00", "3", "nl", "2023-11-02 10:10:00", "2023-11-02 10:15:00",
     "9", "Ja", "Nee", "Zeer tevreden", "Tevreden", "Prima winkel;\nkom graag terug"],
    ["2", "2023-11-03 11:00:00", "3", "nl", "2023-11-03 10:55:00", "2023-11-03 11:00:00",
     "7", "Nee", "Ja", "", "", ""],
    ["3", "2023-11-04 12:00:00", "3", "nl", "2023-11-04 11:55:00", "2023-11-04 12:00:00",
     "0", "Ja", "Ja", "Ontevreden", "Zeer ontevreden", 'Vreselijk "slecht"'],
    ["4", "2023-11-05 09:00:00", "3", "nl", "2023-11-05 08:55:00", "2023-11-05 09:00:00",
     "10", "N.v.t.", "N.v.t.", "Tevreden", "Neutraal", ""],
    ["5", "2023-11-06 09:00:00", "3", "nl", "2023-11-06 08:55:00", "2023-11-06 09:00:00",
     "3", "Ja", "Nee", "Neutraal", "Tevreden", ""],
]  # fmt: skip


def write_dutch_limesurvey(folder: Path) -> Path:
    """A LimeSurvey ';' export with Dutch headings, long answers and a translated N/A."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerows([LS_HEAD, *LS_ROWS])
    path = folder / "results-survey424242.csv"
    path.write_bytes(b"\xef\xbb\xbf" + out.getvalue().encode())
    return path


def _nps_by_hand(path: Path) -> float:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        scores = [int(r[LS_HEAD[6]]) for r in csv.DictReader(handle, delimiter=";")]
    promoters = sum(s >= 9 for s in scores)
    detractors = sum(s <= 6 for s in scores)
    return 100 * (promoters - detractors) / len(scores)


def _questions(store: ImportStore, survey: str) -> dict[str, dict]:
    return {q["text"]: q for q in export_json(store, survey)["questions"]}


def test_dutch_recommend_question_is_nps_and_feeds_the_metric(store: ImportStore, tmp_path):
    path = write_dutch_limesurvey(tmp_path)
    summary = import_summary(store, path)
    assert summary["inserted"] == 5 and summary["quarantined"] == 0, summary["rejected"]
    assert _questions(store, "424242")[LS_HEAD[6]]["type"] == "nps"
    assert nps_of(store) == pytest.approx(_nps_by_hand(path))


def test_translated_not_applicable_is_absent_not_a_refused_row(store: ImportStore, tmp_path):
    import_summary(store, write_dutch_limesurvey(tmp_path))
    answers = {r["response_id"]: r["answers"] for r in export_json(store, "424242")["responses"]}
    assert answers["4"]["q1"] == 10
    assert not any(key.startswith("q2") for key in answers["4"])


def test_comments_are_text_and_label_rows_are_choices(store: ImportStore, tmp_path):
    import_summary(store, write_dutch_limesurvey(tmp_path))
    questions = _questions(store, "424242")
    assert questions["Opmerkingen"]["type"] == "text"
    service = questions["Hoe tevreden bent u over: [Service]"]
    assert service["type"] == "single"
    assert {"Zeer tevreden", "Tevreden", "Neutraal", "Ontevreden"} <= set(service["options"])


def test_feedback_text_holds_the_comment_not_the_scale_labels(store: ImportStore, tmp_path):
    import_summary(store, write_dutch_limesurvey(tmp_path))
    texts = [
        t for (t,) in _rows(store, "SELECT text FROM feedback WHERE text IS NOT NULL ORDER BY 1")
    ]
    assert any("Prima winkel" in t for t in texts)
    assert not any("tevreden" in t.casefold() for t in texts), texts


def _rows(store: ImportStore, sql: str) -> list[tuple]:
    from sqlalchemy import create_engine, text

    engine = create_engine(store.url)
    try:
        with engine.connect() as connection:
            return [tuple(r) for r in connection.execute(text(sql))]
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "wording",
    [
        "Hoe waarschijnlijk is het dat u ons aanbeveelt aan een vriend?",
        "Wie wahrscheinlich ist es, dass Sie uns weiterempfehlen?",
        "Quelle est la probabilité que vous nous recommandiez ?",
        "¿Qué probabilidad hay de que nos recomiende a un amigo?",
        "您有多大可能把我们介绍给朋友？",
        "您向朋友推薦我們的可能性有多大？",
    ],
)
def test_recommend_in_other_languages_is_nps(wording):
    assert scored_kind(wording, 0, 10) == "nps"


def test_a_zero_to_ten_satisfaction_is_not_nps():
    assert scored_kind("Wie zufrieden sind Sie (0–10)?", 0, 10) == "rating"


@pytest.mark.parametrize("marker", ["N.v.t.", "n.v.t.", "k.A.", "keine Angabe", "不适用", "N/A"])
def test_not_applicable_markers_are_blank(marker):
    assert blank(marker)


def test_a_score_is_a_finite_number():
    assert number("9分") == 9.0 and number("7,5") == 7.5 and number("7,25") == 7.25
    assert number("1,000") is None  # a thousands separator: not the score 1
    assert number("9" * 400) is None  # float() reads it as infinity
    assert number("nine") is None


def test_one_date_order_serves_the_whole_file():
    assert file_day_first(["5/9/22 9:00", "13/9/22 9:00"], ["Start"], None) == (True, None)
    assert file_day_first(["5/9/22", "9/13/22"], ["Start"], None) == (False, None)
    assert file_day_first(["2022-09-13 09:00"], ["Start"], None) == (None, None)
    day_first, note = file_day_first(["5/9/22", "1/2/22"], ["Start", "End"], None)
    assert day_first is False and note and note.startswith("Start, End: every date reads both")
    assert file_day_first(["5/9/22", "9/13/22"], ["Start"], True)[0] is True  # stated wins


def test_a_chinese_name_is_written_family_name_first_without_a_space():
    assert person_name("娜", "李") == "李娜"
    assert person_name("Anna", "Smith") == "Anna Smith"
    assert person_name("", " Smith ") == "Smith" and person_name("", "") is None


def test_free_text_is_told_from_labels():
    assert looks_like_free_text(["Prima winkel;\nkom graag terug", "ok"])
    assert looks_like_free_text(["The croissant was stale and cold", "Lovely staff, will be back"])
    assert looks_like_free_text(["送餐太慢了，而且汤都洒出来了，希望改进包装", "很好"])
    assert not looks_like_free_text(["Very satisfied", "Satisfied", "Neutral", "Satisfied"])
    assert not looks_like_free_text(["Zeer tevreden", "Ontevreden", "Tevreden", "Neutraal"])
    assert not looks_like_free_text([])


def test_a_choice_kept_as_text_is_not_the_customers_words(store: ImportStore, tmp_path):
    """Everyone picked the same option, so only one is known and the choice is kept as text
    (cxloop needs two): its label stays an answer but never becomes feedback text."""
    head = [*LS_HEAD, "Bent u lid van de klantenclub?"]
    rows = [[*row, "Lid"] for row in LS_ROWS]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerows([head, *rows])
    path = tmp_path / "results-survey515151.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    summary = import_summary(store, path)
    assert any("kept as a text question" in note for note in summary["notes"])
    member = _questions(store, "515151")["Bent u lid van de klantenclub?"]
    assert member["type"] == "text"
    answers = [r["answers"] for r in export_json(store, "515151")["responses"]]
    assert all(a[member["id"]] == "Lid" for a in answers)
    texts = [t for (t,) in _rows(store, "SELECT text FROM feedback WHERE text IS NOT NULL")]
    assert texts and not any("Lid" in t for t in texts), texts


def write_monkey_matrix(folder: Path) -> Path:
    """A SurveyMonkey export with a label-scale matrix answered by three people and a comment."""
    head = ["Respondent ID", "Start Date", "End Date", "How satisfied were you with…", "",
            "Comments"]  # fmt: skip
    sub = ["", "", "", "Speed", "Friendliness", "Open-Ended Response"]
    rows = [
        ["114200000001", "2022-09-05 14:56:00", "2022-09-05 14:58:00", "Very satisfied",
         "Satisfied", "The espresso was great"],
        ["114200000002", "2022-09-06 10:00:00", "2022-09-06 10:03:00", "Dissatisfied",
         "Very satisfied", ""],
        ["114200000003", "2022-09-07 11:30:00", "2022-09-07 11:31:00", "Neutral", "Dissatisfied",
         "Slow today,\nbut friendly"],
    ]  # fmt: skip
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([head, sub, *rows])
    path = folder / "cafe_matrix.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def test_surveymonkey_label_matrix_of_few_responses_is_choices(store: ImportStore, tmp_path):
    import_summary(store, write_monkey_matrix(tmp_path))
    questions = list(export_json(store, "cafe_matrix")["questions"])
    kinds = {q["text"]: q["type"] for q in questions}
    speed = next(q for q in questions if q["text"].endswith("Speed"))
    assert speed["type"] == "single"
    assert {"Very satisfied", "Satisfied", "Dissatisfied", "Neutral"} <= set(speed["options"])
    assert kinds["Comments"] == "text"
    texts = [t for (t,) in _rows(store, "SELECT text FROM feedback WHERE text IS NOT NULL")]
    assert any("espresso" in t for t in texts)
    assert not any("satisfied" in t.casefold() for t in texts), texts
