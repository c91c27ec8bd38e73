"""LimeSurvey export files written from respondents defined here, the way LimeSurvey writes them
(application/helpers/admin/export/CsvWriter.php, Writer.php, SurveyObj.php): UTF-8 with a BOM,
every field quoted, ``;`` (its default) or ``,``, CRLF records with ``\\n`` inside cells and a
trailing empty line; one header row in the ``code``, ``full``, ``codetext`` or old SGQA style;
answers ``short`` (codes) or ``long`` (texts, in the export language: 是/否/其他, N/A when never
shown). The survey structure (.lss/.lsa) is written by ``samples_limesurvey_lss``. Every
writer returns the path it wrote.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SID = "482913"
TITLE = {"zh-Hans": "门店体验回访", "en": "Store visit follow-up"}


@dataclass(frozen=True)
class Q:
    qid: int
    gid: int
    code: str
    type: str
    zh: str
    en: str
    other: bool = False
    subs: tuple[tuple[str, str], ...] = ()
    answers: tuple[tuple[str, str], ...] = ()


NPS_ANSWERS = tuple((f"A{n + 1}", str(n)) for n in range(11))
QUESTIONS = (
    Q(
        101,
        10,
        "NPS",
        "L",
        "您向朋友推荐我们门店的可能性有多大？",
        "How likely are you to recommend our store to a friend?",
        answers=NPS_ANSWERS,
    ),
    Q(102, 10, "SAT", "5", "您对本次服务满意吗？", "How satisfied are you with the service?"),
    Q(
        103,
        10,
        "CHAN",
        "L",
        "您是通过什么渠道知道我们的？",
        "How did you hear about us?",
        other=True,
        answers=(("AO01", "朋友介绍"), ("AO02", "微信公众号"), ("AO03", "Search engine")),
    ),
    Q(
        104,
        11,
        "FEAT",
        "M",
        "您使用了哪些服务？",
        "Which services did you use?",
        other=True,
        subs=(("SQ001", "到店自提"), ("SQ002", "送货上门"), ("SQ003", "Online chat")),
    ),
    Q(
        105,
        11,
        "GRID",
        "F",
        "请评价以下方面",
        "Please rate",
        subs=(("SQ001", "价格"), ("SQ002", "服务态度"), ("SQ003", "环境")),
        answers=(("A1", "很差"), ("A2", "一般"), ("A3", "很好")),
    ),
    Q(106, 11, "BACK", "Y", "您还会再来吗？", "Will you come back?"),
    Q(107, 11, "COMMENT", "T", "还有什么想告诉我们的？", "Anything else you want to tell us?"),
)
GROUP_ORDER = {10: 1, 11: 2}


@dataclass(frozen=True)
class R:
    """One respondent: metadata, then answers as LimeSurvey stores them (codes)."""

    id: int
    submit: str
    lastpage: int
    lang: str
    start: str
    stamp: str
    ip: str = "10.0.0.1"
    token: str = ""
    nps: int | None = None
    sat: int | None = None
    chan: str | None = None
    chan_other: str = ""
    feat: tuple[str, ...] = ()
    feat_other: str = ""
    grid: dict[str, str] = field(default_factory=dict)
    back: str | None = None
    comment: str = ""
    reached_page2: bool = True


def _r(i: int, nps: int | None, sat: int | None, chan: str | None, **kw: Any) -> R:
    day = 1 + i % 27
    start = f"2024-03-{day:02d} 09:{i:02d}:05"
    stamp = f"2024-03-{day:02d} 09:{i + 5:02d}:41"
    submit = str(kw.pop("submit", stamp))
    lang = str(kw.pop("lang", "zh-Hans" if i % 3 else "en"))
    lastpage = int(kw.pop("lastpage", 2))
    return R(
        i,
        submit,
        lastpage,
        lang,
        start,
        stamp,
        ip=f"203.0.113.{i}",
        nps=nps,
        sat=sat,
        chan=chan,
        **kw,
    )


RESPONDENTS = (
    _r(
        1,
        10,
        5,
        "AO01",
        feat=("SQ001",),
        grid={"SQ001": "A3", "SQ002": "A3", "SQ003": "A2"},
        back="Y",
        comment="店员很热情，下次还来",
        token="tok8Fz1",
    ),
    _r(
        2,
        9,
        4,
        "AO02",
        feat=("SQ001", "SQ002"),
        grid={"SQ001": "A2", "SQ002": "A3"},
        back="Y",
        comment='Great staff, "fast" checkout',
        token="tokQ2m7",
    ),
    _r(
        3,
        6,
        2,
        "-oth-",
        chan_other="小红书, 朋友圈",
        feat=("SQ003",),
        grid={"SQ001": "A1", "SQ002": "A1", "SQ003": "A1"},
        back="N",
        comment="排队太久了\n收银只开了一个口",
    ),
    _r(4, 0, 1, "AO03", feat=(), grid={"SQ002": "A1"}, back="N", comment="Never again."),
    _r(5, 8, 3, "AO01", feat=("SQ002",), grid={"SQ001": "A2", "SQ002": "A2", "SQ003": "A2"}),
    _r(6, 7, 3, None, feat=("SQ001",), feat_other="团购; 会员日", back="Y"),
    _r(7, 9, 5, "AO02", submit="", lastpage=1, reached_page2=False),
    _r(
        8,
        10,
        5,
        "AO02",
        feat=("SQ001", "SQ003"),
        grid={"SQ001": "A3", "SQ002": "A3"},
        back="Y",
        comment="Loved the online chat, very helpful",
    ),
    _r(
        9,
        3,
        2,
        "AO03",
        feat=("SQ002",),
        grid={"SQ001": "A1", "SQ002": "A2", "SQ003": "A1"},
        back="N",
        comment="送货晚了两个小时",
    ),
    _r(10, 10, 4, "AO01", feat=("SQ001",), grid={"SQ002": "A3"}, back="Y"),
    _r(11, None, None, None, submit="", lastpage=0, reached_page2=False),
    _r(
        12,
        9,
        5,
        "AO01",
        feat=("SQ001", "SQ002", "SQ003"),
        grid={"SQ001": "A3", "SQ002": "A3", "SQ003": "A3"},
        back="Y",
        comment="👍 很满意",
    ),
    _r(13, 5, 3, "-oth-", chan_other="路过", feat=("SQ002",), grid={"SQ001": "A2"}, back="Y"),
    _r(14, 8, 4, "AO02", feat=(), grid={}, back=None, comment="=SUM(A1) is not a formula"),
    _r(
        15,
        10,
        5,
        "AO03",
        feat=("SQ003",),
        grid={"SQ003": "A3"},
        back="Y",
        comment="Line one\nline two, with comma",
    ),
    _r(
        16,
        2,
        1,
        "AO01",
        feat=("SQ001",),
        grid={"SQ001": "A1", "SQ002": "A1", "SQ003": "A2"},
        back="N",
        comment="价格太贵",
    ),
    _r(17, 9, 4, None, feat=("SQ002",), grid={"SQ002": "A3"}, back="Y", lastpage=2, submit=""),
    _r(
        18,
        7,
        4,
        "AO02",
        feat=("SQ001",),
        grid={"SQ001": "A2", "SQ002": "A2", "SQ003": "A3"},
        back="Y",
    ),
)
META_CODE = (
    "id",
    "submitdate",
    "lastpage",
    "startlanguage",
    "seed",
    "token",
    "startdate",
    "datestamp",
    "ipaddr",
    "refurl",
)
META_EN = (
    "Response ID",
    "Date submitted",
    "Last page",
    "Start language",
    "Seed",
    "Token",
    "Date started",
    "Date last action",
    "IP address",
    "Referrer URL",
)
META_NL = (
    "Respons ID",
    "Datum verstuurd",
    "Laatste pagina",
    "Starttaal",
    "Seed",
    "Toegangscode",
    "Datum gestart",
    "Datum laatste actie",
    "IP-adres",
    "Verwijzende URL",
)
LONG_WORDS = {"yes": "是", "no": "否", "other": "其他", "na": "N/A"}


def _columns() -> list[tuple[Q, str | None]]:
    out: list[tuple[Q, str | None]] = []
    for q in QUESTIONS:
        if q.type == "L":
            out += [(q, None)] + ([(q, "other")] if q.other else [])
        elif q.type in ("M", "F"):
            out += [(q, s) for s, _ in q.subs] + ([(q, "other")] if q.other else [])
        else:
            out.append((q, None))
    return out


def _heading(q: Q, sub: str | None, style: str, sep: str = ". ") -> str:
    code = q.code if sub is None else f"{q.code}[{sub}]"
    if style == "code":
        return code
    if style == "sgqa":
        return f"{SID}X{q.gid}X{q.qid}{sub or ''}"
    subtext = ""
    if sub == "other":
        subtext = " [其他]"
    elif sub is not None:
        subtext = f" [{dict(q.subs)[sub]}]"
    text = f"{q.zh}{subtext}"
    return text if style == "full" else f"{code}{sep}{text}"


def _value(r: R, q: Q, sub: str | None, long: bool) -> str:
    w = LONG_WORDS
    if q.code == "NPS":
        return "" if r.nps is None else (str(r.nps) if long else f"A{r.nps + 1}")
    if q.code == "SAT":
        return "" if r.sat is None else str(r.sat)
    if q.code == "CHAN":
        if sub == "other":
            return r.chan_other
        if r.chan is None:
            return ""
        return (w["other"] if r.chan == "-oth-" else dict(q.answers)[r.chan]) if long else r.chan
    if q.code == "FEAT":
        if sub == "other":
            return r.feat_other
        if not r.reached_page2:
            return w["na"] if long else ""
        picked = sub in r.feat
        return (w["yes"] if picked else w["no"]) if long else ("Y" if picked else "")
    if q.code == "GRID":
        code = r.grid.get(sub or "")
        return "" if code is None else (dict(q.answers)[code] if long else code)
    if q.code == "BACK":
        if r.back is None:
            return w["na"] if long and r.reached_page2 else ""
        return (w["yes"] if r.back == "Y" else w["no"]) if long else r.back
    return r.comment


def _meta(r: R) -> list[str]:
    return [
        str(r.id),
        r.submit,
        str(r.lastpage),
        r.lang,
        str(700000 + r.id * 37),
        r.token,
        r.start,
        r.stamp,
        r.ip,
        "https://example.com/visit?src=qr" if r.id % 4 == 0 else "",
    ]


def table(
    style: str,
    long: bool,
    meta_names: tuple[str, ...] = META_CODE,
    *,
    sep: str = ". ",
    respondents: tuple[R, ...] = RESPONDENTS,
    timings: bool = True,
) -> list[list[str]]:
    """Header row + one row per respondent, as LimeSurvey's writer lays them out."""
    cols = _columns()
    header = list(meta_names)
    if style == "codetext":
        header = [f"{c}{sep}{t}" for c, t in zip(META_CODE, META_EN, strict=True)]
    header += [_heading(q, sub, style, sep) for q, sub in cols]
    if timings:
        header.append("interviewtime" if style in ("code", "sgqa") else "Total time")
    rows = [header]
    for r in respondents:
        row = _meta(r) + [_value(r, q, sub, long) for q, sub in cols]
        if timings:
            row.append(f"{30 + r.id * 7}.5")
        rows.append(row)
    return rows


