"""Imports end to end on a real store (SQLite file, and PostgreSQL under -m postgres)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from cxloop.api import Store, import_file, import_records
from cxloop.errors import Invalid, UnreadableFile
from cxloop.ingest.models import QuarantinedRow

GOOD = [
    "S-1,survey,wjx,2026-01-01 09:00,送货很快,9,5,,li.na@example.com,vip",
    "S-2,survey,wjx,2026/01/02 10:30,客服态度很差,2,1,6,,regular",
    "R-3,review,tmall,2026-01-03T08:00:00+08:00,包装不错,,,,,",
    ",social,weibo,2026-01-04,没有编号的帖子,,,,,",
    "S-5,survey,wjx,2026-01-05,,10,,,,",
]
BAD = [
    ("S-6,survey,wjx,2026-01-06,ok,eleven,,,,", "nps"),  # wrong type
    ("S-7,survey,wjx,2026-01-07,ok,11,,,,", "nps"),  # out of range
    ("S-8,survey,wjx,2026-01-08,ok,,0,,,", "csat"),  # out of range
    ("S-9,survey,wjx,2026-01-09,ok,,,9,,", "ces"),  # out of range
    ("S-10,,wjx,2026-01-10,no channel,,,,,", "channel"),  # missing required
    ("S-11,survey,wjx,,no time,,,,,", "created_at"),  # missing required
    ("S-12,survey,wjx,2026-13-45,bad date,,,,,", "created_at"),  # bad date
    ("S-14,survey,wjx,2026-01-14,too,many,fields,x,y,z,w", "row"),  # broken CSV record
]
# a mistyped optional email costs only the email: the row is stored, the value reported
WARNED = "S-13,survey,wjx,2026-01-13,ok,,,,not-an-email,"
HEADER = "feedback_id,channel,source,created_at,text,nps,csat,ces,email,tier"


def _write(path: Path, lines: list[str], broken_bytes: bool = True) -> Path:
    body = ("\n".join([HEADER, *lines]) + "\n").encode("utf-8")
    if broken_bytes:  # a row whose text is not valid UTF-8
        body += b"S-15,survey,wjx,2026-01-15,\xff\xfe\xfa broken,7,,,,\n"
    path.write_bytes(body)
    return path


def _count(store: Store, table: str) -> int:
    with store.engine.connect() as connection:
        return int(connection.scalar(text(f"SELECT count(*) FROM {table}")) or 0)


def _feedback(store: Store) -> dict[str, tuple]:
    with store.engine.connect() as connection:
        rows = connection.execute(text("SELECT feedback_id, nps, text, row_hash FROM feedback"))
        return {r[0]: tuple(r[1:]) for r in rows}


def test_mixed_file_stores_every_good_row_and_quarantines_every_bad_row(
    store: Store, tmp_path: Path
) -> None:
    path = _write(tmp_path / "mixed.csv", GOOD + [WARNED] + [line for line, _ in BAD])
    summary = import_file(store, "feedback", path)
    bad_count = len(BAD) + 1
    assert (summary.read, summary.inserted, summary.quarantined) == (
        len(GOOD) + 1 + bad_count,
        len(GOOD) + 1,
        bad_count,
    )
    (warning,) = [w for w in summary.warnings if w.row is not None]
    assert (warning.row, warning.field, warning.value) == (
        len(GOOD) + 2,
        "author_email",
        "not-an-email",
    )
    assert summary.warned == 1 and "wjx:S-13" in _feedback(store)
    assert summary.read == _count(store, "feedback") + _count(store, "quarantined_rows")
    with store.sessions() as session:
        rows = {q.row_number: q for q in session.scalars(select(QuarantinedRow))}
    for offset, (_, field) in enumerate(BAD):
        row = rows[len(GOOD) + 3 + offset]
        assert row.field == field, (row.row_number, row.field, row.reason)
        assert row.reason and row.raw
    encoding_row = rows[len(GOOD) + len(BAD) + 3]
    assert encoding_row.field == "text" and "not valid utf-8" in encoding_row.reason
    assert "\ufffd" in (encoding_row.value or "")
    stored = _feedback(store)
    assert set(stored) >= {"wjx:S-1", "wjx:S-2", "tmall:R-3", "wjx:S-5"}
    assert any(key.startswith("#") for key in stored)  # the post without an id


def test_extra_columns_are_kept_as_attributes(store: Store, tmp_path: Path) -> None:
    import_file(store, "feedback", _write(tmp_path / "f.csv", GOOD[:3], broken_bytes=False))
    with store.engine.connect() as connection:
        rows = connection.execute(text("SELECT external_id, attributes FROM feedback"))
        attributes = {external_id: value for external_id, value in rows}
    stored = attributes["S-1"]
    assert (json.loads(stored) if isinstance(stored, str) else stored) == {"tier": "vip"}
    assert attributes["R-3"] is None  # no extra values: NULL, not "NaN" or "{}"


def test_reimport_of_same_file_creates_no_duplicates(store: Store, tmp_path: Path) -> None:
    path = _write(tmp_path / "f.csv", GOOD + [line for line, _ in BAD])
    first = import_file(store, "feedback", path)
    before = (_feedback(store), _count(store, "quarantined_rows"))
    second = import_file(store, "feedback", path)
    assert (second.inserted, second.updated, second.unchanged) == (0, 0, first.inserted)
    assert (_feedback(store), _count(store, "quarantined_rows")) == before


def test_overlapping_file_updates_changed_rows_in_place(store: Store, tmp_path: Path) -> None:
    import_file(store, "feedback", _write(tmp_path / "a.csv", GOOD, broken_bytes=False))
    changed = GOOD[1].replace(",2,1,6,", ",4,1,6,")
    overlap = [GOOD[0], changed, "S-20,survey,wjx,2026-02-01,new row,8,,,,"]
    summary = import_file(
        store, "feedback", _write(tmp_path / "b.csv", overlap, broken_bytes=False)
    )
    assert (summary.inserted, summary.updated, summary.unchanged) == (1, 1, 1)
    stored = _feedback(store)
    assert len(stored) == len(GOOD) + 1
    assert stored["wjx:S-2"][0] == 4


def test_same_key_twice_in_one_file_keeps_one_row(store: Store, tmp_path: Path) -> None:
    lines = [GOOD[0], GOOD[0].replace(",9,5,", ",10,5,")]
    summary = import_file(store, "feedback", _write(tmp_path / "d.csv", lines, broken_bytes=False))
    assert summary.read == 2 and _count(store, "feedback") == 1
    assert _feedback(store)["wjx:S-1"][0] == 10


def test_unreadable_file_raises_and_stores_nothing(store: Store, tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile):
        import_file(store, "feedback", tmp_path / "missing.csv")
    path = tmp_path / "nocols.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(Invalid, match="no column maps to it"):
        import_file(store, "feedback", path)
    assert _count(store, "feedback") == 0


def test_feedback_links_to_customers_by_normalised_identity(store: Store, tmp_path: Path) -> None:
    customers = tmp_path / "customers.csv"
    customers.write_text(
        "customer_id,name,email,phone,member_id\n"
        "C1,李娜,Li.Na@Example.com,13800138000,M-001\n"
        "C2,王伟,wang@example.com,+86 139 0013 9000,\n",
        encoding="utf-8",
    )
    import_file(store, "customers", customers)
    summary = import_records(
        store,
        "feedback",
        [
            {
                "channel": "survey",
                "created_at": "2026-01-01",
                "email": "LI.NA@EXAMPLE.COM",
                "text": "a",
            },
            {"channel": "chat", "created_at": "2026-01-01", "phone": "139-0013-9000", "text": "b"},
            {"channel": "chat", "created_at": "2026-01-01", "member_id": "M-001", "text": "c"},
            {"channel": "social", "created_at": "2026-01-01", "author": "路人甲", "text": "d"},
        ],
    )
    assert summary.linked == 3
    with store.engine.connect() as connection:
        links = {
            t: c for t, c in connection.execute(text("SELECT text, customer_id FROM feedback"))
        }
    assert links == {"a": "C1", "b": "C2", "c": "C1", "d": None}


def test_unmatched_feedback_links_later_when_the_identity_arrives(
    store: Store, tmp_path: Path
) -> None:
    import_records(
        store,
        "feedback",
        [
            {
                "channel": "email",
                "created_at": "2026-01-01",
                "email": "late@example.com",
                "text": "where is my order",
            }
        ],
    )
    with store.engine.connect() as connection:
        assert connection.scalar(text("SELECT customer_id FROM feedback")) is None
    summary = import_records(
        store, "customers", [{"customer_id": "C9", "email": "Late@Example.com"}]
    )
    assert summary.linked == 1
    with store.engine.connect() as connection:
        row = connection.execute(text("SELECT customer_id, link_method FROM feedback")).one()
    assert tuple(row) == ("C9", "email")


def test_a_conflicting_identity_is_reported_not_merged(store: Store) -> None:
    import_records(store, "customers", [{"customer_id": "C1", "email": "shared@example.com"}])
    summary = import_records(
        store, "customers", [{"customer_id": "C2", "email": "SHARED@example.com"}]
    )
    assert summary.identity_conflicts == 1
    with store.engine.connect() as connection:
        owner = connection.scalar(text("SELECT customer_id FROM identities"))
        conflict = connection.execute(
            text("SELECT owner, claimed_by FROM identity_conflicts")
        ).one()
    assert owner == "C1"
    assert tuple(conflict) == ("customer:C1", "customer:C2")
    assert _count(store, "customers") == 2


def test_b2b_feedback_links_to_contact_and_account(store: Store) -> None:
    import_records(store, "accounts", [{"account_id": "A1", "name": "华星科技"}])
    import_records(
        store,
        "contacts",
        [{"contact_id": "K1", "account_id": "A1", "role": "decision_maker", "email": "ceo@hx.cn"}],
    )
    import_records(
        store,
        "feedback",
        [{"channel": "survey", "created_at": "2026-03-01", "email": "ceo@hx.cn", "nps": 6}],
    )
    with store.engine.connect() as connection:
        row = connection.execute(text("SELECT contact_id, account_id FROM feedback")).one()
    assert tuple(row) == ("K1", "A1")


@pytest.mark.parametrize(
    "kind",
    [
        "customers",
        "accounts",
        "contacts",
        "projects",
        "milestones",
        "orders",
        "events",
        "subscriptions",
    ],
)
def test_every_kind_imports_and_reimports_idempotently(store: Store, kind: str) -> None:
    rows = {
        "customers": [{"customer_id": "C1", "name": "张三", "signed_up_at": "2025-01-01"}],
        "accounts": [{"account_id": "A1", "name": "华星科技", "annual_value": "120000"}],
        "contacts": [{"contact_id": "K1", "account_id": "A1", "role": "purchaser"}],
        "projects": [
            {"project_id": "P1", "account_id": "A1", "name": "一期", "start_date": "2026-01-01"}
        ],
        "milestones": [
            {"milestone_id": "M1", "project_id": "P1", "name": "上线", "due_date": "2026-03-01"}
        ],
        "orders": [
            {
                "order_id": "O1",
                "customer_id": "C1",
                "ordered_at": "2026-01-02",
                "amount": "199.5",
                "quantity": "2",
            }
        ],
        "events": [{"customer_id": "C1", "event_type": "login", "occurred_at": "2026-01-02 08:00"}],
        "subscriptions": [
            {
                "subscription_id": "U1",
                "customer_id": "C1",
                "plan": "annual",
                "started_at": "2025-01-01",
                "ended_at": "2026-01-01",
                "renewed": "否",
            }
        ],
    }[kind]
    first = import_records(store, kind, rows)
    second = import_records(store, kind, rows)
    assert (first.inserted, first.quarantined) == (1, 0), first.rejected
    assert (second.inserted, second.unchanged) == (0, 1)
    assert _count(store, kind) == 1


def test_runs_are_recorded_with_their_counts(store: Store, tmp_path: Path) -> None:
    import_file(store, "feedback", _write(tmp_path / "f.csv", GOOD))
    with store.engine.connect() as connection:
        run = connection.execute(
            text("SELECT status, rows_read, inserted, quarantined FROM import_runs")
        ).one()
        assert connection.scalar(select(func.count()).select_from(QuarantinedRow)) == 1
    assert tuple(run) == ("finished", len(GOOD) + 1, len(GOOD), 1)
