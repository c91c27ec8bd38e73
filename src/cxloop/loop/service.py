"""Cases: opened by alert rules (de-duplicated) or by hand; the one door callers use
(``from cxloop.loop import service as loop_service``), so the work actions of
``case_actions`` and the reads of ``case_reads`` are re-exported here.

Every function takes the ``actor`` and ``now`` (an injectable clock: aware, or naive UTC) and
only flushes; the caller commits.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.errors import Invalid, Problem
from cxloop.feedback.models import Feedback
from cxloop.loop import case_locks, routing, teams
from cxloop.loop.case_actions import (
    allow,
    assign,
    close,
    close_unverified,
    event,
    give,
    log_contact,
    naive,
    note,
    reopen,
    resolve,
    set_root_cause,
    start,
    take,
    verify,
    wait_on_customer,
)
from cxloop.loop.case_reads import case_read, get_case, queue, utc
from cxloop.loop.facts import FeedbackFacts
from cxloop.loop.models import Case, CaseEvent, CaseFeedback
from cxloop.loop.priority import Priority, priority
from cxloop.loop.rules import RuleMatch
from cxloop.loop.schemas import CaseCreate, CaseOpened, CaseRead
from cxloop.loop.sla import SlaPolicy
from cxloop.loop.states import OPEN, SYSTEM, Actor, CaseView
from cxloop.loop.timers import due_case_ids, fire_due, refresh_timers

__all__ = [
    "assign",
    "close",
    "close_unverified",
    "dedupe_key",
    "due_case_ids",
    "fire_due",
    "get_case",
    "log_contact",
    "note",
    "open_by_hand",
    "open_from_match",
    "open_from_matches",
    "queue",
    "reopen",
    "resolve",
    "set_root_cause",
    "start",
    "take",
    "verify",
    "wait_on_customer",
]


SEVERITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3}
ALSO_MATCHED = "also_matched"
"""The event a rule's match writes on the case its feedback is on when a more severe (or
earlier) rule's match opened or joined that case: one feedback opens at most one case."""


def dedupe_key(
    customer_id: str | None,
    account_id: str | None,
    feedback_id: str | None,
    author_key: str | None = None,
) -> str:
    """Whose case it is: the customer, else the account, else the author (``author_key``: a
    hash of the e-mail or phone, never the address), else the feedback alone."""
    if customer_id:
        return f"customer:{customer_id}"
    if account_id:
        return f"account:{account_id}"
    if author_key:
        return f"author:{author_key}"
    return f"feedback:{feedback_id}" if feedback_id else "case"


def key_of(facts: FeedbackFacts) -> str:
    """``dedupe_key`` of one feedback's facts (what evaluation and the dry run key cases on)."""
    return dedupe_key(facts.customer_id, facts.account_id, facts.feedback_id, facts.author_key)


def by_severity(matches: list[RuleMatch]) -> list[RuleMatch]:
    """The matches most severe first, in rule order within a severity: the first opens or
    joins the feedback's one case, the others are recorded on it."""
    return sorted(matches, key=lambda m: SEVERITY_RANK.get(m.severity, len(SEVERITY_RANK)))


def _attached(session: Session, case_id: int, feedback_id: str) -> bool:
    return session.get(CaseFeedback, (case_id, feedback_id)) is not None


def _open_case(
    session: Session, key: str, topics: tuple[str, ...], since: dt.datetime
) -> Case | None:
    """The open case of ``key`` on one of ``topics`` opened since ``since``: on the earliest
    of the topics, the newest such case."""
    found = session.scalars(
        select(Case)
        .where(
            Case.dedupe_key == key,
            Case.topic.in_(topics),
            Case.status.in_(OPEN),
            Case.opened_at >= since,
        )
        .order_by(Case.opened_at.desc(), Case.id.desc())
    ).all()
    return min(found, key=lambda c: topics.index(c.topic), default=None)


