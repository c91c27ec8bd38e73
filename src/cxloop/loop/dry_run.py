"""A dry run: what alert rules would have done over past feedback, before anyone is paged.

The feedback of a window is read in ``created_at`` order, in batches (a million rows never load
at once), each batch's facts read together (``facts_store.facts_for``), and the rules replayed as
if each feedback had arrived at its ``created_at``: a match opens a case unless the same customer
(else account, else author) has a case on the same topic (with ``topic: matched``, any topic the
condition matched) opened within the rule's window, which it would join; one feedback opens or
joins at most one case, by its most severe match (``Simulation``, pure). Nothing is written.
Two simplifications, stated in the README: a simulated case stays open for its whole window
(nobody resolves it), and cases opened before the window are not known; customer facts (value,
churn risk) are today's, not those of the day.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.errors import Invalid, NotFound
from cxloop.feedback.models import Feedback
from cxloop.loop import rule_store
from cxloop.loop.facts import FeedbackFacts
from cxloop.loop.facts_store import facts_for
from cxloop.loop.priority import priority
from cxloop.loop.rule_names import fold
from cxloop.loop.rules import RuleSet, evaluate
from cxloop.loop.service import by_severity, key_of
from cxloop.metrics.filters import Scope, parse_scope, utc_naive

SEVERITY_ORDER = ("critical", "high", "medium", "low")
LEVEL_ORDER = ("p1", "p2", "p3", "p4")
EXAMPLES = 10
"""Example feedback ids kept per rule (the first that matched)."""
PRUNE_EVERY = 10_000
"""Feedback between two clean-ups of simulated cases older than the longest window."""
VIP_PERCENTILE = 80.0
VIP_LABELS = frozenset(
    {"vip", "gold", "platinum", "diamond", "strategic", "金卡", "白金卡", "钻石卡", "大客户"}
)
VIP_RULE = (
    "value_percentile >= 80 (top 20 % by value), or attributes.vip is true, or segment or tier "
    "is one of vip, gold, platinum, diamond, strategic, 金卡, 白金卡, 钻石卡, 大客户"
)
"""Who counts as a VIP in the headline (the issue names no rule; this one is written out in the
report so a reader knows what "12 for VIPs" means)."""
_DURATION = re.compile(r"^\s*\d{1,4}\s*[dwmy]\s*$", re.IGNORECASE)
_YES = frozenset({"true", "yes", "y", "1", "是", "vip"})


def is_vip(facts: FeedbackFacts) -> bool:
    """Whether the feedback's customer counts as a VIP (``VIP_RULE``)."""
    if facts.value_percentile is not None and facts.value_percentile >= VIP_PERCENTILE:
        return True
    flag = facts.attributes.get("vip")
    if flag is True or (isinstance(flag, str | int) and fold(str(flag)) in _YES):
        return True
    return any(isinstance(v, str) and fold(v) in VIP_LABELS for v in (facts.segment, facts.tier))


class RuleRun(BaseModel):
    """What one rule would have done: feedback it matched, cases it would have opened (and for
    VIPs), feedback it would have attached to an open case, and the first matches' ids."""

    rule_id: str
    name: str
    severity: str
    enabled: bool
    matches: int = 0
    opened: int = 0
    attached: int = 0
    vip_opened: int = 0
    examples: list[str] = Field(default_factory=list)


