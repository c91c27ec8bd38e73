"""Files a new user brings that the readers got wrong (issue 13 trial, findings 4, 9, 12, 14):
Western Windows re-saves, dates that read both ways, a picture named .csv, mangled ids."""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from cxloop.errors import Invalid
from cxloop.surveys.importers.grid import looks_western, read_grid
from tests.surveys.imports.conftest import ImportStore, export_json, import_cli, import_summary

HEAD = [
    "Respondent ID",
    "Collector ID",
    "Start Date",
    "End Date",
    "IP Address",
    "Email Address",
    "How likely is it that you would recommend Café Noé to a friend or colleague?",
    "Anything else? (optional)",
]
SUB = ["", "", "", "", "", "", "Response", "Open-Ended Response"]
PEOPLE = [
    ("114123456700", "10", "Très bien, merci — à bientôt"),
    ("114123456701", "3", "Crème brûlée était froide"),
    ("114123456702", "9", "Größe „perfekt“"),
    ("114123456703", "6", ""),
]


def write_monkey(
    folder: Path, dates: list[str], *, encoding: str = "utf-8", name: str = "monkey.csv"
) -> Path:
    """A SurveyMonkey export (two header rows) with one date per respondent, in ``encoding``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows([HEAD, SUB])
    for (rid, score, comment), date in zip(PEOPLE, dates, strict=False):
        writer.writerow([rid, "405000001", date, date, "81.2.69.160", "", score, comment])
    path = folder / name
    path.write_bytes(out.getvalue().encode(encoding))
    return path


AMBIGUOUS = ["5/9/22 14:56", "6/9/22 10:00", "7/9/22 11:30", "8/9/22 09:15"]


# --- encodings (finding 4) ------------------------------------------------------------------


def test_western_windows_resave_is_read_as_cp1252_with_a_note(store: ImportStore, tmp_path):
    path = write_monkey(tmp_path, AMBIGUOUS, encoding="cp1252")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    summary = import_summary(store, path)
    assert summary["inserted"] == 4
    assert any("Windows-1252" in note for note in summary["notes"])
    texts = {r["response_id"]: r["answers"] for r in export_json(store, "monkey")["responses"]}
    assert "Crème brûlée était froide" in texts["114123456701"].values()
    assert "Größe „perfekt“" in texts["114123456702"].values()


def test_named_encoding_replaces_the_sniffing(store: ImportStore, tmp_path):
    """latin-1 and cp1252 differ on „ “ —: the named one is used, and no sniffing note."""
    path = write_monkey(tmp_path, AMBIGUOUS, encoding="cp1252")
    summary = import_summary(store, path, "--encoding", "latin-1")
    assert not any("Windows-1252" in note for note in summary["notes"])
    texts = {r["response_id"]: r["answers"] for r in export_json(store, "monkey")["responses"]}
    assert "Größe \x84perfekt\x93" in texts["114123456702"].values()


def test_unknown_encoding_is_refused_naming_the_option(store: ImportStore, tmp_path):
    path = write_monkey(tmp_path, AMBIGUOUS)
    code, output = import_cli(store, path, "--encoding", "klingon-8")
    assert code == 2, output
    assert "--encoding" in output and "klingon-8" in output
    assert "Traceback" not in output


def test_chinese_and_utf8_files_are_not_taken_for_cp1252():
    assert not looks_western("满意度调查，很好".encode("gbk"))
    assert not looks_western("Crème brûlée".encode())
    assert not looks_western(b"plain ascii only")
    assert looks_western("Crème brûlée, Größe „perfekt“ – 5 €".encode("cp1252"))


def test_nonsense_bytes_advise_the_encoding_option(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"a,b\n" + b"\x81\x8d\x90\x9d\xfe\xff,x\n" * 5)
    with pytest.raises(Invalid) as caught:
        read_grid(path)
    assert "--encoding" in str(caught.value)


# --- a picture named .csv (finding 12) ----------------------------------------------------------


def test_a_png_named_csv_is_not_a_survey_export(store: ImportStore, tmp_path):
    path = tmp_path / "screenshot.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    code, output = import_cli(store, path)
    assert code == 2, output
    assert "is not a survey export" in output and "image (PNG)" in output
    assert "--tool" not in output


def test_binary_data_without_a_known_signature_is_refused(tmp_path):
    path = tmp_path / "dump.csv"
    path.write_bytes(bytes(range(32)) * 40)
    with pytest.raises(Invalid, match="binary data"):
        read_grid(path)


def test_a_workbook_with_a_damaged_sheet_is_refused_with_a_sentence(tmp_path):
    """openpyxl's read-only mode parses a sheet only when its rows are read: a cut-off sheet
    XML raised ParseError from there, past the load's own error handling."""
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["Response ID", "Q1"])
    whole = tmp_path / "whole.xlsx"
    book.save(whole)
    buffer = io.BytesIO()
    with zipfile.ZipFile(whole) as source, zipfile.ZipFile(buffer, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            target.writestr(name, data[: len(data) // 2] if "worksheets/" in name else data)
    damaged = tmp_path / "damaged.xlsx"
    damaged.write_bytes(buffer.getvalue())
    with pytest.raises(Invalid, match=r"not a readable \.xlsx workbook"):
        read_grid(damaged)


def test_utf16_text_with_nuls_is_still_text(tmp_path):
    path = tmp_path / "qualtrics.tsv"
    path.write_bytes("a\tb\r\n1\t2\r\n".encode("utf-16"))
    assert read_grid(path).rows == [["a", "b"], ["1", "2"]]


# --- dates that read both ways (finding 9) ----------------------------------------------------


def _days(store: ImportStore, survey: str = "monkey") -> list[str]:
    return sorted(r["submitted_at"][:10] for r in export_json(store, survey)["responses"])


def test_ambiguous_dates_read_month_first_with_a_note(store: ImportStore, tmp_path):
    summary = import_summary(store, write_monkey(tmp_path, AMBIGUOUS))
    assert _days(store)[0] == "2022-05-09"
    notes = " ".join(summary["notes"])
    assert "month-first" in notes and "End Date" in notes and "--date-order" in notes


def test_date_order_option_reads_them_day_first(store: ImportStore, tmp_path):
    summary = import_summary(store, write_monkey(tmp_path, AMBIGUOUS), "--date-order", "day-first")
    assert _days(store) == ["2022-09-05", "2022-09-06", "2022-09-07", "2022-09-08"]
    assert any("day-first" in note for note in summary["notes"])


@dataclass(frozen=True)
class DayFirstStore(ImportStore):
    """A store whose settings say dates are day-first (``CXLOOP_DATE_ORDER``)."""

    def env(self) -> dict[str, str]:
        return {**super().env(), "CXLOOP_DATE_ORDER": "day-first"}


def test_date_order_setting_is_used_by_surveys_import(store: ImportStore, tmp_path):
    uk = DayFirstStore(store.database, store.settings)
    summary = import_summary(uk, write_monkey(tmp_path, AMBIGUOUS))
    assert _days(uk)[0] == "2022-09-05"
    assert any("day-first" in note for note in summary["notes"])


def test_bad_date_order_is_refused(store: ImportStore, tmp_path):
    code, output = import_cli(store, write_monkey(tmp_path, AMBIGUOUS), "--date-order", "dmy")
    assert code == 2, output
    assert "--date-order" in output and "dmy" in output


def test_a_day_over_12_in_a_month_first_column_names_the_cause(store: ImportStore, tmp_path):
    dates = ["9/13/22 9:10", "9/14/22 9:10", "13/9/22 9:10", "9/15/22 9:10"]
    summary = import_summary(store, write_monkey(tmp_path, dates))
    reasons = {p["field"]: p["reason"] for p in summary["rejected"]}
    assert "day 13 in a month-first column" in reasons["End Date"]
    assert "#####" not in reasons["End Date"]


def test_hashes_still_name_a_narrow_excel_column(store: ImportStore, tmp_path):
    dates = ["9/13/22 9:10", "########", "9/14/22 9:10", "9/15/22 9:10"]
    summary = import_summary(store, write_monkey(tmp_path, dates))
    reasons = {p["field"]: p["reason"] for p in summary["rejected"]}
    assert "too narrow" in reasons["End Date"]


# --- a respondent id Excel hid (finding 14) -----------------------------------------------------


def test_hashed_respondent_id_is_a_row_problem(store: ImportStore, tmp_path):
    path = write_monkey(tmp_path, AMBIGUOUS)
    text = path.read_text().replace("114123456703", "#########")
    path.write_text(text)
    summary = import_summary(store, path)
    assert summary["inserted"] == 3 and summary["quarantined"] == 1
    (problem,) = summary["rejected"]
    assert problem["field"] == "Respondent ID" and problem["value"] == "#########"
    assert "too narrow" in problem["reason"]


# --- Qualtrics: zones and languages the file states (finding 14) -------------------------------


def test_qualtrics_zone_of_the_file_wins_over_timezone_with_a_note(store: ImportStore, tmp_path):
    from tests.surveys.imports import samples_qualtrics as sq

    path = sq.write_csv(tmp_path, numeric=False)
    summary = import_summary(store, path, "--timezone", "Asia/Shanghai")
    assert summary["timezone"] == sq.ZONE
    assert any(sq.ZONE in n and "--timezone Asia/Shanghai" in n for n in summary["notes"])


def test_qualtrics_language_other_than_zh_en_is_kept_raw_not_english(tmp_path):
    from dataclasses import replace

    from cxloop.surveys.importers import qualtrics
    from cxloop.surveys.importers.model import ImportOptions
    from tests.surveys.imports import samples_qualtrics as sq

    people = [replace(p, language="DE") if i == 0 else p for i, p in enumerate(sq.respondents())]
    path = sq.write_csv(tmp_path, numeric=False, people=people)
    parsed = qualtrics.parse(read_grid(path), ImportOptions())
    german = next(r for r in parsed.responses if r.response_id == people[0].id)
    assert german.language is None
    assert german.attributes["user_language"] == "DE"
    chinese = next(r for r in parsed.responses if r.response_id == people[1].id)
    assert chinese.language == "zh"


def _qualtrics_short_dates(tmp_path: Path, dates: list[str]) -> Path:
    """The Qualtrics sample with its times rewritten as Excel re-saves them (``3/9/24 9:02``),
    ``dates`` used in turn."""
    import itertools
    import re

    from tests.surveys.imports import samples_qualtrics as sq

    path = sq.write_csv(tmp_path, numeric=False)
    turn = itertools.cycle(dates)
    text = re.sub(
        r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", lambda _: next(turn), path.read_text("utf-8-sig")
    )
    path.write_text(text, encoding="utf-8-sig")
    return path


def test_qualtrics_excel_dates_that_read_both_ways_follow_the_date_order(tmp_path):
    from cxloop.surveys.importers import qualtrics
    from cxloop.surveys.importers.model import ImportOptions

    path = _qualtrics_short_dates(tmp_path, [f"3/{d}/24 9:02" for d in range(1, 13)])
    month_first = qualtrics.parse(read_grid(path), ImportOptions())
    assert any("month-first" in n and "RecordedDate" in n for n in month_first.notes)
    assert {r.submitted_at.month for r in month_first.responses if r.submitted_at} == {3}
    day_first = qualtrics.parse(read_grid(path), ImportOptions(day_first=True))
    assert {r.submitted_at.day for r in day_first.responses if r.submitted_at} == {3}


def test_qualtrics_one_column_order_for_every_row(tmp_path):
    """A day over 12 makes the whole file day-first, so 3/9/24 is 3 September, not 9 March."""
    from cxloop.surveys.importers import qualtrics
    from cxloop.surveys.importers.model import ImportOptions

    path = _qualtrics_short_dates(tmp_path, ["3/9/24 9:02", "13/9/24 9:02"])
    parsed = qualtrics.parse(read_grid(path), ImportOptions())
    assert not parsed.rejected
    assert {(r.submitted_at.month, r.submitted_at.day) for r in parsed.responses} <= {
        (9, 3),
        (9, 13),
    }


def test_limesurvey_excel_dates_follow_one_order_with_a_note(tmp_path):
    """A LimeSurvey file re-saved in Excel on a Dutch Windows: 2/11/23 is 2 November."""
    import re

    from cxloop.surveys.importers import limesurvey
    from cxloop.surveys.importers.model import ImportOptions
    from tests.surveys.imports.test_reader_types import write_dutch_limesurvey

    path = write_dutch_limesurvey(tmp_path)
    text = re.sub(
        r"2023-11-(\d{2}) (\d{2}):(\d{2}):00",
        lambda m: f"{int(m[1])}/11/23 {m[2]}:{m[3]}",
        path.read_text("utf-8-sig"),
    )
    path.write_text(text, encoding="utf-8-sig")
    plain = limesurvey.parse(read_grid(path), ImportOptions())
    assert any("Datum verstuurd" in n and "month-first" in n for n in plain.notes)
    dutch = limesurvey.parse(read_grid(path), ImportOptions(day_first=True))
    assert {r.submitted_at.month for r in dutch.responses if r.submitted_at} == {11}
    decided = limesurvey.parse(read_grid(_with(path, "6/11/23", "13/11/23")), ImportOptions())
    assert {r.submitted_at.month for r in decided.responses if r.submitted_at} == {11}


def _with(path: Path, old: str, new: str) -> Path:
    path.write_text(path.read_text("utf-8-sig").replace(old, new), encoding="utf-8-sig")
    return path
