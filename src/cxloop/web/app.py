"""``create_app(settings)``: the FastAPI application, built from one settings object."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline

from cxloop.config import Settings, get_settings
from cxloop.db.session import make_engine, make_session_factory
from cxloop.jobs import clock
from cxloop.web import access_log, errors
from cxloop.web.pages import alerts as alerts_page
from cxloop.web.pages import case_forms, overview, respond, target_forms
from cxloop.web.pages import cases as case_pages
from cxloop.web.pages import drivers as drivers_page
from cxloop.web.pages import journey as journey_page
from cxloop.web.pages import loop_health as loop_health_page
from cxloop.web.pages import people as people_pages
from cxloop.web.pages import reports as reports_page
from cxloop.web.pages import surveys as survey_pages
from cxloop.web.pages import targets as target_pages
from cxloop.web.pages import topics as topics_page
from cxloop.web.pages import unsubscribe as unsubscribe_page
from cxloop.web.pages import verbatims as verbatims_page
from cxloop.web.routers import (
    cases,
    dashboard_alerts,
    dashboard_drivers,
    dashboard_journey,
    dashboard_overview,
    dashboard_people,
    dashboard_topics,
    feedback,
    imports,
    insights,
    loop_health,
    metric_monitoring,
    metrics,
    privacy,
    records,
    reports,
    rules,
    survey_distributions,
    survey_events,
    survey_imports,
    survey_responses,
    survey_tracking,
    surveys,
    system,
    targets,
)
from cxloop.web.survey_drain import OutboxDrain

STATIC = Path(__file__).with_name("static")


def create_app(settings: Settings | None = None) -> FastAPI:
    """The app; the engine is made here, never at import time."""
    settings = settings or get_settings()
    app = FastAPIOffline(  # Swagger UI and ReDoc served from the package, never a CDN
        title="cxloop",
        version=version("cxloop"),
        description="Customer experience and voice of customer: say × do, closed loop.",
        lifespan=clock.lifespan,  # survey jobs on a clock when settings.background_jobs
    )
    engine = make_engine(settings)
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    errors.install(app)
    # the respondent form first: a submit is matched at once, not after every API route (/s/…
    # overlaps none of them)
    app.include_router(respond.router, include_in_schema=False)
    access_log.install()  # survey-link tokens never reach uvicorn's log lines
    # fixed paths first: imports and records answer any /api/v1/{kind}
    for router in (
        system.router,
        privacy.router,
        survey_distributions.router,  # POST /surveys/tick before any /surveys/{id}
        survey_events.router,  # before surveys: /surveys/{id} would catch /surveys/triggers
        survey_tracking.router,
        survey_imports.router,  # before surveys: POST /surveys/import, GET …/responses
        metric_monitoring.router,  # before metrics: /metrics/{name} would catch /targets
        metrics.router,
        targets.router,
        surveys.router,  # after the routers of fixed /api/v1/surveys/… paths
        survey_responses.router,  # before imports/records: /api/v1/{kind}/… catch all
        insights.router,
        cases.router,  # before imports/records: /api/v1/{kind} would catch /api/v1/cases
        loop_health.router,  # before records: /api/v1/{kind}/{id} would catch it
        reports.router,  # before records: /api/v1/{kind}/{id} would catch it
        dashboard_overview.router,  # before records: /api/v1/{kind}/{id} would catch it
        dashboard_alerts.router,  # before records: /api/v1/{kind}/{id} would catch it
        dashboard_journey.router,  # before records: /api/v1/{kind}/{id} would catch it
        dashboard_drivers.router,  # before records: /api/v1/{kind}/{id} would catch it
        dashboard_people.router,  # before records: /api/v1/{kind}/{id} would catch it
        dashboard_topics.router,  # before records: /api/v1/{kind}/{id} would catch it
        rules.router,  # before imports/records: /api/v1/{kind} would catch /api/v1/rules
        imports.router,
        feedback.router,  # before records: /api/v1/{kind} would catch /api/v1/feedback
        records.router,
    ):
        app.include_router(router)
    app.include_router(unsubscribe_page.router, include_in_schema=False)  # /u/{token}
    # submitted answers become feedback on this thread (started by the first submit)
    app.state.survey_drain = OutboxDrain(
        settings, app.state.session_factory, warm=settings.background_jobs
    )
    app.include_router(overview.router, include_in_schema=False)
    app.include_router(survey_pages.router, include_in_schema=False)
    app.include_router(case_pages.router, include_in_schema=False)  # /cases, /cases/{id}
    app.include_router(case_forms.router, include_in_schema=False)  # POST /cases/{id}/{action}
    app.include_router(loop_health_page.router, include_in_schema=False)  # /loop/health
    app.include_router(reports_page.router, include_in_schema=False)  # /reports…
    app.include_router(people_pages.router, include_in_schema=False)  # /customers…, /accounts/…
    app.include_router(journey_page.router, include_in_schema=False)  # /journey
    app.include_router(drivers_page.router, include_in_schema=False)  # /drivers…
    app.include_router(target_forms.router, include_in_schema=False)  # POST /targets/new
    app.include_router(target_pages.router, include_in_schema=False)  # /targets…
    app.include_router(alerts_page.router, include_in_schema=False)  # /alerts
    app.include_router(topics_page.router, include_in_schema=False)  # /topics…
    app.include_router(verbatims_page.router, include_in_schema=False)  # /feedback
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
