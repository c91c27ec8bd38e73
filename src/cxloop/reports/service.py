"""Reports: a view exported as CSV/XLSX, the printable report (HTML/PDF), and scheduled
reports mailed through the one mail sender.

``send_due`` commits its own claims, as ``notify.deliveries`` does: a mail cannot be rolled
back, so the claim of a (schedule, period) is on disk before the mail goes out, and a second
tick finds it and sends nothing twice; a claim left ``sending`` past ``CLAIM_LEASE`` (the run
died between claim and outcome) is taken over, so a crash never loses a period.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast
from urllib.parse import parse_qs

from sqlalchemy import CursorResult, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.db.base import utcnow
from cxloop.errors import Invalid, NotFound, Problem
from cxloop.metrics import service as metrics_service
from cxloop.notify import mail
from cxloop.privacy import service as privacy_service
from cxloop.privacy.roles import Permission, allows
from cxloop.reports import document, schedules, views
from cxloop.reports import tables as report_tables
from cxloop.reports.labels import label
from cxloop.reports.models import ReportRun, ReportSchedule
from cxloop.reports.schemas import ScheduleCreate, ScheduleRead, SendDueResult

log = logging.getLogger(__name__)
ExportFormat = Literal["csv", "xlsx"]
MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "html": "text/html; charset=utf-8",
}
CLAIM_LEASE = dt.timedelta(minutes=30)
"""A period claimed longer ago than this and still ``sending`` belongs to a run that stopped
mid-send (a crash, a restart): the next tick sends it (as ``notify.deliveries`` releases its
stale claims)."""
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True)
class ReportFile:
    content: bytes
    media_type: str
    filename: str


def call_for(
    *, session: Session, settings: Settings, query: str, role: str, now: dt.datetime | None = None
) -> views.ViewCall:
    """A view call for ``query`` (a URL query string) as ``role`` would read it."""
    return views.ViewCall(
        session=session,
        settings=settings,
        params=parse_qs(query, keep_blank_values=False),
        role=role,
        reveal_pii=allows(role, Permission.read_pii),
        now=_naive_utc(now or utcnow()).replace(tzinfo=dt.UTC),
    )


def _naive_utc(moment: dt.datetime) -> dt.datetime:
    """Naive UTC (the store's convention); a naive ``moment`` is UTC already."""
    return moment.astimezone(dt.UTC).replace(tzinfo=None) if moment.tzinfo else moment


def export(
    *, session: Session, settings: Settings, view: str, fmt: str, query: str, role: str,
    table: str | None = None, now: dt.datetime | None = None,
) -> ReportFile:  # fmt: skip
    """View ``view`` with the filters in ``query`` as CSV (one table: ``table`` or the first)
    or XLSX (every table a sheet)."""
    if fmt not in ("csv", "xlsx"):
        raise Invalid("is not an export format (csv, xlsx)", "format", fmt)
    call = call_for(session=session, settings=settings, query=query, role=role, now=now)
    found = views.export_tables(call, view)
    stamp = call.now.strftime("%Y%m%d")
    if fmt == "xlsx":
        return ReportFile(report_tables.to_xlsx(found), MEDIA["xlsx"], f"{view}-{stamp}.xlsx")
    names = [n for n in found if n != report_tables.ABOUT] or [report_tables.ABOUT]
    chosen = table or names[0]
    if chosen not in found:
        raise Invalid(f"is not a table of this view ({', '.join(found)})", "table", chosen)
    suffix = "" if chosen == names[0] else f"-{chosen}"
    return ReportFile(
        report_tables.to_csv(found[chosen]), MEDIA["csv"], f"{view}{suffix}-{stamp}.csv"
    )


def render(
    *, session: Session, settings: Settings, query: str, role: str, lang: str,
    sections: Sequence[str] = (), fmt: str = "html", now: dt.datetime | None = None,
) -> ReportFile:  # fmt: skip
    """The overview report (and ``sections``) for the filters in ``query``, as ``role`` would
    read it, in ``lang``: HTML or PDF."""
    if fmt not in ("html", "pdf"):
        raise Invalid("is not a report format (html, pdf)", "format", fmt)
    if lang not in ("zh", "en"):
        raise Invalid("is not a report language (zh, en)", "lang", lang)
    call = call_for(session=session, settings=settings, query=query, role=role, now=now)
    call = dataclasses.replace(call, params={**call.params, "lang": [lang]})  # sections' names
    data = document.collect(call, sections, "zh" if lang == "zh" else "en")
    html = document.to_html(data)
    stamp = call.now.strftime("%Y%m%d")
    if fmt == "pdf":
        return ReportFile(document.to_pdf(html), MEDIA["pdf"], f"cx-report-{stamp}.pdf")
    return ReportFile(html.encode("utf-8"), MEDIA["html"], f"cx-report-{stamp}.html")


# --- schedules -----------------------------------------------------------------------------


def _read(row: ReportSchedule, last: str | None = None) -> ScheduleRead:
    return ScheduleRead(
        id=row.id,
        name=row.name,
        frequency=row.frequency,
        when=schedules.describe(row.frequency, row.at_time, row.weekday, row.month_day),
        timezone=row.timezone,
        role=row.role,
        query=row.query,
        sections=list(row.sections),
        language=row.language,
        recipients=list(row.recipients),
        format=row.format,
        next_due_at=row.next_due_at,
        created_by=row.created_by,
        last_sent_period=last,
    )


def create_schedule(
    *, session: Session, schedule_in: ScheduleCreate, created_by: str,
    now: dt.datetime | None = None, settings: Settings | None = None,
) -> ScheduleRead:  # fmt: skip
    """Store a schedule after checking every field (all problems at once)."""
    weekday = None
    problems: list[Problem] = []
    if schedule_in.weekday is not None:
        key = schedule_in.weekday.strip().lower()[:3]
        if key in schedules.WEEKDAYS:
            weekday = schedules.WEEKDAYS.index(key)
        else:
            problems.append(Problem("weekday", schedule_in.weekday, "is not mon … sun"))
    problems += schedules.check(
        schedule_in.frequency, schedule_in.at, 0 if problems else weekday, schedule_in.day,
        schedule_in.timezone,
    )  # fmt: skip
    problems += [
        Problem("recipients", r, "is not an e-mail address")
        for r in schedule_in.recipients
        if not _EMAIL.fullmatch(r.strip())
    ]
    unknown = [s for s in schedule_in.sections if s not in document.SECTIONS]
    problems += [
        Problem("sections", s, f"is not a section ({', '.join(document.SECTIONS)})")
        for s in unknown
    ]
    problems += _unmasking(session, created_by, schedule_in.role)
    if problems:
        raise Invalid(problems)
    query = schedule_in.query.lstrip("?")
    check_query(session=session, query=query, now=now, settings=settings)
    row = ReportSchedule(
        name=schedule_in.name.strip(),
        frequency=schedule_in.frequency,
        at_time=f"{int(schedule_in.at.split(':')[0]):02d}:{schedule_in.at.split(':')[1]}",
        weekday=weekday if schedule_in.frequency == "weekly" else None,
        month_day=schedule_in.day if schedule_in.frequency == "monthly" else None,
        timezone=schedule_in.timezone,
        role=schedule_in.role,
        query=query,
        sections=list(dict.fromkeys(schedule_in.sections)),
        language=schedule_in.language,
        recipients=[r.strip() for r in schedule_in.recipients],
        format=schedule_in.format,
        created_by=created_by,
        active=True,
    )
    row.next_due_at = _next(row, now or utcnow())
    session.add(row)
    session.flush()
    return _read(row)


def _unmasking(session: Session, created_by: str, role: str) -> list[Problem]:
    """A user without read_pii may not schedule a report rendered with it (an analyst would
    mail unmasked verbatims to any address); a creator who is no user (the CLI) is an operator."""
    try:
        creator = privacy_service.get_user(session=session, username=created_by)
    except NotFound:
        return []
    if allows(role, Permission.read_pii) and not allows(creator.role, Permission.read_pii):
        return [Problem("role", role, f"shows personal data that {creator.role}s may not read")]
    return []


def check_query(
    *, session: Session, query: str, now: dt.datetime | None = None,
    settings: Settings | None = None,
) -> None:  # fmt: skip
    """Filters that parse (the same rules as every page) and, given ``settings``, ``where``
    values the store holds: a bad one is refused when stored, not on the morning the report
    is due."""
    from cxloop import engines
    from cxloop.metrics.filters import parse_scope

    params = parse_qs(query)
    moment = _naive_utc(now or utcnow())

    def one(key: str) -> str | None:
        return params[key][-1] if key in params else None

    scope = parse_scope(
        one("since"), one("until"), one("last"), params.get("where", ()), now=moment
    )
    if settings is not None and scope.where:
        backend = engines.store_backend(settings)
        try:
            metrics_service.check_scope(backend, scope)
        finally:
            backend.disconnect()


def _next(row: ReportSchedule, after: dt.datetime) -> dt.datetime:
    return schedules.next_due(
        row.frequency, row.at_time, row.weekday, row.month_day, row.timezone, after=after
    )


def list_schedules(*, session: Session) -> list[ScheduleRead]:
    rows = session.scalars(select(ReportSchedule).order_by(ReportSchedule.id)).all()
    last: dict[int, str] = {}
    for run in session.scalars(
        select(ReportRun).where(ReportRun.status == "sent").order_by(ReportRun.id)
    ):
        last[run.schedule_id] = run.period
    return [_read(r, last.get(r.id)) for r in rows]


def remove_schedule(*, session: Session, schedule_id: int) -> None:
    row = session.get(ReportSchedule, schedule_id)
    if row is None:
        raise NotFound(f"no report schedule {schedule_id}")
    session.delete(row)
    session.flush()


def send_due(
    *, session: Session, settings: Settings, now: dt.datetime | None = None
) -> SendDueResult:
    """Send every schedule whose ``next_due_at`` has come, once per (schedule, period).

    A missed stretch (the server was off for days) sends the latest period once, not every
    one missed. A mail server that cannot be reached leaves the schedule due for the next tick.
    """
    moment = _naive_utc(now or utcnow())
    due = session.scalars(
        select(ReportSchedule)
        .where(ReportSchedule.active.is_(True), ReportSchedule.next_due_at <= moment)
        .order_by(ReportSchedule.next_due_at, ReportSchedule.id)
    ).all()
    counts = {"due": len(due), "sent": 0, "failed": 0, "skipped": 0, "waiting": 0, "mails": 0}
    for schedule_id in [row.id for row in due]:
        outcome, mails = _send_one(session, settings, schedule_id, moment)
        counts[outcome] += 1
        counts["mails"] += mails
    return SendDueResult(**counts)


def _claim(session: Session, row: ReportSchedule, period: str, moment: dt.datetime) -> bool:
    """Write the (schedule, period) run and commit; False when it already exists, unless it is a
    claim older than ``CLAIM_LEASE`` still ``sending``: its run stopped before the outcome was
    written, so this run takes it over (a mail may then go out twice, never be lost)."""
    session.add(ReportRun(schedule_id=row.id, period=period, status="sending", started_at=moment))
    try:
        session.commit()
        return True
    except IntegrityError:
        session.rollback()
    stale = (
        update(ReportRun)
        .where(
            ReportRun.schedule_id == row.id,
            ReportRun.period == period,
            ReportRun.status == "sending",
            ReportRun.started_at < moment - CLAIM_LEASE,
        )
        .values(started_at=moment)
    )
    taken = cast(CursorResult[Any], session.execute(stale)).rowcount == 1
    session.commit()
    return taken


def _send_one(
    session: Session, settings: Settings, schedule_id: int, moment: dt.datetime
) -> tuple[str, int]:
    row = session.get(ReportSchedule, schedule_id)
    if row is None:
        return "skipped", 0
    latest = row.next_due_at
    while (following := _next(row, latest)) <= moment:
        latest = following  # the latest period that is due, once
    period = schedules.period_key(latest, row.timezone)
    claimed = _claim(session, row, period, moment)
    run = session.scalars(
        select(ReportRun).where(ReportRun.schedule_id == row.id, ReportRun.period == period)
    ).one()
    if not claimed:
        if run.status != "sending":  # done by another tick; one still sending moves it on
            row.next_due_at = _next(row, moment)
            session.commit()
        return "skipped", 0
    try:
        messages = _messages(session, settings, row, moment)
        outcomes = mail.send(settings, messages, now=moment.replace(tzinfo=dt.UTC))
    except mail.MailUnavailable as exc:
        log.warning("report schedule %s waits: %s", row.id, exc.reason)
        session.delete(run)
        session.commit()
        return "waiting", 0
    except Invalid as exc:  # the stored filters no longer read (e.g. a where value)
        outcomes = []
        run.error = str(exc)
    except Exception:  # nothing went out: free the period, so the next tick tries it again
        session.rollback()
        session.delete(run)
        session.commit()
        raise
    accepted = sum(o.accepted for o in outcomes)
    run.recipients = len(row.recipients)
    run.accepted = accepted
    run.status = "sent" if outcomes and accepted else "failed"
    errors = [o.error for o in outcomes if o.error]
    run.error = run.error or ("; ".join(errors) if errors else None)
    run.finished_at = utcnow()
    row.next_due_at = _next(row, moment)
    session.commit()
    return ("sent" if run.status == "sent" else "failed"), accepted


def _messages(
    session: Session, settings: Settings, row: ReportSchedule, moment: dt.datetime
) -> list[mail.MailMessage]:
    report = render(
        session=session, settings=settings, query=row.query, role=row.role, lang=row.language,
        sections=row.sections, fmt=row.format, now=moment.replace(tzinfo=dt.UTC),
    )  # fmt: skip
    lang = row.language
    subject = f"{label(lang, 'Scheduled report')}: {row.name} ({moment:%Y-%m-%d})"
    if row.format == "pdf":
        text = label(lang, "The report is attached as a PDF.")
        attachment = mail.Attachment(report.filename, "application/pdf", report.content)
        return [
            mail.MailMessage(to=r, subject=subject, text=text, attachments=(attachment,))
            for r in row.recipients
        ]
    html = report.content.decode("utf-8")
    text = label(lang, "Scheduled report") + f": {row.name}"
    return [mail.MailMessage(to=r, subject=subject, text=text, html=html) for r in row.recipients]
