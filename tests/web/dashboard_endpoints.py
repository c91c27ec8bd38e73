"""The dashboard's API operations (issue 15) for the role matrix in ``test_auth.py``: every
role reads every view, export and report; analysts and admins save drills and named topics,
schedule reports and push or schedule target lists. Requests that would write are sent with a
body the service refuses (422) or to an unknown name (404), so the shared store stays as it is;
the drivers view is asked for without its fits (``part=none``) to keep the matrix fast."""

from __future__ import annotations

from typing import Any

from tests.web.support import CUSTOMER, ROLES

ALL = frozenset(ROLES)
LIST_MANAGERS = frozenset({"admin", "analyst"})
CUSTOMER_ID = CUSTOMER["customer_id"]

# (method, path, roles, ok status, url, body)
DASHBOARD_OPERATIONS: tuple[tuple[str, str, frozenset[str] | None, int, str | None, Any], ...] = (
    ("GET", "/api/v1/dashboard/overview", ALL, 200, None, None),
    ("GET", "/api/v1/dashboard/alerts", ALL, 200, None, None),
    ("GET", "/api/v1/dashboard/journey", ALL, 200, None, None),
    ("GET", "/api/v1/dashboard/drivers", ALL, 200, "/api/v1/dashboard/drivers?part=none", None),
    (
        "GET",
        "/api/v1/dashboard/drivers/customers",
        ALL,
        422,  # a drill needs a topic or an NPS group: refused in words, after the role check
        None,
        None,
    ),
    (
        "POST",
        "/api/v1/dashboard/drivers/target-list",
        LIST_MANAGERS,
        422,
        "/api/v1/dashboard/drivers/target-list",
        lambda: {"name": ""},
    ),
    ("GET", "/api/v1/dashboard/customers", ALL, 200, None, None),
    (
        "GET",
        "/api/v1/dashboard/customers/{customer_id}",
        ALL,
        200,
        f"/api/v1/dashboard/customers/{CUSTOMER_ID}",
        None,
    ),
    (
        "GET",
        "/api/v1/dashboard/accounts/{account_id}",
        ALL,
        404,
        "/api/v1/dashboard/accounts/none-such",
        None,
    ),
    ("GET", "/api/v1/dashboard/topics", ALL, 200, None, None),
    ("GET", "/api/v1/dashboard/topics/candidates", ALL, 200, None, None),
    (
        "POST",
        "/api/v1/dashboard/topics/candidates",
        LIST_MANAGERS,
        422,
        None,
        lambda: {"name": "", "terms": []},
    ),
    (
        "PUT",
        "/api/v1/targets/{name}/schedule",
        LIST_MANAGERS,
        404,
        "/api/v1/targets/none-such/schedule",
        lambda: {"refresh_hours": 24},
    ),
    (
        "POST",
        "/api/v1/targets/{name}/push",
        LIST_MANAGERS,
        404,
        "/api/v1/targets/none-such/push",
        None,
    ),
    (
        "GET",
        "/api/v1/reports/export/{view}.{fmt}",
        ALL,
        200,
        "/api/v1/reports/export/journey.csv",
        None,
    ),
    ("GET", "/api/v1/reports/render", ALL, 200, "/api/v1/reports/render?format=html&lang=en", None),
    ("GET", "/api/v1/reports/schedules", LIST_MANAGERS, 200, None, None),
    (
        "POST",
        "/api/v1/reports/schedules",
        LIST_MANAGERS,
        422,
        None,
        lambda: {"name": "weekly", "frequency": "weekly", "timezone": "Mars/Olympus"},
    ),
    (
        "DELETE",
        "/api/v1/reports/schedules/{schedule_id}",
        LIST_MANAGERS,
        404,
        "/api/v1/reports/schedules/999999",
        None,
    ),
)
