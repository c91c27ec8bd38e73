"""The alert rules' API operations for the role matrix in ``test_auth.py``: every role reads
the rules in force and their versions; analysts and admins save and dry-run them. On the shared
store the saved rules are an empty list (nothing else in the matrix opens a case because of
them)."""

from __future__ import annotations

from typing import Any

from tests.web.support import ROLES

ALL = frozenset(ROLES)
RULE_MANAGERS = frozenset({"admin", "analyst"})
TRY = "- {id: detractor, name: 贬损者, when: nps <= 6, severity: high}\n"

# (method, path, roles, ok status, url, body)
RULE_OPERATIONS: tuple[tuple[str, str, frozenset[str] | None, int, str | None, Any], ...] = (
    ("GET", "/api/v1/rules", ALL, 200, None, None),
    ("PUT", "/api/v1/rules", RULE_MANAGERS, 200, None, lambda: {"yaml": "[]", "note": "off"}),
    ("GET", "/api/v1/rules/versions", ALL, 200, None, None),
    ("GET", "/api/v1/rules/versions/{version}", ALL, 404, "/api/v1/rules/versions/999999", None),
    (
        "POST",
        "/api/v1/rules/dry-run",
        RULE_MANAGERS,
        200,
        None,
        lambda: {"yaml": TRY, "since": "2024-01-01"},
    ),
)