class DryRunReport(BaseModel):
    """The rules replayed over ``since`` ≤ created_at < ``until`` (naive UTC)."""

    model_config = ConfigDict(frozen=True)

    rules_from: str
    """``version 3`` (the rules in force) or the file or body the rules came from."""
    since: dt.datetime
    until: dt.datetime
    looked_at: int
    matched: int
    """Feedback that at least one rule matched."""
    would_open: int
    would_attach: int
    vip_cases: int
    by_severity: dict[str, int]
    by_priority: dict[str, int]
    rules: list[RuleRun]
    vip_rule: str = VIP_RULE

    def window(self) -> str:
        """``2026-11-01 … 2026-11-30 UTC`` (the window is read in UTC, as metrics' are)."""
        return Scope(since=self.since, until=self.until).window() + " UTC"

    def headline(self) -> str:
        """``would have opened 37 cases in 2026-11-06 … 2026-12-05 UTC, 12 for VIPs``."""
        cases = f"{self.would_open} case{'s' * (self.would_open != 1)}"
        joined = (
            f"; {self.would_attach} more feedback would have joined open cases"
            if self.would_attach
            else ""
        )
        return (
            f"would have opened {cases} in {self.window()}, {self.vip_cases} for VIPs{joined} "
            f"({self.matched} of {self.looked_at} feedback matched)"
        )


class Simulation:
    """Rules replayed over facts in time order, with de-duplication as ``open_from_matches``
    does it: one case per dedupe key and topic, later matches within the matching rule's
    window join it (on any topic a ``topic: matched`` condition matched, the first
    preferred), and one feedback opens or joins one case, by its most severe match (the
    others are recorded there: they count as matches only). Pure: no store."""

    def __init__(self, rules: RuleSet):
        self.rules = rules
        self.runs = {
            r.id: RuleRun(rule_id=r.id, name=r.name, severity=r.severity, enabled=r.enabled)
            for r in rules.rules
        }
        self.opened_at: dict[tuple[str, str], dt.datetime] = {}
        self.longest = dt.timedelta(hours=max((r.window_hours for r in rules.rules), default=0))
        self.looked_at = self.matched = self.opened = self.attached = self.vip = 0
        self.by_severity = dict.fromkeys(SEVERITY_ORDER, 0)
        self.by_priority = dict.fromkeys(LEVEL_ORDER, 0)

    def add(self, facts: FeedbackFacts, at: dt.datetime) -> None:
        """One feedback, arrived at ``at`` (naive UTC; calls come in time order)."""
        self.looked_at += 1
        if self.looked_at % PRUNE_EVERY == 0:
            self._forget(at - self.longest)
        matches = evaluate(self.rules, facts)
        if not matches:
            return
        self.matched += 1
        key = key_of(facts)
        vip = is_vip(facts)
        for match in matches:
            run = self.runs[match.rule_id]
            run.matches += 1
            if len(run.examples) < EXAMPLES and facts.feedback_id is not None:
                run.examples.append(facts.feedback_id)
        match = by_severity(matches)[0]  # the others are recorded on its case: unchanged
        run = self.runs[match.rule_id]
        since = at - dt.timedelta(hours=match.window_hours)
        for topic in match.case_topics():
            opened = self.opened_at.get((key, topic))
            if opened is not None and opened >= since:
                run.attached += 1
                self.attached += 1
                return
        self.opened_at[(key, match.topic)] = at
        run.opened += 1
        self.opened += 1
        self.by_severity[match.severity] += 1
        level = priority(match.severity, facts.value_percentile, facts.churn_risk).level
        self.by_priority[level] += 1
        if vip:
            run.vip_opened += 1
            self.vip += 1

    def _forget(self, before: dt.datetime) -> None:
        """Drop cases no window reaches any more, so a year of feedback holds only the cases
        of the last window in memory, not one per customer and topic ever opened."""
        self.opened_at = {k: v for k, v in self.opened_at.items() if v >= before}

    def report(self, *, rules_from: str, since: dt.datetime, until: dt.datetime) -> DryRunReport:
        return DryRunReport(
            rules_from=rules_from,
            since=since,
            until=until,
            looked_at=self.looked_at,
            matched=self.matched,
            would_open=self.opened,
            would_attach=self.attached,
            vip_cases=self.vip,
            by_severity=self.by_severity,
            by_priority=self.by_priority,
            rules=list(self.runs.values()),
        )


