"""What the settings configure for cases, read once per file text: the SLA policy
(``CXLOOP_LOOP_SLA_POLICY``, else a built-in one, so a store works before anyone writes a
policy), the routing rules (``CXLOOP_LOOP_ROUTING``) and the root-cause codes
(``CXLOOP_LOOP_ROOT_CAUSES``)."""

from __future__ import annotations

import functools
from pathlib import Path

from cxloop.config import Settings
from cxloop.errors import Invalid, Problem
from cxloop.loop.hours import read_yaml
from cxloop.loop.root_causes import ROOT_CAUSES, parse_root_causes
from cxloop.loop.routing import RoutingRules, load_routing
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
    return _parsed(_read(where, "CXLOOP_LOOP_SLA_POLICY"), where)


def routing_rules(settings: Settings) -> RoutingRules | None:
    """The configured routing rules, or None (unset: a rule's team, else the first team);
    ``Invalid`` names the setting, the file and each problem."""
    where = settings.loop_routing
    if not where:
        return None
    return _routing(_read(where, "CXLOOP_LOOP_ROUTING"), where)


def root_causes(settings: Settings) -> dict[str, dict[str, str]]:
    """The configured root-cause codes (code → {en, zh} labels), else the built-in list."""
    where = settings.loop_root_causes
    if not where:
        return ROOT_CAUSES
    return _causes(_read(where, "CXLOOP_LOOP_ROOT_CAUSES"), where)


def _read(where: str, setting: str) -> str:
    """A configured file's text, or ``Invalid`` naming the setting and the path."""
    path = Path(where)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = "is not a readable UTF-8 file" if path.is_file() else "is not a file"
        raise Invalid(f"{reason} ({type(exc).__name__})", setting, where) from None
    return text


def _named(exc: Invalid, where: str) -> Invalid:
    """The problems of a file, each field named ``FILE: field``."""
    return Invalid([Problem(f"{where}: {p.field}", p.value, p.reason) for p in exc.problems])


@functools.lru_cache(maxsize=8)
def _parsed(text: str, where: str = "") -> SlaPolicy:
    """A policy per text, parsed once per process (its calendar reads the holidays package:
    about 6 ms, paid on every case request before); an edited file is new text, read anew."""
    try:
        return load_policy(text)
    except Invalid as exc:
        raise _named(exc, where) from None


@functools.lru_cache(maxsize=8)
def _routing(text: str, where: str) -> RoutingRules:
    """Routing rules per text, parsed once per process (evaluation asks per stored feedback)."""
    try:
        return load_routing(text)
    except Invalid as exc:
        raise _named(exc, where) from None


@functools.lru_cache(maxsize=8)
def _causes(text: str, where: str) -> dict[str, dict[str, str]]:
    try:
        return parse_root_causes(read_yaml(text))
    except Invalid as exc:
        raise _named(exc, where) from None
