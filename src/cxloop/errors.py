"""Domain errors, raised once in services and mapped once at the edges (web, CLI)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class CxloopError(Exception):
    """Base of every error cxloop raises on purpose."""


class NotFound(CxloopError):
    """A named thing does not exist."""


class Conflict(CxloopError):
    """The request contradicts what is stored (e.g. a user name already taken)."""


class Forbidden(CxloopError):
    """The caller's role may not do this."""


class Unauthenticated(CxloopError):
    """No valid credentials were given."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: which field, which value, and which rule it broke."""

    field: str
    value: Any
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "value": self.value, "reason": self.reason}


class Invalid(CxloopError):
    """Input breaks one or more rules; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem] | Problem | str, field: str = "", value: Any = None):
        if isinstance(problems, str):
            problems = [Problem(field, value, problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems = problems
        super().__init__(
            "; ".join(f"{p.field or 'input'}: {p.value!r} {p.reason}" for p in problems)
        )


class UnreadableFile(CxloopError):
    """The file itself cannot be read (missing, wrong format, no header)."""