def window(
    since: str | None, until: str | None, *, now: dt.datetime
) -> tuple[dt.datetime, dt.datetime]:
    """The dry run's window (naive UTC): ``since`` a length before ``until`` (``30d``, ``6m``;
    the default ``30d``) or a date/period (``2026-11``, ``2026-11-01``); ``until`` a date
    (kept whole) or the clock. ``Invalid`` names each bad value."""
    since = since.strip() if since and since.strip() else "30d"
    last = since if _DURATION.match(since) else None
    scope = parse_scope(None if last else since, until, last, now=now)
    assert scope.since is not None
    return scope.since, scope.until or utc_naive(now)


def _batches(
    session: Session, since: dt.datetime, until: dt.datetime, size: int
) -> Iterator[list[tuple[str, dt.datetime]]]:
    """(feedback id, created_at) in time order, ``size`` at a time: keyset pages on
    (created_at, feedback_id), so each query is one index range whatever the offset."""
    after: tuple[str, dt.datetime] | None = None
    while True:
        query = select(Feedback.feedback_id, Feedback.created_at).where(
            Feedback.created_at >= since, Feedback.created_at < until
        )
        if after is not None:
            query = query.where(
                or_(
                    Feedback.created_at > after[1],
                    and_(Feedback.created_at == after[1], Feedback.feedback_id > after[0]),
                )
            )
        rows = [
            (str(i), at)
            for i, at in session.execute(
                query.order_by(Feedback.created_at, Feedback.feedback_id).limit(size)
            )
        ]
        if not rows:
            return
        yield rows
        after = rows[-1]
        if len(rows) < size:
            return


def dry_run(
    *,
    session: Session,
    settings: Settings,
    rules: RuleSet,
    since: dt.datetime,
    until: dt.datetime,
    now: dt.datetime,
    rules_from: str = "rules",
    batch_size: int = 2000,
) -> DryRunReport:
    """What ``rules`` would have done to the feedback created in [``since``, ``until``): the
    cases they would have opened (by rule, severity, priority, for VIPs), the feedback that
    would have joined them, and up to ten example ids per rule. Reads only; ``settings`` is
    taken as every loop service takes it (the facts need none of it today)."""

    start, end = utc_naive(since), utc_naive(until)
    if start >= end:
        raise Invalid(f"is not before until ({end:%Y-%m-%d %H:%M})", "since", start.isoformat())
    simulation = Simulation(rules)
    if not any(r.enabled for r in rules.rules):  # nothing to evaluate: count what was there
        simulation.looked_at = int(
            session.scalar(
                select(func.count())
                .select_from(Feedback)
                .where(Feedback.created_at >= start, Feedback.created_at < end)
            )
            or 0
        )
        return simulation.report(rules_from=rules_from, since=start, until=end)
    for batch in _batches(session, start, end, batch_size):
        found = facts_for(session, [i for i, _ in batch], now=now)
        for feedback_id, at in batch:
            facts = found.get(feedback_id)
            if facts is not None:
                simulation.add(facts, at)
    return simulation.report(rules_from=rules_from, since=start, until=end)


def dry_run_of(
    *,
    session: Session,
    settings: Settings,
    text: str | None,
    since: str | None,
    until: str | None,
    now: dt.datetime,
    source: str = "request",
) -> DryRunReport:
    """``dry_run`` as the API and CLI ask for it: the rules of ``text`` (default: the rules in
    force, ``NotFound`` when none are saved) over a window given as words (``window``)."""
    start, end = window(since, until, now=now)
    if text is not None:
        rules = rule_store.check_rules(session=None, text=text)
    else:
        stored = rule_store.current_rules(session)
        if stored is None:
            raise NotFound("no rules saved yet: give rules to try (a FILE, or yaml), or save some")
        rules, source = stored.rules, f"version {stored.version}"
    return dry_run(
        session=session, settings=settings, rules=rules, since=start, until=end, now=now,
        rules_from=source,
    )  # fmt: skip