def write_csv(path: Path, rows: list[list[str]], delimiter: str = ";") -> Path:
    """UTF-8 + BOM, all fields quoted, CRLF records, ``\\n`` in cells, a trailing empty line."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    for row in rows:
        writer.writerow([cell.replace("\r\n", "\n") for cell in row])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\xef\xbb\xbf" + (buffer.getvalue() + "\r\n").encode("utf-8"))
    return path


def write_xlsx(path: Path, rows: list[list[str]]) -> Path:
    """LimeSurvey's Excel export: one sheet, numbers as numbers."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "results"
    for row in rows:
        sheet.append([int(c) if c.isdigit() and len(c) < 10 else c for c in row])
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # an answer typed as "=…" is text, not a formula
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


# ------------------------------------------------------------------ the files


def code_short(folder: Path, delimiter: str = ";") -> Path:
    """Code headings, short answers (codes), ``;``: the default export."""
    return write_csv(folder / f"results-survey{SID}.csv", table("code", False), delimiter)


def code_long(folder: Path) -> Path:
    """Code headings, long answers, ``,``."""
    return write_csv(folder / f"results-survey{SID}-long.csv", table("code", True), ",")


def full_long_en(folder: Path) -> Path:
    """Full headings (texts), long answers, English metadata names, ``,``."""
    return write_csv(folder / f"results-survey{SID}-full.csv", table("full", True, META_EN), ",")


