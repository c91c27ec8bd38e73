"""Alert rules as the store keeps them: whole YAML versions, checked before they are saved.

A rule set is saved whole (the text a person wrote, comments kept), as a new version whose
``applies_from`` is the moment it was saved: evaluation looks only at feedback stored or changed
from then on, so saving rules never opens cases for the past (a dry run shows what they would
have done). The highest version is in force; an empty list (``[]``) switches every rule off.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cxloop.errors import Invalid, NotFound, Problem
from cxloop.loop import teams
from cxloop.loop.case_actions import naive
from cxloop.loop.hours import read_yaml
from cxloop.loop.models import RuleSetVersion
from cxloop.loop.rules import RuleSet, parse_rules


class RuleRead(BaseModel):
    """One rule as saved: what it tests and what a match opens."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    when: str
    severity: str
    topic: str | None
    team: str | None
    enabled: bool
    window_hours: float


class MetricAlertRuleRead(BaseModel):
    """One ``metric_alerts`` rule as saved: what it tests in an alert and whose case it opens."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    when: str
    severity: str
    team: str
    enabled: bool


class RuleSetRead(BaseModel):
    """A saved version of the rules (``version`` None: none saved yet, no rule is in force).

    ``changed`` is False when saving gave the text of the version in force: nothing new was
    stored and ``applies_from`` stays as it was."""

    model_config = ConfigDict(frozen=True)

    version: int | None
    rule_count: int
    enabled_count: int
    applies_from: dt.datetime | None
    created_by: str | None
    created_at: dt.datetime | None
    note: str | None
    yaml: str
    rules: list[RuleRead]
    current: bool
    changed: bool = False
    metric_alerts: list[MetricAlertRuleRead] = []
    """The rules over metric alerts (``metric_alerts:`` in the YAML; not in ``rule_count``)."""


class RuleSetVersionRead(BaseModel):
    """One line of the version history (the YAML is read with ``get_version``)."""

    model_config = ConfigDict(frozen=True)

    version: int
    rule_count: int
    applies_from: dt.datetime
    created_by: str
    created_at: dt.datetime
    note: str | None
    current: bool


class StoredRules(BaseModel):
    """The rules in force, parsed: what evaluation runs on every new or changed feedback."""

    model_config = ConfigDict(frozen=True)

    version: int
    rules: RuleSet
    applies_from: dt.datetime
    """Naive UTC, as the store keeps times: feedback with ``updated_at`` at or after it."""


def normalized(text: str) -> str:
    """The text as stored and compared: Unix line ends, no trailing blank space, one final
    newline (a file saved again from another editor is the same version)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").strip("\n").split("\n")
    return "\n".join(line.rstrip() for line in lines) + "\n"


def check_rules(*, session: Session | None, text: str) -> RuleSet:
    """The rules of ``text``, or ``Invalid`` with every problem at once: each rule's fields
    (``rules[2].when``: value, reason) and, given a session, each ``team`` that is not a stored
    team. An empty document is refused: switching every rule off is an explicit ``[]``."""
    data = _data(text)
    if data is None:
        raise Invalid(
            "is empty: write the rules, or save an empty list ([] or rules: []) to switch every "
            "rule off",
            "rules",
            "",
        )
    problems: list[Problem] = []
    rule_set = RuleSet()
    try:
        rule_set = parse_rules(data)
    except Invalid as exc:
        problems += [_hinted(p) for p in exc.problems]
    if session is not None:
        problems += _unknown_teams(session, data)
    if problems:
        raise Invalid(sorted(problems, key=_rule_order))
    return rule_set


def _data(text: str) -> Any:
    """The YAML as data, or ``Invalid``: a syntax error names its line; a value YAML cannot
    build (``2026-02-30``), an alias inside its own anchor or a nesting too deep for anyone
    to have meant it is named too, never raised as it came."""
    try:
        data = read_yaml(text)
    except (ValueError, RecursionError) as exc:
        raise Invalid(f"is not valid YAML: {str(exc)[:200]}", "yaml") from None
    try:
        json.dumps(data, default=str)
    except ValueError:
        raise Invalid("refers to itself (a YAML alias inside its own anchor)", "yaml") from None
    except RecursionError:
        raise Invalid("is nested too deeply to be rules", "yaml") from None
    return data


def _hinted(problem: Problem) -> Problem:
    """A true/false where text belongs is YAML reading a bare ``off``/``no``/``yes``: say so."""
    if isinstance(problem.value, bool) and problem.field.endswith((".id", ".name", ".team")):
        hint = "; YAML reads a bare off, no or yes as true/false: put it in quotes"
        return Problem(problem.field, problem.value, problem.reason + hint)
    return problem


def _rule_order(problem: Problem) -> tuple[int, int]:
    """Problems in the file's order: ``rules`` before ``metric_alerts``, each by rule index
    (``rules[10]`` after ``[9]``), a rule's own in the order its fields were checked (the sort
    is stable)."""
    section, _, rest = problem.field.partition("[")
    index = rest.partition("]")[0]
    if section not in ("rules", "metric_alerts") or not index.isdigit():
        return (-1, -1)
    return (0 if section == "rules" else 1, int(index))


