"""What keeps a big import's memory bounded, checked as structure (the bench measures the MB):
a chunk is freed before the next one is read, in the reader process and in the storing one, and
opening a store or starting the reader does not load the analytics stack (Ibis, scipy)."""

from __future__ import annotations

import gc
import pickle
import subprocess
import sys
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from cxloop.config import Settings
from cxloop.ingest import mapping, pipeline, readers
from cxloop.ingest.fields import get_kind

HEADER = "feedback_id,channel,created_at,text,nps\n"


def _file(tmp_path: Path, rows: int) -> Path:
    path = tmp_path / "answers.csv"
    lines = [f"A{n},survey,2026-03-01 10:00,送货很快 {n},{n % 11}\n" for n in range(rows)]
    path.write_text(HEADER + "".join(lines), encoding="utf-8")
    return path


def _context(info: readers.SourceInfo) -> mapping.ValidationContext:
    settings = Settings()
    return mapping.ValidationContext(settings.default_region, settings.timezone, info.encoding)


def test_a_prepared_chunk_is_freed_before_the_next_one_is_read(tmp_path: Path) -> None:
    info = readers.describe(_file(tmp_path, 250))
    held: list[bool] = []
    first: list[weakref.ref[pd.DataFrame]] = []

    def watched(raw: Iterator[readers.RawChunk]) -> Iterator[readers.RawChunk]:
        for number, chunk in enumerate(raw):
            if number == 1:  # the second chunk is being read: is the first one still held?
                gc.collect()
                held.append(first[0]() is not None)
            yield chunk

    chunks = pipeline.prepare(
        watched(readers.read_chunks(info, 100)),
        get_kind("feedback"),
        mapping.UserMapping(),
        _context(info),
    )
    chunk = next(chunks)
    first.append(weakref.ref(chunk.records))
    del chunk
    assert len(next(chunks).records) == 100
    assert held == [False], "the first chunk was still held while the second was read"


def test_the_storing_process_frees_a_chunk_before_the_next_arrives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    info = readers.describe(_file(tmp_path, 250))
    held: list[bool] = []
    first: list[weakref.ref[pd.DataFrame]] = []
    load = pickle.load

    def watched_load(stream: Any) -> Any:
        if first:  # a chunk was handed over: is it still held while the next one loads?
            gc.collect()
            held.append(first[0]() is not None)
        return load(stream)

    monkeypatch.setattr(pipeline.pickle, "load", watched_load)
    chunks = pipeline.prepare_in_subprocess(
        info, 100, get_kind("feedback"), mapping.UserMapping(), _context(info)
    )
    chunk = next(chunks)
    first.append(weakref.ref(chunk.records))
    del chunk
    rest = list(chunks)
    assert [len(c.records) for c in rest] == [100, 50]
    assert held and not any(held), "the storing process held a chunk while loading the next"


def test_opening_a_store_and_the_reader_process_leave_the_analytics_stack_unloaded(
    tmp_path: Path,
) -> None:
    """Ibis and scipy cost every import process about 80 MB (a store's ``connect`` imports
    every models module for Alembic, and ``cxloop.metrics`` once loaded its metrics eagerly)."""
    script = (
        "import sys\n"
        "import cxloop.ingest.pipeline\n"
        "reader = sorted({'ibis', 'scipy', 'sklearn', 'sqlalchemy'} & set(sys.modules))\n"
        "from cxloop.api import connect\n"
        f"connect('sqlite:///{tmp_path / 'store.db'}').close()\n"
        "store = sorted({'ibis', 'scipy', 'sklearn'} & set(sys.modules))\n"
        "print(reader, store)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[] []"
