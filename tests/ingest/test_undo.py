"""``imports undo``: a run's rows, text features, identities and conflicts go; the store is as
it was before the run (every table, every column), and what cannot be restored is named."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text

from cxloop.api import Store, import_file, import_records
from cxloop.config import Settings
from cxloop.db import migrate
from cxloop.db.session import make_engine
from cxloop.errors import Conflict, NotFound
from cxloop.ingest import undo as undo_service
from cxloop.ingest.models import ImportRun
from tests.cli.support import run_cxloop
from tests.ingest.inhouse_export import write_inhouse_export
from tests.web.support import build_api

CUSTOMERS = [
    {"customer_id": "C1", "name": "李娜", "email": "li.na@example.com", "segment": "vip"},
    {"customer_id": "C2", "name": "Wang Fang", "phone": "+8613800138000", "segment": "regular"},
]
FEEDBACK_BEFORE = [
    {
        "feedback_id": "F1",
        "channel": "review",
        "created_at": "2026-01-01 09:00",
        "text": "物流很快，包装完好",
        "nps": "9",
        "author_email": "li.na@example.com",
    },
    {
        "feedback_id": "F2",
        "channel": "survey",
        "created_at": "2026-01-02 10:00",
        "text": "The app keeps crashing",
        "nps": "3",
        "author_email": "zhao.lei@example.com",  # nobody's yet: linked when C3 arrives
        "author_phone": "+8613900139000",
    },
]
NEW_FEEDBACK = (
    "feedback_id,channel,created_at,text,nps,author_email,device\n"
    "F3,chat,2026-02-01 08:00,客服态度很差，退款太慢,1,li.na@example.com,iPhone\n"
    "F4,chat,2026-02-02 09:30,Great value for money,10,,\n"
    ",review,2026/02/03,没有编号的评论，质量一般,,,小程序\n"
    "F5,survey,2026-02-04,bad score,eleven,,\n"
    "F6,survey,not a date,no time,5,,\n"
)
T0, T1 = "2026-01-01 00:00:00", "2026-01-02 00:00:00"
SKIPPED = {"alembic_version", "import_runs"}
"""``import_runs`` keeps the run (status ``undone``): the undo is recorded, not erased."""


def _snapshot(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (bar the run log), in a stable order."""
    with store.engine.connect() as connection:
        names = sorted(set(inspect(connection).get_table_names()) - SKIPPED)
        tables = {}
        for name in names:
            rows = connection.execute(text(f'SELECT * FROM "{name}"')).all()
            tables[name] = sorted((tuple(r) for r in rows), key=repr)
        return tables


def _run(store: Store, run_id: int) -> ImportRun:
    with store.sessions() as session:
        run = session.get(ImportRun, run_id)
        assert run is not None
        session.expunge(run)
        return run


def _undo(store: Store, run_id: int, *, force: bool = False) -> Any:
    with store.sessions() as session:
        result = undo_service.undo_run(session=session, run_id=run_id, force=force)
        session.commit()
    return result


def test_undo_of_a_feedback_import_leaves_every_table_as_before(
    store: Store, tmp_path: Path
) -> None:
    import_records(store, "customers", CUSTOMERS)
    import_records(store, "feedback", FEEDBACK_BEFORE)
    before = _snapshot(store)
    path = tmp_path / "more.csv"
    path.write_text(NEW_FEEDBACK, encoding="utf-8")
    summary = import_file(store, "feedback", path)
    assert (summary.inserted, summary.quarantined, summary.linked) == (3, 2, 1)
    after_import = _snapshot(store)
    assert len(after_import["feedback_text"]) == len(before["feedback_text"]) + 3
    assert len(after_import["feedback_topic"]) > len(before["feedback_topic"])

    result = _undo(store, summary.run_id)

    assert _snapshot(store) == before
    assert result.removed["feedback"] == 3 and result.removed["quarantined_rows"] == 2
    assert result.removed["feedback_text"] == 3
    assert (result.not_restored, result.not_restored_keys) == (0, [])
    run = _run(store, summary.run_id)
    assert run.status == "undone" and "removed 3 feedback" in (run.message or "")