def _unknown_teams(session: Session, data: Any) -> list[Problem]:
    sections = data if isinstance(data, dict) else {"rules": data}
    wanted = [
        (f"{section}[{i}].team", item["team"].strip())
        for section in ("rules", "metric_alerts")
        if isinstance(sections.get(section), list)
        for i, item in enumerate(sections[section])
        if isinstance(item, dict) and isinstance(item.get("team"), str) and item["team"].strip()
    ]
    if not wanted:
        return []
    known = teams.team_names(session)
    listed = ", ".join(known) if known else "none yet: save them with `cxloop teams set FILE`"
    return [
        Problem(field, team, f"is not a team (teams: {listed})")
        for field, team in wanted
        if team not in known
    ]


def save_rules(
    *, session: Session, text: str, actor: str, now: dt.datetime, note: str | None = None
) -> RuleSetRead:
    """Check ``text`` whole (``check_rules``) and store it as the next version, in force from
    ``now``; the same text as the version in force stores nothing (``changed`` False). Flushes
    only; the caller commits."""
    stored = normalized(text)
    rule_set = check_rules(session=session, text=stored)
    latest = _latest(session)
    if latest is not None and latest.yaml == stored:
        return _read(latest, rule_set, current=True)
    row = RuleSetVersion(
        version=(latest.version if latest is not None else 0) + 1,
        yaml=stored,
        rule_count=len(rule_set.rules),
        applies_from=naive(now),
        created_by=actor,
        created_at=naive(now),
        note=note.strip() if note and note.strip() else None,
    )
    session.add(row)
    session.flush()
    return _read(row, rule_set, current=True, changed=True)


def _latest(session: Session) -> RuleSetVersion | None:
    return session.scalar(select(RuleSetVersion).order_by(RuleSetVersion.version.desc()).limit(1))


@functools.lru_cache(maxsize=16)
def parsed(text: str) -> RuleSet:
    """A stored version's rules, parsed once per text per process (evaluation asks on every
    stored feedback; conditions compile once). Keyed by text, not version number, so two
    stores in one process never share a version's rules."""
    return parse_rules(read_yaml(text))


def current_rules(session: Session) -> StoredRules | None:
    """The rules in force (the highest version), or None when none were ever saved."""
    row = session.execute(
        select(RuleSetVersion.version, RuleSetVersion.yaml, RuleSetVersion.applies_from)
        .order_by(RuleSetVersion.version.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    version, text, applies_from = row
    return StoredRules(version=version, rules=parsed(text), applies_from=applies_from)


def current_read(session: Session) -> RuleSetRead:
    """The version in force with its YAML and rules; ``version`` None when none is saved."""
    latest = _latest(session)
    if latest is None:
        return RuleSetRead(
            version=None, rule_count=0, enabled_count=0, applies_from=None, created_by=None,
            created_at=None, note=None, yaml="", rules=[], current=True,
        )  # fmt: skip
    return _read(latest, parsed(latest.yaml), current=True)


def list_versions(session: Session) -> list[RuleSetVersionRead]:
    """Every saved version, newest first; the first is in force."""
    rows = list(session.scalars(select(RuleSetVersion).order_by(RuleSetVersion.version.desc())))
    return [
        RuleSetVersionRead(
            version=r.version,
            rule_count=r.rule_count,
            applies_from=r.applies_from,
            created_by=r.created_by,
            created_at=r.created_at,
            note=r.note,
            current=i == 0,
        )
        for i, r in enumerate(rows)
    ]


def get_version(session: Session, version: int) -> RuleSetRead:
    """One saved version with its YAML, or ``NotFound`` naming the versions there are."""
    row = session.scalar(select(RuleSetVersion).where(RuleSetVersion.version == version))
    if row is None:
        newest = session.scalar(select(func.max(RuleSetVersion.version)))
        there = f"versions 1–{newest}" if newest and newest > 1 else f"version {newest}"
        there = there if newest else "none saved yet"
        raise NotFound(f"no rules version {version} ({there})")
    newest = session.scalar(select(func.max(RuleSetVersion.version)))
    return _read(row, parsed(row.yaml), current=row.version == newest)


def _read(
    row: RuleSetVersion, rule_set: RuleSet, *, current: bool, changed: bool = False
) -> RuleSetRead:
    return RuleSetRead(
        version=row.version,
        rule_count=len(rule_set.rules),
        enabled_count=sum(1 for r in rule_set.rules if r.enabled),
        applies_from=row.applies_from,
        created_by=row.created_by,
        created_at=row.created_at,
        note=row.note,
        yaml=row.yaml,
        rules=[
            RuleRead(
                id=r.id,
                name=r.name,
                when=r.when.text,
                severity=r.severity,
                topic=r.topic,
                team=r.team,
                enabled=r.enabled,
                window_hours=r.window_hours,
            )
            for r in rule_set.rules
        ],
        current=current,
        changed=changed,
        metric_alerts=[
            MetricAlertRuleRead(
                id=r.id,
                name=r.name,
                when=r.when.text,
                severity=r.severity,
                team=r.team,
                enabled=r.enabled,
            )
            for r in rule_set.metric_alerts
        ],
    )