def full_long_nl(folder: Path) -> Path:
    """Full headings with the metadata names in Dutch (a Dutch admin's export), ``;``."""
    return write_csv(folder / f"results-survey{SID}-nl.csv", table("full", True, META_NL))


def codetext_long(folder: Path) -> Path:
    """``Q1. text`` headings, long answers."""
    return write_csv(folder / f"results-survey{SID}-codetext.csv", table("codetext", True))


def sgqa_short(folder: Path) -> Path:
    """An old export: SGQA headings (``482913X10X101``), short answers, ``,``."""
    return write_csv(folder / f"results-survey{SID}-sgqa.csv", table("sgqa", False), ",")


def excel_long(folder: Path) -> Path:
    """The Excel export: code headings, long answers."""
    return write_xlsx(folder / f"results-survey{SID}.xlsx", table("code", True))


def broken_short(folder: Path) -> Path:
    """Short codes with two bad rows: an unknown NPS code and a row without its response id."""
    rows = table("code", False)
    rows[3][rows[0].index("NPS")] = "A99"
    rows[5][0] = ""
    return write_csv(folder / f"results-survey{SID}-broken.csv", rows)


WRITERS = (code_short, code_long, full_long_en, full_long_nl, codetext_long, sgqa_short, excel_long)
"""Every layout, for the shared cross-detection test."""
