"""Store-level guards for what two requests may do at once: one open case per customer and
topic, one check row per feedback.

Two answers from the same customer about the same topic can be stored by two requests at the
same moment; each looks for the open case, finds none, and opens one. ``hold`` closes that gap
on SQLite and PostgreSQL alike: before looking, a transaction writes a lock row for the (dedupe
key, topic) in ``loop_state``. On SQLite that first write takes the store's write lock, so the
look that follows sees every committed case and nobody commits another until this transaction
ends; on PostgreSQL the second ``INSERT … ON CONFLICT`` waits for the first transaction, and its
next statement sees the first's case. ``release`` deletes the row in the same transaction (the
lock lasts until commit all the same), so no lock rows pile up.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from cxloop.loop.case_reads import naive
from cxloop.loop.models import LoopState

PREFIX = "case-open:"


def lock_name(key: str, topic: str) -> str:
    """The lock row's key: within ``loop_state.key``'s 64 characters whatever the ids' length."""
    digest = hashlib.sha256(f"{key}\0{topic}".encode("utf-8", "surrogatepass")).hexdigest()
    return PREFIX + digest[:48]


def hold(session: Session, key: str, topic: str, now: dt.datetime) -> None:
    """Take the (``key``, ``topic``) lock until this transaction ends (waits while another
    transaction holds it)."""
    name = lock_name(key, topic)
    upsert(
        session,
        LoopState,
        {"key": name, "value": {"lock": True}, "updated_at": naive(now)},
        keys=["key"],
        changes={"updated_at": naive(now)},
    )


def release(session: Session, key: str, topic: str) -> None:
    """Delete the lock row (the lock itself lasts until the transaction ends)."""
    session.execute(delete(LoopState).where(LoopState.key == lock_name(key, topic)))


def upsert(
    session: Session,
    model: Any,
    values: dict[str, Any],
    *,
    keys: Sequence[str],
    changes: dict[str, Any],
) -> None:
    """Insert ``values``, or update ``changes`` on the row with the same ``keys``, in one
    statement that two transactions can run at once without a unique-key error."""
    dialect = session.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        insert = sqlite.insert if dialect == "sqlite" else postgresql.insert
        session.execute(
            insert(model).values(**values).on_conflict_do_update(index_elements=keys, set_=changes)
        )
        return
    # other engines: update, else insert (no concurrency guarantee; not a supported store)
    where = [getattr(model, k) == values[k] for k in keys]
    if session.execute(select(*[getattr(model, k) for k in keys]).where(*where)).first():
        session.execute(update(model).where(*where).values(**changes))
    else:
        session.add(model(**values))
        session.flush()
