"""The surveys' API operations for the role matrix in ``test_auth.py``: who may call each, and
what an allowed caller gets on the shared store (one customer, no surveys)."""

from __future__ import annotations

import uuid
from typing import Any

from tests.web.support import CUSTOMER, ROLES

ALL = frozenset(ROLES)
ADMIN = frozenset({"admin"})
MANAGERS = frozenset({"admin", "analyst"})
NONE_SUCH = "/api/v1/surveys/none-such"


def _definition() -> dict[str, Any]:
    return {
        "id": f"s-{uuid.uuid4().hex[:10]}",
        "title": "Check",
        "questions": [{"id": "nps", "type": "nps", "text": "Recommend us?"}],
    }


# (method, path, roles or None for public, ok status, url, body)
SURVEY_OPERATIONS: tuple[tuple[str, str, frozenset[str] | None, int, str | None, Any], ...] = (
    ("GET", "/api/v1/surveys", ALL, 200, None, None),
    ("POST", "/api/v1/surveys", MANAGERS, 201, None, _definition),
    ("POST", "/api/v1/surveys/validate", ALL, 200, None, _definition),
    ("GET", "/api/v1/surveys/{survey_id}", ALL, 404, NONE_SUCH, None),
    ("GET", "/api/v1/surveys/{survey_id}/versions", ALL, 404, f"{NONE_SUCH}/versions", None),
    (
        "GET",
        "/api/v1/surveys/{survey_id}/versions/{version}",
        ALL,
        404,
        f"{NONE_SUCH}/versions/1",
        None,
    ),
    ("POST", "/api/v1/surveys/{survey_id}/archive", MANAGERS, 404, f"{NONE_SUCH}/archive", None),
    (
        "POST",
        "/api/v1/surveys/{survey_id}/distributions",
        MANAGERS,
        404,
        f"{NONE_SUCH}/distributions",
        lambda: {"audience": {"kind": "anonymous"}},
    ),
    (
        "GET",
        "/api/v1/surveys/{survey_id}/distributions",
        ALL,
        404,
        f"{NONE_SUCH}/distributions",
        None,
    ),
    (
        "GET",
        "/api/v1/distributions/{distribution_id}",
        ALL,
        404,
        "/api/v1/distributions/999999",
        None,
    ),
    ("POST", "/api/v1/surveys/tick", ADMIN, 200, None, None),
    (
        "POST",
        "/api/v1/surveys/events",
        MANAGERS,
        202,
        None,
        lambda: {"event": "app_review", "customer_id": CUSTOMER["customer_id"]},
    ),
    ("GET", "/api/v1/surveys/triggers", ALL, 200, None, None),
    (
        "POST",
        "/api/v1/surveys/triggers",
        MANAGERS,
        404,
        None,
        lambda: {"survey_id": "none-such", "event": "order_delivered"},
    ),
    ("GET", "/api/v1/surveys/rates", ALL, 200, None, None),
    ("GET", "/api/v1/surveys/{survey_id}/funnel", ALL, 404, f"{NONE_SUCH}/funnel", None),
    (
        "GET",
        "/api/v1/surveys/{survey_id}/response-rates",
        ALL,
        404,
        f"{NONE_SUCH}/response-rates",
        None,
    ),
    (
        "GET",
        "/api/v1/surveys/{survey_id}/completeness",
        ALL,
        404,
        f"{NONE_SUCH}/completeness",
        None,
    ),
    # an allowed caller without a file gets 422 (the file is required), others 401/403 first
    ("POST", "/api/v1/surveys/import", MANAGERS, 422, None, None),
    (
        "GET",
        "/api/v1/surveys/{survey_id}/responses",
        ALL,
        404,
        f"{NONE_SUCH}/responses",
        None,
    ),
    # a respondent's link is its own credential: no token, and a made-up link is a 400
    ("GET", "/api/v1/respond/{token}", None, 400, "/api/v1/respond/not-a-link", None),
    (
        "POST",
        "/api/v1/respond/{token}",
        None,
        400,
        "/api/v1/respond/not-a-link",
        lambda: {"answers": {"nps": 9}},
    ),
)
