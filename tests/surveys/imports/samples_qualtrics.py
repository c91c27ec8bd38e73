"""Qualtrics export files written from respondents defined here, in every layout and value mode
a user downloads: the current 3-header-row CSV (numeric values / choice text, row 2 in English
or German), the same as TSV (UTF-16LE with BOM, or UTF-8) and XLSX, the legacy exporter's 2 rows
(V1..V10, UTF-8 BOM, a trailing comma per line, multiple answers split into columns), and the
survey's ``.qsf``.

The traps are those of real files (FORMATS.md §1): recode values that differ from the labels and
from 1..n (``neutral (0)`` coded 2, a reversed matrix scale, a CSAT coded 2..6), a choice label
holding a comma, quoted newlines, ``""`` and commas in typed answers, Chinese and English, a
preview and a spam row, a partial (Finished 0), blank answers, timing/display-order/Text iQ
columns, embedded data, times in America/Denver across a DST change.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SURVEY_ID = "SV_3kPq8ZsW1mXyTbE"
SURVEY_NAME = "Delivery feedback 2024 配送反馈"
ZONE = "America/Denver"

NPS_TEXT = "您向朋友推荐我们的可能性有多大？ How likely are you to recommend us to a friend?"
ORDER_TEXT = "How did you order? 您通过哪个渠道下单？"
ORDER = [("1", "App 手机应用", "5", False), ("2", "Website", "7", False),
         ("3", "Phone", "8", False), ("4", "Other, please specify", "9", True)]  # fmt: skip
PACK_TEXT = "How do you feel about the new packaging?"
PACK = [("1", "negative (-1)", "1", False), ("2", "neutral (0)", "2", False),
        ("3", "positive (1)", "3", False)]  # fmt: skip
LIKE_TEXT = "What did you like? (select all that apply)"
LIKE = [("1", "Speed", "11", False), ("2", "Price, value for money", "12", False),
        ("3", "Packaging", "13", False), ("4", "服务态度", "14", False)]  # fmt: skip
RATE_TEXT = "Please rate the delivery"
STATEMENTS = [("1", "The courier was on time"), ("2", "The food was warm"), ("3", "包装完好")]
SCALE = [("1", "Strongly disagree", "5"), ("2", "Disagree", "4"), ("3", "Neither", "3"),
         ("4", "Agree", "2"), ("5", "Strongly agree", "1")]  # fmt: skip
CSAT_TEXT = "Overall, how satisfied are you with the delivery? 总体满意度"
CSAT = [("1", "1 - Very dissatisfied 非常不满意", "2"), ("2", "2", "3"), ("3", "3", "4"),
        ("4", "4", "5"), ("5", "5 - Very satisfied 非常满意", "6")]  # fmt: skip
COMMENT_TEXT = "Anything else? 还有什么想告诉我们的？"
GROUPS = {1: "Detractor", 2: "Passive", 3: "Promoter"}


@dataclass
class Respondent:
    id: str
    start: str
    end: str
    recorded: str
    nps: int | None = None
    order: str | None = None
    """A choice id of ORDER."""
    other: str = ""
    pack: str | None = None
    like: list[str] = field(default_factory=list)
    rate: dict[str, str] = field(default_factory=dict)
    """statement id → scale answer id."""
    csat: str | None = None
    comment: str = ""
    status: int = 0
    finished: bool = True
    progress: int = 100
    email: str = ""
    first: str = ""
    last: str = ""
    ip: str = "203.0.113.7"
    lat: str = "39.7392"
    lon: str = "-104.9903"
    ref: str = ""
    channel: str = "anonymous"
    language: str = "EN"
    store: str = ""


def respondents() -> list[Respondent]:
    """18 rows: 15 real (one partial, one with every answer blank), a preview and a spam."""
    r = Respondent
    return [
        r("R_1a2B3c4D5e6F7g8", "2024-03-09 09:02:11", "2024-03-09 09:05:40", "2024-03-09 09:05:41",
          nps=10, order="1", pack="3", like=["1", "2"], rate={"1": "5", "2": "4", "3": "5"},
          csat="5", comment='Great, fast.\nThe rider said "hi"', email="li.na@example.cn",
          first="娜", last="李", ref="C1001", channel="email", language="ZH-S", store="上海一店"),
        r("R_2b3C4d5E6f7G8h9", "2024-03-09 23:50:12", "2024-03-10 03:15:00", "2024-03-10 03:15:02",
          nps=9, order="2", pack="2", like=["2", "4"], rate={"1": "4", "2": "4", "3": "3"},
          csat="4", comment="送餐很快，包装也好", language="ZH-S", store="上海一店"),
        r("R_3c4D5e6F7g8H9i0", "2024-03-10 10:00:00", "2024-03-10 10:04:09", "2024-03-10 10:04:09",
          nps=3, order="4", other="WeChat mini program, 小程序", pack="1", like=[],
          rate={"1": "1", "2": "2", "3": "2"}, csat="1", comment="Cold food, late; refund?",
          email="JOHN.DOE@EXAMPLE.COM", first="John", last="Doe", ref="C1002", channel="email"),
        r("R_4d5E6f7G8h9I0j1", "2024-03-11 08:30:00", "2024-03-11 08:31:10", "2024-03-11 08:31:10",
          nps=7, order="3", pack="2", like=["3"], rate={"1": "3", "2": "3", "3": "4"}, csat="3"),
        r("R_5e6F7g8H9i0J1k2", "2024-03-11 12:00:00", "2024-03-11 12:02:00", "2024-03-11 12:02:00",
          nps=8, order="1", pack="3", like=["1", "3", "4"], rate={"1": "4", "2": "5", "3": "5"},
          csat="4", language="ZH-S"),
        r("R_6f7G8h9I0j1K2l3", "2024-03-12 18:45:00", "2024-03-12 18:49:30", "2024-03-12 18:49:31",
          nps=0, order="2", pack="1", like=["2"], rate={"1": "1", "2": "1", "3": "1"}, csat="2",
          comment="Never again, 再也不点了"),
        r("R_7g8H9i0J1k2L3m4", "2024-03-13 07:15:00", "2024-03-13 07:16:00", "2024-03-13 07:16:00",
          nps=10, order="1", pack="3", like=["1", "2", "3", "4"],
          rate={"1": "5", "2": "5", "3": "5"}, csat="5"),
        r("R_8h9I0j1K2l3M4n5", "2024-03-14 21:00:00", "2024-03-14 21:03:00", "2024-03-14 21:03:00",
          nps=6, order="3", pack="2", like=["4"], rate={"1": "2", "2": "3", "3": "3"}, csat="3",
          comment='He said, "ok"'),
        r("R_9i0J1k2L3m4N5o6", "2024-03-15 11:11:11", "2024-03-15 11:12:12", "2024-03-15 11:12:12",
          nps=9, order="1", pack="3", like=["1"], rate={"1": "5", "2": "4", "3": "4"}, csat="5",
          language="ZH-S", store="北京二店"),
        # a partial: stopped after the NPS; EndDate = last interaction, recorded days later
        r("R_0j1K2l3M4n5O6p7", "2024-03-16 14:00:00", "2024-03-16 14:00:40", "2024-03-17 14:00:41",
          nps=5, finished=False, progress=25),
        r("R_Ak1L2m3N4o5P6q7", "2024-03-17 09:00:00", "2024-03-17 09:02:00", "2024-03-17 09:02:00",
          nps=10, order="4", other="门店自取", pack="3", like=["2"],
          rate={"1": "4", "2": "4", "3": "4"}, csat="4"),
        r("R_Bl2M3n4O5p6Q7r8", "2024-03-18 16:20:00", "2024-03-18 16:21:00", "2024-03-18 16:21:00",
          nps=4, order="2", pack="1", like=["3"], rate={"1": "2", "2": "2"}, csat="2"),
        # every question left blank (a finished response with no answers)
        r("R_Cm3N4o5P6q7R8s9", "2024-03-19 10:00:00", "2024-03-19 10:00:30", "2024-03-19 10:00:30"),
        r("R_Dn4O5p6Q7r8S9t0", "2024-03-20 13:00:00", "2024-03-20 13:05:00", "2024-03-20 13:05:00",
          nps=8, order="1", pack="2", like=["1", "4"], rate={"1": "4", "2": "3", "3": "4"},
          csat="4", comment="配送员很有礼貌\r\n下次还会再点"),
        r("R_Eo5P6q7R8s9T0u1", "2024-03-21 19:30:00", "2024-03-21 19:31:00", "2024-03-21 19:31:00",
          nps=9, order="3", pack="3", like=["2", "3"], rate={"1": "5", "2": "5", "3": "4"},
          csat="5"),
        # a preview and a spam row: counted, never stored
        r("R_Fp6Q7r8S9t0U1v2", "2024-03-08 08:00:00", "2024-03-08 08:01:00", "2024-03-08 08:01:00",
          nps=10, order="1", pack="3", like=["1"], csat="5", status=1, ip="", channel="preview"),
        r("R_Gq7R8s9T0u1V2w3", "2024-03-22 03:00:00", "2024-03-22 03:00:05", "2024-03-22 03:00:05",
          nps=0, order="2", pack="1", like=["1", "2", "3", "4"], csat="1", status=8,
          comment="buy cheap pills http://spam.example"),
    ]  # fmt: skip


def qsf() -> dict[str, object]:
    """A minimal, realistic .qsf: SurveyEntry + SQ elements (NPS, MC single with recodes and an
    "other", MC single with "neutral (0)" coded 2, MC multiple, a Likert matrix on a reversed
    scale, a CSAT with numbered labels coded 2..6, a text entry, a timing question)."""

    def choices(items: list[tuple[str, str, str, bool]]) -> dict[str, object]:
        return {
            "Choices": {
                cid: {"Display": label, **({"TextEntry": "true"} if other else {})}
                for cid, label, _, other in items
            },
            "ChoiceOrder": [int(cid) for cid, *_ in items],
            "RecodeValues": {cid: code for cid, _, code, _ in items},
        }

    def sq(qid: str, tag: str, text: str, kind: str, selector: str, **more: object) -> dict:
        payload = {
            "QuestionText": text,
            "DataExportTag": tag,
            "QuestionType": kind,
            "Selector": selector,
            "QuestionDescription": text[:40],
            "QuestionID": qid,
            "Validation": {"Settings": {"ForceResponse": "OFF"}},
            "Language": [],
            **more,
        }
        element = {"SurveyID": SURVEY_ID, "Element": "SQ", "PrimaryAttribute": qid}
        return {**element, "SecondaryAttribute": text[:40], "Payload": payload}

    nps = {
        "Choices": {str(i): {"Display": str(i)} for i in range(11)},
        "ChoiceOrder": list(range(11)),
        "RecodeValues": {str(i): str(i) for i in range(11)},
    }
    matrix = {
        "Choices": {cid: {"Display": label} for cid, label in STATEMENTS},
        "ChoiceOrder": [cid for cid, _ in STATEMENTS],
        "Answers": {aid: {"Display": label} for aid, label, _ in SCALE},
        "AnswerOrder": [int(aid) for aid, _, _ in SCALE],
        "RecodeValues": {aid: code for aid, _, code in SCALE},
        "ChoiceDataExportTags": False,
    }
    return {
        "SurveyEntry": {"SurveyID": SURVEY_ID, "SurveyName": SURVEY_NAME, "SurveyLanguage": "EN",
                        "SurveyStatus": "Active", "SurveyCreationDate": "2024-02-01 10:00:00"},
        "SurveyElements": [
            {"SurveyID": SURVEY_ID, "Element": "BL", "PrimaryAttribute": "Survey Blocks",
             "Payload": [{"Type": "Default", "ID": "BL_1", "BlockElements": []}]},
            sq("QID1", "Q1", f"<p>{NPS_TEXT}</p>", "MC", "NPS", SubSelector="", **nps),
            sq("QID2", "Q2", f"<div>{ORDER_TEXT}</div>", "MC", "SAVR", SubSelector="TX",
               **choices(ORDER)),
            sq("QID3", "Q3", PACK_TEXT, "MC", "SAHR", SubSelector="TX", **choices(PACK)),
            sq("QID4", "Q4", "<b>What did you like?</b>&nbsp;(select all that apply)", "MC",
               "MAVR", SubSelector="TX", **choices(LIKE)),
            sq("QID5", "Q5", RATE_TEXT, "Matrix", "Likert", SubSelector="SingleAnswer", **matrix),
            sq("QID6", "Q6", CSAT_TEXT, "MC", "SAVR", SubSelector="TX",
               **choices([(a, b, c, False) for a, b, c in CSAT])),
            sq("QID7", "Q7", COMMENT_TEXT, "TE", "ML", SubSelector=""),
            sq("QID8", "Q8", "Timing", "Timing", "PageTimer", SubSelector=""),
            {"SurveyID": SURVEY_ID, "Element": "QC", "PrimaryAttribute": "Survey Question Count",
             "SecondaryAttribute": "8", "Payload": None},
        ],
    }  # fmt: skip


def label(items: list[tuple[str, str, str, bool]] | list[tuple[str, str, str]], cid: str,
          numeric: bool) -> str:  # fmt: skip
    for item in items:
        if item[0] == cid:
            return item[2] if numeric else item[1]
    raise KeyError(cid)


META = [
    ("StartDate", "Start Date", "Anfangsdatum", {"ImportId": "startDate", "timeZone": ZONE}),
    ("EndDate", "End Date", "Enddatum", {"ImportId": "endDate", "timeZone": ZONE}),
    ("Status", "Response Type", "Antworttyp", {"ImportId": "status"}),
    ("IPAddress", "IP Address", "IP-Adresse", {"ImportId": "ipAddress"}),
    ("Progress", "Progress", "Fortschritt", {"ImportId": "progress"}),
    ("Duration (in seconds)", "Duration (in seconds)", "Dauer (in Sekunden)",
     {"ImportId": "duration"}),
    ("Finished", "Finished", "Beendet", {"ImportId": "finished"}),
    ("RecordedDate", "Recorded Date", "Aufgezeichnetes Datum",
     {"ImportId": "recordedDate", "timeZone": ZONE}),
    ("ResponseId", "Response ID", "Antwort-ID", {"ImportId": "_recordId"}),
    ("RecipientLastName", "Recipient Last Name", "Nachname des Empfängers",
     {"ImportId": "recipientLastName"}),
    ("RecipientFirstName", "Recipient First Name", "Vorname des Empfängers",
     {"ImportId": "recipientFirstName"}),
    ("RecipientEmail", "Recipient Email", "E-Mail-Adresse des Empfängers",
     {"ImportId": "recipientEmail"}),
    ("ExternalReference", "External Data Reference", "Externe Datenreferenz",
     {"ImportId": "externalDataReference"}),
    ("LocationLatitude", "Location Latitude", "Breitengrad", {"ImportId": "locationLatitude"}),
    ("LocationLongitude", "Location Longitude", "Längengrad", {"ImportId": "locationLongitude"}),
    ("DistributionChannel", "Distribution Channel", "Verteilungskanal",
     {"ImportId": "distributionChannel"}),
    ("UserLanguage", "User Language", "Benutzersprache", {"ImportId": "userLanguage"}),
]  # fmt: skip
STATUS_TEXT = {0: "IP Address", 1: "Survey Preview", 8: "Spam"}


def _duration(p: Respondent) -> str:
    from datetime import datetime

    fmt = "%Y-%m-%d %H:%M:%S"
    return str(int((datetime.strptime(p.end, fmt) - datetime.strptime(p.start, fmt)).seconds))


def current_rows(*, numeric: bool, german: bool = False,
                 people: list[Respondent] | None = None) -> list[list[Any]]:  # fmt: skip
    """The 3 header rows and the data of a current export (multiple answers in one column)."""
    people = respondents() if people is None else people
    q = [
        ("Q1", NPS_TEXT, "QID1"),
        ("Q1_NPS_GROUP", f"{NPS_TEXT} - Group", "QID1_NPS_GROUP"),
        ("Q2", ORDER_TEXT, "QID2"),
        ("Q2_4_TEXT", f"{ORDER_TEXT} - Other, please specify - Text", "QID2_4_TEXT"),
        ("Q3", PACK_TEXT, "QID3"),
        ("Q4", LIKE_TEXT, "QID4"),
        ("Q4_DO", f"{LIKE_TEXT} - Display Order", "QID4_DO"),
        *[(f"Q5_{cid}", f"{RATE_TEXT} - {text}", f"QID5_{cid}") for cid, text in STATEMENTS],
        ("Q6", CSAT_TEXT, "QID6"),
        ("Q7", COMMENT_TEXT, "QID7_TEXT"),
        ("Q7 - Topics", "Q7 - Topics", "QID7_TEXT - Topics"),
        ("Q8_First Click", "Timing - First Click", "QID8_FIRST_CLICK"),
        ("Q8_Page Submit", "Timing - Page Submit", "QID8_PAGE_SUBMIT"),
        ("store", "store", "store"),
        ("tokenGuid", "tokenGuid", "tokenGuid"),
    ]
    row1 = [m[0] for m in META] + [c[0] for c in q]
    row2 = [m[2] if german else m[1] for m in META] + [c[1] for c in q]
    row3 = [json.dumps(m[3]) for m in META] + [json.dumps({"ImportId": c[2]}) for c in q]
    rows: list[list[Any]] = [row1, row2, row3]
    for n, p in enumerate(people):
        meta = [p.start, p.end, p.status if numeric else STATUS_TEXT[p.status], p.ip,
                p.progress, _duration(p), (1 if p.finished else 0) if numeric else
                str(p.finished), p.recorded, p.id, p.last, p.first, p.email, p.ref, p.lat,
                p.lon, p.channel, p.language]  # fmt: skip
        group = "" if p.nps is None else (1 if p.nps <= 6 else 2 if p.nps <= 8 else 3)
        answers: list[object] = [
            "" if p.nps is None else p.nps,
            group if numeric or group == "" else GROUPS[group],  # type: ignore[index]
            label(ORDER, p.order, numeric) if p.order else "",
            p.other,
            label(PACK, p.pack, numeric) if p.pack else "",
            ",".join(label(LIKE, c, numeric) for c in p.like),
            "1|2|3|4",
            *[label(SCALE, p.rate[s], numeric) if s in p.rate else "" for s, _ in STATEMENTS],
            label(CSAT, p.csat, numeric) if p.csat else "",
            p.comment,
            "Delivery speed" if p.comment else "",
            "2.5",
            "31.2",
            p.store,
            f"tok-{n:04d}",
        ]
        rows.append(meta + answers)
    return rows


def legacy_rows(*, numeric: bool, people: list[Respondent] | None = None) -> list[list[Any]]:
    """The legacy exporter: V1..V10 metadata, question texts in row 2, multiple answers split
    into Q4_1..Q4_4 (1 when ticked), no RecordedDate, location columns last."""
    people = respondents() if people is None else people
    names = ["ResponseID", "ResponseSet", "Name", "ExternalDataReference", "EmailAddress",
             "IPAddress", "Status", "StartDate", "EndDate", "Finished"]  # fmt: skip
    q = [
        ("Q1", NPS_TEXT),
        ("Q2", ORDER_TEXT),
        ("Q2_4_TEXT", f"{ORDER_TEXT} - Other, please specify - TEXT"),
        ("Q3", PACK_TEXT),
        *[(f"Q4_{cid}", f"{LIKE_TEXT} - {text}") for cid, text, _, _ in LIKE],
        *[(f"Q5_{cid}", f"{RATE_TEXT} - {text}") for cid, text in STATEMENTS],
        ("Q6", CSAT_TEXT),
        ("Q7", COMMENT_TEXT),
        ("store", "store"),
        ("LocationLatitude", "LocationLatitude"),
        ("LocationLongitude", "LocationLongitude"),
        ("LocationAccuracy", "LocationAccuracy"),
    ]
    rows: list[list[Any]] = [
        [f"V{i}" for i in range(1, 11)] + [c[0] for c in q],
        names + [c[1] for c in q],
    ]
    for p in people:
        meta = [p.id, "Default Response Set", f"{p.last}, {p.first}" if p.last else "", p.ref,
                p.email, p.ip, p.status if numeric else STATUS_TEXT[p.status], p.start, p.end,
                (1 if p.finished else 0) if numeric else str(p.finished)]  # fmt: skip
        ticks = [("1" if numeric else text) if cid in p.like else "" for cid, text, _, _ in LIKE]
        answers = [
            "" if p.nps is None else p.nps,
            label(ORDER, p.order, numeric) if p.order else "",
            p.other,
            label(PACK, p.pack, numeric) if p.pack else "",
            *ticks,
            *[label(SCALE, p.rate[s], numeric) if s in p.rate else "" for s, _ in STATEMENTS],
            label(CSAT, p.csat, numeric) if p.csat else "",
            p.comment,
            p.store,
            p.lat,
            p.lon,
            "-1",
        ]
        rows.append(meta + answers)
    return rows


def _delimited(rows: list[list[Any]], delimiter: str = ",", crlf: bool = True) -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n" if crlf else "\n").writerows(rows)
    return out.getvalue()


def write_qsf(folder: Path) -> Path:
    path = folder / "Delivery_feedback_2024.qsf"
    path.write_text(json.dumps(qsf(), ensure_ascii=False), encoding="utf-8")
    return path


def write_csv(folder: Path, *, numeric: bool, german: bool = False, name: str = "",
              people: list[Respondent] | None = None) -> Path:  # fmt: skip
    """The current CSV as downloaded: UTF-8 with BOM, CRLF, quoted where needed."""
    mode = "numeric" if numeric else "text"
    path = folder / (name or f"Delivery+feedback_{mode}{'_de' if german else ''}.csv")
    text = _delimited(current_rows(numeric=numeric, german=german, people=people))
    path.write_bytes(codecs.BOM_UTF8 + text.encode("utf-8"))
    return path


def write_tsv(folder: Path, *, numeric: bool, utf16: bool = True) -> Path:
    """The current layout as TSV: UTF-16LE with a BOM (Qualtrics' default) or UTF-8."""
    path = (
        folder / f"Delivery+feedback_{'numeric' if numeric else 'text'}{'_16' if utf16 else ''}.tsv"
    )
    text = _delimited(current_rows(numeric=numeric), "\t")
    path.write_bytes(
        codecs.BOM_UTF16_LE + text.encode("utf-16-le") if utf16 else text.encode("utf-8")
    )
    return path


def write_xlsx(folder: Path, *, numeric: bool) -> Path:
    """The current layout as XLSX (numbers as number cells)."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in current_rows(numeric=numeric):
        sheet.append(row)
    path = folder / f"Delivery+feedback_{'numeric' if numeric else 'text'}.xlsx"
    book.save(path)
    return path


def write_legacy(folder: Path, *, numeric: bool = True) -> Path:
    """The legacy exporter's CSV: UTF-8 BOM, LF, a trailing comma on every line."""
    text = _delimited(legacy_rows(numeric=numeric), crlf=False)
    path = folder / f"legacy_{'numeric' if numeric else 'text'}.csv"
    body = "".join(line + ",\n" for line in _lines(text))
    path.write_bytes(codecs.BOM_UTF8 + body.encode("utf-8"))
    return path


def _lines(text: str) -> list[str]:
    """Records of a CSV text (a quoted newline stays inside its record)."""
    out, current, quoted = [], "", False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == "\n" and not quoted:
            out.append(current)
            current = ""
        else:
            current += ch
    return out


SAMPLES = {
    "qualtrics numeric csv": lambda d: write_csv(d, numeric=True),
    "qualtrics choice text csv": lambda d: write_csv(d, numeric=False),
    "qualtrics german csv": lambda d: write_csv(d, numeric=True, german=True),
    "qualtrics utf-16 tsv": lambda d: write_tsv(d, numeric=True),
    "qualtrics utf-8 tsv": lambda d: write_tsv(d, numeric=False, utf16=False),
    "qualtrics xlsx": lambda d: write_xlsx(d, numeric=False),
    "qualtrics legacy": lambda d: write_legacy(d, numeric=True),
}
"""Every layout, by name (for the cross-detection test)."""
