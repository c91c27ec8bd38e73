"""The cases' and teams' API operations for the role matrix in ``test_auth.py``: who may call
each, and what an allowed caller gets on the shared store (no teams, no cases)."""

from __future__ import annotations

from typing import Any

from tests.web.support import ROLES

ALL = frozenset(ROLES)
ADMIN = frozenset({"admin"})
WORKERS = frozenset({"admin", "agent"})
NONE_SUCH = "/api/v1/cases/999999"
ACTIONS: dict[str, Any] = {
    "take": None,
    "assign": lambda: {"owner": "wang.fang"},
    "start": None,
    "wait": None,
    "note": lambda: {"text": "called back"},
    "contact": lambda: {"channel": "phone", "summary": "called back"},
    "root-cause": lambda: {"code": "delivery"},
    "resolve": None,
    "reopen": None,
    "close": None,
}

# (method, path, roles, ok status, url, body)
CASE_OPERATIONS: tuple[tuple[str, str, frozenset[str] | None, int, str | None, Any], ...] = (
    ("GET", "/api/v1/cases", ALL, 200, None, None),
    (
        "POST",
        "/api/v1/cases",
        WORKERS,
        422,  # no such team on the shared store
        None,
        lambda: {"title": "Late again", "severity": "high", "team": "none-such"},
    ),
    ("GET", "/api/v1/cases/{case_id}", ALL, 404, NONE_SUCH, None),
    ("GET", "/api/v1/cases/{case_id}/story", ALL, 404, f"{NONE_SUCH}/story", None),
    *(
        ("POST", f"/api/v1/cases/{{case_id}}/{action}", WORKERS, 404, f"{NONE_SUCH}/{action}", body)
        for action, body in ACTIONS.items()
    ),
    ("GET", "/api/v1/teams", ALL, 200, None, None),
    (
        "PUT",
        "/api/v1/teams",
        ADMIN,
        200,
        None,
        lambda: [{"name": "matrix", "lead": "admin", "members": [{"name": "agent"}]}],
    ),
)
