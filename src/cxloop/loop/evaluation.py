"""Alert rules at work: every new or changed feedback row is evaluated once against the rules
in force: its matches open at most one case or join the customer's open one, most severe
first (``service.open_from_matches``; the other matching rules are recorded on that case).

Which rows: those stored or changed (``updated_at``) at or after the rule set's
``applies_from`` — saving rules never opens cases for the past, a dry run shows what they would
have done — whose ``loop_feedback_checks`` row is missing or holds another ``row_hash``. A row
whose text the engine has not read yet is skipped and left for the next run (its flags and
aspects are not known). Each row looked at gets its check row (the hash seen, the rules'
version, the ids that matched), so looking again is free of effect: the request that stored
the feedback, the survey drain and the ``loop.evaluate_feedback`` job may all look.

``evaluate_pending`` scans from a watermark kept in ``loop_state`` (``evaluation``: the newest
``updated_at`` looked at) less an hour, so a slow transaction that committed late is still
seen. Functions only flush; the caller commits.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.feedback.models import Feedback
from cxloop.ingest.models import ImportRun
from cxloop.loop import policy, rule_store
from cxloop.loop import service as loop_service
from cxloop.loop.case_locks import upsert
from cxloop.loop.case_reads import naive
from cxloop.loop.facts_store import IN_LIST, stored_feedback
from cxloop.loop.models import FeedbackCheck, LoopState
from cxloop.loop.rules import evaluate

log = logging.getLogger(__name__)
WATERMARK = "evaluation"
LOOK_BACK = dt.timedelta(hours=1)
"""How far before the watermark a pending scan starts: a transaction that stored feedback
before the watermark's row but committed after it is still seen."""
WAIT_FOR_TEXT = dt.timedelta(days=1)
"""How long a row waiting for its text features holds the watermark back (a store that never
enriches must not rescan the same rows forever)."""


class EvaluationCounts(BaseModel):
    """What one evaluation did: rows ``checked`` (looked at and recorded), rule ``matched``
    (matches), cases ``opened``, feedback ``attached`` to an open case, matches ``unchanged``
    (the feedback was on that case already), rows ``skipped`` (text not read yet)."""

    checked: int = 0
    matched: int = 0
    opened: int = 0
    attached: int = 0
    unchanged: int = 0
    skipped: int = 0
    error: str | None = None
    """Set when the evaluation failed (the exception's type): the stored feedback is kept and
    the ``loop.evaluate_feedback`` job looks at it again."""

    def as_counts(self) -> dict[str, int]:
        return self.model_dump(exclude={"error"})

    def add(self, other: EvaluationCounts) -> None:
        for name, value in other.as_counts().items():
            setattr(self, name, getattr(self, name) + value)
        self.error = self.error or other.error

    def sentence(self) -> str:
        """One line for a person: ``Alert rules: 3 cases opened, 1 attached``."""
        if self.error:
            return (
                f"Alert rules: not applied ({self.error}); the feedback is stored and "
                "`cxloop loop tick` applies them"
            )
        parts = [_plural(self.opened, "case opened", "cases opened")]
        if self.attached:
            parts.append(f"{self.attached} attached to open cases")
        if self.unchanged:
            parts.append(f"{self.unchanged} already on their case")
        if self.skipped:
            parts.append(f"{_plural(self.skipped, 'row waits', 'rows wait')} for text analysis")
        looked = _plural(self.checked, "feedback row", "feedback rows")
        return f"Alert rules: {', '.join(parts)} ({looked} checked, {self.matched} matches)"


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def evaluate_ids(
    *, session: Session, settings: Settings, feedback_ids: Sequence[str], now: dt.datetime
) -> EvaluationCounts:
    """Evaluate these stored feedback rows (those the rules have not seen as they are now)."""
    stored = rule_store.current_rules(session)
    if stored is None or not feedback_ids:
        return EvaluationCounts()
    return _evaluate(session, settings, stored, feedback_ids, now)[0]


def _evaluate(
    session: Session,
    settings: Settings,
    stored: rule_store.StoredRules,
    feedback_ids: Sequence[str],
    now: dt.datetime,
) -> tuple[EvaluationCounts, list[dt.datetime]]:
    """The counts, and when each row skipped for its text features last changed."""
    counts, waiting = EvaluationCounts(), []
    sla, routes = policy.sla_policy(settings), policy.routing_rules(settings)
    ids = list(dict.fromkeys(feedback_ids))
    for start in range(0, len(ids), IN_LIST):
        chunk = ids[start : start + IN_LIST]
        seen = _checked(session, chunk)
        for feedback_id, row in stored_feedback(session, chunk, now=now).items():
            if row.updated_at < stored.applies_from or seen.get(feedback_id) == row.row_hash:
                continue
            if not row.enriched:
                counts.skipped += 1
                waiting.append(row.updated_at)
                continue
            matches = evaluate(stored.rules, row.facts)
            for opened in loop_service.open_from_matches(
                session=session,
                facts=row.facts,
                matches=matches,
                policy=sla,
                routing_rules=routes,
                now=now,
            ):
                setattr(counts, opened.outcome, getattr(counts, opened.outcome) + 1)
            _record(session, feedback_id, row.row_hash, stored.version, matches, now)
            counts.checked += 1
            counts.matched += len(matches)
    session.flush()
    return counts, waiting