def _case_holding(session: Session, key: str, feedback_id: str | None) -> Case | None:
    """The open case of ``key`` this feedback is on already (a changed row evaluated again)."""
    if feedback_id is None:
        return None
    return session.scalar(
        select(Case)
        .join(CaseFeedback, CaseFeedback.case_id == Case.id)
        .where(
            CaseFeedback.feedback_id == feedback_id,
            Case.dedupe_key == key,
            Case.status.in_(OPEN),
        )
        .order_by(Case.opened_at.desc(), Case.id.desc())
        .limit(1)
    )


def open_from_matches(
    *,
    session: Session,
    facts: FeedbackFacts,
    matches: list[RuleMatch],
    policy: SlaPolicy,
    routing_rules: routing.RoutingRules | None,
    now: dt.datetime,
    actor: Actor = SYSTEM,
) -> list[CaseOpened]:
    """Every rule match on one feedback, which opens at most ONE case: the matches most
    severe first (then in rule order, ``by_severity``); the first opens or joins a case
    (``open_from_match``; a feedback already on an open case of its customer stays there),
    and each other match is recorded on that same case as an ``also_matched`` event naming
    the rule and its why (once per feedback and rule), its outcome ``unchanged``."""
    if not matches:
        return []
    at = utc(now)
    ordered = by_severity(matches)
    home = _case_holding(session, key_of(facts), facts.feedback_id)
    if home is not None:
        first, rest = CaseOpened(outcome="unchanged", case=case_read(home, at)), ordered
    else:
        first = open_from_match(
            session=session, facts=facts, match=ordered[0], policy=policy,
            routing_rules=routing_rules, now=now, actor=actor,
        )  # fmt: skip
        rest = ordered[1:]
    row = session.get(Case, first.case.id)
    assert row is not None
    seen = _rules_on(session, row.id, facts.feedback_id)
    for match in rest:
        if match.rule_id in seen:
            continue
        seen.add(match.rule_id)
        event(
            session,
            row,
            ALSO_MATCHED,
            actor,
            at,
            rule_id=match.rule_id,
            rule_name=match.rule_name,
            why=match.why,
            feedback_id=facts.feedback_id,
            severity=match.severity,
        )
    session.flush()
    return [first, *(CaseOpened(outcome="unchanged", case=first.case) for _ in ordered[1:])]


def _rules_on(session: Session, case_id: int, feedback_id: str | None) -> set[str]:
    """The rules whose match on this feedback the case's history names already."""
    rows = session.scalars(
        select(CaseEvent.data).where(
            CaseEvent.case_id == case_id,
            CaseEvent.kind.in_(("created", "attached", ALSO_MATCHED)),
        )
    )
    return {
        str(d["rule_id"])
        for d in rows
        if isinstance(d, dict) and d.get("rule_id") and d.get("feedback_id") == feedback_id
    }


def open_from_match(
    *,
    session: Session,
    facts: FeedbackFacts,
    match: RuleMatch,
    policy: SlaPolicy,
    routing_rules: routing.RoutingRules | None,
    now: dt.datetime,
    actor: Actor = SYSTEM,
) -> CaseOpened:
    """A case for an alert rule's match on one feedback, or the feedback attached to the open
    case of the same customer (else account, else author) and topic opened within the rule's
    window (with ``topic: matched``, on any topic the condition matched, the first preferred).

    A new case gets its priority (severity × value × churn risk), its team and owner (routing,
    least-loaded from the open cases in the store; ``routing_rules`` None: the rule's team, else
    the first team by name) and its SLA due times from ``policy``. Matching the same feedback
    again changes nothing (``unchanged``). Two transactions matching the same customer and
    topic at once open one case: the second waits for the first and attaches
    (``case_locks.hold``).
    """
    at = utc(now)
    key = key_of(facts)
    topics = sorted(match.case_topics())  # one order for every transaction: no deadlock
    for topic in topics:
        case_locks.hold(session, key, topic, at)
    try:
        return _open_or_attach(session, facts, match, policy, routing_rules, key, at, actor)
    finally:
        for topic in topics:
            case_locks.release(session, key, topic)


