"""Drivers and outcomes: the importance × performance quadrant of a score's key drivers, the
say × do table (what saying something does to churn, orders or spend afterwards), and the
customers behind any cell, savable as a target list with the same conditions.

The numbers are the insights service's own (``analyses.drivers``, ``voice_reports.outcomes``),
taken as they come, never re-estimated. The fits take seconds, so given a session each section
is read from the stored results when one was fitted on the same data with the same parameters
(``dashboards.stored``), else fitted and stored; ``warm`` fits the page's default view ahead.

The customers behind a cell are what ``act``'s target query for that cell selects
(``act.service.preview``), so a list saved from the drill holds exactly the customers the drill
showed (read live: no fit, ~1 s on the demo store).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from cxloop.act import service as act_service
from cxloop.act.schemas import TargetQuery, TopicMention
from cxloop.config import Settings
from cxloop.dashboards import stored
from cxloop.dashboards.freshness import freshness
from cxloop.dashboards.schemas_drivers import (
    DrillCustomer,
    DrillKey,
    DrillResult,
    DrillSave,
    DrillSaved,
    DriverPoint,
    DriversOutcomesResult,
    Outcome,
    Part,
    QuadrantSection,
    SayDoRow,
    SayDoSection,
    Score,
)
from cxloop.errors import Invalid, Problem
from cxloop.insights import analyses, voice_reports
from cxloop.insights import service as insights_service
from cxloop.insights.schemas import InsightReport
from cxloop.metrics.filters import Scope
from cxloop.privacy.masking import mask_value

DRIVER_PREFIX = "negative "
"""``analyses.drivers`` names each driver "negative <first-level topic>"."""
LIST_FIELDS = ("segment", "region")
"""View filters a target list can carry (its ``segments`` and ``regions``)."""
LONGEST_DAYS = 3650
"""The longest mention window a target list takes (``TopicMention.within_days``)."""
DRILL_LIMIT = 500
MIN_MENTIONS = 30
MIN_CUSTOMERS = 30
N_BOOT = 200
"""The page's and the API's defaults: the view ``warm`` fits ahead."""


def _reason(exc: Invalid) -> str:
    """An insights refusal as one sentence for the page (the reasons, without field names)."""
    return "; ".join(p.reason for p in exc.problems)


def _has_feedback(settings: Settings, scope: Scope) -> bool:
    """Check the filters against the store (bad values: ``Invalid``, a 422) and say whether
    any feedback is stored at all."""
    from cxloop.metrics.service import check_scope

    with insights_service.open_backend(settings) as backend:
        if "feedback" not in set(backend.list_tables()):
            return False
        check_scope(backend, scope)
        return bool(int(backend.table("feedback").count().execute()))


def _quadrant(report: InsightReport, score: Score) -> QuadrantSection:
    rows = report.rows
    importance = [r["importance"] for r in rows if r["importance"] is not None]
    performance = [r["performance_scaled"] for r in rows if r["performance_scaled"] is not None]
    points = [
        DriverPoint(
            driver=r["driver"],
            topic=r["driver"].removeprefix(DRIVER_PREFIX),
            n=r["n"],
            importance=r["importance"],
            ci_low=r["ci_low"],
            ci_high=r["ci_high"],
            share=r["share"],
            coefficient=r["coefficient"],
            performance=r["performance_scaled"],
            quadrant=r["quadrant"],
            rank=r["rank"],
            vif=r["vif"],
            drill=DrillKey(topic=r["driver"].removeprefix(DRIVER_PREFIX), sentiment="negative"),
        )
        for r in rows
    ]
    return QuadrantSection(
        score=score,
        available=True,
        n=report.n,
        r_squared=report.details.get("r_squared"),
        r_squared_ci=list(report.details.get("r_squared_ci") or []),
        importance_line=float(np.median(importance)) if importance else None,
        performance_line=float(np.median(performance)) if performance else None,
        method=report.method,
        caveats=report.caveats,
        rows=points,
    )


def quadrant(
    *, settings: Settings, scope: Scope, score: Score, min_mentions: int, n_boot: int
) -> QuadrantSection:
    """Key drivers of ``score`` as quadrant points, lines at the medians (``insights.drivers``
    sets quadrants against the medians too), or the reason in words."""
    try:
        report = analyses.drivers(
            settings=settings, outcome=score, min_mentions=min_mentions, n_boot=n_boot, scope=scope
        )
    except Invalid as exc:
        return QuadrantSection(score=score, available=False, reason=_reason(exc))
    return _quadrant(report, score)


def _say_do_key(exposure: str, kind: str) -> tuple[DrillKey | None, str | None]:
    """The target-list words for an exposure, or why a list cannot say it."""
    if kind in ("complaint", "praise"):
        topic = exposure.rsplit(" ", 1)[0]
        return DrillKey(
            topic=topic, sentiment="negative" if kind == "complaint" else "positive"
        ), None
    if kind == "nps group":
        return DrillKey(nps_group="detractor"), None
    return None, f"target lists have no condition on a customer's {kind}: no customer list"


def say_do(
    *,
    settings: Settings,
    scope: Scope,
    outcome: Outcome,
    min_customers: int,
    n_boot: int,
) -> SayDoSection:
    """The say × do table for ``outcome`` (crude and adjusted effects, intervals, value at
    stake) with each row's drill, or why it cannot be estimated (no behaviour data…)."""
    try:
        report = voice_reports.outcomes(
            settings=settings,
            outcome=outcome,
            min_customers=min_customers,
            n_boot=n_boot,
            scope=scope,
        )
    except Invalid as exc:
        return SayDoSection(outcome=outcome, available=False, reason=_reason(exc))
    rows = []
    for r in report.rows:
        key, note = _say_do_key(r["exposure"], r["exposure_kind"])
        fields = {k: r.get(k) for k in SayDoRow.model_fields if k not in ("drill", "drill_note")}
        rows.append(SayDoRow(**fields, drill=key, drill_note=note))
    return SayDoSection(
        outcome=outcome,
        available=True,
        n=report.n,
        method=report.method,
        caveats=report.caveats,
        details=report.details,
        rows=rows,
    )


