"""问卷星 (wjx.cn) exports written from respondents defined here, in both value modes and the
file kinds 问卷星 users hand over: legacy .xls (xlwt), .xlsx (openpyxl) and CSV (UTF-8 with BOM
and CRLF, or GB18030 as Excel on Chinese Windows saves it).

The questionnaire (门店服务满意度调查, ``SURVEY_YAML`` in cxloop's own format) has an NPS, single
choices, a multiple choice with an "other" text, a matrix headed by bare sub-item labels and one
headed ``N、子项``, a ranking, a question skipped by logic, a two-blank fill-in and free text with
quoted newlines, commas and ``""``. 按选项文本 writes option texts (``┋``, ``〖…〗``, ``→``,
``(跳过)``, ``(空)``, scores as ``9`` or ``9分``); 按选项序号 writes positions (the NPS as
score + 1), expands the multiple choice and the ranking into ``第N题(选项)`` columns and writes
``-3``/``-2``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

SURVEY_ID = "wjx-store"
TITLE = "门店服务满意度调查"
NPS_TEXT = "您向朋友或同事推荐我们门店的可能性有多大？"
FREQUENCY = ["每周多次", "每周一次", "每月一次", "更少"]
REASONS = ["价格实惠", "菜品好吃", "服务周到", "离家近", "其他"]
AREAS = ["环境", "服务态度", "上菜速度"]
HYGIENE = ["餐具", "桌面", "洗手间"]
RANKED = ["价格", "口味", "服务", "环境"]
YES_NO = ["是", "否"]
SOURCES = [("手机提交", "微信"), ("手机提交", "朋友圈"), ("直接访问", ""), ("链接", "短信")]
PLACES = ["上海-上海", "北京-北京", "广东-深圳", "浙江-杭州", "未知"]
ADVICE = [
    '菜品"好吃"，但是排队太久,\n希望增加座位',
    "Great food, slow service — please add staff",
    "没有",
    'The "set meal" is good value, thanks',
    "服务员态度很好\r\n下次还来",
    "价格可以再便宜一点",
]
OTHER_TEXTS = ["朋友推荐", "公司附近, 午饭方便", '看到"新店开业"活动']

SURVEY_YAML = f"""\
id: {SURVEY_ID}
title: {{zh: {TITLE}}}
languages: [zh]
default_language: zh
questions:
  - {{id: q1, type: nps, text: {NPS_TEXT}}}
  - id: q2
    type: single
    text: 您多久光顾一次我们的门店？
    options:
      - {{id: several_weekly, text: 每周多次}}
      - {{id: weekly, text: 每周一次}}
      - {{id: monthly, text: 每月一次}}
      - {{id: rarely, text: 更少}}
  - id: q3
    type: multiple
    text: 您选择我们的原因有哪些？
    options:
      - {{id: price, text: 价格实惠}}
      - {{id: taste, text: 菜品好吃}}
      - {{id: service, text: 服务周到}}
      - {{id: near, text: 离家近}}
      - {{id: other, text: 其他, other: true}}
  - id: q4
    type: matrix
    text: 请对以下方面打分
    matrix_scale: 5
    rows:
      - {{id: q4_1, text: 环境}}
      - {{id: q4_2, text: 服务态度}}
      - {{id: q4_3, text: 上菜速度}}
  - id: q5
    type: matrix
    text: 卫生评价
    matrix_scale: 5
    rows:
      - {{id: q5_1, text: 餐具}}
      - {{id: q5_2, text: 桌面}}
      - {{id: q5_3, text: 洗手间}}
  - id: q6
    type: matrix
    text: 请按重要性排序
    matrix_scale: 4
    rows:
      - {{id: q6_1, text: 价格}}
      - {{id: q6_2, text: 口味}}
      - {{id: q6_3, text: 服务}}
      - {{id: q6_4, text: 环境}}
  - id: q7
    type: single
    text: 您是否使用过我们的外卖服务？
    options:
      - {{id: "yes", text: 是}}
      - {{id: "no", text: 否}}
  - {{id: q8, type: csat, text: 您对外卖包装满意吗？}}
  - {{id: q9_1, type: text, text: 您的称呼}}
  - {{id: q9_2, type: text, text: 所在城市}}
  - {{id: q10, type: text, text: 您还有什么建议？}}
"""
"""The questionnaire as a cxloop YAML (``cxloop surveys create``): the one place the single
choices' options are in the questionnaire's order, which 按选项序号 positions need."""


@dataclass(frozen=True)
class Respondent:
    number: int
    submitted: dt.datetime
    """Wall-clock time in Asia/Shanghai, as 问卷星 writes it."""
    seconds: int
    source: tuple[str, str]
    ip: str
    place: str
    nps: int
    frequency: int
    reasons: tuple[int, ...]
    other: str
    areas: tuple[int | None, ...]
    hygiene: tuple[int | None, ...]
    ranking: tuple[int, ...]
    """Indexes into RANKED, first = rank 1; items left out are not ranked."""
    takeout: int
    packaging: int | None
    name: str
    city: str
    advice: str
    score_suffix: bool
    """按选项文本 writes this respondent's NPS as ``9分`` (else ``9``)."""


