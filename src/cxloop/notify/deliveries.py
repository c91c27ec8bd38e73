"""The delivery outbox: notifications are queued as rows, then sent by ``deliver_due`` runs
(the ``notify.deliver_due`` job) through the one mail sender and the one webhook sender.

Each run sends a due delivery once — the outbox retries across runs, not inside one, so a
receiver that is down costs no run more than one timeout per delivery. A failed try waits 1, 5,
30, then 120 minutes (:data:`BACKOFF`) before the next; after ``settings.notify_max_attempts``
tries, or at once when the receiver refused it for good (a 4xx other than 408/429, a redirect,
a bounced address), the delivery is *dead*: listed by :func:`dead_letters`, sent again by
:func:`resend`. Delivery is at least once: a receiver dedupes on ``X-Cxloop-Delivery``.

``deliver_due`` commits its own claims and outcomes, unlike other services: a send cannot be
rolled back, so what was sent must be on disk before the next row is sent, and a claim held in
an open transaction would lock SQLite writers for the whole network round trip.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.db.base import utcnow
from cxloop.errors import Conflict, Invalid, NotFound, Problem
from cxloop.notify import mail, webhooks
from cxloop.notify.models import Delivery
from cxloop.notify.schemas import CHANNELS, STATUSES, DeliveryRead, DeliveryRun

BACKOFF: tuple[dt.timedelta, ...] = tuple(dt.timedelta(minutes=m) for m in (1, 5, 30, 120))
"""Wait after the 1st, 2nd, 3rd and every later failed try."""
CLAIM_LEASE = dt.timedelta(minutes=30)
"""A row claimed longer ago than this belongs to a run that stopped mid-send: it is released."""
DEFAULT_LIMIT = 50
"""Deliveries per run: 50 unreachable webhooks cost at most 50 × 10 s, inside the lease."""
DELIVERY_HEADER = "X-Cxloop-Delivery"
"""The delivery id, the same on every try and on a resend: the receiver's idempotency key."""
MAIL_FIELDS = ("subject", "text")
RETRYABLE_HTTP = frozenset({408, 429})

log = logging.getLogger(__name__)


def _naive(now: dt.datetime | None) -> dt.datetime:
    if now is None:
        return utcnow()
    return now.astimezone(dt.UTC).replace(tzinfo=None) if now.tzinfo else now


def _read(row: Delivery) -> DeliveryRead:
    shown = webhooks.redact_url(row.target) if row.channel == "webhook" else row.target
    values = {c: getattr(row, c) for c in DeliveryRead.model_fields if c != "target"}
    if row.status in ("delivered", "dead"):
        values["next_attempt_at"] = None
    return DeliveryRead(target=shown, **values)


def _check(channel: str, target: str, payload: Mapping[str, Any], key: str) -> None:
    """Every problem of a delivery to queue, at once (the URL named redacted)."""
    problems: list[Problem] = []
    if channel not in CHANNELS:
        problems.append(Problem("channel", channel, "is not a channel (email, webhook)"))
    if not key or len(key) > 255:
        problems.append(Problem("key", key, "must be 1 to 255 characters"))
    if channel == "webhook":
        if not _http_url(target) or len(target) > 1024:
            problems.append(Problem("target", webhooks.redact_url(target), "is not an http(s) URL"))
        elif any(c.isspace() or not c.isprintable() for c in target):
            # http.client would refuse it on every try with an error quoting the path and query
            # (the token) into last_error, shown by `notify deliveries`
            problems.append(
                Problem(
                    "target",
                    webhooks.redact_url(target),
                    "has spaces or control characters (percent-encode them: %20)",
                )
            )
    elif channel == "email":
        if "@" not in target or len(target) > 320:
            problems.append(Problem("target", target, "is not a mail address"))
        for name in MAIL_FIELDS:
            if not isinstance(payload.get(name), str) or not payload[name].strip():
                problems.append(Problem(f"payload.{name}", payload.get(name), "is required"))
    try:
        json.dumps(payload)
    except (TypeError, ValueError) as exc:
        problems.append(Problem("payload", type(payload).__name__, f"is not JSON ({exc})"))
    if problems:
        raise Invalid(problems)


