"""The demo closes its own loop: teams with agents and leads, alert rules, the CN business
calendar and cases in every status, opened by the rules from the demo's own feedback.

The demo's newest two weeks of feedback are held back and imported after the teams and rules
are saved, as a new day's export would arrive; the rules then open cases from it through
``loop.evaluation`` (the same call the API and ``cxloop import`` make), each at a moment counted
back from ``now``, and ``loop_cases`` plays what the team did with each case since.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy.orm import Session, sessionmaker

from cxloop.config import Settings
from cxloop.db.session import session_scope
from cxloop.demo import loop_cases
from cxloop.demo.generator import DemoConfig, generate_company, write_files
from cxloop.demo.loop_files import HOLD_BACK_DAYS, RULES_YAML, TEAMS_YAML, VIEWER
from cxloop.demo.service import import_files
from cxloop.feedback import service as feedback_service
from cxloop.feedback.schemas import FeedbackFilter, FeedbackItem
from cxloop.ingest.schemas import ImportSummary
from cxloop.loop import case_access, evaluation, facts_store, rule_store
from cxloop.loop import service as loop_service
from cxloop.loop import tick as loop_tick
from cxloop.loop.case_reads import MAX_PAGE, utc
from cxloop.loop.facts import FeedbackFacts
from cxloop.loop.hours import read_yaml
from cxloop.loop.policy import sla_policy
from cxloop.loop.priority import priority
from cxloop.loop.rules import RuleSet, evaluate
from cxloop.loop.schemas import CaseCreate, CaseRead
from cxloop.loop.sla import SlaPolicy
from cxloop.loop.states import STATUSES, Actor
from cxloop.privacy import service as privacy_service
from cxloop.privacy.roles import Role
from cxloop.privacy.schemas import UserCreate

DEMO_ACTOR = "demo"


@dataclass(frozen=True)
class DemoUser:
    """A demo login: its role, what it is in which team, and its fresh password."""

    name: str
    role: str
    teams: str
    password: str


@dataclass
class DemoLoop:
    """What ``load_demo_with_loop`` built, for the command to print."""

    summaries: list[ImportSummary]
    users: list[DemoUser] = field(default_factory=list)
    rules_version: int = 0
    rules_enabled: int = 0
    policy: str = ""
    evaluation: dict[str, int] = field(default_factory=dict)
    by_status: dict[str, int] = field(default_factory=dict)
    warned: list[int] = field(default_factory=list)
    escalated: list[int] = field(default_factory=list)


def load_demo_with_loop(
    *,
    sessions: sessionmaker[Session],
    settings: Settings,
    folder: Path,
    config: DemoConfig | None = None,
    on_import: Callable[[ImportSummary], None] | None = None,
    now: dt.datetime | None = None,
) -> DemoLoop:
    """The demo company (``load_demo``'s files and imports) with its loop closed at ``now``
    (default: the wall clock): its newest ``HOLD_BACK_DAYS`` of feedback arrive last, after
    the teams and rules, and open the cases."""
    at = utc(now or dt.datetime.now(dt.UTC))
    config = config or DemoConfig()
    tables = generate_company(config)
    feedback = tables["feedback"]
    cut = pd.Timestamp(config.start + dt.timedelta(days=config.days - HOLD_BACK_DAYS))
    latest = feedback["created_at"] >= cut
    tables["feedback"] = feedback[~latest].reset_index(drop=True)
    folder.mkdir(parents=True, exist_ok=True)
    paths = write_files(tables, folder)
    (folder / "teams.yaml").write_text(TEAMS_YAML, encoding="utf-8")
    (folder / "rules.yaml").write_text(RULES_YAML, encoding="utf-8")
    summaries = import_files(sessions=sessions, settings=settings, paths=paths, on_import=on_import)
    built = DemoLoop(summaries=summaries)
    with session_scope(sessions) as session:
        built.users = _people(session)
        saved = rule_store.save_rules(
            session=session,
            text=RULES_YAML,
            actor=DEMO_ACTOR,
            now=dt.datetime.now(dt.UTC),  # after the older feedback was stored: not for it
            note="the demo's rules (files/rules.yaml)",
        )
        built.rules_version, built.rules_enabled = saved.version or 0, saved.enabled_count
    newest = write_files({"feedback": feedback[latest].reset_index(drop=True)}, folder / "latest")
    arrived = folder / "feedback_latest.csv"
    newest["feedback"].replace(arrived)
    (folder / "latest").rmdir()
    summaries += import_files(
        sessions=sessions, settings=settings, paths={"feedback": arrived}, on_import=on_import
    )
    policy = sla_policy(settings)
    built.policy = describe(policy)
    with session_scope(sessions) as session:
        since = cut.tz_localize(settings.timezone).tz_convert("UTC").tz_localize(None)
        ids = _arrived(session, since.to_pydatetime())
        built.evaluation = _open_cases(session, settings, policy, ids, at)
        loop_tick.tick(session=session, settings=settings, now=at)  # as `cxloop loop tick`
        cases = all_cases(session, at)
        built.by_status = {s: sum(c.status == s for c in cases) for s in STATUSES}
        kinds = {c.id: _event_kinds(session, c.id) for c in cases}
        built.escalated = [i for i, k in kinds.items() if "escalated" in k]
        built.warned = [i for i, k in kinds.items() if "warned" in k and "escalated" not in k]
    return built


def describe(policy: SlaPolicy) -> str:
    """``CN calendar (Asia/Shanghai): p1 1h/4h · … · warned at 80 %`` for the demo's output."""
    targets = " · ".join(
        f"{level} {_hours(t.first_response)}/{_hours(t.resolution)}"
        for level, t in policy.targets.items()
    )
    country = policy.calendar.country or "custom"
    return (
        f"{country} business calendar ({policy.calendar.timezone}): first response/resolution "
        f"{targets} business hours, warned at {policy.warn_at:.0%}"
    )


def _hours(length: dt.timedelta) -> str:
    return f"{length.total_seconds() / 3600:g}h"


def _people(session: Session) -> list[DemoUser]:
    """The teams of ``TEAMS_YAML`` saved, and a login for each member and for a viewer."""
    saved = case_access.save_teams(
        session=session, teams_in=case_access.parse_teams(read_yaml(TEAMS_YAML))
    )
    where: dict[str, list[str]] = {}
    for team in saved:
        for member in team.members:
            where.setdefault(member.name, []).append(f"{team.name} {member.role}")
    users = [(name, Role.agent, ", ".join(teams)) for name, teams in where.items()]
    users.append((VIEWER, Role.viewer, "reads cases masked and loop health"))
    out = []
    for name, role, teams in users:
        password = secrets.token_urlsafe(9)
        privacy_service.create_user(
            session=session, user_in=UserCreate(username=name, password=password, role=role)
        )
        out.append(DemoUser(name, role.value, teams, password))
    return out


def _open_cases(
    session: Session, settings: Settings, policy: SlaPolicy, ids: list[str], now: dt.datetime
) -> dict[str, int]:
    """The latest feedback through the rules: each feedback that opens a case is evaluated at
    the moment its script says; the rest at ``now``. Then one case opened by hand (``new``)."""
    stored = rule_store.current_rules(session)
    assert stored is not None  # saved just before
    facts = facts_store.facts_for(session, ids, now=now)
    opened: dict[tuple[str, str], str] = {}
    openers: dict[str, str] = {}  # feedback id → the priority of the first case it opens
    joins: dict[str, str] = {}  # feedback id → the feedback whose case it joins
    for feedback_id in ids:
        found = facts.get(feedback_id)
        for match in evaluate(stored.rules, found) if found is not None else []:
            assert found is not None
            who = loop_service.dedupe_key(found.customer_id, found.account_id, feedback_id)
            if (who, match.topic) in opened:
                joins.setdefault(feedback_id, opened[who, match.topic])
                continue
            opened[who, match.topic] = feedback_id
            guess = priority(match.severity, found.value_percentile, found.churn_risk)
            openers.setdefault(feedback_id, guess.level)
    reachable = {i: bool(facts[i].customer_id) for i in openers}
    scripts, quiet = _settle(session, stored.rules, (openers, reachable), policy, now)
    when: dict[str, dt.datetime] = {}
    counts = evaluation.EvaluationCounts()
    for feedback_id, at in quiet.items():  # matches today, not on the day it is placed
        counts.add(_evaluate(session, settings, [feedback_id], at))
    for feedback_id, planned in scripts.items():
        when[feedback_id] = loop_cases.opened_at(planned, policy, openers[feedback_id], now)
        counts.add(_evaluate(session, settings, [feedback_id], when[feedback_id]))
    for feedback_id, case_of in joins.items():
        if feedback_id not in openers and case_of in when:
            later = when[case_of] + dt.timedelta(minutes=30)
            counts.add(_evaluate(session, settings, [feedback_id], min(later, now)))
    rest = [i for i in ids if i not in openers and (i not in joins or joins[i] not in when)]
    counts.add(_evaluate(session, settings, rest, now))
    for case in all_cases(session, now):
        script = scripts.get(case.origin_feedback_id or "")
        if script is not None:
            loop_cases.run(
                session=session,
                settings=settings,
                case=case,
                script=script,
                policy=policy,
                now=now,
            )
    _by_hand(session, policy, facts, rest, now)
    return counts.as_counts()


def _settle(
    session: Session,
    rules: RuleSet,
    who: tuple[dict[str, str], dict[str, bool]],
    policy: SlaPolicy,
    now: dt.datetime,
) -> tuple[dict[str, loop_cases.Script], dict[str, dt.datetime]]:
    """Scripts for the feedback that opens a case at the moment its script places it, and the
    moments of those that do not: a customer's value percentile is the year's spend before
    the moment evaluated, so one near a threshold may match today but not a week ago. Without
    this the scripts would shift by one and a status could go missing from the queue.
    ``who``: each opener's priority level, and whether it has a customer to ask."""
    openers, reachable = who
    ids, quiet = list(openers), dict[str, dt.datetime]()
    for _ in range(len(openers) + 1):
        planned = dict(zip(ids, loop_cases.plan(len(ids)), strict=True))
        scripts = loop_cases.reachable_first(planned, reachable)
        dropped: dict[str, dt.datetime] = {}
        for feedback_id, script in scripts.items():
            at = loop_cases.opened_at(script, policy, openers[feedback_id], now)
            found = facts_store.facts_for(session, [feedback_id], now=at).get(feedback_id)
            if found is None or not evaluate(rules, found):
                dropped[feedback_id] = at
        if not dropped:
            return scripts, quiet
        quiet.update(dropped)
        ids = [i for i in ids if i not in dropped]
    raise AssertionError("unreachable: each round drops at least one feedback")


def _arrived(session: Session, since: dt.datetime) -> list[str]:
    """The feedback created from ``since`` (naive UTC), oldest first: the rows held back."""
    filters = FeedbackFilter(since=since)
    found: list[FeedbackItem] = []
    while True:
        page = feedback_service.list_feedback(
            session=session,
            filters=filters,
            limit=500,
            count=False,
            after=found[-1] if found else None,
        )
        found += page.items
        if len(page.items) < 500:
            return [item.feedback_id for item in reversed(found)]


def _evaluate(
    session: Session, settings: Settings, ids: list[str], at: dt.datetime
) -> evaluation.EvaluationCounts:
    return evaluation.evaluate_ids(session=session, settings=settings, feedback_ids=ids, now=at)


def _by_hand(
    session: Session,
    policy: SlaPolicy,
    facts: dict[str, FeedbackFacts],
    unmatched: list[str],
    now: dt.datetime,
) -> None:
    """A lead logs a phone call about the newest unhappy answer no rule caught: a ``new`` case
    in the team's queue, nobody's yet."""
    unhappy = [
        i
        for i in unmatched
        if facts[i].customer_id and facts[i].sentiment == "negative" and facts[i].topics
    ]
    if not unhappy:
        return
    chosen = facts[unhappy[-1]]
    loop_service.open_by_hand(
        session=session,
        case_in=CaseCreate(
            title="客户来电：问题还没解决，请回电 · customer phoned, call back",
            severity="medium",
            customer_id=chosen.customer_id,
            topic=chosen.topics[0],
            team="客服一组",
            feedback_ids=[unhappy[-1]],
        ),
        policy=policy,
        actor=Actor("chen.lead", loop_cases.AGENT),
        now=loop_cases.back(policy.calendar, now, 0.05),
    )


def all_cases(session: Session, now: dt.datetime) -> list[CaseRead]:
    """Every stored case, oldest first (the queue's pages, whatever their status)."""
    found: list[CaseRead] = []
    while True:
        page = loop_service.queue(
            session=session, now=now, statuses=STATUSES, limit=MAX_PAGE, offset=len(found)
        )
        found += page.items
        if not page.items or len(found) >= page.total:
            return sorted(found, key=lambda c: c.id)


def _event_kinds(session: Session, case_id: int) -> set[str]:
    return {e.kind for e in loop_service.get_case(session=session, case_id=case_id).history}
