"""SurveyMonkey "All responses data" exports written from respondents defined here, the way real
downloads and their Excel re-saves look (FORMATS.md §2): two header rows, question text written
once over a question's columns, checkboxes with "Other (please specify)", a 1–5 matrix, a
ranking with N/A, an NPS question, a multi-field contact question, Chinese and English answers
with quoted newlines, commas and ``""``, a respondent who answered nothing (a partial), blank
answers. Each writer returns the path it wrote.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path

META = [
    "Respondent ID",
    "Collector ID",
    "Start Date",
    "End Date",
    "IP Address",
    "Email Address",
    "First Name",
    "Last Name",
    "Custom Data 1",
]
NPS_TEXT = "How likely is it that you would recommend 我们的门店 to a friend or colleague?"
STORE_TEXT = "Which store did you visit last?"
STORES = ["上海 静安店", "Beijing, Sanlitun", "Online shop"]
HEARD_TEXT = "How did you hear about us? 您是如何了解我们的？"
HEARD = ["Friends / family", "微信", "Search engine"]
RATE_TEXT = "Please rate us on each (1 = poor, 5 = excellent)"
RATE_ROWS = ["Speed of service", "店员态度", "Price"]
RANK_TEXT = "Rank what matters most to you"
RANK_ITEMS = ["Price", "Quality", "服务"]
COMMENT_TEXT = "Anything else you would like to tell us?"
CONTACT_TEXT = "Contact information"
CONTACT = ["Name", "City/Town", "Phone Number"]
OTHER = "Other (please specify)"
FIRST_ID = 114123456780
SURVEY_ZONE = "Asia/Shanghai"


@dataclass
class Respondent:
    """One row of the export (None / empty = not answered)."""

    rid: int
    start: dt.datetime
    collector: str = "431882910"
    email: str = ""
    first: str = ""
    last: str = ""
    ip: str = ""
    custom: str = ""
    nps: int | None = None
    store: int | None = None
    """Index into STORES (None: not answered)."""
    store_other: str = ""
    heard: list[int] = field(default_factory=list)
    heard_other: str = ""
    rate: dict[int, int] = field(default_factory=dict)
    rank: dict[int, int] = field(default_factory=dict)
    comment: str = ""
    contact: tuple[str, str, str] = ("", "", "")

    @property
    def end(self) -> dt.datetime:
        return self.start + dt.timedelta(minutes=3 + self.rid % 7, seconds=11 * (self.rid % 5))

    @property
    def answered(self) -> bool:
        return any(
            (
                self.nps is not None,
                self.store is not None,
                self.store_other,
                self.heard,
                self.heard_other,
                self.rate,
                self.rank,
                self.comment,
                any(self.contact),
            )
        )


def respondents() -> list[Respondent]:
    """20 respondents: every kind of answer, blanks, a partial, Chinese and English, dates on
    days above 12 (so day/month order is decided by the column)."""
    b = dt.datetime(2022, 9, 1, 9, 5, 2)
    d = dt.timedelta
    r = Respondent
    # fmt: off
    people = [
        r(0, b, email="li.wei@example.cn", first="伟", last="李", ip="116.228.1.10",
          custom="C-1001", nps=10, store=0, heard=[0, 1], rate={0: 5, 1: 5, 2: 4},
          rank={0: 2, 1: 1, 2: 3},
          comment="店员很热情，下次还来！", contact=("李伟", "上海", "13800138000")),
        r(1, b + d(days=1, hours=5), email="anna@example.com", first="Anna", last="Smith",
          ip="81.2.69.160", nps=9, store=1, heard=[2], rate={0: 4, 1: 5, 2: 3},
          rank={0: 1, 1: 2, 2: 3},
          comment='Great coffee, but the "express" line was slow.\nStill coming back.'),
        r(2, b + d(days=2, hours=1), nps=6, store=2, heard=[1], heard_other="小红书",
          rate={0: 2, 1: 3, 2: 2}, rank={1: 1, 2: 2}, comment="配送太慢了，等了一个小时"),
        r(3, b + d(days=3, hours=2), collector="431882911", nps=3, store_other="Shenzhen, 万象城",
          rate={0: 1, 2: 2}, comment="Rude staff, cold food, never again"),
        r(4, b + d(days=4), email="wang.fang@example.cn", nps=8, store=0, heard=[0],
          rate={0: 4, 1: 4, 2: 4}, rank={0: 3, 1: 2, 2: 1}),
        r(5, b + d(days=12, hours=6), nps=10, store=1, heard=[0, 2], rate={0: 5, 1: 4, 2: 5},
          rank={0: 1, 1: 3, 2: 2}, comment="很好"),
        r(6, b + d(days=13, hours=3), collector="431882911"),
        r(7, b + d(days=14, hours=8), nps=0, store=2, heard=[2],
          heard_other="A billboard, near the metro", rate={0: 1, 1: 1, 2: 1}, rank={0: 1},
          comment="App crashed twice; refund still missing."),
        r(8, b + d(days=15), nps=7, store=0, rate={0: 3, 1: 4, 2: 3}, rank={0: 2, 1: 1, 2: 3},
          contact=("Tom", "Hangzhou", "")),
        r(9, b + d(days=16, hours=4), email="zhao@example.cn", nps=9, store=0, heard=[1],
          rate={0: 5, 1: 5, 2: 5}, rank={0: 3, 1: 1, 2: 2}, comment="环境不错，价格有点贵"),
        r(10, b + d(days=17, hours=2), nps=5, store=1, heard=[0], rate={0: 2, 1: 2, 2: 3},
          comment="Average."),
        r(11, b + d(days=18, hours=7), nps=10, store=2, heard=[0, 1, 2], rate={0: 5, 1: 5, 2: 4},
          rank={0: 2, 1: 1, 2: 3}),
        r(12, b + d(days=19), store=0, heard=[1], rate={1: 4}, comment="没时间填完"),
        r(13, b + d(days=20, hours=3), nps=2, store=1, heard=[2], rate={0: 1, 1: 2, 2: 1},
          rank={0: 1, 1: 2, 2: 3},
          comment="Waited 40 minutes, the order was wrong, and nobody said sorry"),
        r(14, b + d(days=21, hours=1), nps=9, store=0, heard=[0], rate={0: 4, 1: 5, 2: 4},
          rank={0: 3, 1: 2, 2: 1}, custom="C-1015"),
        r(15, b + d(days=22, hours=5), nps=8, store=2, heard=[2], rate={0: 3, 1: 3, 2: 3},
          rank={0: 1, 1: 2, 2: 3}),
        r(16, b + d(days=23), nps=10, store=1, heard=[1], rate={0: 5, 1: 4, 2: 5},
          rank={0: 2, 1: 1, 2: 3}, comment="服务一流"),
        r(17, b + d(days=24, hours=2), nps=4, store=0, heard=[0], rate={0: 2, 1: 1, 2: 2},
          comment="太吵"),
        r(18, b + d(days=25, hours=9), nps=9, store=2, heard=[2], rate={0: 4, 1: 4, 2: 5},
          rank={0: 1, 1: 2, 2: 3}),
        r(19, b + d(days=26, hours=4), nps=1, store=0, heard=[0], rate={0: 1, 1: 2, 2: 1},
          comment="Never again."),
    ]
    # fmt: on
    for person in people:
        person.rid += FIRST_ID
    return people


def _headers() -> tuple[list[str], list[str]]:
    top = list(META)
    sub = [""] * len(META)

    def question(text: str, labels: list[str]) -> None:
        top.extend([text, *([""] * (len(labels) - 1))])
        sub.extend(labels)

    question(NPS_TEXT, ["Response"])
    question(STORE_TEXT, ["Response", OTHER])
    question(HEARD_TEXT, [*HEARD, OTHER])
    question(RATE_TEXT, RATE_ROWS)
    question(RANK_TEXT, RANK_ITEMS)
    question(COMMENT_TEXT, ["Open-Ended Response"])
    question(CONTACT_TEXT, CONTACT)
    return top, sub


def _row(person: Respondent, *, numeric: bool, dates: str, rid: str | None = None) -> list[str]:
    def when(value: dt.datetime) -> str:
        if dates == "iso":
            return value.strftime("%Y-%m-%d %H:%M:%S")
        if dates == "us12":
            return value.strftime("%m/%d/%Y %I:%M:%S %p")
        if dates == "excel":  # Excel's re-save: 9/5/22 14:56 (no seconds, no zero padding)
            return f"{value.month}/{value.day}/{value:%y} {value.hour}:{value:%M}"
        if dates == "excel_dmy":
            return f"{value.day}/{value.month}/{value:%Y} {value.hour}:{value:%M}"
        raise ValueError(dates)

    row = [
        rid if rid is not None else str(person.rid),
        person.collector,
        when(person.start),
        when(person.end),
        person.ip,
        person.email,
        person.first,
        person.last,
        person.custom,
    ]
    row.append("" if person.nps is None else str(person.nps))
    store = (
        "" if person.store is None else (str(person.store + 1) if numeric else STORES[person.store])
    )
    row += [store, person.store_other]
    row += [
        (str(i + 1) if numeric else label) if i in person.heard else ""
        for i, label in enumerate(HEARD)
    ]
    row.append(person.heard_other)
    row += [str(person.rate[i]) if i in person.rate else "" for i in range(len(RATE_ROWS))]
    row += [
        str(person.rank[i])
        if i in person.rank
        else "N/A"
        if person.answered and person.rank
        else ""
        for i in range(len(RANK_ITEMS))
    ]
    row.append(person.comment)
    row += list(person.contact)
    return row


def _csv_text(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def write_text_csv(folder: Path, name: str = "Data_All_220930.csv") -> Path:
    """The default download: actual answer text, expanded, UTF-8 with a BOM, CRLF."""
    top, sub = _headers()
    rows = [top, sub, *(_row(p, numeric=False, dates="iso") for p in respondents())]
    path = folder / name
    path.write_bytes(b"\xef\xbb\xbf" + _csv_text(rows).encode("utf-8"))
    return path


def write_numeric_csv(folder: Path, name: str = "Data_All_220930_numeric.csv") -> Path:
    """Numerical values (option positions; checkbox cells hold the option's number), dates in a
    US account's format (``09/05/2022 02:56:02 PM``)."""
    top, sub = _headers()
    rows = [top, sub, *(_row(p, numeric=True, dates="us12") for p in respondents())]
    path = folder / name
    path.write_bytes(b"\xef\xbb\xbf" + _csv_text(rows).encode("utf-8"))
    return path


MANGLED_ROW = 5
"""Index of the respondent whose id an Excel re-save wrote as ``1.14123E+11``."""


def write_excel_resaved_csv(
    folder: Path, *, encoding: str = "gbk", day_first: bool = False, name: str | None = None
) -> Path:
    """The text export opened and saved again by Excel: no BOM, the locale's code page (GBK in a
    Chinese Windows; cp1252 turns Chinese into ``?``), dates rewritten without seconds, and one
    respondent id turned into ``1.14123E+11``."""
    top, sub = _headers()
    rows = [top, sub]
    for i, person in enumerate(respondents()):
        rid = "1.14123E+11" if i == MANGLED_ROW else None
        dates = "excel_dmy" if day_first else "excel"
        rows.append(_row(person, numeric=False, dates=dates, rid=rid))
    path = folder / (name or f"resaved_{encoding}.csv")
    path.write_bytes(_csv_text(rows).encode(encoding, errors="replace"))
    return path


def write_xlsx(folder: Path, *, numeric: bool = False, name: str | None = None) -> Path:
    """The XLSX download: ids as number cells, dates as date cells."""
    from openpyxl import Workbook

    top, sub = _headers()
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(top)
    sheet.append([cell or None for cell in sub])
    for person in respondents():
        row: list[object] = list(_row(person, numeric=numeric, dates="iso"))
        row[0] = person.rid
        row[2], row[3] = person.start, person.end
        sheet.append([cell if cell != "" else None for cell in row])
    path = folder / (name or ("responses_numeric.xlsx" if numeric else "responses.xlsx"))
    book.save(path)
    return path


def write_odd_csv(folder: Path, name: str = "odd_export.csv") -> Path:
    """A smaller text export with what goes wrong: a matrix answered with word labels, a 1–5
    satisfaction question, a ranking, an empty and a repeated respondent id, a rating outside its
    scale is impossible in SurveyMonkey so none; an unknown metadata column (Custom Data 2), a
    date Excel showed as ``#####``, and a row with a respondent id but no answers."""
    top = [
        *META,
        "Custom Data 2",
        "How satisfied are you with our app? 您对我们的应用满意吗？",
        "How would you rate our delivery?",
        "",
        "",
        "Your comments",
    ]
    sub = [""] * (len(META) + 1) + [
        "Response",
        "Speed",
        "Packaging",
        "Courier",
        "Open-Ended Response",
    ]
    levels = ["Very good", "Good", "Poor"]
    rows = [top, sub]
    answers = [
        ("5", (0, 0, 1), "Fast, friendly"),
        ("4", (1, 1, 1), ""),
        ("2", (2, 2, 1), "包装破损"),
        ("5", (0, 1, 0), 'He said "see you"'),
        ("3", (1, None, 2), ""),
        ("1", (2, 2, 2), "Terrible"),
    ]
    for i, (csat, cells, comment) in enumerate(answers):
        start = dt.datetime(2023, 3, 3 + i, 10, 0, 0)
        meta = [
            str(220000000001 + i),
            "90011",
            f"{start:%Y-%m-%d %H:%M:%S}",
            f"{start + dt.timedelta(minutes=4):%Y-%m-%d %H:%M:%S}",
            "",
            "",
            "",
            "",
            f"cust-{i}",
            f"wave {i % 2 + 1}",
        ]
        rows.append([*meta, csat, *(levels[c] if c is not None else "" for c in cells), comment])
    rows.append(
        [
            "",
            "90011",
            "2023-03-20 10:00:00",
            "2023-03-20 10:05:00",
            "",
            "",
            "",
            "",
            "",
            "",
            "4",
            "Good",
            "Good",
            "Good",
            "no id",
        ]
    )
    rows.append(
        [
            "220000000001",
            "90011",
            "2023-03-21 10:00:00",
            "2023-03-21 10:05:00",
            "",
            "",
            "",
            "",
            "",
            "",
            "4",
            "Good",
            "Good",
            "Good",
            "same id twice",
        ]
    )
    rows.append(
        [
            "220000000099",
            "90011",
            "2023-03-22 10:00:00",
            "#####",
            "",
            "",
            "",
            "",
            "",
            "",
            "3",
            "Good",
            "Poor",
            "Good",
            "narrow date column",
        ]
    )
    rows.append(
        [
            "220000000100",
            "90011",
            "2023-03-23 10:00:00",
            "2023-03-23 10:00:40",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        ]
    )
    path = folder / name
    path.write_bytes(_csv_text(rows).encode("utf-8"))
    return path


def write_condensed_csv(folder: Path, name: str = "condensed.csv") -> Path:
    """The condensed layout: every question in one column, checkbox choices joined with ``, ``."""
    top = [*META, HEARD_TEXT, NPS_TEXT]
    sub = [""] * len(META) + ["Response", "Response"]
    rows = [top, sub]
    for person in respondents():
        joined = ", ".join(HEARD[i] for i in person.heard)
        rows.append(
            [
                *_row(person, numeric=False, dates="iso")[: len(META)],
                joined,
                "" if person.nps is None else str(person.nps),
            ]
        )
    path = folder / name
    path.write_bytes(b"\xef\xbb\xbf" + _csv_text(rows).encode("utf-8"))
    return path


ALL_WRITERS = (
    write_text_csv,
    write_numeric_csv,
    write_excel_resaved_csv,
    write_xlsx,
    write_odd_csv,
    write_condensed_csv,
)
"""Every layout, for the shared cross-detection test (each takes the folder)."""