def test_undo_removes_identities_and_conflicts_and_unlinks_feedback_they_linked(
    store: Store,
) -> None:
    import_records(store, "feedback", FEEDBACK_BEFORE)
    import_records(store, "accounts", [{"account_id": "A1", "name": "Acme"}])
    before = _snapshot(store)
    assert all(row[0] is None for row in _links(store))
    summary = import_records(
        store,
        "contacts",
        [
            {
                "contact_id": "P1",
                "account_id": "A1",
                "email": "zhao.lei@example.com",
                "role": "user",
            },
            {
                "contact_id": "P2",
                "account_id": "A1",
                "email": "zhao.lei@example.com",  # P1's already: a conflict, not a merge
                "role": "user",
            },
        ],
    )
    assert summary.identity_conflicts == 1 and summary.linked == 1
    assert ("P1", "A1", "email") in _links(store)

    result = _undo(store, summary.run_id)

    assert _snapshot(store) == before
    assert result.unlinked == 1
    assert result.removed == {"identities": 1, "identity_conflicts": 1, "contacts": 2}


def _links(store: Store) -> list[tuple[Any, ...]]:
    with store.engine.connect() as connection:
        return [
            tuple(r)
            for r in connection.execute(
                text("SELECT contact_id, account_id, link_method FROM feedback ORDER BY 1")
            )
        ]


def test_undo_reports_the_rows_the_run_updated_and_keeps_them(store: Store, tmp_path: Path) -> None:
    import_records(store, "customers", CUSTOMERS)
    path = tmp_path / "customers.csv"  # C1 changed, C2 as it was, C3 new
    path.write_text(
        "customer_id,name,email,phone,segment\n"
        "C1,李娜,li.na@example.com,,regular\n"
        "C2,Wang Fang,,+8613800138000,regular\n"
        "C3,,c3@example.com,,\n",
        encoding="utf-8",
    )
    summary = import_file(store, "customers", path)
    assert (summary.inserted, summary.updated, summary.unchanged) == (1, 1, 1)

    result = _undo(store, summary.run_id)

    assert (result.not_restored, result.not_restored_keys) == (1, ["C1"])
    assert result.removed == {"customers": 1, "identities": 1}
    assert "1 row it updated keeps its values" in result.message
    with store.engine.connect() as connection:
        rows = connection.execute(text("SELECT customer_id, segment FROM customers")).all()
    assert sorted(map(tuple, rows)) == [("C1", "regular"), ("C2", "regular")]


def test_rows_inserted_then_updated_by_a_later_run_are_removed_and_counted(store: Store) -> None:
    first = import_records(store, "customers", CUSTOMERS)
    import_records(store, "customers", [{**CUSTOMERS[1], "segment": "vip"}])
    result = _undo(store, first.run_id)
    assert result.removed["customers"] == 2 and result.changed_since == 1
    assert "1 row of them had been updated by a later run" in result.message


def test_undoing_twice_says_it_is_already_undone(store: Store) -> None:
    summary = import_records(store, "customers", CUSTOMERS)
    _undo(store, summary.run_id)
    again = _undo(store, summary.run_id)
    assert again.already_undone and again.removed == {}
    assert again.message.startswith(f"import run {summary.run_id} was already undone")


def test_an_unknown_run_is_refused_by_name(store: Store) -> None:
    with pytest.raises(NotFound, match="there is no import run 4242"):
        _undo(store, 4242)


def test_a_run_still_marked_running_needs_force(store: Store) -> None:
    summary = import_records(store, "customers", CUSTOMERS)
    with store.sessions() as session:  # as a killed import leaves it
        session.execute(text("UPDATE import_runs SET status = 'running'"))
        session.commit()
    with pytest.raises(Conflict, match="still running"):
        _undo(store, summary.run_id)
    assert _undo(store, summary.run_id, force=True).removed["customers"] == 2


def test_a_failed_run_is_undone_and_keeps_why_it_failed(store: Store) -> None:
    summary = import_records(store, "customers", CUSTOMERS)
    with store.sessions() as session:  # as an import that died midway leaves it
        session.execute(text("UPDATE import_runs SET status = 'failed', message = 'OSError: disk'"))
        session.commit()
    assert _undo(store, summary.run_id).removed["customers"] == 2
    run = _run(store, summary.run_id)
    assert run.status == "undone" and (run.message or "").endswith("before the undo: OSError: disk")


