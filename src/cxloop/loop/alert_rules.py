"""Alert rules on metric alerts: each alert a ``metric_alerts`` rule holds for opens one case.

An alert (``metrics.models.Alert``: a spike, drop, emerging topic or missed target that a scan
stored) has no customer, so its case is keyed on the alert itself: ``alert:<alert_key>``, looked
up in any status, so one alert never opens two cases — a re-scan that refreshes the alert's
numbers changes nothing, a resolved case is not opened again; the same metric dropping in a
later week is another alert (another key) and opens another case. The case's topic is
``metric:<subject>``, its priority comes from the rule's severity alone (no customer value or
churn risk), its team is the rule's and its owner the team's least-loaded member (routing).

Which alerts: those created at or after the rule set's ``applies_from`` (saving rules never
opens cases for alerts already stored) and not resolved. They are evaluated right after a scan
(``after_scan``, CLI and API) and by the ``loop.evaluate_metric_alerts`` job
(``evaluate_pending``: from a watermark on ``alerts.updated_at`` less an hour, so an alert a
slow scan committed late is still seen). Functions only flush; the caller commits.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.loop import case_locks, policy, rule_store
from cxloop.loop.alert_facts import AlertFacts, slice_text
from cxloop.loop.case_actions import event, give
from cxloop.loop.case_reads import utc
from cxloop.loop.evaluation import read_watermark, set_watermark
from cxloop.loop.facts import FeedbackFacts
from cxloop.loop.facts_store import IN_LIST
from cxloop.loop.models import Case
from cxloop.loop.priority import priority
from cxloop.loop.rules import RuleMatch, RuleSet, evaluate_alert
from cxloop.loop.service import UNROUTED, new_case, route_case
from cxloop.loop.states import SYSTEM
from cxloop.loop.timers import refresh_timers
from cxloop.metrics import monitoring
from cxloop.metrics.anomalies import DEFAULT_THRESHOLD
from cxloop.metrics.models import Alert

log = logging.getLogger(__name__)
WATERMARK = "metric_alert_rules"
LOOK_BACK = dt.timedelta(hours=1)
"""How far before the watermark a pending scan starts (a scan that committed late)."""
PREFIX = "alert:"
NO_TOPIC = ""
"""The lock's topic: the alert key alone says whose case it is."""


class AlertRuleCounts(BaseModel):
    """What one evaluation of metric alerts did: alerts ``checked``, rule ``matched`` (an
    alert two rules hold for counts two), cases ``opened``, alerts whose case exists already
    (``unchanged``)."""

    checked: int = 0
    matched: int = 0
    opened: int = 0
    unchanged: int = 0
    case_ids: list[int] = []
    """The cases opened, in the order of the alerts."""
    error: str | None = None
    """The exception's type when the evaluation failed; the scan's alerts are kept and the
    ``loop.evaluate_metric_alerts`` job looks at them again."""

    def as_counts(self) -> dict[str, int]:
        return self.model_dump(exclude={"error", "case_ids"})

    def sentence(self) -> str:
        """One line for a person: ``alert rules: 1 case opened: 20 (3 alerts checked, 1 match)``."""
        if self.error:
            return (
                f"alert rules: not applied ({self.error}); the alerts are stored and "
                "`cxloop loop tick` applies them"
            )
        opened = f"{self.opened} case{'' if self.opened == 1 else 's'} opened"
        if self.case_ids:
            opened += ": " + ", ".join(str(i) for i in self.case_ids)
        checked = f"{self.checked} alert{'' if self.checked == 1 else 's'} checked"
        matches = f"{self.matched} match{'' if self.matched == 1 else 'es'}"
        return f"alert rules: {opened} ({checked}, {matches})"


class ScanWithCases(monitoring.ScanResult):
    """A metric scan and what the ``metric_alerts`` rules did with its alerts (``cases`` None:
    no such rule is in force)."""

    cases: AlertRuleCounts | None = None


def scan(
    *,
    session: Session,
    settings: Settings,
    now: dt.datetime,
    threshold: float = DEFAULT_THRESHOLD,
    min_n: int = 30,
) -> ScanWithCases:
    """``monitoring.scan_alerts``, then ``after_scan`` on the alerts it stored (what the CLI
    and the API call: the cases are stored when the scan returns)."""
    result = monitoring.scan_alerts(
        session=session, settings=settings, threshold=threshold, min_n=min_n
    )
    cases = after_scan(
        session=session, settings=settings, alert_ids=[a.id for a in result.alerts], now=now
    )
    return ScanWithCases(**result.model_dump(), cases=cases)


def facts_of(alert: Alert) -> AlertFacts:
    """What a rule reads of a stored alert."""
    return AlertFacts(
        kind=alert.kind,
        subject=alert.subject,
        slice=slice_text(alert.slice_key),
        score=alert.score,
        value=alert.value,
        expected=alert.expected,
    )


