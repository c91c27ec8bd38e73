"""Read and validate chunks, in this process or one step ahead in a second process.

Reading and validating is Python work (GIL-bound); inserting is SQLite work. A thread cannot
overlap them (the inserting thread waits for the GIL after every row), a second process can:
big files are prepared by a worker process that stays at most a chunk or two ahead (a full pipe
blocks it), so memory stays bounded and the store still commits chunk by chunk, in order, here.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field

import pandas as pd

from cxloop.ingest import mapping, readers
from cxloop.ingest.fields import KindSpec, get_kind


@dataclass
class PreparedChunk:
    """One validated chunk: how many records it held, the good rows, the rejected rows, and
    warnings about values left out of stored rows."""

    rows_read: int
    records: pd.DataFrame
    rejections: list[mapping.Rejection]
    warnings: list[mapping.RowWarning] = field(default_factory=list)


def prepare(
    chunks: Iterator[readers.RawChunk],
    spec: KindSpec,
    user_mapping: mapping.UserMapping,
    ctx: mapping.ValidationContext,
) -> Iterator[PreparedChunk]:
    """Validate chunk by chunk in this process (API batches, small files)."""
    plans: dict[tuple[str, ...], mapping.ColumnPlan] = {}
    for chunk in chunks:
        headers = tuple(c for c in chunk.frame.columns if c != readers.ROW_COLUMN)
        if headers not in plans:  # the first part of a file decides whether it is usable
            plans[headers] = mapping.plan_columns(
                list(headers), spec, user_mapping, strict=not plans
            )
        validated = mapping.validate_chunk(chunk.frame, spec, plans[headers], ctx)
        rejections = validated.rejections + mapping.broken_to_rejections(
            chunk.broken, ctx.encoding or "utf-8"
        )
        yield PreparedChunk(
            len(chunk.frame) + len(chunk.broken),
            validated.records,
            rejections,
            validated.warnings,
        )
        del chunk, validated, rejections  # not alive while the next chunk is read: memory


def serve() -> None:
    """Worker process: read the job from stdin, stream prepared chunks to stdout as pickles.

    A full pipe blocks the worker, so it never runs more than a chunk or two ahead; a parent
    that dies closes the pipe, and the next write ends the worker.
    """
    out = sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing but messages may reach the pipe
    try:
        info, chunk_rows, kind, user_mapping, ctx = pickle.load(sys.stdin.buffer)
        chunks = readers.read_chunks(info, chunk_rows)
        for prepared in prepare(chunks, get_kind(kind), user_mapping, ctx):
            pickle.dump(("chunk", prepared), out, protocol=pickle.HIGHEST_PROTOCOL)
            out.flush()
            del prepared  # sent: free it before the next chunk is read
        pickle.dump(("done", None), out)
    except BrokenPipeError:
        return
    except BaseException as exc:  # raised again in the parent, where the import is recorded
        pickle.dump(("error", exc), out)
    out.flush()


def prepare_in_subprocess(
    info: readers.SourceInfo,
    chunk_rows: int,
    spec: KindSpec,
    user_mapping: mapping.UserMapping,
    ctx: mapping.ValidationContext,
) -> Iterator[PreparedChunk]:
    """Like ``prepare`` over the file, computed by a worker process running ahead.

    A plain ``python -m`` child rather than ``multiprocessing``: spawn would re-run the
    caller's main script, and fork is unsafe once Arrow's or the CLI's threads exist.
    """
    with tempfile.TemporaryFile() as errors:
        worker = subprocess.Popen(
            [sys.executable, "-m", "cxloop.ingest.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
        )
        assert worker.stdin is not None and worker.stdout is not None
        try:
            pickle.dump((info, chunk_rows, spec.kind, user_mapping, ctx), worker.stdin)
            worker.stdin.close()
            while True:
                try:
                    kind, value = pickle.load(worker.stdout)
                except EOFError:
                    worker.wait(timeout=30)
                    errors.seek(0)
                    detail = errors.read().decode("utf-8", "replace").strip().splitlines()
                    raise RuntimeError(
                        f"the import reader process stopped (exit code {worker.returncode}): "
                        + (detail[-1] if detail else "no message")
                    ) from None
                if kind == "done":
                    return
                if kind == "error":
                    raise value
                yield value
                del value  # stored: free it before the next chunk arrives
        finally:
            if worker.poll() is None:
                worker.kill()
            worker.wait(timeout=30)
            worker.stdout.close()