def _version(session: Session | None, settings: Settings) -> str | None:
    """The data version, or None (compute without storing) when there is no session or the
    store cannot say it."""
    if session is None:
        return None
    try:
        return stored.data_version(session, settings)
    except SQLAlchemyError:
        session.rollback()
        return None


def drivers_outcomes(
    *,
    settings: Settings,
    scope: Scope,
    session: Session | None = None,
    score: Score = "nps",
    outcome: Outcome = "churn",
    part: Part = "all",
    min_mentions: int = MIN_MENTIONS,
    min_customers: int = MIN_CUSTOMERS,
    n_boot: int = N_BOOT,
) -> DriversOutcomesResult:
    """The view: quadrant and say × do over the feedback in ``scope`` (``part`` picks one, for
    a page that loads each section on its own); with a ``session`` each section is read from
    or kept in the stored results."""
    has = _has_feedback(settings, scope)
    version = _version(session, settings) if has and part != "none" else None
    where = stored.scope_params(scope)
    found: dict[str, Any] = {"quadrant": None, "say_do": None}
    if has and part in ("all", "quadrant"):
        quadrant_section, done = stored.stored_or_computed(
            session,
            view="drivers.quadrant",
            params=where | {"score": score, "min_mentions": min_mentions, "n_boot": n_boot},
            version=version,
            model=QuadrantSection,
            compute=lambda: quadrant(
                settings=settings,
                scope=scope,
                score=score,
                min_mentions=min_mentions,
                n_boot=n_boot,
            ),
        )
        found["quadrant"] = quadrant_section.model_copy(update={"computed": done})
    if has and part in ("all", "say_do"):
        params = where | {"outcome": outcome, "min_customers": min_customers, "n_boot": n_boot}
        say_do_section, done = stored.stored_or_computed(
            session,
            view="drivers.say_do",
            params=params,
            version=version,
            model=SayDoSection,
            compute=lambda: say_do(
                settings=settings,
                scope=scope,
                outcome=outcome,
                min_customers=min_customers,
                n_boot=n_boot,
            ),
        )
        found["say_do"] = say_do_section.model_copy(update={"computed": done})
    return DriversOutcomesResult(
        scope=scope.describe(), has_feedback=has, freshness=freshness(settings), **found
    )