def evaluate_ids(
    *, session: Session, settings: Settings, alert_ids: Sequence[int], now: dt.datetime
) -> AlertRuleCounts:
    """Evaluate these stored alerts against the ``metric_alerts`` rules in force."""
    stored = rule_store.current_rules(session)
    if stored is None or not stored.rules.metric_alerts or not alert_ids:
        return AlertRuleCounts()
    counts = AlertRuleCounts()
    ids = list(dict.fromkeys(alert_ids))
    for start in range(0, len(ids), IN_LIST):
        alerts = session.scalars(
            select(Alert)
            .where(
                Alert.id.in_(ids[start : start + IN_LIST]),
                Alert.created_at >= stored.applies_from,
                Alert.status != "resolved",
            )
            .order_by(Alert.id)
        )
        for alert in alerts:
            _evaluate_one(session, settings, stored.rules, alert, now, counts)
    session.flush()
    return counts


def after_scan(
    *, session: Session, settings: Settings, alert_ids: Sequence[int], now: dt.datetime
) -> AlertRuleCounts | None:
    """``evaluate_ids`` for the alerts a scan just stored (None when no ``metric_alerts``
    rule is in force), inside a savepoint: a failure undoes the evaluation only (the scan's
    alerts stay), is logged by its exception type and named in the counts' ``error``; the job
    looks at those alerts again."""
    try:
        stored = rule_store.current_rules(session)
        if stored is None or not stored.rules.metric_alerts:
            return None
        with session.begin_nested():
            return evaluate_ids(session=session, settings=settings, alert_ids=alert_ids, now=now)
    except Exception as exc:  # a rule must never cost the scan its alerts
        log.warning("alert rules after a metric scan failed (%s)", type(exc).__name__)
        return AlertRuleCounts(error=type(exc).__name__)


def evaluate_pending(
    *, session: Session, settings: Settings, now: dt.datetime, limit: int = 1000
) -> AlertRuleCounts:
    """Evaluate up to ``limit`` alerts created or updated since the watermark (less an hour)
    and move the watermark to the newest looked at. No ``metric_alerts`` rules: nothing."""
    stored = rule_store.current_rules(session)
    if stored is None or not stored.rules.metric_alerts:
        return AlertRuleCounts()
    mark = read_watermark(session, WATERMARK)
    since = stored.applies_from if mark is None else max(stored.applies_from, mark - LOOK_BACK)
    rows = session.execute(
        select(Alert.id, Alert.updated_at)
        .where(Alert.updated_at >= since, Alert.created_at >= stored.applies_from)
        .order_by(Alert.updated_at, Alert.id)
        .limit(limit)
    ).all()
    if not rows:
        return AlertRuleCounts()
    counts = evaluate_ids(
        session=session, settings=settings, alert_ids=[i for i, _ in rows], now=now
    )
    newest = max(updated for _, updated in rows)
    if mark is None or newest > mark:
        set_watermark(session, WATERMARK, newest, stored.version, now)
    return counts


def _evaluate_one(
    session: Session,
    settings: Settings,
    rules: RuleSet,
    alert: Alert,
    now: dt.datetime,
    counts: AlertRuleCounts,
) -> None:
    counts.checked += 1
    matches = evaluate_alert(rules, facts_of(alert))
    counts.matched += len(matches)
    if not matches:
        return
    key = PREFIX + alert.alert_key
    at = utc(now)
    case_locks.hold(session, key, NO_TOPIC, at)
    try:
        if session.scalar(select(Case.id).where(Case.dedupe_key == key).limit(1)) is not None:
            counts.unchanged += 1
            return
        counts.case_ids.append(_open(session, settings, alert, matches[0], key, at).id)
        counts.opened += 1
    finally:
        case_locks.release(session, key, NO_TOPIC)


def _open(
    session: Session,
    settings: Settings,
    alert: Alert,
    match: RuleMatch,
    key: str,
    at: dt.datetime,
) -> Case:
    """The alert's case: the first matching rule's severity, team and name."""
    nobody = FeedbackFacts()
    level = priority(match.severity, None, None)
    assignment = route_case(session, policy.routing_rules(settings), nobody, match) or UNROUTED
    routed = (assignment.team or None, assignment.via, assignment.reason)
    row = new_case(
        session,
        title=f"{match.rule_name} · {alert.reason}",
        facts=nobody,
        key=key,
        topic=match.topic,
        severity=match.severity,
        level=level,
        routed=routed,
        policy=policy.sla_policy(settings),
        at=at,
        actor=SYSTEM,
    )
    row.rule_id = match.rule_id
    event(
        session,
        row,
        "created",
        SYSTEM,
        at,
        rule_id=match.rule_id,
        rule_name=match.rule_name,
        why=match.why,
        alert={
            "id": alert.id,
            "kind": alert.kind,
            "subject": alert.subject,
            "slice": slice_text(alert.slice_key),
            "period": alert.period_start.isoformat() if alert.period_start else None,
            "reason": alert.reason,
        },
        severity=match.severity,
        priority=level.level,
        priority_score=level.score,
        team=routed[0],
        routing=routed[1],
        reason=routed[2],
    )
    if assignment.owner is not None:
        give(session, row, assignment.owner, SYSTEM, at, reason=assignment.reason)
    refresh_timers(row)
    session.flush()
    return row
