"""Big files are read and validated by a worker process: same result as in-process."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from cxloop.api import connect, import_file
from cxloop.config import Settings
from cxloop.errors import Invalid

ROWS = 5_000


def _write(path: Path) -> Path:
    lines = ["feedback_id,channel,created_at,text,nps,device"]
    for i in range(ROWS):
        nps = "11" if i % 100 == 0 else str(i % 11)
        lines.append(f"F{i},survey,2026-02-{1 + i % 28:02d} 09:00,第{i}条 反馈,{nps},ios")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _state(url: str) -> tuple[list[tuple], list[tuple]]:
    store = connect(url)
    with store.engine.connect() as connection:
        rows = [
            tuple(r)
            for r in connection.execute(
                text("SELECT feedback_id, row_hash, nps, attributes FROM feedback ORDER BY 1")
            )
        ]
        quarantined = [
            tuple(r)
            for r in connection.execute(
                text("SELECT row_number, field, reason FROM quarantined_rows ORDER BY 1")
            )
        ]
    store.close()
    return rows, quarantined


def test_worker_process_gives_the_same_store_as_in_process(tmp_path: Path) -> None:
    csv = _write(tmp_path / "f.csv")
    results = {}
    for name, parallel in (("inline", False), ("worker", True)):
        url = f"sqlite:///{tmp_path / name}.db"
        settings = Settings(
            database_url=url,
            import_batch_size=700,
            import_parallel=parallel,
            import_parallel_min_bytes=0,
        )
        store = connect(settings=settings)
        summary = import_file(store, "feedback", csv)
        store.close()
        assert (summary.read, summary.inserted, summary.quarantined) == (ROWS, ROWS - 50, 50)
        results[name] = _state(url)
    assert results["worker"] == results["inline"]


def test_a_file_level_error_in_the_worker_reaches_the_caller_whole(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("text,nps\nhello,9\n", encoding="utf-8")
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'w.db'}",
        import_parallel=True,
        import_parallel_min_bytes=0,
    )
    store = connect(settings=settings)
    with pytest.raises(Invalid) as caught:
        import_file(store, "feedback", path)
    fields = {p.field for p in caught.value.problems}
    assert {"channel", "created_at"} <= fields
    with store.engine.connect() as connection:
        status = connection.scalar(text("SELECT status FROM import_runs"))
    assert status == "failed"
    store.close()
