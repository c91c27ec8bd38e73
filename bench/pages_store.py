"""The stores the pages benchmark measures: the demo company, built once into a cache folder,
and the demo replicated inside SQLite to a million feedback rows (see ``pages_bench``)."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from pathlib import Path

CUSTOMER_COPIES = 30
"""Copies of the demo's customers (with their orders, subscriptions and events) the replicated
feedback is spread over."""
USER, PASSWORD = "bench-admin", "bench password 1234"


def demo_store(cache: Path) -> Path:
    """The demo company, built once into the cache."""
    from cxloop.api import connect
    from cxloop.config import Settings
    from cxloop.demo.service import load_demo

    folder = cache / "demo"
    database = folder / "cxloop.db"
    if (folder / ".built").exists():
        return database
    folder.mkdir(parents=True, exist_ok=True)
    database.unlink(missing_ok=True)
    settings = Settings(database_url=f"sqlite:///{database}")
    store = connect(settings=settings)
    try:
        load_demo(sessions=store.sessions, settings=settings, folder=folder / "files")
    finally:
        store.close()
    (folder / ".built").touch()
    return database


def copy_store(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.unlink(missing_ok=True)
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _columns(con: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in con.execute(f"PRAGMA table_info({table})")]


def _replicate(
    con: sqlite3.Connection,
    table: str,
    copies: int,
    changed: dict[str, str],
    limit: int | None = None,
) -> int:
    """Insert ``copies`` copies of ``table``'s rows (copy number ``n`` from 1), with the
    ``changed`` columns computed by SQL expressions of ``n`` and the source columns."""
    columns = _columns(con, table)
    con.execute(f"DROP TABLE IF EXISTS temp.src_{table}")
    con.execute(
        f"CREATE TEMP TABLE src_{table} AS SELECT row_number() OVER () - 1 AS idx, * FROM {table}"
    )
    (size,) = con.execute(f"SELECT count(*) FROM src_{table}").fetchone()
    expressions = ", ".join(changed.get(c, f"s.{c}") for c in columns)
    where = f"WHERE (r.n - 1) * {size} + s.idx < {limit}" if limit is not None else ""
    cursor = con.execute(
        f"WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < {copies}) "
        f"INSERT INTO {table} ({', '.join(columns)}) SELECT {expressions} "
        f"FROM r CROSS JOIN src_{table} s {where}"
    )
    return cursor.rowcount


def big_store(cache: Path, demo: Path, rows: int) -> Path:
    """The demo replicated to ``rows`` feedback rows (built once per size)."""
    folder = cache / f"rows-{rows}"
    database = folder / "cxloop.db"
    if (folder / ".built").exists():
        return database
    copy_store(demo, database)
    con = sqlite3.connect(database)
    try:
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=OFF")
        (n_demo,) = con.execute("SELECT count(*) FROM feedback").fetchone()
        extra = max(0, rows - n_demo)
        copies = -(-extra // n_demo) if extra else 0
        k = CUSTOMER_COPIES
        fid = "'b' || r.n || '|' || s.feedback_id"
        person = "CASE WHEN s.{c} IS NULL THEN NULL ELSE s.{c} || '~' || ((r.n - 1) % {k}) END"
        shift = "printf('%+d minutes', ((r.n * 7919 + s.idx * 104729) % 20161) - 10080)"
        started = time.perf_counter()
        with con:
            _replicate(
                con,
                "feedback",
                copies,
                {
                    "feedback_id": fid,
                    "external_id": "NULL",
                    "customer_id": person.format(c="customer_id", k=k),
                    "created_at": f"strftime('%Y-%m-%d %H:%M:%f000', s.created_at, {shift})",
                },
                limit=extra,
            )
            kept = f"WHERE (r.n - 1) * {n_demo} + s.idx < {extra}"
            for child in ("feedback_text", "feedback_topic"):
                columns = _columns(con, child)
                exprs = ", ".join(fid if c == "feedback_id" else f"s.{c}" for c in columns)
                con.execute(
                    f"WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r "
                    f"WHERE n < {copies}) INSERT INTO {child} ({', '.join(columns)}) "
                    f"SELECT {exprs} FROM r CROSS JOIN temp.src_feedback f "
                    f"JOIN {child} s ON s.feedback_id = f.feedback_id "
                    + kept.replace("s.idx", "f.idx")
                )
            people = {"customer_id": "s.customer_id || '~' || (r.n - 1)"}
            _replicate(
                con,
                "customers",
                k,
                {**people, "email": "NULL", "phone": "NULL", "member_id": "NULL", "handle": "NULL"},
            )
            for table, key in (("orders", "order_id"), ("subscriptions", "subscription_id")):
                _replicate(
                    con,
                    table,
                    k,
                    {
                        **people,
                        key: f"s.{key} || '~' || (r.n - 1)",
                        "customer_id": person.format(c="customer_id", k=k),
                    },
                )
            _replicate(
                con,
                "events",
                10,
                {
                    "event_id": "s.event_id || '~' || (r.n - 1)",
                    "customer_id": person.format(c="customer_id", k=k),
                },
            )
        print(f"  replicated to {rows:,} feedback rows in {time.perf_counter() - started:.1f} s")
        con.execute("ANALYZE")
    finally:
        con.close()
    (folder / ".built").touch()
    return database


def signed_in_token(database: Path) -> str:
    """A token of an admin the bench may sign in with (made once per store)."""
    from cxloop.api import connect
    from cxloop.config import Settings
    from cxloop.errors import Conflict
    from cxloop.privacy import service as privacy_service
    from cxloop.privacy.roles import Role
    from cxloop.privacy.schemas import TokenCreate, UserCreate

    store = connect(settings=Settings(database_url=f"sqlite:///{database}"))
    try:
        with store.sessions() as session:
            with contextlib.suppress(Conflict):
                privacy_service.create_user(
                    session=session,
                    user_in=UserCreate(username=USER, password=PASSWORD, role=Role.admin),
                )
            issued = privacy_service.create_token(
                session=session, token_in=TokenCreate(username=USER, name="pages bench")
            )
            session.commit()
    finally:
        store.close()
    return issued.token


def first_ids(database: Path) -> dict[str, str]:
    con = sqlite3.connect(database)
    try:
        customer = con.execute(
            "SELECT customer_id FROM feedback WHERE customer_id IS NOT NULL "
            "GROUP BY customer_id ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()
        account = con.execute(
            "SELECT account_id FROM feedback WHERE account_id IS NOT NULL "
            "GROUP BY account_id ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()
    finally:
        con.close()
    return {
        "customer": customer[0] if customer else "none",
        "account": account[0] if account else "none",
    }