def _open_or_attach(
    session: Session,
    facts: FeedbackFacts,
    match: RuleMatch,
    policy: SlaPolicy,
    routing_rules: routing.RoutingRules | None,
    key: str,
    at: dt.datetime,
    actor: Actor,
) -> CaseOpened:
    since = naive(at - dt.timedelta(hours=match.window_hours))
    found = _open_case(session, key, match.case_topics(), since)
    if found is not None:
        if facts.feedback_id is None or _attached(session, found.id, facts.feedback_id):
            return CaseOpened(outcome="unchanged", case=case_read(found, at))
        _attach(session, found, facts.feedback_id, match.rule_id, at)
        event(
            session,
            found,
            "attached",
            actor,
            at,
            feedback_id=facts.feedback_id,
            rule_id=match.rule_id,
            why=match.why,
        )
        found.updated_at = naive(at)
        session.flush()
        return CaseOpened(outcome="attached", case=case_read(found, at))
    level = priority(match.severity, facts.value_percentile, facts.churn_risk)
    assignment = route_case(session, routing_rules, facts, match) or UNROUTED
    row = new_case(
        session,
        title=f"{match.rule_name} · {match.topic}",
        facts=facts,
        key=key,
        topic=match.topic,
        severity=match.severity,
        level=level,
        routed=(assignment.team or None, assignment.via, assignment.reason),
        policy=policy,
        at=at,
        actor=actor,
    )
    row.rule_id, row.window_hours = match.rule_id, match.window_hours
    event(
        session,
        row,
        "created",
        actor,
        at,
        rule_id=match.rule_id,
        rule_name=match.rule_name,
        why=match.why,
        feedback_id=facts.feedback_id,
        severity=match.severity,
        priority=level.level,
        priority_score=level.score,
        team=assignment.team or None,
        routing=assignment.via,
        reason=assignment.reason,
    )
    if facts.feedback_id is not None:
        _attach(session, row, facts.feedback_id, match.rule_id, at)
    if assignment.owner is not None:
        give(session, row, assignment.owner, actor, at, reason=assignment.reason)
    refresh_timers(row)
    session.flush()
    return CaseOpened(outcome="opened", case=case_read(row, at))


UNROUTED = routing.Assignment(
    team="", owner=None, via="none", reason="no team is stored: the case waits unrouted"
)
"""Where a case goes while no team is stored: nowhere yet, waiting for an admin."""


def route_case(
    session: Session,
    rules: routing.RoutingRules | None,
    facts: FeedbackFacts,
    match: RuleMatch,
) -> routing.Assignment | None:
    """Routing that never refuses a match: a rule naming a team that is gone, or routing
    rules whose team is gone, fall back to the first team by name (said in the reason); with
    no team at all the case waits unassigned for an admin."""
    roster = teams.roster(session)
    if not roster:
        return None
    names = [t.name for t in roster]
    notes = []
    team = match.team
    if team is not None and team not in names:
        notes.append(f"the alert rule's team {team} is not a team")
        team = None
    gone = rules.unknown_teams(names) if rules is not None else []
    if gone:
        missing = ", ".join(dict.fromkeys(str(p.value) for p in gone))
        notes.append(f"the routing file names teams that are not stored ({missing})")
        rules = None
    if rules is None:
        rules = routing.RoutingRules(default_team=names[0])
    found = routing.route(
        rules, facts, roster, last_assigned=teams.last_assigned(session), topic=match.topic,
        team=team,
    )  # fmt: skip
    if notes:
        found = found.model_copy(update={"reason": "; ".join([*notes, found.reason])})
    return found


