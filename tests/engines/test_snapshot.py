"""The analytics snapshot: same numbers as the store, refreshed incrementally after imports, a
full build after deletes, compaction, the atomic swap, and where analytics read from."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cxloop import engines
from cxloop.api import connect, import_records
from cxloop.cli.app import app
from cxloop.config import Settings
from cxloop.dashboards.freshness import freshness, refresh_snapshot, snapshot_status
from cxloop.engines import snapshot as snap
from cxloop.ingest.undo import undo_run
from cxloop.insights import analyses
from cxloop.jobs.snapshot_jobs import refresh_analytics_snapshot
from cxloop.metrics import comparisons
from cxloop.metrics import service as metrics_service
from cxloop.metrics.filters import Scope
from tests.engines.parity_support import load_demo_with_edges
from tests.shared_build import build_once, copy_sqlite


def _build(folder: Path) -> None:
    load_demo_with_edges(f"sqlite:///{folder / 'cxloop.db'}", folder / "files")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small demo company with calendar-edge answers, built once per run."""
    return build_once(tmp_path_factory, "snapshot-small-demo", _build) / "cxloop.db"


@pytest.fixture
def store(built: Path, tmp_path: Path) -> Settings:
    """A copy of the small demo, with a snapshot folder named (none written yet)."""
    copy_sqlite(built, tmp_path / "cxloop.db")
    return Settings(
        database_url=f"sqlite:///{tmp_path / 'cxloop.db'}",
        analytics_snapshot_dir=tmp_path / "snapshot",
        import_batch_size=1000,
    )


@pytest.fixture(scope="module")
def refreshed(built: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """One copy with its snapshot written, shared by the read-only parity tests."""
    folder = tmp_path_factory.mktemp("snapshot-parity")
    copy_sqlite(built, folder / "cxloop.db")
    settings = Settings(
        database_url=f"sqlite:///{folder / 'cxloop.db'}", analytics_snapshot_dir=folder / "snap"
    )
    assert refresh_snapshot(settings).mode == "full"
    return settings


def _live(settings: Settings) -> Settings:
    return settings.model_copy(update={"analytics_snapshot_dir": None})


def _dump(result: object) -> Any:
    return json.loads(result.model_dump_json())  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("name", "by", "period"),
    [
        ("nps", ["channel"], "month"),
        ("csat", ["segment"], None),
        ("ces", [], "quarter"),
        ("sentiment", ["touchpoint"], "week"),
        ("topic_incidence", ["channel"], "month"),
        ("nps", ["region", "role"], None),
    ],
)
def test_every_metric_gives_identical_rows_on_the_store_and_on_the_snapshot(
    refreshed: Settings, name: str, by: list[str], period: str | None
) -> None:
    live = metrics_service.report(settings=_live(refreshed), name=name, by=by, period=period)
    snapped = metrics_service.report(settings=refreshed, name=name, by=by, period=period)
    assert live.rows, "a parity test over no rows proves nothing"
    assert _dump(snapped) == _dump(live)


def test_an_index_and_a_compare_are_identical_on_the_snapshot(refreshed: Settings) -> None:
    live, snapped = _live(refreshed), refreshed
    index = [
        _dump(metrics_service.index_report(settings=s, name="cx_index", by=["channel"]))
        for s in (live, snapped)
    ]
    assert index[0] == index[1]
    scope = Scope(until=dt.datetime(2026, 11, 1))
    compared = [
        _dump(comparisons.compare(settings=s, metric="nps", by=["channel"], scope=scope))
        for s in (live, snapped)
    ]
    assert compared[0]["rows"] and compared[0] == compared[1]


def test_insights_run_on_the_snapshot_and_it_holds_no_personal_columns(
    refreshed: Settings,
) -> None:
    live = analyses.clv(settings=_live(refreshed), top=5)
    snapped = analyses.clv(settings=refreshed, top=5)
    assert _dump(snapped) == _dump(live)
    backend = engines.analytics_backend(refreshed)
    try:
        assert backend.name == "duckdb"
        assert "author_email" not in backend.table("feedback").columns
        assert not {"name", "email", "phone"} & set(backend.table("customers").columns)
        aspects = backend.table("feedback_text").aspects.execute().dropna()
        assert isinstance(aspects.iloc[0], list), "JSON columns read back as JSON, as the store"
    finally:
        backend.disconnect()