def warm(
    *,
    session: Session,
    settings: Settings,
    scores: tuple[Score, ...] = ("nps",),
    outcomes: tuple[Outcome, ...] = ("churn",),
) -> list[tuple[str, stored.Computed]]:
    """Fit and store the page's default view (no filters, default thresholds) for ``scores``
    and ``outcomes`` unless stored for the current data: each section with when it was fitted
    and whether it was already stored."""
    done: list[tuple[str, stored.Computed]] = []
    for score in scores:
        found = drivers_outcomes(
            settings=settings, scope=Scope(), session=session, score=score, part="quadrant"
        )
        if found.quadrant is not None and found.quadrant.computed is not None:
            done.append((f"quadrant {score}", found.quadrant.computed))
    for outcome in outcomes:
        found = drivers_outcomes(
            settings=settings, scope=Scope(), session=session, outcome=outcome, part="say_do"
        )
        if found.say_do is not None and found.say_do.computed is not None:
            done.append((f"say × do {outcome}", found.say_do.computed))
    return done


# --- the customers behind a cell ----------------------------------------------------------------


def _stored_case(backend: Any, field: str, values: tuple[str, ...]) -> list[str] | None:
    """Filter values as customers store them (the view matches ignoring case, a list does not),
    or None when one is not a customer's: the view also matches an account's segment or region
    (``enterprise``), which a list, selecting customers by their own, cannot say."""
    table = backend.table("customers")
    stored = table.select(value=table[field]).distinct().to_pandas()["value"].dropna()
    known = {str(v).casefold(): str(v) for v in stored}
    found = [known.get(v.casefold()) for v in values]
    return None if None in found else [v for v in found if v is not None]


def drill_query(
    *, settings: Settings, scope: Scope, key: DrillKey
) -> tuple[TargetQuery, list[str]]:
    """The target query selecting the customers behind a cell, and the view's filters it
    cannot carry (they narrow the answers analysed, a list selects customers).

    A topic cell becomes "mentioned <topic> <sentiment> within N days" where the N days reach
    back from the store's as-of date to the view's ``since`` (else its first feedback); a
    detractor cell becomes "latest NPS answer is a detractor's"; segment and region filters
    become the list's segments and regions when customers hold those values (an account's
    segment is not carried: the list would refuse it)."""
    problems = []
    if (key.topic is None) == (key.nps_group is None):
        problems.append(Problem("topic", key.topic, "give a topic or an nps_group (one of them)"))
    if key.topic is not None and key.sentiment is None:
        problems.append(Problem("sentiment", None, "a topic needs a sentiment: negative|positive"))
    if problems:
        raise Invalid(problems)
    not_carried = []
    query: dict[str, Any] = {}
    with insights_service.open_backend(settings) as backend:
        as_of = insights_service.resolve_as_of(backend, None)
        for field, values in scope.conditions().items():
            carried = _stored_case(backend, field, values) if field in LIST_FIELDS else None
            if carried is None:
                not_carried.append(f"{field}={'|'.join(values)}")
            else:
                query[f"{field}s"] = carried
        if key.topic is not None:
            start = scope.since or _first_feedback(backend) or as_of
            days = (as_of - start).days + 1
            if days > LONGEST_DAYS:
                not_carried.append(f"mentions older than {LONGEST_DAYS} days")
            query["mentioned"] = [
                TopicMention(
                    topic=key.topic,
                    sentiment=key.sentiment or "any",
                    within_days=max(1, min(days, LONGEST_DAYS)),
                )
            ]
    if key.nps_group is not None:
        query["nps_groups"] = [key.nps_group]
    if scope.until is not None and scope.until <= as_of:
        not_carried.append(
            f"until {scope.until:%Y-%m-%d %H:%M} (a list counts up to the data's end)"
        )
    if key.nps_group is not None and (scope.since or scope.until):
        not_carried.append("the period (a list reads each customer's latest NPS answer)")
    return TargetQuery.model_validate(query), not_carried


