"""What the demo's people did with the cases its rules opened: a script per case, so a new user
finds a queue with cases in every status, notes, contacts, root causes, one case at warning and
one escalated.

Every moment is counted back from the demo's ``now`` in business hours of the SLA policy's
calendar (a demo built on a Sunday or in the 国庆 week shows the same queue as one built on a
Tuesday), and every step goes through the loop's own service functions with that moment as
their clock. The customer's follow-up answers are real ones (``loop_answers``): the follow-up
is sent when the case is resolved, answered on the survey form (a 9 verifies, a 3 reopens) or
left unanswered until ``loop.followup`` closes the case unverified.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.demo import loop_answers
from cxloop.loop import service as loop_service
from cxloop.loop import teams
from cxloop.loop.calendar import BusinessCalendar
from cxloop.loop.schemas import CaseRead
from cxloop.loop.sla import SlaPolicy
from cxloop.loop.states import SYSTEM, Actor

AGENT = frozenset({"agent"})


@dataclass(frozen=True)
class Step:
    """One thing done to a case: ``hours`` business hours before the demo's now, or (the
    customer's answer) ``days_after`` calendar days after the step before it. ``answer``: the
    customer answers the follow-up ``score``; ``expire``: nobody answers within the window."""

    action: str
    hours: float = 0.0
    days_after: float = 0.0
    text: str = ""
    score: int = 0


@dataclass(frozen=True)
class Script:
    """A case's life up to now: opened ``opened`` business hours ago, or (``fr_share``) that
    share of its priority's first-response target ago; ``ends`` names what the queue shows."""

    ends: str
    steps: tuple[Step, ...] = ()
    opened: float = 0.0
    fr_share: float | None = None

    @property
    def asks(self) -> bool:
        """Ends in the customer's follow-up answer (or silence): needs someone to ask."""
        return any(step.action in ("answer", "expire") for step in self.steps)


def _worked(opened: float, resolve: float, cause_text: str = "") -> tuple[Step, ...]:
    """Start, call the customer, note, root cause, resolve: within the p1 targets (1h, 4h)."""
    return (
        Step("start", opened - 0.2),
        Step("contact", opened - 0.4, text="致电客户，道歉并确认问题细节 · called, apologised"),
        Step("note", opened - 0.6, text=cause_text or "已申请 50 元优惠券作为补偿"),
        Step("root_cause", opened - 0.8),
        Step("resolve", resolve, text="已安排补发并退还运费 · resent, shipping refunded"),
    )


def _verified(opened: float) -> Script:
    steps = _worked(opened, opened - 3)
    return Script("verified", (*steps, Step("answer", days_after=0.8, score=9)), opened)


def _unverified(opened: float) -> Script:
    steps = _worked(opened, opened - 2.5)
    return Script("closed_unverified", (*steps, Step("expire")), opened)


def _closed(opened: float) -> Script:
    reason = "重复：客户的同一问题已在电话中处理 · duplicate of a call"
    return Script("closed", (Step("close", opened - 0.5, text=reason),), opened)


CORE: tuple[Script, ...] = (
    _unverified(90),
    _verified(75),
    _closed(60),
    Script(
        "reopened",
        (
            *_worked(30, 27),
            Step("answer", 1.5, score=3),
        ),
        30,
    ),
    Script("resolved", _worked(3.5, 1.0), 3.5),
    Script(
        "waiting_on_customer",
        (
            Step("start", 2.4),
            Step("contact", 2.2, text="微信联系客户，请对方发来产品照片 · asked for photos"),
            Step("wait", 2.0, text="等客户发来照片和订单号 · waiting for photos"),
        ),
        2.5,
    ),
    Script(
        "in_progress",
        (
            Step("start", 1.9),
            Step("contact", 1.7, text="致电客户，约好明天上门检查 · visit booked"),
            Step("note", 1.0, text="已联系安装师傅，明天上午到 · technician booked"),
        ),
        2.0,
    ),
    Script("escalated", fr_share=1.2),
    Script("warning", fr_share=0.9),
    Script("assigned", fr_share=0.1),
)
"""The newest cases, oldest first: finished ones, then one per open status."""
FILLERS: tuple[Script, ...] = (_verified(0), _verified(0), _unverified(0), _verified(0))
"""Older history for loop health (verification and reopen rates): cycled, a working day apart."""


def plan(count: int) -> list[Script]:
    """Scripts for ``count`` cases in the order they open: the newest get ``CORE`` (the oldest
    core scripts are dropped when there are fewer cases), older ones cycle ``FILLERS``."""
    core = list(CORE[max(len(CORE) - count, 0) :])
    older = count - len(core)
    fillers = []
    for index in range(older):
        base = FILLERS[index % len(FILLERS)]
        opened = 100 + 8 * (older - index)
        fillers.append((_verified if base.ends == "verified" else _unverified)(opened))
    return [*fillers, *core]