def _counts(settings: Settings) -> dict[str, int]:
    backend = engines.store_backend(settings)
    try:
        return {t: int(backend.table(t).count().execute()) for t in snap.FEEDBACK_KEYED}
    finally:
        backend.disconnect()


def test_new_and_changed_feedback_come_in_as_a_part_without_duplicates(store: Settings) -> None:
    first = refresh_snapshot(store)
    assert first.mode == "full"
    assert refresh_snapshot(store).mode == "unchanged"
    db = connect(settings=_live(store))
    try:
        new = [
            {"feedback_id": f"late-{i}", "channel": "app", "created_at": "2026-10-02", "nps": i}
            for i in range(11)
        ]
        assert import_records(db, "feedback", new).inserted == 11
        changed = [
            {"feedback_id": "late-3", "channel": "app", "created_at": "2026-10-02", "nps": 9}
        ]
        assert import_records(db, "feedback", changed).updated == 1
    finally:
        db.close()
    done = refresh_snapshot(store)
    assert done.mode == "incremental"
    assert 11 <= done.changed_rows < first.counts["feedback"]
    assert done.counts["feedback"] == first.counts["feedback"] + 11 == _counts(store)["feedback"]
    state = snap.read_state(store.analytics_snapshot_dir)
    assert state is not None and len(state.parts["feedback"]) == 2
    backend = engines.analytics_backend(store)
    try:
        f = backend.table("feedback")
        late = f.filter(f.feedback_id.endswith("late-3")).nps.execute().tolist()
    finally:
        backend.disconnect()
    assert late == [9], "the changed row replaces its old copy, never beside it"
    live = metrics_service.report(settings=_live(store), name="nps", by=["channel"])
    assert _dump(metrics_service.report(settings=store, name="nps", by=["channel"])) == _dump(live)


def test_an_undone_import_forces_a_full_build(store: Settings) -> None:
    refresh_snapshot(store)
    db = connect(settings=_live(store))
    try:
        rows = [{"feedback_id": "gone-1", "channel": "app", "created_at": "2026-10-03", "nps": 0}]
        run = import_records(db, "feedback", rows).run_id
        assert refresh_snapshot(store).mode == "incremental"
        with db.sessions() as session:
            undo_run(session=session, run_id=run)
            session.commit()
    finally:
        db.close()
    done = refresh_snapshot(store)
    assert done.mode == "full"
    assert "differs from the store" in done.reason
    assert done.counts["feedback"] == _counts(store)["feedback"]


