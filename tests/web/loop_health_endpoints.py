"""Loop health's API operation for the role matrix in ``test_auth.py``: every reader may call
it (viewers read loop health), and on the shared store (no cases) it answers 200."""

from __future__ import annotations

from typing import Any

from tests.web.support import ROLES

# (method, path, roles, ok status, url, body)
LOOP_HEALTH_OPERATIONS: tuple[tuple[str, str, frozenset[str] | None, int, str | None, Any], ...] = (
    ("GET", "/api/v1/loop/health", frozenset(ROLES), 200, "/api/v1/loop/health?by=team", None),
)