def _first_feedback(backend: Any) -> dt.datetime | None:
    f = backend.table("feedback")
    first = f.filter(f.customer_id.notnull()).created_at.min().execute()
    return None if first is None or pd.isna(first) else pd.Timestamp(first).to_pydatetime()


def _names(settings: Settings, ids: list[str], reveal_pii: bool) -> dict[str, str | None]:
    """Customer names for ``ids``, masked unless the reader may see personal data."""
    if not ids:
        return {}
    with insights_service.open_backend(settings) as backend:
        c = backend.table("customers")
        frame = c.filter(c.customer_id.isin(ids)).select("customer_id", "name").to_pandas()
    names = {str(i): None if pd.isna(n) else str(n) for i, n in frame.itertuples(index=False)}
    return {i: (n if reveal_pii else mask_value("name", n)) for i, n in names.items()}


def drill(
    *,
    settings: Settings,
    session: Session,
    scope: Scope,
    key: DrillKey,
    reveal_pii: bool = False,
    limit: int = DRILL_LIMIT,
) -> DrillResult:
    """The customers behind a cell: those its target query selects now (first ``limit``),
    each with what qualified them; names masked unless ``reveal_pii``."""
    query, not_carried = drill_query(settings=settings, scope=scope, key=key)
    found = act_service.preview(settings=settings, query=query, sample=limit, session=session)
    names = _names(settings, [str(r["customer_id"]) for r in found.sample], reveal_pii)
    customers = [
        DrillCustomer(
            customer_id=str(r["customer_id"]),
            name=names.get(str(r["customer_id"])),
            segment=r.get("segment"),
            region=r.get("region"),
            value=r.get("value"),
            churn_risk=r.get("churn_risk"),
            last_nps=r.get("last_nps"),
            topics=list(r.get("topics") or []),
            feedback_ids=list(r.get("feedback_ids") or []),
        )
        for r in found.sample
    ]
    return DrillResult(
        key=key,
        query=query,
        conditions=[f"{s.condition}: {s.remaining:,}" for s in found.steps],
        as_of=found.as_of,
        matched=found.matched,
        shown=len(customers),
        customers=customers,
        not_carried=not_carried,
        caveats=found.caveats,
        freshness=freshness(settings),
    )


def save_drill(
    *,
    session: Session,
    settings: Settings,
    scope: Scope,
    key: DrillKey,
    save: DrillSave,
    created_by: str | None,
) -> DrillSaved:
    """Save the drill's target query as a list under ``save.name`` and refresh it once, so it
    holds the drill's customers now (a name in use: ``Conflict``)."""
    query, not_carried = drill_query(settings=settings, scope=scope, key=key)
    words = f"; not carried: {', '.join(not_carried)}" if not_carried else ""
    list_in = act_service.parse_definition(
        {
            "name": save.name,
            "description": save.description or f"from /drivers ({scope.describe()}){words}",
            "query": query.model_dump(exclude_none=True),
        }
    )
    act_service.create(session=session, list_in=list_in, created_by=created_by, settings=settings)
    result = act_service.refresh(session=session, settings=settings, name=save.name, push=False)
    return DrillSaved(
        target_list=act_service.get(session=session, name=save.name),
        members=result.members,
        query=query,
    )
