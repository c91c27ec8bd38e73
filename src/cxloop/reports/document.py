"""The printable report: the overview's numbers (tiles with interval, n and change, targets,
open alerts) and chosen sections for the same filters, as HTML (Jinja2 templates in this
package) and PDF (WeasyPrint, which lays the same HTML out with Debian's pango; Chinese needs a
CJK font such as fonts-wqy-zenhei installed).

The numbers come from the same service functions as the dashboards and their API; sections are
any exportable view, shown as its tables (``tables``), so a new view needs no template.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import jinja2
from pydantic import BaseModel, ConfigDict

from cxloop.errors import CxloopError, Invalid
from cxloop.reports import tables as report_tables
from cxloop.reports import views
from cxloop.reports.labels import label

TEMPLATES = Path(__file__).parent / "templates"
Lang = Literal["zh", "en"]
SECTIONS = ("journey", "topics", "drivers")
"""Sections a report may add after the overview (each an exportable view of ``views``)."""
DECIMALS = {"nps": 1, "csat": 3, "ces": 2}
"""Decimals a score is printed with (NPS −100…100, CSAT a share 0…1, CES 1…7)."""
SECTION_ROWS = 25
"""Rows of each section table printed (the export carries them all)."""


class Tile(BaseModel):
    model_config = ConfigDict(frozen=True)

    metric: str
    label: str
    period: str | None = None
    n: int
    score: float | None
    ci_low: float | None
    ci_high: float | None
    change: float | None = None
    significant: bool | None = None


class Section(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    title: str
    tables: dict[str, list[dict[str, Any]]]
    problem: str | None = None


class ReportData(BaseModel):
    """Everything the report shows, computed once; the HTML and the PDF print it."""

    model_config = ConfigDict(frozen=True)

    lang: Lang
    query: str
    filters: list[tuple[str, str]]
    generated_at: dt.datetime
    tiles: list[Tile]
    alerts: list[dict[str, Any]]
    targets: list[dict[str, Any]]
    sections: list[Section]


def number(value: Any, decimals: int = 1) -> str:
    """A score as printed: fixed decimals, ``–`` for none."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int):
        return str(value)
    return f"{value:.{decimals}f}"


def check_sections(names: Sequence[str]) -> list[str]:
    unknown = [n for n in names if n not in SECTIONS]
    if unknown:
        raise Invalid(f"is not a report section ({', '.join(SECTIONS)})", "sections", unknown[0])
    return list(dict.fromkeys(names))


def _overview(
    call: views.ViewCall,
) -> tuple[list[Tile], list[dict[str, Any]], list[dict[str, Any]]]:
    """Tiles, targets and open alerts: the overview's own (``dashboards.overview``, the same
    object ``/`` and ``GET /api/v1/dashboard/overview`` show)."""
    result: Any = views.VIEWS["overview"].run(call)
    tiles = [
        Tile(
            metric=t.metric, label=t.label, period=t.period, n=t.n, score=t.score,
            ci_low=t.ci_low, ci_high=t.ci_high,
            change=t.change.difference if t.change else None,
            significant=t.change.significant if t.change else None,
        )
        for t in result.tiles
    ]  # fmt: skip
    targets = [report_tables.flat_row(t) for t in result.targets]
    alerts = [
        a.model_dump(mode="json", include={"kind", "subject", "reason", "created_at"})
        for a in result.alerts
    ]
    return tiles, targets, alerts


def collect(call: views.ViewCall, sections: Sequence[str], lang: Lang) -> ReportData:
    """The report's numbers for the filters in ``call`` (bad filters: ``Invalid``)."""
    chosen = check_sections(sections)
    tiles, targets, alerts = _overview(call)
    shown: list[Section] = []
    for name in chosen:
        title = label(lang, name.title())
        try:
            found = views.export_tables(call, name)
        except CxloopError as exc:
            shown.append(Section(name=name, title=title, tables={}, problem=str(exc)))
            continue
        found.pop(report_tables.ABOUT, None)
        shown.append(Section(name=name, title=title, tables=found))
    filters = [(k, ", ".join(v)) for k, v in sorted(call.params.items()) if k in _FILTER_KEYS]
    from urllib.parse import urlencode

    query = urlencode([(k, v) for k, vs in call.params.items() for v in vs], doseq=True)
    return ReportData(
        lang=lang,
        query=query,
        filters=filters,
        generated_at=call.now,
        tiles=tiles,
        alerts=alerts,
        targets=targets,
        sections=shown,
    )


_FILTER_KEYS = ("since", "until", "last", "where", "period")


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["number"] = number
    env.globals["columns"] = report_tables.columns
    return env


def to_html(data: ReportData) -> str:
    """The report as one self-contained HTML page (inline CSS, no request to any host)."""

    def _(text: str) -> str:
        return label(data.lang, text)

    return (
        _environment()
        .get_template("report.html")
        .render(
            data=data,
            _=_,
            decimals=DECIMALS,
            section_rows=SECTION_ROWS,
        )
    )


def to_pdf(html: str) -> bytes:
    """``html`` laid out as PDF by WeasyPrint (imported here: it loads pango at import)."""
    from weasyprint import HTML

    pdf: bytes = HTML(string=html, base_url=str(TEMPLATES)).write_pdf()
    return pdf