def respondents(count: int = 34, seed: int = 13) -> list[Respondent]:
    """``count`` respondents (fixed seed): every case at least once."""
    rng = random.Random(seed)
    start = dt.datetime(2024, 1, 5, 9, 3, 7)
    out = []
    for i in range(count):
        takeout = rng.randrange(2)
        reasons = tuple(sorted(rng.sample(range(len(REASONS)), rng.randint(1, 3))))
        if i == 2:
            reasons = (0, 4)
        ranking = tuple(rng.sample(range(len(RANKED)), rng.choice((2, 3, 4))))
        out.append(
            Respondent(
                number=i + 1,
                submitted=start + dt.timedelta(hours=7 * i, minutes=13 * i, seconds=11 * i),
                seconds=60 + rng.randrange(400),
                source=SOURCES[i % len(SOURCES)],
                ip=f"183.192.{i}.{10 + i}",
                place=PLACES[i % len(PLACES)],
                nps=[10, 9, 0, 6, 7, 8, 10, 3, 9, 5, 10, 8][i % 12],
                frequency=rng.randrange(len(FREQUENCY)) if i else 2,
                reasons=reasons,
                other=OTHER_TEXTS[i % len(OTHER_TEXTS)] if 4 in reasons else "",
                areas=tuple(rng.randint(1, 5) for _ in AREAS),
                hygiene=tuple(None if (i == 5 and k == 2) else rng.randint(2, 5) for k in range(3)),
                ranking=ranking,
                takeout=takeout,
                packaging=rng.randint(1, 5) if takeout == 0 else None,
                name=["王女士", "李先生", "Tom", ""][i % 4],
                city=["上海", "Shanghai", "杭州", ""][(i + 1) % 4],
                advice=f"{ADVICE[i % len(ADVICE)]} ({i + 1})" if i % 5 else "",
                score_suffix=i % 3 == 0,
            )
        )
    return out


ORDER_A = ("序号", "提交答卷时间", "所用时间", "来源", "来源详情", "来自IP")
ORDER_B = ("序号", "来源", "来源详情", "来自IP", "自定义字段", "提交答卷时间", "所用时间")
"""Metadata columns in two of the orders exports use; B adds a column cxloop does not know."""


def _meta(r: Respondent, order: tuple[str, ...], dates: bool) -> list[object]:
    place = f"({r.place})" if r.place != "未知" else "(未知)"
    values: dict[str, object] = {
        "序号": r.number,
        "提交答卷时间": r.submitted if dates else _wjx_time(r.submitted),
        "所用时间": f"{r.seconds}秒",
        "来源": r.source[0],
        "来源详情": r.source[1] or "",
        "来自IP": f"{r.ip}{place}",
        "自定义字段": f"store=sh{r.number % 3:02d}",
    }
    return [values[name] for name in order]


def _wjx_time(moment: dt.datetime) -> str:
    """``2024/1/5 9:03:07``: 问卷星 writes month, day and hour without leading zeros."""
    return f"{moment.year}/{moment.month}/{moment.day} {moment.hour}:{moment:%M:%S}"


def _questions_header_text() -> list[str]:
    return [
        f"1、{NPS_TEXT}",
        "2、您多久光顾一次我们的门店？(单选题 *必答)",
        "3、您选择我们的原因有哪些？(多选题)",
        f"4、请对以下方面打分—{AREAS[0]}",
        *AREAS[1:],
        f"5、卫生评价—{HYGIENE[0]}(矩阵量表题)",
        *(f"5、{label}" for label in HYGIENE[1:]),
        "6、请按重要性排序(排序题)",
        "7、您是否使用过我们的外卖服务？",
        "8、您对外卖包装满意吗？",
        "9、(1)您的称呼",
        "9、(2)所在城市",
        "10、您还有什么建议？",
    ]


def _empty(value: str) -> str:
    return value or "(空)"


def text_rows(people: list[Respondent], order: tuple[str, ...] = ORDER_A) -> list[list[object]]:
    """按选项文本: one header row, then every respondent's option texts."""
    rows: list[list[object]] = [[*order, *_questions_header_text()]]
    for r in people:
        reasons = "┋".join(
            REASONS[k] + (f"〖{r.other}〗" if k == 4 and r.other else "") for k in r.reasons
        )
        rows.append(
            [
                *_meta(r, order, dates=False),
                f"{r.nps}分" if r.score_suffix else str(r.nps),
                FREQUENCY[r.frequency],
                reasons,
                *(f"{v}分" for v in r.areas),
                *(str(v) if v else "(空)" for v in r.hygiene),
                "→".join(RANKED[k] for k in r.ranking),
                YES_NO[r.takeout],
                str(r.packaging) if r.packaging else "(跳过)",
                _empty(r.name),
                _empty(r.city),
                _empty(r.advice),
            ]
        )
    return rows


