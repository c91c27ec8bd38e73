"""A Chinese e-commerce company's in-house feedback export, as its own system writes it.

Headers 用户ID, 手机号, 打分, 留言, 渠道, 提交时间; channels as the company names them (APP, 官网,
门店, 小程序, 微信 and one no alias list knows); two scores that are not 0–10 answers and two
mistyped phone numbers. Written three ways: UTF-8 CSV, a GBK copy (what Excel on a Chinese
Windows saves) and a legacy ``.xls`` copy (what 问卷星 and old BI tools still export).
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field
from pathlib import Path

HEADERS = ("用户ID", "手机号", "打分", "留言", "渠道", "提交时间")
CHANNELS = {  # as written in the export → as cxloop stores it
    "APP": "app",
    "官网": "web",
    "门店": "store",
    "小程序": "mini_program",
    "微信": "wechat",
    "抖音直播间": "抖音直播间",  # no alias knows it: stored as written
}
COMMENTS = (
    "物流很快，包装也很好",
    "客服回复太慢了，等了两天",
    "商品质量不错，会回购",
    "价格有点贵，但是正品",
    "退货流程太麻烦",
    "APP经常闪退，体验很差",
    "门店店员很热情",
    "小程序下单很方便",
)
BAD_SCORES = ("11", "十分")  # outside 0–10, and not a number
BAD_PHONES = ("1391234567", "138123456789")  # one digit short, one digit too many


@dataclass(frozen=True)
class InhouseExport:
    """The files written and what a correct import of them must yield."""

    csv_path: Path
    gbk_path: Path
    xls_path: Path
    rows: list[dict[str, str]]
    """Every data row as written (keys are the headers)."""
    bad_score_rows: list[int]
    """Row numbers (header = row 1) whose 打分 must be quarantined."""
    bad_phone_rows: list[int]
    """Row numbers whose 手机号 must be reported as a warning, the row itself stored."""
    channels: dict[str, str] = field(default_factory=lambda: dict(CHANNELS))

    @property
    def good_rows(self) -> list[dict[str, str]]:
        """Rows that must be stored (every row but the bad-score ones)."""
        bad = set(self.bad_score_rows)
        return [row for n, row in enumerate(self.rows, start=2) if n not in bad]


def write_inhouse_export(folder: Path, *, rows: int = 40, seed: int = 11) -> InhouseExport:
    """Write the export as ``inhouse.csv`` (UTF-8), ``inhouse_gbk.csv`` and ``inhouse.xls``."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    names = list(CHANNELS)
    records: list[dict[str, str]] = []
    for i in range(rows):
        channel = names[i % len(names)]
        if i % 7 == 3:
            channel = f" {channel} "  # stray spaces around a value, as hand-kept exports have
        records.append(
            {
                "用户ID": f"U{10_000 + i}",
                "手机号": rng.choice(("138", "139", "150", "186", "188"))
                + f"{rng.randrange(10**8):08d}",
                "打分": str(rng.randint(0, 10)),
                "留言": rng.choice(COMMENTS),
                "渠道": channel,
                "提交时间": f"2026/{1 + i % 12:02d}/{1 + i % 28:02d} {9 + i % 10:02d}:{i % 60:02d}",
            }
        )
    bad_score_rows = [5, 17]
    bad_phone_rows = [8, 23]
    for number, value in zip(bad_score_rows, BAD_SCORES, strict=True):
        records[number - 2]["打分"] = value
    for number, value in zip(bad_phone_rows, BAD_PHONES, strict=True):
        records[number - 2]["手机号"] = value

    csv_path, gbk_path, xls_path = (
        folder / "inhouse.csv",
        folder / "inhouse_gbk.csv",
        folder / "inhouse.xls",
    )
    for path, encoding in ((csv_path, "utf-8"), (gbk_path, "gbk")):
        with path.open("w", encoding=encoding, newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=HEADERS)
            writer.writeheader()
            writer.writerows(records)
    _write_xls(xls_path, records)
    return InhouseExport(csv_path, gbk_path, xls_path, records, bad_score_rows, bad_phone_rows)


def _write_xls(path: Path, records: list[dict[str, str]]) -> None:
    """A real BIFF8 workbook; scores and phones as numbers, the way a BI tool writes them."""
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("导出数据")
    for col, name in enumerate(HEADERS):
        sheet.write(0, col, name)
    for row, record in enumerate(records, start=1):
        for col, name in enumerate(HEADERS):
            value: str | int = record[name]
            if name in ("打分", "手机号") and str(value).isdigit():
                value = int(value)
            sheet.write(row, col, value)
    book.save(str(path))
