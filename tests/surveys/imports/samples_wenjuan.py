"""Exports read through a confirmed column mapping (``--tool wenjuan --columns FILE``).

问卷网 publishes no export layout, so these samples use the layout common in Chinese parsing
code — which is 腾讯问卷's (``编号, 开始答题时间, 结束答题时间, 答题时长, 地理位置…, 自定义字段,
"1.题目"``) — written as a GB18030 CSV (Excel's Chinese code page) and as an .xlsx with a title
row above the header; the mapping names every column the import reads."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Q_NPS = "1.您向朋友推荐我们的可能性有多大？"
Q_CSAT = "2.您对本次服务满意吗？"
Q_WHY = "3.您选择我们的原因是？"
Q_TEXT = "4.您还有什么建议？"
Q_MATRIX = ("5.请评价-环境", "5.请评价-服务", "5.请评价-价格")
Q_GENDER = "6.您的性别"
REASONS = ("价格实惠", "服务好", "离家近", "朋友推荐")
SEPARATOR = "|"


@dataclass(frozen=True)
class Answer:
    rid: str
    start: dt.datetime
    seconds: int
    place: tuple[str, str, str] = ("中国", "上海", "上海")
    nps: int | str | None = None
    csat: int | None = None
    why: tuple[str, ...] = ()
    text: str = ""
    matrix: dict[int, int] = field(default_factory=dict)
    gender: str = ""
    custom: str = ""


def _t(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2024, 5, day, hour, minute, 0)


ANSWERS: tuple[Answer, ...] = (
    Answer("1", _t(1, 9), 65, nps=10, csat=5, why=("服务好", "离家近"), text="很好，继续保持",
           matrix={0: 5, 1: 5, 2: 4}, gender="女", custom="wx-001"),
    Answer("2", _t(1, 9, 30), 40, nps=9, csat=4, why=("价格实惠",), matrix={0: 4, 1: 4, 2: 5},
           gender="男"),
    Answer("3", _t(1, 11), 120, ("中国", "北京", "北京"), nps=6, csat=3, why=("离家近",),
           text='排队太久,"等了半小时"\n希望增加窗口', matrix={0: 3, 1: 2, 2: 3}, gender="男"),
    Answer("4", _t(2, 8), 31, nps=0, csat=1, why=("价格实惠", "朋友推荐"),
           text="Service was slow, prices high", matrix={0: 1, 1: 1, 2: 2}, gender="女"),
    Answer("5", _t(2, 12), 55, ("中国", "广东", "深圳"), nps=8, csat=4, why=("服务好",),
           gender="女", custom="wx-005"),
    Answer("6", _t(3, 19), 70, nps=10, csat=5, why=("服务好", "价格实惠", "朋友推荐"),
           text="店员很热情", matrix={0: 5, 1: 5, 2: 5}),
    Answer("7", _t(3, 20), 25, ("", "", ""), nps=3, csat=2, why=("离家近",), text="卫生一般",
           matrix={0: 2, 1: 3, 2: 2}, gender="男"),
    Answer("8", _t(4, 10), 90, nps=7, csat=3, matrix={1: 3}),
    Answer("9", _t(4, 15), 48, ("中国", "浙江", "杭州"), nps=9, csat=5, why=("朋友推荐",),
           text="", matrix={0: 4, 1: 5, 2: 4}, gender="女"),
    Answer("10", _t(5, 9), 33, nps=5, csat=2, why=("价格实惠",), text="价格偏高",
           matrix={0: 3, 1: 3, 2: 1}, gender="男"),
    Answer("11", _t(5, 22, 59), 61, nps=10, csat=5, why=("服务好",), gender="女"),
    Answer("12", _t(6, 7), 44, nps=4, csat=2, text="Too noisy; no parking", gender="男"),
)  # fmt: skip
"""12 respondents: Chinese and English texts, a quoted newline/comma/``""``, blank answers,
an empty location, multi-choice joined with ``|``."""

BAD = (
    Answer("13", _t(7, 9), 30, nps=11, csat=4),
    Answer("14", _t(7, 10), 30, nps=8, csat=4, why=("外卖",)),
)
"""Rows the import must refuse: an NPS of 11; a reason that is not one of the options."""


def header() -> list[str]:
    return [
        "编号", "开始答题时间", "结束答题时间", "答题时长", "地理位置国家和地区", "地理位置省",
        "地理位置市", "自定义字段", Q_NPS, Q_CSAT, Q_WHY, Q_TEXT, *Q_MATRIX, Q_GENDER,
    ]  # fmt: skip


def row(a: Answer) -> list[Any]:
    end = a.start + dt.timedelta(seconds=a.seconds)
    return [
        a.rid,
        a.start.strftime("%Y/%m/%d %H:%M:%S"),
        end.strftime("%Y/%m/%d %H:%M:%S"),
        f"{a.seconds}秒",
        *a.place,
        a.custom,
        "" if a.nps is None else a.nps,
        "" if a.csat is None else a.csat,
        SEPARATOR.join(a.why),
        a.text,
        *[a.matrix.get(k, "") for k in range(3)],
        a.gender,
    ]


def mapping(*, header_row: int = 1, options: bool = True) -> dict[str, Any]:
    """The mapping a user confirms for this layout (``options``: the reasons listed in order)."""
    why: dict[str, Any] = {"column": Q_WHY, "type": "multiple", "separator": SEPARATOR}
    if options:
        why["options"] = list(REASONS)
    return {
        "header_row": header_row,
        "id_column": "编号",
        "start_column": "开始答题时间",
        "time_column": "结束答题时间",
        "timezone": "Asia/Shanghai",
        "location_columns": ["地理位置国家和地区", "地理位置省", "地理位置市"],
        "external_reference_column": "自定义字段",
        "title": "门店满意度调查",
        "questions": [
            {"column": Q_NPS, "type": "nps", "id": "nps"},
            {"column": Q_CSAT, "type": "csat"},
            why,
            {"column": Q_TEXT, "type": "text"},
            {"columns": list(Q_MATRIX), "type": "matrix", "scale": [1, 5]},
            {"column": Q_GENDER, "type": "single"},
        ],
    }


def write_csv(folder: Path, answers: tuple[Answer, ...] = ANSWERS) -> Path:
    """A GB18030 CSV (what Excel's "save as CSV" writes on a Chinese system), CRLF records."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header())
    writer.writerows(row(a) for a in answers)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "门店满意度调查.csv"
    path.write_bytes(out.getvalue().encode("gb18030"))
    return path


def write_xlsx(folder: Path, answers: tuple[Answer, ...] = ANSWERS) -> Path:
    """An .xlsx with a title row above the header (``header_row: 2``), numbers as numbers."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["门店满意度调查 - 答卷数据"])
    sheet.append(header())
    for a in answers:
        sheet.append([None if v == "" else v for v in row(a)])
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "门店满意度调查.xlsx"
    book.save(path)
    return path


def write_mapping(folder: Path, **kw: Any) -> Path:
    """The mapping as the JSON file ``--columns`` reads."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"mapping-{kw.get('header_row', 1)}.json"
    path.write_text(json.dumps(mapping(**kw), ensure_ascii=False, indent=2), encoding="utf-8")
    return path


WRITERS = (write_csv, write_xlsx)
"""Every layout, for the cross-detection test (the wenjuan reader itself never sniffs)."""
