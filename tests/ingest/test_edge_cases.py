"""Odd inputs found in review: each is stored, quarantined or refused — never lost or crashed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from cxloop.api import Store, connect, import_file, import_records
from cxloop.config import Settings
from cxloop.errors import UnreadableFile


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Store:
    return connect(
        settings=Settings(database_url=f"sqlite:///{tmp_path / 'e.db'}", import_batch_size=100)
    )


def _rows(store: Store, sql: str) -> list[tuple]:
    with store.engine.connect() as connection:
        return [tuple(r) for r in connection.execute(text(sql))]


def test_repeated_and_suffixed_headers_do_not_collide(sqlite_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("customer_id,name,name,name_2\nC1,a,b,c\n", encoding="utf-8")
    summary = import_file(sqlite_store, "customers", path)
    assert summary.inserted == 1
    (attributes,) = _rows(sqlite_store, "SELECT attributes FROM customers")[0]
    assert json.loads(attributes) == {"name_2": "b", "name_2_2": "c"}


def test_hour_only_offsets_and_dates_with_offsets(sqlite_store: Store) -> None:
    summary = import_records(
        sqlite_store,
        "customers",
        [
            {
                "customer_id": "C1",
                "signed_up_at": "2026-01-05 10:00+08",
                "birth_date": "1990-05-01T00:00:00+08:00",
            }
        ],
    )
    assert summary.inserted == 1, summary.rejected
    ((signed, born),) = _rows(sqlite_store, "SELECT signed_up_at, birth_date FROM customers")
    assert str(signed).startswith("2026-01-05 02:00:00") and str(born) == "1990-05-01"


def test_identical_rows_without_ids_are_all_kept_and_reimport_stays_idempotent(
    sqlite_store: Store,
) -> None:
    review = {
        "channel": "review",
        "source": "tmall",
        "created_at": "2026-03-01",
        "text": "此用户没有填写评价",
        "rating": 5,
    }
    rows = [review, review, review, {**review, "rating": 1}]
    assert import_records(sqlite_store, "feedback", rows).inserted == 4
    again = import_records(sqlite_store, "feedback", rows)
    assert (again.inserted, again.unchanged) == (0, 4)
    assert _rows(sqlite_store, "SELECT avg(rating) FROM feedback") == [(4.0,)]


def test_the_content_key_does_not_depend_on_which_columns_a_file_has(
    sqlite_store: Store, tmp_path: Path
) -> None:
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text("channel,created_at,text\nsocial,2026-01-01,太慢了\n", encoding="utf-8")
    second.write_text("channel,created_at,text,nps\nsocial,2026-01-01,太慢了,\n", encoding="utf-8")
    import_file(sqlite_store, "feedback", first)
    assert import_file(sqlite_store, "feedback", second).unchanged == 1
    assert _rows(sqlite_store, "SELECT count(*) FROM feedback") == [(1,)]


def test_sources_with_colons_do_not_collide(sqlite_store: Store) -> None:
    base = {"channel": "ticket", "created_at": "2026-01-01"}
    import_records(
        sqlite_store,
        "feedback",
        [
            {**base, "source": "a:b", "feedback_id": "c"},
            {**base, "source": "a", "feedback_id": "b:c"},
        ],
    )
    assert _rows(sqlite_store, "SELECT count(*) FROM feedback") == [(2,)]


def test_a_broken_record_with_undecodable_bytes_is_quarantined(
    sqlite_store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(
        b"feedback_id,channel,created_at\n1,chat,2026-01-01\n"
        b"2,chat,2026-01-02,\xff extra\n3,chat,2026-01-03\n"
    )
    summary = import_file(sqlite_store, "feedback", path)
    assert (summary.inserted, summary.quarantined) == (2, 1)


def test_a_latin1_file_asks_for_its_encoding(sqlite_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    lines = "".join(f"{i},chat,2026-01-01,Renée Zürich {i}\n" for i in range(5))
    path.write_bytes(("feedback_id,channel,created_at,text\n" + lines).encode("latin-1"))
    with pytest.raises(UnreadableFile, match="--encoding"):
        import_file(sqlite_store, "feedback", path)
    assert import_file(sqlite_store, "feedback", path, encoding="latin-1").inserted == 5


def test_json_lines_whose_later_rows_lack_a_required_key_quarantine_those_rows(
    sqlite_store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "f.jsonl"
    lines = [{"channel": "chat", "created_at": "2026-01-01", "text": f"t{i}"} for i in range(150)]
    lines += [{"channel": "chat", "text": f"late {i}"} for i in range(150)]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    summary = import_file(sqlite_store, "feedback", path)
    assert (summary.read, summary.inserted, summary.quarantined) == (300, 150, 150)
    assert summary.rejected[0].problems[0].field == "created_at"


def test_reimport_with_a_fix_empties_the_quarantine_of_that_file(
    sqlite_store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "f.csv"
    path.write_text(
        "feedback_id,created_at,channel\n1,2026-01-01,\n2,2026-01-02,\n", encoding="utf-8"
    )
    from cxloop.ingest import service as ingest_service

    with sqlite_store.sessions() as session:
        bad = ingest_service.import_file(
            session=session, settings=sqlite_store.settings, kind="feedback", path=path
        )
        assert bad.quarantined == 2
        fixed = ingest_service.import_file(
            session=session,
            settings=sqlite_store.settings,
            kind="feedback",
            path=path,
            defaults={"channel": "chat"},
        )
    assert (fixed.inserted, fixed.quarantined) == (2, 0)
    assert _rows(sqlite_store, "SELECT count(*) FROM quarantined_rows") == [(0,)]