def _http_url(target: str) -> bool:
    """An http(s) URL with a host and, when given, a port 0–65535 (``urlsplit`` raises
    ValueError on ``http://[::1/x`` and ``.port`` on ``:99999``: a sentence, not a traceback)."""
    try:
        parts = urllib.parse.urlsplit(target)
        parts.port  # noqa: B018 -- reading it checks it
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def enqueue(
    *,
    session: Session,
    channel: str,
    target: str,
    payload: Mapping[str, Any],
    key: str,
    now: dt.datetime | None = None,
) -> DeliveryRead:
    """Queue one notification, due at ``now``; the same ``key`` again returns the row queued
    first and queues nothing (also when two callers race: the key is unique in the table)."""
    _check(channel, target, payload, key)
    moment = _naive(now)
    values = {
        "channel": channel,
        "target": target,
        "payload": dict(payload),
        "key": key,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": moment,
        "created_at": moment,
    }
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(Delivery).values(**values).on_conflict_do_nothing(index_elements=["key"])
    )
    row = session.scalars(
        select(Delivery).where(Delivery.key == key).execution_options(populate_existing=True)
    ).one()
    return _read(row)


def enqueue_mail(
    *,
    session: Session,
    to: str,
    template: str,
    lang: str,
    context: Mapping[str, Any],
    key: str,
    to_name: str | None = None,
    unsubscribe_url: str | None = None,
    tz: str | None = None,
    now: dt.datetime | None = None,
) -> DeliveryRead:
    """Render ``template`` in ``lang`` now (a missing value fails here, not in the job) and
    queue the mail; the rendered text is what is sent, however often it is retried."""
    subject, text, html = mail.render(template, lang, context, tz=tz)
    payload = {"subject": subject, "text": text, "html": html, "to_name": to_name}
    if unsubscribe_url:
        payload["unsubscribe_url"] = unsubscribe_url
    return enqueue(session=session, channel="email", target=to, payload=payload, key=key, now=now)


def _claim(session: Session, now: dt.datetime, limit: int) -> tuple[list[Delivery], int]:
    """Release stale claims, then claim due rows one by one: ``UPDATE … WHERE status =
    'pending'`` changes a row for one run only, so two runs at once never send it twice."""
    stale = update(Delivery).where(
        Delivery.status == "delivering", Delivery.claimed_at < now - CLAIM_LEASE
    )
    released = cast(
        CursorResult[Any],
        session.execute(
            stale.values(status="pending", claimed_at=None, next_attempt_at=now),
            execution_options={"synchronize_session": False},
        ),
    ).rowcount
    session.commit()
    due = session.scalars(
        select(Delivery.id)
        .where(Delivery.status == "pending", Delivery.next_attempt_at <= now)
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(limit)
    ).all()
    session.commit()  # end the read, so each claim below starts a fresh write
    return _take(session, due, now), released


def _take(session: Session, ids: Sequence[int], now: dt.datetime) -> list[Delivery]:
    """The rows of ``ids`` this run claimed (pending → delivering), each claim committed."""
    claimed: list[int] = []
    for delivery_id in ids:
        taken = cast(
            CursorResult[Any],
            session.execute(
                update(Delivery)
                .where(Delivery.id == delivery_id, Delivery.status == "pending")
                .values(status="delivering", claimed_at=now),
                execution_options={"synchronize_session": False},
            ),
        )
        if taken.rowcount == 1:
            claimed.append(delivery_id)
        session.commit()
    rows = session.scalars(
        select(Delivery)
        .where(Delivery.id.in_(claimed))
        .order_by(Delivery.id)
        .execution_options(populate_existing=True)
    ).all()
    return list(rows)


def _record(
    row: Delivery,
    *,
    ok: bool,
    status: int | None,
    error: str | None,
    final: bool,
    now: dt.datetime,
    tries: int,
    run: DeliveryRun,
) -> None:
    """One try's outcome: delivered, pending again after the backoff, or dead with why."""
    row.attempts += 1
    row.last_status = status
    row.claimed_at = None
    if ok:
        row.status, row.delivered_at, row.last_error = "delivered", now, None
        run.delivered += 1
    elif final or row.attempts >= tries:
        tried = f"{row.attempts} tries" if row.attempts > 1 else "1 try"
        why = "refused for good, not retried" if final else f"gave up after {tried}"
        row.status, row.dead_at, row.last_error = "dead", now, f"{error}; {why}"
        run.dead += 1
    else:
        row.status, row.last_error = "pending", error
        row.next_attempt_at = now + BACKOFF[min(row.attempts, len(BACKOFF)) - 1]
        run.retrying += 1


