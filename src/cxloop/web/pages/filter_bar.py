"""The shared filter bar of the dashboard pages (``templates/dashboard/filters.html``): the
scope (since, until, last, where per field) and the period, read back from the URL as typed, so
a bad value is shown where the user can fix it and a view is shared by its link.

A page builds it with ``filter_bar(request, options, action="/journey")`` and puts it in the
context as ``filter_bar``; the template includes ``dashboard/filters.html``. Page-specific
selects (``metric=…``) go in ``extra``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode

from fastapi import Request

from cxloop.dashboards.filters import FilterOptions
from cxloop.metrics.filters import WHERE_ALIASES, WHERE_FIELDS
from cxloop.web.pages.case_views import N_

FIELD_LABELS = {
    "segment": N_("Segment"),
    "region": N_("Region"),
    "channel": N_("Channel"),
    "touchpoint": N_("Touchpoint"),
    "account": N_("Account"),
    "role": N_("Role"),
    "language": N_("Language of the answer"),
}
PERIOD_LABELS = {
    "week": N_("Week"),
    "month": N_("Month"),
    "quarter": N_("Quarter"),
}
SCOPE_KEYS = ("since", "until", "last", "where")


@dataclass(frozen=True)
class Extra:
    """A page-specific select: ``name`` in the URL, its label msgid, (value, label) choices."""

    name: str
    label: str
    choices: Sequence[tuple[str, str]]
    selected: str = ""


@dataclass(frozen=True)
class WhereField:
    """One where field as the bar shows it: a select of stored values (or a typed field with
    suggestions when there are too many), with the URL's values selected even if unknown."""

    name: str
    label: str
    options: list[str]
    selected: list[str]
    typed: bool


@dataclass(frozen=True)
class FilterBar:
    action: str
    since: str
    until: str
    last: str
    fields: list[WhereField]
    period: str | None
    periods: Sequence[tuple[str, str]]
    extra: Sequence[Extra] = field(default_factory=tuple)
    query: str = ""
    """The URL's filter parameters, encoded: append to ``/api/v1/dashboard/<view>?``."""


def _where(request: Request) -> dict[str, list[str]]:
    """The URL's ``where=field=value`` items per field (malformed ones are left to the
    scope parser, which names them)."""
    chosen: dict[str, list[str]] = {}
    for item in request.query_params.getlist("where"):
        name, sep, value = item.replace(":", "=", 1).partition("=")
        key = WHERE_ALIASES.get(name.strip().lower(), name.strip().lower())
        if sep and value.strip():
            chosen.setdefault(key, []).append(value.strip())
    return chosen


def filter_query(request: Request, names: Sequence[str] = ()) -> str:
    """The URL's scope parameters and ``names`` (period, metric…), in their order, encoded;
    empty values and ``lang`` left out."""
    keep = set(SCOPE_KEYS) | set(names)
    items = [(k, v) for k, v in request.query_params.multi_items() if k in keep and v.strip()]
    return urlencode(items, safe="=:")  # where=region=上海 reads as typed, not region%3D…


def filter_bar(
    request: Request,
    options: FilterOptions,
    *,
    action: str,
    period: str | None = None,
    extra: Sequence[Extra] = (),
    omit: Sequence[str] = (),
) -> FilterBar:
    """The bar for ``action`` with the URL's values; ``period`` None: no period select;
    ``omit``: where fields the page asks for with its own inputs (shown once, not twice)."""
    params = request.query_params
    chosen = _where(request)
    fields = []
    for name in WHERE_FIELDS:
        if name in omit:
            continue
        known = options.values.get(name, [])
        selected = chosen.get(name, [])
        shown = known + [v for v in selected if v not in known]
        fields.append(
            WhereField(
                name=name,
                label=FIELD_LABELS[name],
                options=shown,
                selected=selected,
                typed=name in options.more,
            )
        )
    names = ["period", *(e.name for e in extra)] if period else [e.name for e in extra]
    return FilterBar(
        action=action,
        since=params.get("since", ""),
        until=params.get("until", ""),
        last=params.get("last", ""),
        fields=fields,
        period=period,
        periods=list(PERIOD_LABELS.items()),
        extra=extra,
        query=filter_query(request, names),
    )
