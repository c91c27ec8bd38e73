"""LimeSurvey exports: every heading style and both answer forms read alike; short codes decoded
with the .lss/.lsa (or kept raw without it); Dutch and unlisted metadata names read by position;
the two answer forms give the same ``surveys responses``; re-import adds nothing; imported NPS
equals the figure computed from the file by hand."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from cxloop.errors import Invalid
from cxloop.surveys.importers import limesurvey
from cxloop.surveys.importers.grid import read_grid, text_grid
from cxloop.surveys.importers.lss import read_definition, responses_grid
from cxloop.surveys.importers.model import Grid, ImportOptions, ParsedExport
from cxloop.surveys.importers.registry import DefinitionFile
from tests.surveys.imports import samples_limesurvey as samples
from tests.surveys.imports import samples_limesurvey_lss as samples_lss
from tests.surveys.imports.conftest import (
    ImportStore,
    export_json,
    feedback_count,
    import_cli,
    import_summary,
    nps_of,
    response_count,
)

Writer = Callable[[Path], Path]
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
LONG_WRITERS = (
    samples.code_long,
    samples.full_long_en,
    samples.full_long_nl,
    samples.codetext_long,
    samples.excel_long,
)


def _lss(folder: Path, *, legacy: bool = False) -> DefinitionFile:
    path = samples_lss.write_lss(folder, legacy=legacy)
    return DefinitionFile(path.name, path.read_bytes())


def _parse(path: Path, definition: DefinitionFile | None = None) -> ParsedExport:
    return limesurvey.parse(read_grid(path), ImportOptions(), definition)


def _by_id(parsed: ParsedExport) -> dict[str, dict[str, object]]:
    return {r.response_id: r.answers for r in parsed.responses}


# ---------------------------------------------------------------- parser


@pytest.mark.parametrize("writer", samples.WRITERS, ids=lambda w: w.__name__)
def test_every_layout_is_recognised_as_limesurvey(writer: Writer, tmp_path: Path) -> None:
    assert limesurvey.detect(read_grid(writer(tmp_path))) >= 0.8


def test_other_tools_headers_are_not_limesurvey() -> None:
    qualtrics = text_grid(b"StartDate,EndDate,Status,IPAddress,Progress\n1,2,3,4,5\n", "q.csv")
    wjx = text_grid(
        "序号,提交答卷时间,所用时间,来源,1、您的性别\n"
        "1,2024-03-01 10:00:00,100秒,手机提交,男\n".encode(),
        "w.csv",
    )
    assert limesurvey.detect(qualtrics) == 0.0
    assert limesurvey.detect(wjx) <= 0.3


def test_code_headings_with_short_codes_decode_with_the_lss(tmp_path: Path) -> None:
    parsed = _parse(samples.code_short(tmp_path), _lss(tmp_path))
    kinds = {q.id: (q.kind, q.scale) for q in parsed.questions}
    assert kinds == {
        "NPS": ("nps", (0, 10)),
        "SAT": ("csat", (1, 5)),
        "CHAN": ("single", None),
        "FEAT": ("multiple", None),
        "GRID": ("matrix", (1, 3)),
        "BACK": ("single", None),
        "COMMENT": ("text", None),
    }
    chan = next(q for q in parsed.questions if q.id == "CHAN")
    assert [(c.code, c.label, c.other) for c in chan.options] == [
        ("AO01", "朋友介绍", False),
        ("AO02", "微信公众号", False),
        ("AO03", "Search engine", False),
        ("-oth-", "Other", True),
    ]
    grid = next(q for q in parsed.questions if q.id == "GRID")
    assert [(r.code, r.label) for r in grid.rows] == [
        ("GRID_SQ001", "价格"),
        ("GRID_SQ002", "服务态度"),
        ("GRID_SQ003", "环境"),
    ]
    assert parsed.title == "门店体验回访" and parsed.source_survey_id == samples.SID
    assert parsed.value_mode == "short (codes)" and parsed.layout.startswith("code headings")
    answers = _by_id(parsed)
    assert answers["3"] == {
        "NPS": 6,  # code A7 → label "6"
        "SAT": 2,
        "CHAN": "-oth-",
        "CHAN.other": "小红书, 朋友圈",
        "FEAT": ["SQ003"],
        "GRID": {"GRID_SQ001": 1, "GRID_SQ002": 1, "GRID_SQ003": 1},
        "BACK": "N",
        "COMMENT": "排队太久了\n收银只开了一个口",
    }
    assert answers["4"]["NPS"] == 0 and "FEAT" not in answers["4"]  # nothing ticked: absent
    assert (
        answers["6"]["FEAT"] == ["SQ001", "other"] and answers["6"]["FEAT.other"] == "团购; 会员日"
    )
    assert answers["2"]["COMMENT"] == 'Great staff, "fast" checkout'
    assert answers["11"] == {}  # opened, answered nothing: stored, no answers
    assert parsed.rejected == [] and parsed.excluded == {}


def test_metadata_times_language_and_personal_fields(tmp_path: Path) -> None:
    parsed = _parse(samples.code_short(tmp_path), _lss(tmp_path))
    by_id = {r.response_id: r for r in parsed.responses}
    first, partial = by_id["1"], by_id["7"]
    assert first.completed and first.row == 2
    assert first.submitted_at == dt.datetime(2024, 3, 2, 9, 6, 41, tzinfo=SHANGHAI)
    assert first.started_at == dt.datetime(2024, 3, 2, 9, 1, 5, tzinfo=SHANGHAI)
    assert first.language == "zh" and by_id["3"].language == "en"
    assert first.ip == "203.0.113.1" and first.attributes["token"] == "tok8Fz1"
    assert first.attributes["submitted_raw"] == "2024-03-02 09:06:41"
    assert first.attributes["interview_time"] == "37.5"
    assert first.attributes["start_language"] == "zh-Hans"
    assert by_id["4"].attributes["referrer_url"] == "https://example.com/visit?src=qr"
    # a partial: no submitdate, its time is the last action (datestamp)
    assert not partial.completed and partial.attributes["last_page"] == "1"
    assert partial.submitted_at == dt.datetime(2024, 3, 8, 9, 12, 41, tzinfo=SHANGHAI)
    assert partial.answers == {"NPS": 9, "SAT": 5, "CHAN": "AO02"}
    assert parsed.mapped["ipaddr"] == "ip (personal)" and parsed.mapped["seed"] == "left out"
    assert any("timing" in n for n in parsed.notes)


def test_without_the_lss_short_codes_are_kept_raw_and_the_note_names_the_file(
    tmp_path: Path,
) -> None:
    parsed = _parse(samples.code_short(tmp_path))
    nps = next(q for q in parsed.questions if q.id == "NPS")
    assert nps.kind == "single" and not nps.decoded and nps.codes == "tool_codes"
    assert _by_id(parsed)["1"]["NPS"] == "A11"
    assert any(".lss or .lsa with --definition" in n and "NPS" in n for n in parsed.notes)
    grid_rows = [q.id for q in parsed.questions if q.id.startswith("GRID")]
    assert grid_rows == ["GRID_SQ001", "GRID_SQ002", "GRID_SQ003"]  # order unknown: one per row


@pytest.mark.parametrize("writer", LONG_WRITERS, ids=lambda w: w.__name__)
def test_long_texts_with_the_lss_give_the_same_answers_as_short_codes(
    writer: Writer, tmp_path: Path
) -> None:
    definition = _lss(tmp_path)
    short = _parse(samples.code_short(tmp_path), definition)
    long = _parse(writer(tmp_path), definition)
    assert long.value_mode == "long (texts)"
    assert [(q.id, q.kind, q.text) for q in long.questions] == [
        (q.id, q.kind, q.text) for q in short.questions
    ]
    assert _by_id(long) == _by_id(short)


def test_old_sgqa_headings_and_the_lsa_archive_and_legacy_lss_read_alike(tmp_path: Path) -> None:
    short = _parse(samples.code_short(tmp_path), _lss(tmp_path))
    archive = samples_lss.write_lsa(tmp_path)
    sgqa = _parse(samples.sgqa_short(tmp_path), DefinitionFile(archive.name, archive.read_bytes()))
    legacy = _parse(samples.code_short(tmp_path), _lss(tmp_path, legacy=True))
    assert sgqa.layout.startswith("SGQA headings")
    assert _by_id(sgqa) == _by_id(short) == _by_id(legacy)
    assert [q.id for q in sgqa.questions] == [q.id for q in short.questions]
    assert [q.text for q in legacy.questions] == [q.text for q in short.questions]


def test_long_texts_alone_are_read_without_the_lss(tmp_path: Path) -> None:
    parsed = _parse(samples.codetext_long(tmp_path))
    kinds = {q.id: q.kind for q in parsed.questions}
    assert kinds["NPS"] == "nps" and kinds["SAT"] == "csat" and kinds["FEAT"] == "multiple"
    # an array's labels without the .lss: order unknown, one single question per row
    assert kinds["GRID_SQ001"] == "single"
    answers = _by_id(parsed)["3"]
    assert answers["NPS"] == 6 and answers["CHAN.other"] == "小红书, 朋友圈"
    assert answers["FEAT"] == ["SQ003"] and answers["BACK"] == "否"
    assert not any("--definition" in n for n in parsed.notes)


def test_dutch_metadata_headings_are_mapped(tmp_path: Path) -> None:
    parsed = _parse(samples.full_long_nl(tmp_path))
    assert "Dutch metadata names" in parsed.layout
    assert parsed.mapped["Datum verstuurd"].startswith("submitted_at")
    assert parsed.mapped["IP-adres"] == "ip (personal)"
    assert parsed.mapped["Toegangscode"].startswith("attribute token")
    by_id = {r.response_id: r for r in parsed.responses}
    assert not by_id["17"].completed and by_id["1"].ip == "203.0.113.1"
    assert by_id["1"].attributes["token"] == "tok8Fz1"


def test_metadata_names_in_an_unlisted_language_are_read_by_position(tmp_path: Path) -> None:
    rows = samples.table("full", True, META_FR)
    parsed = _parse(samples.write_csv(tmp_path / "fr.csv", rows))
    assert limesurvey.detect(read_grid(tmp_path / "fr.csv")) >= 0.8
    by_id = {r.response_id: r for r in parsed.responses}
    assert len(by_id) == len(samples.RESPONDENTS) and not by_id["7"].completed
    assert by_id["1"].ip == "203.0.113.1"  # told by its values
    assert by_id["1"].submitted_at == dt.datetime(2024, 3, 2, 9, 6, 41, tzinfo=SHANGHAI)
    assert parsed.mapped["Graine"] == "left out" and len(parsed.mapped) == len(META_FR)
    assert parsed.layout.startswith("text headings, metadata names read by position")


META_FR = (
    "ID de la réponse",
    "Date de soumission",
    "Dernière page",
    "Langue de départ",
    "Graine",
    "Code d'accès",
    "Date de début",
    "Date de la dernière action",
    "Adresse IP",
    "URL référente",
)


def test_bad_rows_are_rejected_naming_field_value_and_reason(tmp_path: Path) -> None:
    parsed = _parse(samples.broken_short(tmp_path), _lss(tmp_path))
    problems = {(p.row, p.field, p.value, p.reason) for p in parsed.rejected}
    assert (4, "NPS", "A99", "is not an answer code of NPS") in problems
    assert (6, "id", None, "has no response id") in problems
    assert len(parsed.responses) == len(samples.RESPONDENTS) - 2
    assert next(p for p in parsed.rejected if p.field == "NPS").raw["NPS"] == "A99"


def test_participant_names_in_chinese_are_written_family_name_first(tmp_path: Path) -> None:
    """Participant columns 名/姓 (a zh export) joined as 李娜, not "娜 李"."""
    grid = read_grid(samples.code_short(tmp_path))
    at = grid.rows[0].index("refurl") + 1
    rows = [row[:at] + extra + row[at:] for row, extra in zip(
        grid.rows, [["名", "姓"], ["娜", "李"]] + [["John", "Doe"]] * (len(grid.rows) - 2),
        strict=True,
    )]  # fmt: skip
    parsed = limesurvey.parse(Grid(rows, "csv", name=grid.name), ImportOptions())
    assert [r.name for r in parsed.responses[:2]] == ["李娜", "John Doe"]


def test_not_a_limesurvey_file_or_definition_is_refused_with_a_sentence(tmp_path: Path) -> None:
    with pytest.raises(Invalid, match="LimeSurvey's metadata"):
        limesurvey.parse(text_grid(b"a,b,c,d\n1,2,3,4\n", "x.csv"), ImportOptions())
    csv_path = samples.code_short(tmp_path)
    for data, why in (
        (b"<?xml version='1.0'?><survey/>", "not a LimeSurvey survey structure"),
        (b"not xml at all", "not a LimeSurvey .lss"),
        (b"<!DOCTYPE x [<!ENTITY a 'b'>]><document/>", "DOCTYPE"),
        (b"PK\x03\x04broken", "not a readable .lsa"),
    ):
        with pytest.raises(Invalid, match=why):
            _parse(csv_path, DefinitionFile("survey.lss", data))


def test_lss_reader_orders_questions_and_answers_by_the_survey(tmp_path: Path) -> None:
    survey = read_definition("s.lss", samples_lss.lss_xml().encode())
    assert [q.code for q in survey.questions] == [q.code for q in samples.QUESTIONS]
    nps = survey.by_code()["NPS"]
    assert [a.label for a in nps.options()] == [str(n) for n in range(11)]  # sortorder, not file
    english = read_definition("s.lss", samples_lss.lss_xml().encode(), language="en")
    assert english.title == "Store visit follow-up"
    assert english.by_code()["SAT"].text("en") == "How satisfied are you with the service?"


# ---------------------------------------------------------------- end to end (CLI)


def test_short_codes_and_long_texts_give_identical_survey_responses(
    new_store: Callable[[str], ImportStore],
) -> None:
    short, long = new_store("short"), new_store("long")
    folder = short.database.parent
    definition = samples_lss.write_lsa(folder)
    summary = import_summary(short, samples.code_short(folder), "--definition", definition)
    assert summary["inserted"] == len(samples.RESPONDENTS) and summary["quarantined"] == 0
    import_summary(long, samples.full_long_nl(folder), "--definition", definition)
    a, b = export_json(short, samples.SID), export_json(long, samples.SID)
    assert a == b
    assert a["responses"][2]["answers"]["GRID"] == {"价格": 1, "服务态度": 1, "环境": 1}
    assert a["responses"][2]["answers"]["CHAN"] == "Other"


def test_reimport_of_the_same_file_adds_nothing(store: ImportStore) -> None:
    folder = store.database.parent
    path, definition = samples.code_short(folder), samples_lss.write_lss(folder)
    first = import_summary(store, path, "--definition", definition)
    feedback = feedback_count(store)
    again = import_summary(store, path, "--definition", definition)
    assert first["inserted"] == len(samples.RESPONDENTS) == again["unchanged"]
    assert again["inserted"] == 0 and again["updated"] == 0
    assert feedback_count(store) == feedback == len(samples.RESPONDENTS) - 1  # #11: no answers
    assert response_count(store, samples.SID) == len(samples.RESPONDENTS)


def test_imported_nps_equals_the_nps_computed_from_the_file(store: ImportStore) -> None:
    path = samples.codetext_long(store.database.parent)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    column = next(i for i, h in enumerate(rows[0]) if h.startswith("NPS. "))
    scores = [int(r[column]) for r in rows[1:] if r and r[column].strip()]
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    expected = 100 * (promoters - detractors) / len(scores)
    import_summary(store, path)
    assert nps_of(store) == pytest.approx(expected)
    assert len(scores) == 17 and expected == pytest.approx(300 / 17)


def test_bad_rows_are_quarantined_and_the_command_says_so(store: ImportStore) -> None:
    folder = store.database.parent
    code, output = import_cli(
        store, samples.broken_short(folder), "--definition", samples_lss.write_lss(folder)
    )
    assert code in (0, 1), output  # the rows that could be read are stored either way
    assert "row 4, field NPS: 'A99' is not an answer code of NPS" in output
    assert "row 6, field id: has no response id" in output and "Traceback" not in output
    assert store.scalar("SELECT count(*) FROM quarantined_rows") == 2
    assert response_count(store, samples.SID) == len(samples.RESPONDENTS) - 2


def test_text_headings_with_columns_left_out_are_matched_to_the_lss_by_text(
    tmp_path: Path,
) -> None:
    rows = samples.table("full", True, samples.META_EN)
    drop = {rows[0].index(h) for h in rows[0] if h.startswith(("您还会再来吗", "您是通过什么渠道"))}
    kept = [[c for i, c in enumerate(row) if i not in drop] for row in rows]
    definition = _lss(tmp_path)
    parsed = _parse(samples.write_csv(tmp_path / "fewer.csv", kept, ","), definition)
    short = _parse(samples.code_short(tmp_path), definition)
    assert [q.id for q in parsed.questions] == ["NPS", "SAT", "FEAT", "GRID", "COMMENT"]
    expected = {
        rid: {k: v for k, v in answers.items() if not k.startswith(("CHAN", "BACK"))}
        for rid, answers in _by_id(short).items()
    }
    assert _by_id(parsed) == expected


MORE = (
    samples.Q(
        101,
        10,
        "RANK",
        "R",
        "请给水果排序",
        "Rank the fruit",
        answers=(("A1", "苹果"), ("A2", "香蕉"), ("A3", "橙子")),
    ),
    samples.Q(102, 10, "ARR", "A", "请打分", "Rate", subs=(("SQ001", "速度"), ("SQ002", "价格"))),
    samples.Q(
        103,
        10,
        "LC",
        "O",
        "选一个并说明",
        "Pick one and say why",
        answers=(("A1", "门店"), ("A2", "网店")),
    ),
    samples.Q(104, 10, "AGE", "N", "您的年龄", "Your age"),
    samples.Q(
        105,
        11,
        "PC",
        "P",
        "选择并评论",
        "Pick and comment",
        subs=(("SQ001", "甲"), ("SQ002", "乙")),
    ),
    samples.Q(
        106, 11, "CONTACT", "Q", "联系方式", "Contact", subs=(("name", "姓名"), ("city", "城市"))
    ),
    samples.Q(107, 11, "NUMS", "K", "数量", "Amounts", subs=(("SQ001", "成人"), ("SQ002", "儿童"))),
)
MORE_HEADER = [
    *samples.META_CODE[:4],
    "RANK[1]", "RANK[2]", "RANK[3]", "ARR[SQ001]", "ARR[SQ002]", "LC", "LC[comment]", "AGE",
    "PC[SQ001]", "PC[SQ001comment]", "PC[SQ002]", "PC[SQ002comment]", "CONTACT[name]",
    "CONTACT[city]", "NUMS[SQ001]", "NUMS[SQ002]",
]  # fmt: skip
MORE_ROW = [
    "5", "2024-05-01 10:00:00", "2", "en",
    "A2", "A3", "", "4", "5", "A1", "离家近", "37.0",
    "Y", "很好", "", "", "王小明", "上海", "2", "1",
]  # fmt: skip


def test_ranking_arrays_comments_and_multi_field_types_with_the_lss(tmp_path: Path) -> None:
    path = samples.write_csv(tmp_path / "more.csv", [MORE_HEADER, MORE_ROW])
    lss = tmp_path / "more.lss"
    lss.write_text(samples_lss.lss_xml(items=MORE), encoding="utf-8")
    parsed = _parse(path, DefinitionFile(lss.name, lss.read_bytes()))
    kinds = {q.id: (q.kind, q.scale) for q in parsed.questions}
    assert kinds == {
        "RANK": ("matrix", (1, 3)),
        "ARR": ("matrix", (1, 5)),
        "LC": ("single", None),
        "AGE": ("text", None),
        "PC": ("multiple", None),
        "CONTACT_name": ("text", None),
        "CONTACT_city": ("text", None),
    }
    response = parsed.responses[0]
    assert response.answers == {
        "RANK": {"RANK_A2": 1, "RANK_A3": 2},  # item → its rank; 苹果 not ranked: absent
        "ARR": {"ARR_SQ001": 4, "ARR_SQ002": 5},
        "LC": "A1",
        "AGE": "37.0",
        "PC": ["SQ001"],
        "CONTACT_name": "王小明",
        "CONTACT_city": "上海",
    }
    assert response.attributes["LC_comment"] == "离家近"
    assert response.attributes["PC_SQ001comment"] == "很好"
    assert response.attributes["NUMS_SQ001"] == "2" and response.attributes["NUMS_SQ002"] == "1"
    assert parsed.kept_raw == ["NUMS (LimeSurvey type K): kept raw as attributes"]


def test_a_file_mixing_codes_and_texts_still_decodes_with_the_lss(tmp_path: Path) -> None:
    rows = samples.table("code", False)
    short = _parse(samples.code_short(tmp_path), _lss(tmp_path))
    nps, chan = rows[0].index("NPS"), rows[0].index("CHAN")
    rows[1][nps], rows[1][chan] = "10", "朋友介绍"  # typed in by hand as texts
    parsed = _parse(samples.write_csv(tmp_path / "mixed.csv", rows), _lss(tmp_path))
    assert parsed.rejected == [] and _by_id(parsed) == _by_id(short)


def test_the_responses_inside_an_lsa_read_like_the_csv_export(tmp_path: Path) -> None:
    archive = samples_lss.write_lsa(tmp_path)
    grid = responses_grid(archive.name, archive.read_bytes())
    definition = DefinitionFile(archive.name, archive.read_bytes())
    from_archive = limesurvey.parse(grid, ImportOptions(), definition)
    short = _parse(samples.code_short(tmp_path), definition)
    assert limesurvey.detect(grid) >= 0.8 and from_archive.layout.startswith("SGQA")
    assert _by_id(from_archive) == _by_id(short)
    assert [r.submitted_at for r in from_archive.responses] == [
        r.submitted_at for r in short.responses
    ]
    with pytest.raises(Invalid, match=r"holds no \.lsr"):
        responses_grid("x.lsa", _zip_without_lsr())


def _damaged_lsa(member: str) -> list[bytes]:
    """A zip whose deflate stream is garbage (zlib.error) and one with an unknown compression
    method (NotImplementedError): zipfile raises neither as BadZipFile."""
    body = "<document>" + "x" * 200 + "</document>"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(member, body)
    data = buffer.getvalue()
    start = 30 + len(member)  # the local header, then the compressed bytes
    size = zipfile.ZipFile(io.BytesIO(data)).getinfo(member).compress_size
    garbage = data[:start] + b"\xff" * size + data[start + size :]
    unknown = bytearray(data)
    for at in (8, data.index(b"PK\x01\x02") + 10):  # method in local and central headers
        unknown[at : at + 2] = (99).to_bytes(2, "little")
    return [garbage, bytes(unknown)]


@pytest.mark.parametrize("member", ["survey_1.lss", "survey_1.lsr"])
def test_a_damaged_lsa_is_refused_with_a_sentence(member: str) -> None:
    for data in _damaged_lsa(member):
        with pytest.raises(Invalid, match=r"not a readable \.lsa"):
            if member.endswith(".lss"):
                read_definition("x.lsa", data)
            else:
                responses_grid("x.lsa", data)


def _zip_without_lsr() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("survey_1.lss", "<document/>")
    return buffer.getvalue()


def test_an_lsa_archive_imports_on_its_own_like_the_csv_with_its_definition(
    new_store: Callable[[str], ImportStore],
) -> None:
    """The survey archive is a whole export: its .lsr answers, decoded by the .lss beside them,
    without --definition (it is a zip, so it must not be read as a workbook)."""
    archive_store, csv_store = new_store("archive"), new_store("csv")
    folder = archive_store.database.parent
    archive = samples_lss.write_lsa(folder)
    summary = import_summary(archive_store, archive)
    assert summary["tool"] == "limesurvey" and summary["quarantined"] == 0
    assert summary["inserted"] == len(samples.RESPONDENTS)
    import_summary(csv_store, samples.code_short(folder), "--definition", archive)
    assert export_json(archive_store, samples.SID) == export_json(csv_store, samples.SID)