def new_case(
    session: Session,
    *,
    title: str,
    facts: FeedbackFacts,
    key: str,
    topic: str,
    severity: str,
    level: Priority,
    routed: tuple[str | None, str | None, str | None],
    policy: SlaPolicy,
    at: dt.datetime,
    actor: Actor,
) -> Case:
    """A new case row, flushed: priority, team and routing (team, via, reason), SLA due times."""
    deadlines = policy.deadlines(at, level.level)
    team, via, reason = routed
    row = Case(
        status="new",
        title=title[:512],
        customer_id=facts.customer_id,
        account_id=facts.account_id,
        contact_id=None,
        origin_feedback_id=facts.feedback_id,
        topic=topic,
        dedupe_key=key,
        severity=severity,
        priority=level.level,
        priority_score=level.score,
        priority_explanation=level.model_dump()["explanation"],
        team=team,
        routing_via=via,
        routing_reason=reason,
        opened_at=naive(at),
        first_response_warn_at=naive(deadlines.first_response_warn_at),
        first_response_due=naive(deadlines.first_response_due),
        resolution_warn_at=naive(deadlines.resolution_warn_at),
        resolution_due=naive(deadlines.resolution_due),
        reopen_count=0,
        created_by=actor.name,
        updated_at=naive(at),
    )
    session.add(row)
    session.flush()
    return row


def _attach(
    session: Session, row: Case, feedback_id: str, rule_id: str | None, at: dt.datetime
) -> None:
    session.add(
        CaseFeedback(
            case_id=row.id, feedback_id=feedback_id, rule_id=rule_id, attached_at=naive(at)
        )
    )


def open_by_hand(
    *,
    session: Session,
    case_in: CaseCreate,
    policy: SlaPolicy,
    actor: Actor,
    now: dt.datetime,
    routing_rules: routing.RoutingRules | None = None,
) -> CaseRead:
    """A case someone opens themselves: for their team (or the team routing picks), owned by
    ``owner`` or waiting in the queue; the feedback it names is attached."""
    at = utc(now)
    problems = _missing_feedback(session, case_in.feedback_ids)
    facts = FeedbackFacts(
        feedback_id=case_in.feedback_ids[0] if case_in.feedback_ids else None,
        customer_id=case_in.customer_id,
        account_id=case_in.account_id,
        value_percentile=case_in.value_percentile,
        churn_risk=case_in.churn_risk,
    )
    team, via, reason = case_in.team, "by_hand", f"chosen by {actor.name}"
    if team is None and routing_rules is not None:
        found = routing.route(routing_rules, facts, teams.roster(session), topic=case_in.topic)
        team, via, reason = found.team, found.via, found.reason
    names = teams.team_names(session)
    if team is None or team not in names:
        listed = ", ".join(names) or "none yet"
        problems.append(Problem("team", team, f"is not a team (teams: {listed})"))
    elif case_in.owner is not None and not teams.active_member(session, team, case_in.owner):
        problems.append(Problem("owner", case_in.owner, f"is not an active member of team {team}"))
    if problems:
        raise Invalid(problems)
    allow(session, actor, "open", CaseView(team, None, "new"))
    if case_in.owner not in (None, actor.name):
        allow(session, actor, "assign", CaseView(team, None, "new"))
    level = priority(case_in.severity, case_in.value_percentile, case_in.churn_risk)
    topic = case_in.topic.strip().strip("/") if case_in.topic else "manual"
    key = dedupe_key(case_in.customer_id, case_in.account_id, facts.feedback_id)
    row = new_case(
        session,
        title=case_in.title,
        facts=facts,
        key=key,
        topic=topic,
        severity=case_in.severity,
        level=level,
        routed=(team, via, reason),
        policy=policy,
        at=at,
        actor=actor,
    )
    row.contact_id = case_in.contact_id
    event(
        session,
        row,
        "created",
        actor,
        at,
        by_hand=True,
        severity=case_in.severity,
        priority=level.level,
        priority_score=level.score,
        team=team,
        reason=reason,
        feedback_ids=case_in.feedback_ids,
    )
    for feedback_id in dict.fromkeys(case_in.feedback_ids):
        _attach(session, row, feedback_id, None, at)
    if case_in.owner is not None:
        give(session, row, case_in.owner, actor, at)
    refresh_timers(row)
    session.flush()
    return case_read(row, at)


def _missing_feedback(session: Session, ids: list[str]) -> list[Problem]:
    if not ids:
        return []
    known = set(session.scalars(select(Feedback.feedback_id).where(Feedback.feedback_id.in_(ids))))
    return [
        Problem("feedback_ids", i, "is not a stored feedback id") for i in ids if i not in known
    ]
