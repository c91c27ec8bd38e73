"""The SLA policy cases are opened and reopened with: the file ``CXLOOP_LOOP_SLA_POLICY`` names,
or a built-in one, so a store works before anyone writes a policy."""

from __future__ import annotations

import functools
from pathlib import Path

from cxloop.config import Settings
from cxloop.errors import Invalid, Problem
from cxloop.loop.sla import SlaPolicy, load_policy

DEFAULT_POLICY_YAML = """\
calendar: CN
warn_at: 0.8
targets:
  p1: {first_response: 1h, resolution: 4h}
  p2: {first_response: 2h, resolution: 8h}
  p3: {first_response: 4h, resolution: 16h}
  p4: {first_response: 8h, resolution: 40h}
"""
"""Working hours on the CN calendar (Mon–Fri 09:00–18:00, public holidays and 调休 days)."""


def sla_policy(settings: Settings) -> SlaPolicy:
    """The configured policy, or ``Invalid`` naming the setting, the file and what is wrong."""
    where = settings.loop_sla_policy
    if not where:
        return _parsed(DEFAULT_POLICY_YAML)
    path = Path(where)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = "is not a readable UTF-8 file" if path.is_file() else "is not a file"
        raise Invalid(f"{reason} ({type(exc).__name__})", "CXLOOP_LOOP_SLA_POLICY", where) from None
    try:
        return _parsed(text)
    except Invalid as exc:
        raise Invalid(
            [Problem(f"{where}: {p.field}", p.value, p.reason) for p in exc.problems]
        ) from None


@functools.lru_cache(maxsize=8)
def _parsed(text: str) -> SlaPolicy:
    """A policy per text, parsed once per process (its calendar reads the holidays package:
    about 6 ms, paid on every case request before); an edited file is new text, read anew."""
    return load_policy(text)