def _send_webhook(row: Delivery, settings: Settings) -> tuple[bool, int | None, str | None, bool]:
    result = webhooks.post(
        row.target,
        row.payload,
        secret=settings.webhook_secret,
        retries=0,
        headers={DELIVERY_HEADER: str(row.id)},
    )
    final = result.attempts == 0 or (
        result.status is not None and result.status < 500 and result.status not in RETRYABLE_HTTP
    )
    return result.ok, result.status, result.reason, final and not result.ok


def _send_mails(
    rows: Sequence[Delivery], settings: Settings
) -> list[tuple[bool, str | None, bool]]:
    messages = [
        mail.MailMessage(
            to=row.target,
            subject=str(row.payload.get("subject", "")),
            text=str(row.payload.get("text", "")),
            html=row.payload.get("html"),
            to_name=row.payload.get("to_name"),
            unsubscribe_url=row.payload.get("unsubscribe_url"),
        )
        for row in rows
    ]
    try:
        outcomes = mail.send(settings, messages)
    except mail.MailUnavailable as exc:
        reason = f"mail server {exc.server} {exc.reason}"
        return [(False, reason, False) for _ in rows]
    return [(o.accepted, o.error, o.bounced) for o in outcomes]


def deliver_due(
    *,
    session: Session,
    settings: Settings,
    now: dt.datetime | None = None,
    limit: int = DEFAULT_LIMIT,
) -> DeliveryRun:
    """Send every delivery due at ``now`` once (oldest first, at most ``limit``); commits."""
    moment = _naive(now)
    rows, released = _claim(session, moment, limit)
    return _send(session, rows, settings, moment, DeliveryRun(released=released))


def deliver_one(
    *, session: Session, settings: Settings, delivery_id: int, now: dt.datetime | None = None
) -> DeliveryRun:
    """Send one pending delivery now, due or not (``cxloop notify test``); commits."""
    moment = _naive(now)
    return _send(session, _take(session, [delivery_id], moment), settings, moment, DeliveryRun())


def _send(
    session: Session,
    rows: Sequence[Delivery],
    settings: Settings,
    moment: dt.datetime,
    run: DeliveryRun,
) -> DeliveryRun:
    """Try each claimed row once and record the outcome (webhooks one by one, committing each;
    mails in one SMTP batch)."""
    tries = settings.notify_max_attempts
    for row in (r for r in rows if r.channel == "webhook"):
        ok, status, error, final = _send_webhook(row, settings)
        _record(
            row, ok=ok, status=status, error=error, final=final, now=moment, tries=tries, run=run
        )
        session.commit()
    mails = [r for r in rows if r.channel == "email"]
    for row, (ok, error, bounced) in zip(mails, _send_mails(mails, settings), strict=True):
        _record(
            row, ok=ok, status=None, error=error, final=bounced, now=moment, tries=tries, run=run
        )
    session.commit()
    if rows or run.released:
        log.info("notify run: %s", run.counts())
    return run


def resend(*, session: Session, delivery_id: int, now: dt.datetime | None = None) -> DeliveryRead:
    """Put a dead delivery back in the queue, due now, with a fresh count of tries."""
    row = session.get(Delivery, delivery_id)
    if row is None:
        raise NotFound(f"no delivery {delivery_id}")
    if row.status != "dead":
        raise Conflict(f"delivery {delivery_id} is {row.status}: only dead deliveries are resent")
    row.status, row.attempts, row.dead_at = "pending", 0, None
    row.next_attempt_at = _naive(now)
    session.flush()
    return _read(row)


def get(*, session: Session, delivery_id: int) -> DeliveryRead:
    row = session.get(Delivery, delivery_id)
    if row is None:
        raise NotFound(f"no delivery {delivery_id}")
    return _read(row)


def list_deliveries(
    *, session: Session, status: str | None = None, limit: int = 100
) -> list[DeliveryRead]:
    """Deliveries newest first, of one ``status`` when given."""
    query = select(Delivery).order_by(Delivery.id.desc()).limit(limit)
    if status is not None:
        if status not in STATUSES:
            raise Invalid(f"is not a status ({', '.join(STATUSES)})", "status", status)
        query = query.where(Delivery.status == status)
    return [_read(row) for row in session.scalars(query)]


def dead_letters(*, session: Session, limit: int = 100) -> list[DeliveryRead]:
    """Deliveries that gave up, newest first, each with its last error."""
    return list_deliveries(session=session, status="dead", limit=limit)