def test_a_file_imported_again_after_its_undo_is_stored_again(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "more.csv"
    path.write_text(NEW_FEEDBACK, encoding="utf-8")
    first = import_file(store, "feedback", path)
    _undo(store, first.run_id)
    again = import_file(store, "feedback", path)
    assert (again.inserted, again.unchanged, again.quarantined) == (3, 0, 2)


def test_undo_of_a_chinese_inhouse_export_leaves_the_store_as_before(
    store: Store, tmp_path: Path
) -> None:
    import_records(store, "customers", CUSTOMERS)
    import_records(store, "feedback", FEEDBACK_BEFORE)
    before = _snapshot(store)
    export = write_inhouse_export(tmp_path)
    summary = import_file(store, "feedback", export.csv_path)
    assert summary.inserted + summary.quarantined == len(export.rows)
    assert summary.inserted > 0 and _snapshot(store) != before

    result = _undo(store, summary.run_id)

    assert _snapshot(store) == before
    assert result.removed["feedback"] == summary.inserted


def test_cli_undo_prints_what_it_removed_and_refuses_unknown_runs(tmp_path: Path) -> None:
    path = tmp_path / "more.csv"
    path.write_text(NEW_FEEDBACK, encoding="utf-8")
    imported = run_cxloop(tmp_path, "import", "feedback", str(path), "--json")
    assert imported.returncode == 0, imported.stderr
    run_id = json.loads(imported.stdout)["run_id"]

    undone = run_cxloop(tmp_path, "imports", "undo", str(run_id))
    assert undone.returncode == 0, undone.stderr
    assert f"import run {run_id} (feedback" in undone.stdout
    assert "removed 3 feedback" in undone.stdout

    again = run_cxloop(tmp_path, "imports", "undo", str(run_id), "--json")
    assert again.returncode == 0 and json.loads(again.stdout)["already_undone"] is True

    unknown = run_cxloop(tmp_path, "imports", "undo", "999")
    assert unknown.returncode == 2 and "Traceback" not in unknown.stderr
    assert "there is no import run 999" in unknown.stderr


def test_api_undo_is_for_importers_and_idempotent(tmp_path: Path) -> None:
    built = build_api(tmp_path / "api.db")
    with built.client as client:
        runs = client.get("/api/v1/imports", headers=built.auth("admin")).json()
        feedback_run = next(r["id"] for r in runs if r["kind"] == "feedback")
        url = f"/api/v1/imports/{feedback_run}/undo"
        assert client.post(url, headers=built.auth("viewer")).status_code == 403
        done = client.post(url, headers=built.auth("admin"))
        assert done.status_code == 200, done.text
        assert done.json()["removed"]["feedback"] == 1 and not done.json()["already_undone"]
        again = client.post(url, headers=built.auth("admin")).json()
        assert again["already_undone"] is True and again["status"] == "undone"
        missing = client.post("/api/v1/imports/777/undo", headers=built.auth("admin"))
        assert missing.status_code == 404
        assert "there is no import run 777" in missing.json()["detail"][0]["reason"]
    built.store.close()
    built.app.state.engine.dispose()


def test_migration_0005_backfills_inserting_runs_and_downgrades_keeping_features(
    database_url: str,
) -> None:
    """Rows never updated since their insert get their run; updated ones stay unknown (never
    undone). The downgrade drops the columns in place: a table copy of ``feedback`` would
    delete its text features through ON DELETE CASCADE."""
    engine = make_engine(Settings(database_url=database_url))
    migrate.upgrade(engine, "0004")
    insert = text(
        "INSERT INTO feedback (feedback_id, channel, created_at, row_hash, import_run_id, "
        "loaded_at, updated_at) VALUES (:id, 'chat', :t0, 'h', :run, :t0, :t1)"
    )
    with engine.begin() as connection:
        connection.execute(insert, {"id": "f1", "run": 1, "t0": T0, "t1": T0})
        connection.execute(insert, {"id": "f2", "run": 2, "t0": T0, "t1": T1})
        connection.execute(
            text(
                "INSERT INTO feedback_text (feedback_id, language, mixed, sentiment, "
                "sentiment_score, intent, flags, emotions, keywords, aspects, pii, text_hash, "
                "source_row_hash, model_version, taxonomy_version, enriched_at) VALUES ('f1', "
                "'none', false, 'neutral', 0, 'none', '[]', '[]', '[]', '[]', '[]', 't', 'h', "
                "'m', 'v', :t0)"
            ),
            {"t0": T0},
        )
    migrate.upgrade(engine)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT feedback_id, inserted_run_id FROM feedback"))
        runs = {feedback_id: run for feedback_id, run in rows}
    assert runs == {"f1": 1, "f2": None}
    migrate.downgrade(engine, "0004")
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM feedback_text")) == 1
    columns = {c["name"] for c in inspect(engine).get_columns("feedback")}
    assert "inserted_run_id" not in columns and "import_run_id" in columns
    engine.dispose()