def evaluate_run(
    *, session: Session, settings: Settings, run_id: int, now: dt.datetime
) -> EvaluationCounts:
    """Evaluate the feedback an import run inserted or changed (what the API and the CLI call
    right after the import committed)."""
    started = session.scalar(select(ImportRun.started_at).where(ImportRun.id == run_id))
    if started is None or rule_store.current_rules(session) is None:
        return EvaluationCounts()
    ids = session.scalars(
        select(Feedback.feedback_id).where(
            Feedback.updated_at >= started, Feedback.import_run_id == run_id
        )
    )
    return evaluate_ids(session=session, settings=settings, feedback_ids=list(ids), now=now)


def after_import(
    *, session: Session, settings: Settings, kind: str, run_id: int, now: dt.datetime
) -> EvaluationCounts | None:
    """``evaluate_run`` for a caller whose import has committed already; None for a kind
    other than feedback and when no rules are saved. A failure rolls back the evaluation only
    (the stored feedback stays), is logged by its exception type (no row values) and named in
    the counts' ``error``; the ``loop.evaluate_feedback`` job looks at those rows again."""
    if kind != "feedback":
        return None
    try:
        if rule_store.current_rules(session) is None:
            return None
        counts = evaluate_run(session=session, settings=settings, run_id=run_id, now=now)
        session.flush()
        return counts
    except Exception as exc:  # stored feedback must never be lost to a rule
        session.rollback()
        log.warning(
            "alert rules on import run %s failed (%s); the evaluation job retries",
            run_id,
            type(exc).__name__,
        )
        return EvaluationCounts(error=type(exc).__name__)


def evaluate_pending(
    *, session: Session, settings: Settings, now: dt.datetime, limit: int = 5000
) -> EvaluationCounts:
    """Evaluate up to ``limit`` rows stored or changed since the watermark (less an hour) that
    the rules have not seen as they are now; move the watermark to the newest looked at (or to
    the oldest row still waiting for its text features, for a day)."""
    counts = EvaluationCounts()
    stored = rule_store.current_rules(session)
    if stored is None:
        return counts
    mark = read_watermark(session, WATERMARK)
    since = stored.applies_from if mark is None else max(stored.applies_from, mark - LOOK_BACK)
    rows = session.execute(
        select(Feedback.feedback_id, Feedback.updated_at)
        .outerjoin(FeedbackCheck, FeedbackCheck.feedback_id == Feedback.feedback_id)
        .where(
            Feedback.updated_at >= since,
            or_(
                FeedbackCheck.feedback_id.is_(None),
                FeedbackCheck.row_hash != Feedback.row_hash,
            ),
        )
        .order_by(Feedback.updated_at, Feedback.feedback_id)
        .limit(limit)
    ).all()
    if not rows:
        return counts
    counts, waiting = _evaluate(session, settings, stored, [i for i, _ in rows], now)
    newest = max(updated for _, updated in rows)
    recent = [at for at in waiting if at > naive(now) - WAIT_FOR_TEXT]
    through = min([newest, *recent])
    if mark is None or through > mark:
        set_watermark(session, WATERMARK, through, stored.version, now)
    return counts


def _checked(session: Session, ids: list[str]) -> dict[str, str]:
    rows = session.execute(
        select(FeedbackCheck.feedback_id, FeedbackCheck.row_hash).where(
            FeedbackCheck.feedback_id.in_(ids)
        )
    )
    return {feedback_id: row_hash for feedback_id, row_hash in rows}


def _record(
    session: Session,
    feedback_id: str,
    row_hash: str,
    version: int,
    matches: list[Any],
    now: dt.datetime,
) -> None:
    values = {
        "row_hash": row_hash,
        "rule_set_version": version,
        "matched": [m.rule_id for m in matches],
        "checked_at": naive(now),
    }
    upsert(
        session,
        FeedbackCheck,
        {"feedback_id": feedback_id, **values},
        keys=["feedback_id"],
        changes=values,
    )


def read_watermark(session: Session, key: str) -> dt.datetime | None:
    """How far a pending scan (``key`` in ``loop_state``) has looked: naive UTC, or None when
    it never ran (or the stored value is not a time)."""
    value = session.scalar(select(LoopState.value).where(LoopState.key == key))
    through = value.get("through") if isinstance(value, dict) else None
    try:
        return dt.datetime.fromisoformat(through) if isinstance(through, str) else None
    except ValueError:
        return None


def set_watermark(
    session: Session, key: str, through: dt.datetime, version: int, now: dt.datetime
) -> None:
    """Record that the scan ``key`` has looked through ``through`` under rules ``version``."""
    value = {"through": naive(through).isoformat(), "rule_set_version": version}
    upsert(
        session,
        LoopState,
        {"key": key, "value": value, "updated_at": naive(now)},
        keys=["key"],
        changes={"value": value, "updated_at": naive(now)},
    )
