"""Metric alerts as a page (``/alerts``): alerts of one status with the case each opened, the
metric targets judged now, and a scan button — the numbers of ``GET /api/v1/dashboard/alerts``
(``dashboards.alerts.alerts_view``, which reads what ``/api/v1/metrics/alerts`` and
``/api/v1/metrics/targets/status`` give). Every reader reads; only roles that manage lists scan
(``alert_rules.scan``, what ``POST /api/v1/metrics/alerts/scan`` runs), by a plain form.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cxloop.dashboards.alerts import alerts_view
from cxloop.errors import CxloopError
from cxloop.loop import alert_rules
from cxloop.metrics.monitoring import AlertStatus
from cxloop.privacy.models import User
from cxloop.privacy.roles import Permission, allows
from cxloop.web.deps import SessionDep, SettingsDep
from cxloop.web.errors import status_of
from cxloop.web.pages.case_forms import _same_site
from cxloop.web.pages.case_views import N_
from cxloop.web.pages.cases import signed_in, to_login
from cxloop.web.pages.templating import gettext, language, render

router = APIRouter()

STATUSES = (*(s.value for s in AlertStatus), "all")
SCANNED = ("found", "inserted", "updated", "opened", "rules_error")
WORDS = {
    "all": N_("all"),
    "open": N_("open"),
    "acknowledged": N_("acknowledged"),
    "resolved": N_("resolved"),
    "spike": N_("spike"),
    "drop": N_("drop"),
    "emerging_topic": N_("emerging topic"),
    "off_target": N_("off target"),
    "on_target": N_("on target"),
    "not_significant_off": N_("off target, not significant"),
    "no_data": N_("no data"),
    "small_n": N_("too few answers"),
    "week": N_("week"),
    "month": N_("month"),
    "quarter": N_("quarter"),
}
"""The stored codes the alert and overview pages show (alert statuses and kinds, target
statuses, periods) as msgids: ``_(words.get(code, code))`` in the templates."""


def _context(request: Request, user: User, status: str) -> dict[str, Any]:
    return {
        "user": user, "section": "alerts", "status": status, "statuses": STATUSES, "words": WORDS,
        "can_scan": allows(user.role, Permission.manage_lists),
        "api_url": "/api/v1/dashboard/alerts?" + urlencode({"status": status}),
        "scanned": {k: v for k in SCANNED if (v := request.query_params.get(k)) is not None},
    }  # fmt: skip


@router.get("/alerts", response_class=HTMLResponse)
def alerts_page(
    request: Request, session: SessionDep, settings: SettingsDep,
    status: Annotated[str, Query(max_length=16)] = "open",
) -> Response:  # fmt: skip
    """Alerts of ``status`` (open by default; ``all``) and the targets' status."""
    user = signed_in(request, session)
    if user is None:
        return to_login()
    lang, context = language(request), _context(request, user, status)
    try:
        found = alerts_view(session=session, settings=settings, status=None if status == "all"
                            else status)  # fmt: skip
    except CxloopError as exc:
        code = status_of(exc)
        return render(request, "alerts/page.html", context | {"error": str(exc)}, lang=lang,
                      status_code=code)  # fmt: skip
    shown = {"found": found, "freshness": found.freshness}
    return render(request, "alerts/page.html", context | shown, lang=lang)


def _said(done: alert_rules.ScanWithCases) -> dict[str, str | int]:
    """What the scan did, for the page's URL after the redirect."""
    said: dict[str, str | int] = {"found": done.found, "inserted": done.inserted,
                                  "updated": done.updated}  # fmt: skip
    if done.cases is not None:
        said |= {"opened": done.cases.opened} | (
            {"rules_error": done.cases.error} if done.cases.error else {}
        )
    return said


@router.post("/alerts/scan")
def scan_page(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """Scan for alerts as the API does (the alert rules open their cases), then show them."""
    user = signed_in(request, session)
    if user is None:
        return to_login()
    lang = language(request)
    if not (allows(user.role, Permission.manage_lists) and _same_site(request)):
        words = gettext(lang, "Your role may not scan for alerts; you can read them.")
        context = _context(request, user, "open") | {"error": words, "scanned": {}}
        return render(request, "alerts/page.html", context, lang=lang, status_code=403)
    done = alert_rules.scan(session=session, settings=settings, now=dt.datetime.now(dt.UTC))
    return RedirectResponse(f"/alerts?{urlencode(_said(done))}", status_code=303)