def position_rows(
    people: list[Respondent], order: tuple[str, ...] = ORDER_B, dates: bool = False
) -> list[list[object]]:
    """按选项序号: positions; the multiple choice and the ranking one column per option."""
    header = _questions_header_text()
    header = [
        *header[:2],
        *(f"第3题({label})" for label in REASONS),
        *header[3:9],
        *(f"第6题({label})" for label in RANKED),
        *header[10:],
    ]
    rows: list[list[object]] = [[*order, *header]]
    for r in people:
        ranks = {k: n for n, k in enumerate(r.ranking, start=1)}
        reasons: list[object] = []
        for k in range(len(REASONS)):
            chosen = k in r.reasons
            reasons.append(f"1〖{r.other}〗" if chosen and k == 4 and r.other else int(chosen))
        rows.append(
            [
                *_meta(r, order, dates=dates),
                r.nps + 1,
                r.frequency + 1,
                *reasons,
                *r.areas,
                *(v if v else "(空)" for v in r.hygiene),
                *(ranks.get(k, -2) for k in range(len(RANKED))),
                r.takeout + 1,
                r.packaging if r.packaging else -3,
                _empty(r.name),
                _empty(r.city),
                _empty(r.advice),
            ]
        )
    return rows


# --- the files ---------------------------------------------------------------------------------


def write_xls(path: Path, rows: list[list[object]]) -> Path:
    """A legacy BIFF workbook as 问卷星 still produces (dates as date cells, numbers as numbers)."""
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("Sheet1")
    when = xlwt.easyxf(num_format_str="yyyy/m/d h:mm:ss")
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            if isinstance(value, dt.datetime):
                sheet.write(i, j, value, when)
            else:
                sheet.write(i, j, value)
    book.save(str(path))
    return path


def write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Sheet1"
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def write_csv(path: Path, rows: list[list[object]], *, encoding: str, bom: bool) -> Path:
    """CSV with CRLF line ends and quoted newlines; UTF-8 with a BOM or GB18030 (Excel, zh)."""
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows(
        [["" if v is None else str(v) for v in row] for row in rows]
    )
    data = buffer.getvalue().encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def text_xls(folder: Path) -> Path:
    return write_xls(folder / "门店回访_0.xls", text_rows(respondents()))


def positions_xls(folder: Path) -> Path:
    return write_xls(folder / "门店回访_2.xls", position_rows(respondents(), dates=True))


def text_xlsx(folder: Path) -> Path:
    return write_xlsx(folder / "门店回访_0.xlsx", text_rows(respondents(), ORDER_B))


def positions_xlsx(folder: Path) -> Path:
    return write_xlsx(folder / "门店回访_2.xlsx", position_rows(respondents(), ORDER_A))


def text_csv(folder: Path) -> Path:
    """UTF-8 with a BOM (what 问卷星's CSV download is)."""
    rows = text_rows(respondents())
    return write_csv(folder / "门店回访_0.csv", rows, encoding="utf-8", bom=True)


def positions_csv_gb18030(folder: Path) -> Path:
    """Re-saved by Excel on Chinese Windows: GB18030, no BOM, and a name without the suffix."""
    rows = position_rows(respondents())
    return write_csv(folder / "门店回访 numbers.csv", rows, encoding="gb18030", bom=False)


WRITERS: dict[str, Callable[[Path], Path]] = {
    "wjx text .xls": text_xls,
    "wjx positions .xls": positions_xls,
    "wjx text .xlsx": text_xlsx,
    "wjx positions .xlsx": positions_xlsx,
    "wjx text .csv (UTF-8 BOM)": text_csv,
    "wjx positions .csv (GB18030)": positions_csv_gb18030,
}
"""Every 问卷星 layout and value mode, for the cross-detection test."""


def sample_files(folder: Path) -> list[Path]:
    """All the files of ``WRITERS`` written into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    return [write(folder) for write in WRITERS.values()]


def write_examples(folder: Path) -> list[Path]:
    """The README's 问卷星 example files (``examples/imports/``): the questionnaire as a cxloop
    YAML and both downloads of the same 34 respondents."""
    folder.mkdir(parents=True, exist_ok=True)
    definition = folder / f"{SURVEY_ID}.yaml"
    definition.write_text(SURVEY_YAML, encoding="utf-8")
    people = respondents()
    return [
        definition,
        write_xls(folder / f"{SURVEY_ID}_2.xls", position_rows(people, dates=True)),
        write_csv(folder / f"{SURVEY_ID}_0.csv", text_rows(people), encoding="utf-8", bom=True),
    ]
