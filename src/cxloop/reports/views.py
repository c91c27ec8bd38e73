"""The views reports can export: name → the service function behind the view's page and API,
called with the view's query parameters (the page's URL query string), giving a pydantic result
(flattened generically by ``tables``) or ready tables.

A view is registered here once its service exists; its parameters are read the way its API
reads them (``since``/``until``/``last``/``where`` through ``metrics.filters.parse_scope``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.orm import Session

from cxloop.act import service as act_service
from cxloop.config import Settings
from cxloop.dashboards import drivers
from cxloop.dashboards.drivers import drivers_outcomes
from cxloop.dashboards.journey import journey_map
from cxloop.dashboards.overview import overview
from cxloop.dashboards.schemas_drivers import Outcome, Part, Score
from cxloop.dashboards.topics import explore
from cxloop.errors import Invalid, Problem
from cxloop.metrics import service as metrics_service
from cxloop.metrics.filters import Scope, parse_scope
from cxloop.reports import tables as report_tables

Params = Mapping[str, Sequence[str]]
"""A query string parsed keeping repeats (``urllib.parse.parse_qs``)."""


@dataclass(frozen=True)
class ViewCall:
    """What a view's service needs: the unit of work, settings, the query, the reader's
    masking (``reveal_pii``) and role (viewers: no person-level slices), and the moment."""

    session: Session
    settings: Settings
    params: Params
    role: str
    reveal_pii: bool
    now: dt.datetime

    def one(self, name: str, default: str | None = None) -> str | None:
        values = [v for v in self.params.get(name, ()) if v.strip()]
        return values[-1].strip() if values else default

    def many(self, name: str) -> list[str]:
        return [v.strip() for v in self.params.get(name, ()) if v.strip()]

    def scope(self) -> Scope:
        return parse_scope(
            self.one("since"),
            self.one("until"),
            self.one("last"),
            self.many("where"),
            now=self.now.astimezone(dt.UTC).replace(tzinfo=None),
        )


Runner = Callable[[ViewCall], BaseModel | report_tables.Tables]


@dataclass(frozen=True)
class View:
    name: str
    title: str
    run: Runner


VIEWS: dict[str, View] = {}


def register(name: str, title: str) -> Callable[[Runner], Runner]:
    def add(fn: Runner) -> Runner:
        VIEWS[name] = View(name, title, fn)
        return fn

    return add


def export_tables(call: ViewCall, name: str) -> report_tables.Tables:
    """The named view's result as tables, with the query that produced it in ``about``."""
    view = VIEWS.get(name)
    if view is None:
        raise Invalid("is not a view that exports (" + ", ".join(sorted(VIEWS)) + ")", "view", name)
    result = view.run(call)
    about = [("view", name), ("as_of", call.now.isoformat(timespec="seconds"))]
    about += [(k, ";".join(v)) for k, v in sorted(call.params.items()) if k not in ("lang",)]
    if isinstance(result, BaseModel):
        return report_tables.tables(result, about=about)
    found = dict(result)
    found[report_tables.ABOUT] = [{"field": k, "value": v} for k, v in about] + found.get(
        report_tables.ABOUT, []
    )
    return found


def _by(call: ViewCall) -> list[str]:
    return [part for item in call.many("by") for part in item.split(",") if part.strip()]


@register("metrics", "Metric by slice")
def _metrics(call: ViewCall) -> BaseModel:
    """``GET /api/v1/metrics/{metric}``: ``metric`` (nps, csat, ces…), ``by``, ``period``."""
    return metrics_service.report(
        settings=call.settings,
        name=call.one("metric", "nps") or "nps",
        by=_by(call),
        period=call.one("period"),
        hide_singletons=call.role == "viewer",
        scope=call.scope(),
    )


@register("target_list", "Target list members")
def _target_list(call: ViewCall) -> report_tables.Tables:
    """A saved target list's members (ids and non-personal facts, as ``targets export``)."""
    name = call.one("name")
    if not name:
        raise Invalid("is required: the target list's name", "name", "")
    frame = act_service.members(session=call.session, name=name)
    rows = [report_tables.flat_row(r) for r in frame.to_dict(orient="records")]
    about = act_service.about(session=call.session, name=name)
    return {
        "members": rows,
        report_tables.ABOUT: [{"field": k, "value": v} for k, v in about],
    }


@register("loop_health", "Loop health")
def _loop_health(call: ViewCall) -> BaseModel:
    """``GET /api/v1/loop/health``: ``by``, ``since``, ``until``."""
    from cxloop.loop.health_store import loop_health

    scope = call.scope()
    return loop_health(
        session=call.session,
        settings=call.settings,
        now=call.now,
        by=call.one("by"),
        since=scope.since,
        until=scope.until,
    )


@register("overview", "Overview")
def _overview(call: ViewCall) -> BaseModel:
    """``GET /api/v1/dashboard/overview``: ``period`` (month, week, quarter) and the scope."""
    period = call.one("period", "month") or "month"
    return overview(
        session=call.session, settings=call.settings, scope=call.scope(), period=period,
        now=call.now,
    )  # fmt: skip


@register("journey", "Journey map")
def _journey(call: ViewCall) -> BaseModel:
    """``GET /api/v1/dashboard/journey``: ``metric`` (nps, csat, ces, sentiment)."""
    metric = call.one("metric", "nps") or "nps"
    return journey_map(
        session=call.session, settings=call.settings, metric=metric, scope=call.scope()
    )


@register("topics", "Topic explorer")
def _topics(call: ViewCall) -> BaseModel:
    """``GET /api/v1/dashboard/topics``: ``period``; examples masked by the reader's role."""
    lang: Literal["zh", "en"] = "en" if call.one("lang") == "en" else "zh"
    return explore(
        session=call.session, settings=call.settings, scope=call.scope(),
        period=call.one("period", "month") or "month", lang=lang, reveal_pii=call.reveal_pii,
    )  # fmt: skip


@register("drivers", "Drivers and outcomes")
def _drivers(call: ViewCall) -> BaseModel:
    """``GET /api/v1/dashboard/drivers``: ``score``, ``outcome``, ``part``; the fits stored for
    the same data and parameters are read, as the page and API read them (no refit per file)."""
    choices = {key: value for key in _DriversChoice.model_fields if (value := call.one(key))}
    try:
        keywords = _DriversChoice.model_validate(choices)
    except ValidationError as exc:
        raise Invalid(
            [Problem(str(e["loc"][0]), e["input"], e["msg"]) for e in exc.errors()]
        ) from None
    return drivers_outcomes(
        settings=call.settings, scope=call.scope(), session=call.session,
        **keywords.model_dump(),
    )  # fmt: skip


class _DriversChoice(BaseModel):
    """The drivers view's choices as its API reads them (``DriversQuery`` in the web layer; an
    unknown one is refused, not a 500), so a download holds the API's numbers for its URL."""

    score: Score = "nps"
    outcome: Outcome = "churn"
    part: Part = "all"
    min_mentions: int = Field(drivers.MIN_MENTIONS, ge=1, le=1_000_000)
    min_customers: int = Field(drivers.MIN_CUSTOMERS, ge=5, le=1_000_000)
    n_boot: int = Field(drivers.N_BOOT, ge=20, le=2000)