def test_parts_are_compacted_and_old_generations_removed(
    store: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(snap, "MAX_PARTS", 2)
    refresh_snapshot(store)
    db = connect(settings=_live(store))
    modes = []
    try:
        for i in range(3):
            rows = [
                {"feedback_id": f"c-{i}", "channel": "app", "created_at": "2026-10-04", "nps": 5}
            ]
            import_records(db, "feedback", rows)
            modes.append(refresh_snapshot(store).mode)
    finally:
        db.close()
    assert modes == ["incremental", "compacted", "incremental"]
    folder = store.analytics_snapshot_dir
    assert folder is not None
    state = snap.read_state(folder)
    assert state is not None and state.parts["feedback"] == [
        "part-00002.parquet",
        "part-00003.parquet",
    ]
    generations = sorted(p.name for p in folder.glob("g*"))
    assert generations[-1] == state.generation and len(generations) == 2
    assert state.counts["feedback"] == _counts(store)["feedback"]


def test_analytics_read_the_store_unless_a_whole_snapshot_of_this_store_exists(
    store: Settings, tmp_path: Path
) -> None:
    assert freshness(_live(store)).source == "store"
    assert not snapshot_status(_live(store)).enabled
    assert freshness(store).source == "store"
    assert "no snapshot there yet" in snapshot_status(store).reason
    done = refresh_snapshot(store)
    fresh = freshness(store)
    assert fresh.source == "snapshot" and fresh.as_of == done.as_of
    other = tmp_path / "other.db"
    shutil.copy(Path(str(store.database_url).removeprefix("sqlite:///")), other)
    moved = store.model_copy(update={"database_url": f"sqlite:///{other}"})
    assert freshness(moved).source == "store"
    assert "another store" in snapshot_status(moved).reason
    backend = engines.analytics_backend(moved)
    try:
        assert backend.name == "sqlite"
    finally:
        backend.disconnect()
    folder = store.analytics_snapshot_dir
    assert folder is not None
    state = snap.read_state(folder)
    assert state is not None
    shutil.rmtree(folder / state.generation)  # a state naming a missing generation: not used
    assert freshness(store).source == "store"


def test_the_job_refreshes_only_when_due(store: Settings) -> None:
    now = dt.datetime.now(dt.UTC)
    off = refresh_analytics_snapshot(session=None, settings=_live(store), now=now)  # type: ignore[arg-type]
    assert off == {}
    first = refresh_analytics_snapshot(session=None, settings=store, now=now)  # type: ignore[arg-type]
    assert first == {"full": 1, "feedback_rows": _counts(store)["feedback"]}
    again = refresh_analytics_snapshot(session=None, settings=store, now=now)  # type: ignore[arg-type]
    assert again == {"fresh": 1}
    later = now + dt.timedelta(seconds=store.analytics_snapshot_seconds + 120)
    due = refresh_analytics_snapshot(session=None, settings=store, now=later)  # type: ignore[arg-type]
    assert due == {"unchanged": 1, "feedback_rows": 0}


def test_cli_refresh_status_and_import_say_what_they_did(
    store: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cxloop.config import get_settings

    monkeypatch.setenv("CXLOOP_DATABASE_URL", store.database_url)
    monkeypatch.setenv("CXLOOP_ANALYTICS_SNAPSHOT_DIR", str(store.analytics_snapshot_dir))
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        status = runner.invoke(app, ["analytics", "snapshot", "status"])
        assert status.exit_code == 0 and "reading: store" in status.output
        done = runner.invoke(app, ["analytics", "snapshot", "refresh"])
        assert done.exit_code == 0, done.output
        said = " ".join(done.output.split())  # rich wraps long folder names
        assert "full (no snapshot yet)" in said and "feedback" in said
        shown = runner.invoke(app, ["analytics", "snapshot", "status", "--format", "json"])
        assert json.loads(shown.output)["reading"] == "snapshot"
        csv = tmp_path / "more.csv"
        csv.write_text("feedback_id,channel,created_at,nps\nm-1,app,2026-10-05,8\n", "utf-8")
        imported = runner.invoke(app, ["import", "feedback", str(csv)])
        assert imported.exit_code == 0, imported.output
        assert "analytics snapshot refreshed (incremental" in " ".join(imported.output.split())
        monkeypatch.setenv("CXLOOP_DATABASE_URL", "sqlite:///" + str(tmp_path / "none.db"))
        get_settings.cache_clear()
        missing = runner.invoke(app, ["analytics", "snapshot", "refresh"])
        assert missing.exit_code != 0 and "Traceback" not in missing.output
    finally:
        get_settings.cache_clear()


EXIT_SCRIPT = """
import sys
from fastapi import FastAPI
from fastapi.testclient import TestClient
from cxloop import engines
from cxloop.config import Settings

settings = Settings.model_validate_json(sys.argv[1])
app = FastAPI()


@app.get("/n")
def n() -> int:
    backend = engines.analytics_backend(settings)
    try:
        return int(engines.feedback_table(backend).count().execute())
    finally:
        backend.disconnect()


client = TestClient(app)  # each request's worker thread ends with its event loop
print([client.get("/n").status_code for _ in range(3)])
"""


def test_snapshot_reads_from_worker_threads_exit_cleanly(refreshed: Settings) -> None:
    """A kept DuckDB connection destroyed with its finished worker thread aborted the process
    at exit ("terminate called after throwing…", status 134)."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", EXIT_SCRIPT, refreshed.model_dump_json()],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert (done.returncode, done.stdout.strip()) == (0, "[200, 200, 200]"), done.stderr[-500:]
    assert "terminate called" not in done.stderr