def reachable_first(scripts: dict[str, Script], has_customer: dict[str, bool]) -> dict[str, Script]:
    """``scripts`` (feedback id → script, in opening order) with each script that asks the
    customer swapped onto the nearest earlier feedback that has a customer to ask, when its own
    has none (a community post): the demo's 9, 3 and silence are real follow-up answers."""
    ids, out = list(scripts), dict(scripts)
    for index, feedback_id in enumerate(ids):
        if not out[feedback_id].asks or has_customer[feedback_id]:
            continue
        for other in reversed(ids[:index]):
            if not out[other].asks and has_customer[other]:
                out[feedback_id], out[other] = out[other], out[feedback_id]
                break
    return out


def back(calendar: BusinessCalendar, end: dt.datetime, hours: float) -> dt.datetime:
    """The latest moment with ``hours`` of working time before ``end``: the calendar's working
    spans walked backwards (it only adds working time forwards)."""
    left = dt.timedelta(hours=hours)
    if left <= dt.timedelta(0):
        return end
    day = end.astimezone(calendar.zone).date()
    for _ in range(SEARCH_DAYS):
        for start, stop in reversed(calendar.spans_on(day)):
            stop = min(stop, end)
            if stop <= start:
                continue
            if stop - start >= left:
                return (stop - left).astimezone(dt.UTC).replace(microsecond=0)
            left -= stop - start
        day -= dt.timedelta(days=1)
    raise ValueError(f"the demo's calendar has no {hours} working hours before {end}")


SEARCH_DAYS = 366


def opened_at(script: Script, policy: SlaPolicy, level: str, now: dt.datetime) -> dt.datetime:
    """When a case run by ``script`` opens, for a case of priority ``level``."""
    hours = script.opened
    if script.fr_share is not None:
        target = policy.target(level).first_response
        hours = script.fr_share * target.total_seconds() / 3600
    return back(policy.calendar, now, hours)


ROOT_CAUSE_BY_TOPIC = (("delivery", "delivery"), ("service", "staff_behaviour"))


def _root_cause(topic: str) -> str:
    for prefix, code in ROOT_CAUSE_BY_TOPIC:
        if topic.startswith(prefix):
            return code
    return "product_defect" if topic.startswith(("quality", "product")) else "expectation"


def run(
    *,
    session: Session,
    settings: Settings,
    case: CaseRead,
    script: Script,
    policy: SlaPolicy,
    now: dt.datetime,
) -> None:
    """Play ``script`` on the stored ``case`` with each step's moment as the clock; a script
    that ends in the customer's answer (or silence) has its follow-up sent when it resolves."""
    owner = Actor(case.owner or "", AGENT)
    lead_name = teams.get_team(session=session, name=case.team).lead if case.team else None
    lead = Actor(lead_name or SYSTEM.name, AGENT if lead_name else SYSTEM.roles)
    at, token = now, None
    for step in script.steps:
        if step.action == "expire":  # the follow-up's window and a quarter of an hour
            at = at + dt.timedelta(days=settings.loop_followup_days, minutes=15)
        elif step.days_after:
            at = at + dt.timedelta(days=step.days_after)
        else:
            at = back(policy.calendar, now, step.hours)
        if step.action == "expire" and at > now:
            continue  # not yet: the follow-up is still waiting for its answer
        if token and step.action == "answer":
            loop_answers.answer(
                session=session, settings=settings, token=token, score=step.score, at=at
            )
        elif token and step.action == "expire":
            loop_answers.expire(session=session, settings=settings, at=at)
        else:
            solved = step.score >= settings.loop_followup_solved_from
            _do(session, case, step, (owner, lead), (policy, solved), at)
        if step.action == "resolve" and script.asks:
            token = loop_answers.ask(session=session, settings=settings, case_id=case.id, at=at)


def _do(
    session: Session,
    row: CaseRead,
    step: Step,
    people: tuple[Actor, Actor],
    rules: tuple[SlaPolicy, bool],
    at: dt.datetime,
) -> None:
    """One step through the service function of its action."""
    s, case, text = session, row.id, step.text
    (owner, lead), (policy, solved) = people, rules
    match step.action:
        case "start":
            loop_service.start(session=s, case_id=case, actor=owner, now=at)
        case "contact":
            loop_service.log_contact(
                session=s, case_id=case, channel="phone", summary=text, actor=owner, now=at
            )
        case "note":
            loop_service.note(session=s, case_id=case, text=text, actor=owner, now=at)
        case "root_cause":
            code = _root_cause(row.topic)
            loop_service.set_root_cause(session=s, case_id=case, code=code, actor=owner, now=at)
        case "resolve":
            loop_service.resolve(session=s, case_id=case, summary=text, actor=owner, now=at)
        case "wait":
            loop_service.wait_on_customer(session=s, case_id=case, reason=text, actor=owner, now=at)
        case "answer":  # nobody to ask: the customer phoned the team instead
            said = f"客户来电回访 {step.score} 分 · the customer phoned: {step.score}"
            if solved:
                loop_service.verify(session=s, case_id=case, evidence=said, actor=lead, now=at)
            else:
                loop_service.reopen(
                    session=s, case_id=case, reason=said, actor=lead, now=at, policy=policy
                )
        case "expire":
            loop_service.close_unverified(session=s, case_id=case, actor=lead, now=at)
        case "close":
            loop_service.close(session=s, case_id=case, reason=text, actor=lead, now=at)
        case _:
            raise ValueError(f"demo script step {step.action!r} is not a case action")
