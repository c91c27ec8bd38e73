"""Formbricks response exports written from respondents defined here, the way Formbricks writes
them (apps/web/lib/response/utils.ts ``getResponsesJson``, lib/utils/file-conversion.ts): one
header row, ``"<n>. <headline>"`` question columns, ``- Option ID`` columns in newer versions,
arrays joined with ``"; "``, objects as ``key: value`` lines, formula defanging with ``'``;
CSV by json2csv (strings quoted, numbers bare, no BOM) or XLSX (sheet ``Sheet1``)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

SURVEY_ID = "cm1x9surveyfb01"
FILE_STEM = "export-customer-pulse-2024-06-30-09-15-00"

PLANS = {"c1plbasic": "Basic", "c1plpro": "Pro", "c1plent": "企业版"}
USES = {
    "c2usrep": "Reports",
    "c2usalert": "Alerts",
    "c2usdash": "Dashboards, charts",
    "c2usexp": "导出",
}
RANKED = {"c3rkspeed": "Speed", "c3rkprice": "Price", "c3rksupport": "Support 支持"}
MATRIX_ROWS = ("Onboarding", "Price - value", "客服")

Q_NPS = "1. How likely are you to recommend Acme to a friend? 您向朋友推荐我们的可能性有多大?"
Q_PLAN = "2. Which plan do you use?"
Q_USES = "3. What do you use Acme for?"
Q_TEXT = "4. What should we improve? 有什么建议"
Q_CSAT = "5. How satisfied are you with our support?"
Q_MATRIX = "6. How do you rate us"
Q_RANK = "7. Rank these in order of importance"
Q_CONTACT = "8. Your contact details"
Q_CTA = "9. Book a demo"


@dataclass(frozen=True)
class Respondent:
    rid: str
    at: dt.datetime
    """Submission time, UTC."""
    finished: bool = True
    nps: int | str | None = None
    plan: str | None = None
    """An option id of PLANS, or ``other:<text>``."""
    uses: tuple[str, ...] = ()
    """Option ids of USES (``other:<text>`` allowed)."""
    improve: str = ""
    csat: int | None = None
    matrix: dict[str, str] = field(default_factory=dict)
    rank: tuple[str, ...] = ()
    contact: dict[str, str] = field(default_factory=dict)
    cta: str = ""
    user_id: str = ""
    email: str = ""
    country: str = ""
    campaign: str = ""


def _t(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2024, 6, day, hour, minute, 5, tzinfo=dt.UTC)


RESPONDENTS: tuple[Respondent, ...] = (
    Respondent("r01aa", _t(1, 9), nps=10, plan="c1plpro", uses=("c2usrep", "c2usdash"),
               improve="Nothing, it's great", csat=5,
               matrix={"Onboarding": "Good", "Price - value": "OK", "客服": "Good"},
               rank=("c3rkspeed", "c3rkprice", "c3rksupport"), user_id="cust-001",
               email="ann@example.com", country="CN", campaign="spring"),
    Respondent("r02bb", _t(1, 10, 30), nps=9, plan="c1plent", uses=("c2usexp",),
               improve="报表导出太慢，希望改进", csat=4, matrix={"Onboarding": "OK"},
               rank=("c3rkprice", "c3rkspeed", "c3rksupport"), country="CN", cta="clicked"),
    Respondent("r03cc", _t(2, 8), nps=3, plan="c1plbasic", uses=("c2usalert",),
               improve='Line one\nLine two, with "quotes"', csat=2,
               matrix={"Onboarding": "Poor", "Price - value": "Poor", "客服": "OK"},
               user_id="cust-003", country="US"),
    Respondent("r04dd", _t(2, 14), nps=7, plan="other:Startup plan, custom", uses=("c2usrep",),
               improve="=SUM(A1:A3) is what our finance team types", csat=3,
               contact={"firstName": "Li", "lastName": "Wei", "email": "li.wei@example.cn"}),
    Respondent("r05ee", _t(3, 11), nps=0, plan="c1plbasic",
               uses=("c2usrep", "other:Slack digests"), improve="-too expensive", csat=1,
               matrix={"Onboarding": "Poor", "Price - value": "Poor", "客服": "Poor"},
               rank=("c3rksupport", "c3rkspeed", "c3rkprice"), country="DE"),
    Respondent("r06ff", _t(3, 12), finished=False, nps=8, plan="c1plpro"),
    Respondent("r07gg", _t(4, 9), nps=10, plan="c1plpro", uses=("c2usdash", "c2usalert"),
               improve="More integrations please", csat=5, matrix={"客服": "Good"},
               email="g@example.com", campaign="spring", cta="clicked"),
    Respondent("r08hh", _t(4, 16), nps=6, plan="c1plbasic", uses=("c2usexp", "c2usrep"),
               improve="价格有点高", csat=3, rank=("c3rkprice", "c3rksupport", "c3rkspeed")),
    Respondent("r09ii", _t(5, 10), finished=False),
    Respondent("r10jj", _t(5, 18), nps=9, plan="c1plent", uses=("c2usrep",), csat=4,
               matrix={"Onboarding": "Good", "Price - value": "Good", "客服": "Good"},
               country="CN", user_id="cust-010"),
    Respondent("r11kk", _t(6, 7), nps=2, plan="c1plbasic", uses=("c2usalert",),
               improve="Support never answered; I waited 3 days", csat=1),
    Respondent("r12ll", _t(6, 9), nps=10, plan="c1plent", uses=("c2usdash",),
               improve="客服很好", csat=5,
               rank=("c3rkspeed", "c3rksupport", "c3rkprice"), campaign="summer"),
    Respondent("r13mm", _t(7, 13), nps=5, plan="c1plpro", uses=("c2usexp",),
               improve="@team please add SSO", csat=2, country="SG"),
    Respondent("r14nn", _t(8, 20), nps=9, plan="c1plpro", uses=("c2usrep", "c2usexp"),
               improve="", csat=4, matrix={"Onboarding": "OK", "Price - value": "OK"}),
    Respondent("r15oo", _t(9, 23, 59), nps=10, plan="c1plbasic", uses=("c2usalert",),
               improve="Fast and simple 简单好用", csat=5, country="CN"),
    Respondent("r16pp", _t(10, 0, 1), finished=False, nps=4, plan="c1plbasic", csat=2),
)  # fmt: skip
"""16 respondents: 3 partial (one with no answers), an "other" plan and use, a quoted newline,
comma and ``""``, defanged ``=``/``-``/``@`` answers, a row label holding `` - ``, contact info."""

BAD_NPS = Respondent("r17qq", _t(11, 8), nps=12, plan="c1plpro", csat=4)
"""An NPS of 12: a row the import must refuse (quarantine) rather than store."""


def without_other(respondents: tuple[Respondent, ...] = RESPONDENTS) -> tuple[Respondent, ...]:
    """The respondents with every "other, please specify" answer removed: an export without
    Option ID columns cannot tell such a text from an option (see test_formbricks)."""
    out = []
    for r in respondents:
        plan = None if (r.plan or "").startswith("other:") else r.plan
        uses = tuple(u for u in r.uses if not u.startswith("other:"))
        out.append(replace(r, plan=plan, uses=uses))
    return tuple(out)


def _label(table: dict[str, str], code: str) -> tuple[str, str]:
    if code.startswith("other:"):
        return "other", code.removeprefix("other:")
    return code, table[code]


def _defang(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def header(*, option_ids: bool = True, oldest: bool = False) -> list[str]:
    """The header row as Formbricks writes it (newer: Quotas, Option ID columns; oldest: Notes)."""
    cols = ["No.", "Response ID", "Timestamp", "Finished", "Survey ID",
            "Formbricks ID (internal)", "User ID"]  # fmt: skip
    cols += ["Notes", "Tags"] if oldest else ["Tags", "Quotas"]
    cols += ["url", "userAgent - browser", "userAgent - os", "userAgent - device", "country",
             "source", "action"]  # fmt: skip
    for q in (Q_NPS, Q_PLAN, Q_USES, Q_TEXT, Q_CSAT):
        cols.append(q)
        if option_ids and q in (Q_PLAN, Q_USES):
            cols.append(f"{q} - Option ID")
    cols += [f"{Q_MATRIX} - {row}" for row in MATRIX_ROWS]
    cols += [Q_RANK] + ([f"{Q_RANK} - Option ID"] if option_ids else [])
    cols += [Q_CONTACT, Q_CTA, "score", "campaign", "person.plan", "Verified Email"]
    return cols


def record(
    n: int, r: Respondent, *, option_ids: bool = True, oldest: bool = False, tz: str = "UTC"
) -> dict[str, Any]:
    """One respondent as ``getResponsesJson`` makes the row (missing keys = empty cells)."""
    local = r.at.astimezone(ZoneInfo(tz))
    stamp = local.strftime("%a %b %d %Y") if oldest else local.strftime("%Y-%m-%d %H:%M:%S")
    row: dict[str, Any] = {
        "No.": n, "Response ID": r.rid, "Timestamp": stamp,
        "Finished": "Yes" if r.finished else "No", "Survey ID": SURVEY_ID,
        "Formbricks ID (internal)": f"ct{r.user_id}" if r.user_id else "", "User ID": r.user_id,
        "Tags": "vip, 回访" if r.nps == 10 else "", "Quotas": "", "Notes": "",
        "url": f"https://acme.example/survey?s={SURVEY_ID}&lang=zh",
        "userAgent - browser": "Chrome", "userAgent - os": "Mac OS",
        "userAgent - device": "desktop", "country": r.country, "source": "link", "action": "",
    }  # fmt: skip
    if r.nps is not None:
        row[Q_NPS] = r.nps
    if r.plan:
        code, label = _label(PLANS, r.plan)
        row[Q_PLAN], row[f"{Q_PLAN} - Option ID"] = label, code
    if r.uses:
        pairs = [_label(USES, u) for u in r.uses]
        row[Q_USES] = "; ".join(label for _, label in pairs)
        row[f"{Q_USES} - Option ID"] = ", ".join(code for code, _ in pairs)
    row[Q_TEXT] = r.improve
    if r.csat is not None:
        row[Q_CSAT] = r.csat
    if r.matrix:
        for label in MATRIX_ROWS:
            row[f"{Q_MATRIX} - {label}"] = r.matrix.get(label, "")
    if r.rank:
        row[Q_RANK] = "; ".join(RANKED[c] for c in r.rank)
        row[f"{Q_RANK} - Option ID"] = ", ".join(r.rank)
    row[Q_CONTACT] = "\n".join(f"{k}: {v}" for k, v in r.contact.items())
    row[Q_CTA] = r.cta
    row["score"] = len(r.uses) * 10 if r.uses else ""
    row["campaign"] = r.campaign
    row["person.plan"] = "paid" if r.plan in ("c1plpro", "c1plent") else ""
    row["Verified Email"] = r.email
    return {k: _defang(v) for k, v in row.items()}


def _rows(respondents: tuple[Respondent, ...], **kw: Any) -> tuple[list[str], list[list[Any]]]:
    head = header(option_ids=kw.get("option_ids", True), oldest=kw.get("oldest", False))
    data = [record(n, r, **kw) for n, r in enumerate(respondents, start=1)]
    return head, [[d.get(h, "") for h in head] for d in data]


def csv_bytes(respondents: tuple[Respondent, ...] = RESPONDENTS, **kw: Any) -> bytes:
    """json2csv's output: strings quoted, numbers bare, ``\\n`` records, no BOM."""
    head, rows = _rows(respondents, **kw)
    out = io.StringIO(newline="")
    writer = csv.writer(out, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
    writer.writerow(head)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def write_csv(folder: Path, respondents: tuple[Respondent, ...] = RESPONDENTS, **kw: Any) -> Path:
    """The CSV download (``option_ids=False``: versions before Option ID columns; ``oldest``:
    date-only timestamps; ``tz``: the exporting server's zone)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{FILE_STEM}.csv"
    path.write_bytes(csv_bytes(respondents, **kw))
    return path


def write_xlsx(folder: Path, respondents: tuple[Respondent, ...] = RESPONDENTS, **kw: Any) -> Path:
    """The XLSX download: sheet ``Sheet1``, numbers as numbers."""
    from openpyxl import Workbook

    head, rows = _rows(respondents, **kw)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Sheet1"
    sheet.append(head)
    for row in rows:
        sheet.append([None if v == "" else v for v in row])
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{FILE_STEM}.xlsx"
    book.save(path)
    return path


def write_older_csv(folder: Path) -> Path:
    """A CSV from before the Option ID columns (same respondents, no "other" answers)."""
    return write_csv(folder, without_other(), option_ids=False)


def write_oldest_csv(folder: Path) -> Path:
    """The oldest layout: ``Notes`` column, ``Mon Jun 03 2024`` timestamps, no Option IDs."""
    return write_csv(folder, without_other(), option_ids=False, oldest=True)


WRITERS = (write_csv, write_xlsx, write_older_csv, write_oldest_csv)
"""Every layout, for the cross-detection test: each takes a folder and returns the file."""
