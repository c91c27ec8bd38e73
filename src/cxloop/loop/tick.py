"""The loop's clock: fire every SLA warning and escalation that is due, then queue the notices of
everything that happened to cases since the last run (``notices``).

Run by the ``loop.fire_timers`` job (``cxloop loop tick``, and ``cxloop serve`` on its clock)
with an injectable ``now``. Each timer fires once (``timers.fire_due`` claims its column) and each
notice is queued once (its outbox key names its event), so running it twice, or after a restart,
changes nothing.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.loop import notices, timers

MAX_CASES = 5000
"""Cases one run fires timers for; more wait for the next run (each run is one transaction)."""


def tick(*, session: Session, settings: Settings, now: dt.datetime) -> dict[str, int]:
    """Fire due timers and queue notices; only flushes (the job's unit of work commits).

    Counts: ``cases`` with a timer due, ``warned`` and ``escalated`` (timers fired), and the
    notices' counts (``events``, ``mails``, ``webhooks``, ``no_address``, ``no_mail_server``).
    """
    seen: set[int] = set()
    warned = escalated = 0
    while len(seen) < MAX_CASES:
        due = [
            i
            for i in timers.due_case_ids(session=session, now=now, limit=1000)
            if i not in seen  # a case another ticker fired under us stays due in our copy
        ]
        if not due:
            break
        for case_id in due:
            seen.add(case_id)
            for _, stage in timers.fire_due(session=session, case_id=case_id, now=now):
                warned += stage == "warning"
                escalated += stage == "breach"
    counts = {"cases": len(seen), "warned": warned, "escalated": escalated}
    return counts | notices.send_notices(session=session, settings=settings, now=now)
