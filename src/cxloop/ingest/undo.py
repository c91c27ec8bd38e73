"""Undoing an import run: remove what it inserted, say what it changed and cannot give back.

A run's inserted rows carry ``inserted_run_id``, its identities and identity conflicts
``import_run_id``. Rows it *updated* keep no earlier version, so they stay as the run left them
and are reported by key. Feedback linked to a customer through an identity the run created is
unlinked again, whenever that link was made. The service flushes; the caller commits, so an undo
is one transaction: all of it or none.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Table, and_, case, delete, func, or_, select, update
from sqlalchemy.orm import Session

from cxloop.customers import service as customers_service
from cxloop.customers.identity import IDENTITY_KINDS
from cxloop.customers.service import CONFLICTS, IDENTITIES
from cxloop.db.base import utcnow
from cxloop.errors import Conflict, NotFound
from cxloop.feedback import service as feedback_service
from cxloop.ingest.models import ImportRun, QuarantinedRow
from cxloop.ingest.schemas import UndoResult
from cxloop.ingest.upsert import TABLES

MAX_KEYS_SHOWN = 100
UNDONE = "undone"
SURVEY_RESPONSES = "survey_responses"
"""The kind of a survey-export import run (surveys.importers): its responses are not undone here."""
SURVEY_FEEDBACK_SOURCE = "survey"
"""The source of the runs that turn survey responses into feedback (surveys.response_feedback)."""


def undo_run(*, session: Session, run_id: int, force: bool = False) -> UndoResult:
    """Remove the rows, text features, identities and conflicts run ``run_id`` created.

    Undoing an undone run does nothing and says so; a run still marked running is refused
    unless ``force`` (its process died and the same file was not imported again since).
    """
    run = session.get(ImportRun, run_id)
    if run is None:
        raise NotFound(f"there is no import run {run_id}; `cxloop imports list` shows the runs")
    result = UndoResult(run_id=run.id, kind=run.kind, source=run.source_name, status=run.status)
    if run.kind == SURVEY_RESPONSES:
        raise Conflict(
            f"import run {run.id} stored survey responses ({run.source_name}): undo removes "
            "what feedback, customer and behaviour imports stored, not survey responses (nor "
            "the feedback made from them), so nothing was undone"
        )
    if run.kind == "feedback" and run.source_name == SURVEY_FEEDBACK_SOURCE:
        raise Conflict(
            f"import run {run.id} stored the feedback of survey responses: undoing it would "
            "leave those responses marked as sent, so their answers would never reach the "
            "metrics again; nothing was undone"
        )
    if run.status == UNDONE:
        result.already_undone = True
        result.message = f"import run {run.id} was already {run.message or UNDONE}"
        return result
    if run.status == "running" and not force:
        raise Conflict(
            f"import run {run.id} is still running; wait for it to end, or if its process is "
            "gone (killed), undo it with --force"
        )
    _report_updates(session, run.id, result)
    result.unlinked = _unlink_feedback(session, run.id)
    removed = result.removed
    for name, table in (("identities", IDENTITIES), ("identity_conflicts", CONFLICTS)):
        removed[name] = _delete(session, table, table.c.import_run_id == run.id)
    feedback = TABLES["feedback"]
    inserted = select(feedback.c.feedback_id).where(feedback.c.inserted_run_id == run.id)
    for name, table in feedback_service.FEATURE_TABLES.items():  # not left to ON DELETE CASCADE
        removed[name] = _delete(session, table, table.c.feedback_id.in_(inserted))
    for name, table in TABLES.items():
        removed[name] = _delete(session, table, table.c.inserted_run_id == run.id)
    quarantined: Table = QuarantinedRow.__table__  # type: ignore[assignment]
    removed["quarantined_rows"] = _delete(
        session, quarantined, quarantined.c.import_run_id == run.id
    )
    order = [*TABLES, *feedback_service.FEATURE_TABLES, "identities", "identity_conflicts"]
    order.append("quarantined_rows")
    result.removed = {name: removed[name] for name in order if removed.get(name)}
    result.status = run.status = UNDONE
    result.message = _sentence(result)
    before = f"; before the undo: {run.message}" if run.message else ""  # e.g. why it failed
    run.message = f"undone {utcnow():%Y-%m-%d %H:%M} UTC: {result.message}{before}"[:2000]
    session.flush()
    return result


def _report_updates(session: Session, run_id: int, result: UndoResult) -> None:
    """Count rows the run updated (still as it left them) and rows it inserted that a later run
    changed: the first cannot be restored, the second are removed all the same."""
    for table in TABLES.values():
        key = next(iter(table.primary_key.columns))
        updated = and_(
            table.c.import_run_id == run_id,
            or_(table.c.inserted_run_id.is_(None), table.c.inserted_run_id != run_id),
        )
        count = session.scalar(select(func.count()).select_from(table).where(updated)) or 0
        result.not_restored += count
        room = MAX_KEYS_SHOWN - len(result.not_restored_keys)
        if count and room > 0:
            keys = session.scalars(select(key).where(updated).order_by(key).limit(room))
            result.not_restored_keys.extend(str(k) for k in keys)
        later = and_(table.c.inserted_run_id == run_id, table.c.import_run_id != run_id)
        result.changed_since += (
            session.scalar(select(func.count()).select_from(table).where(later)) or 0
        )


def _unlink_feedback(session: Session, run_id: int) -> int:
    """Clear links made through identities this run created, on feedback that stays.

    The account is cleared too where it is the linked contact's account, which is where the
    link filled it (``feedback.service.link_records``/``link_unlinked``).
    """
    feedback = TABLES["feedback"]
    identities = customers_service.IDENTITIES
    contacts = customers_service.TABLES["contacts"]
    contact_account = (
        select(contacts.c.account_id)
        .where(contacts.c.contact_id == feedback.c.contact_id)
        .scalar_subquery()
    )
    total = 0
    for kind in IDENTITY_KINDS:
        column = feedback.c[feedback_service.AUTHOR_COLUMNS[kind]]
        created = select(identities.c.value).where(
            identities.c.kind == kind, identities.c.import_run_id == run_id
        )
        statement = (
            update(feedback)
            .where(
                feedback.c.link_method == kind,
                column.in_(created),
                or_(feedback.c.inserted_run_id.is_(None), feedback.c.inserted_run_id != run_id),
            )
            .values(
                customer_id=None,
                contact_id=None,
                link_method=None,
                account_id=case(
                    (
                        and_(
                            feedback.c.contact_id.is_not(None),
                            feedback.c.account_id == contact_account,
                        ),
                        None,
                    ),
                    else_=feedback.c.account_id,
                ),
            )
        )
        total += session.execute(statement).rowcount or 0  # type: ignore[attr-defined]
    return total


def _delete(session: Session, table: Table, condition: ColumnElement[bool]) -> int:
    return int(session.execute(delete(table).where(condition)).rowcount or 0)  # type: ignore[attr-defined]


def _sentence(result: UndoResult) -> str:
    removed = ", ".join(f"{n:,} {name}" for name, n in result.removed.items()) or "nothing"
    parts = [f"removed {removed}"]
    if result.unlinked:
        parts.append(f"unlinked {_rows(result.unlinked)} of feedback linked through its identities")
    if result.changed_since:
        parts.append(f"{_rows(result.changed_since)} of them had been updated by a later run")
    if result.not_restored:
        keeps = "keeps" if result.not_restored == 1 else "keep"
        parts.append(
            f"{_rows(result.not_restored)} it updated {keeps} its values (earlier values are "
            "not kept)"
        )
    return "; ".join(parts)


def _rows(n: int) -> str:
    return f"{n:,} row" if n == 1 else f"{n:,} rows"
