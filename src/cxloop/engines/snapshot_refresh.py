"""Writing the analytics snapshot: a full build, or an incremental refresh after imports.

Incremental: the feedback rows whose ``updated_at`` is at or after the last watermark less
``LOOK_BACK`` (late commits) become one new part file per feedback table; older parts holding
any of those feedback ids are rewritten without them. Then the snapshot's own signature of each
feedback table (rows, last change) must equal the store's: a delete (``cxloop imports undo``), a
re-enrichment or a taxonomy re-application that did not touch ``updated_at`` shows as a
difference and forces a full build. Smaller tables are rewritten whole when their signature
differs. Tables with more than ``MAX_PARTS`` parts are compacted into one.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import time
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import duckdb
import ibis
from ibis.backends import BaseBackend
from pydantic import BaseModel, ConfigDict
from sqlalchemy.engine import make_url

from cxloop.config import Settings
from cxloop.engines import snapshot as snap
from cxloop.engines.snapshot import SnapshotState
from cxloop.errors import Invalid

CHANGE_COLUMNS = {
    "feedback_text": ("enriched_at", "taxonomy_version"),
    "churn_scores": ("scored_at",),
    "churn_models": ("id",),
}
"""Columns whose largest value tells a changed table; imported tables use ``updated_at``."""


MAX_LATE_IDS = 5_000
"""More late rows than this in the look-back window and the whole window is read again (a
long ``IN`` list costs more than the rows)."""


class RefreshReport(BaseModel):
    """What one refresh did (the CLI prints it; the job logs it)."""

    model_config = ConfigDict(frozen=True)

    folder: Path
    mode: str
    """full, incremental, compacted or unchanged."""
    reason: str
    as_of: dt.datetime
    watermark: dt.datetime | None
    counts: dict[str, int]
    changed_rows: int
    """Feedback rows written in this refresh (all of them on a full build)."""
    seconds: float


def database_label(settings: Settings) -> str:
    """The store's URL without its password: which store a snapshot copies."""
    return make_url(settings.database_url).render_as_string(hide_password=True)


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """One refresh at a time per folder (the job and the CLI may both start one)."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _change_expr(table: ibis.Table, name: str) -> list[ibis.Expr]:
    columns = CHANGE_COLUMNS.get(name, ("updated_at",))
    return [table[c].max() for c in columns if c in table.columns]


def signature(table: ibis.Table, name: str) -> str:
    """Rows and last change of one table, as text equal on the store and on the snapshot."""
    parts: list[ibis.Expr] = [table.count()]
    parts += _change_expr(table, name)
    if name == "feedback_topic":
        parts += [table.mentions.sum(), table.topic.nunique()]
    values = table.aggregate([p.name(f"v{i}") for i, p in enumerate(parts)]).execute()
    row = values.iloc[0].tolist()
    return "|".join("" if _missing(v) else _plain(v) for v in row)


def _missing(value: object) -> bool:
    try:
        return bool(value != value) or value is None  # NaN / NaT / None
    except (TypeError, ValueError):
        return False


def _plain(value: object) -> str:
    if hasattr(value, "isoformat"):
        stamp = value.isoformat()
        return str(stamp).replace("T", " ")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _present(store: BaseBackend) -> list[str]:
    have = set(store.list_tables())
    missing = [t for t in ("feedback", "feedback_text", "feedback_topic") if t not in have]
    if missing:
        raise Invalid("has no feedback tables: run `cxloop init` first", "database_url", None)
    return [t for t in snap.TABLES if t in have]


def _selected(
    store: BaseBackend, name: str, omit: Mapping[str, Collection[str]], *, json: bool = False
) -> ibis.Table:
    """The table as the snapshot keeps it: without the omitted (personal) columns, JSON as
    text (Parquet has no JSON type) unless ``json``."""
    table = store.table(name)
    dropped = [c for c in omit.get(name, ()) if c in table.columns]
    if dropped:
        table = table.drop(*dropped)
    if json:
        return table
    as_text = {c: table[c].cast("string") for c, t in table.schema().items() if t.is_json()}
    return table.mutate(**as_text) if as_text else table


def _write(expr: ibis.Table, path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    expr.to_parquet(path)
    return _rows([path])


def _rows(paths: list[Path]) -> int:
    if not paths:
        return 0
    listed = ", ".join(_quote(p) for p in paths)
    with duckdb.connect() as con:
        found = con.execute(f"SELECT count(*) FROM read_parquet([{listed}])").fetchone()
    return int(found[0]) if found else 0


def _max_updated(paths: list[Path]) -> dt.datetime | None:
    listed = ", ".join(_quote(p) for p in paths)
    with duckdb.connect() as con:
        found = con.execute(f"SELECT max(updated_at) FROM read_parquet([{listed}])").fetchone()
    value = found[0] if found else None
    return value if isinstance(value, dt.datetime) else None


def refresh(
    settings: Settings,
    *,
    omit: Mapping[str, Collection[str]],
    full: bool = False,
    folder: Path | None = None,
) -> RefreshReport:
    """Bring the snapshot in ``folder`` (default ``settings.analytics_snapshot_dir``) up to the
    store: incrementally where it can, else a full build; ``omit`` names the columns left out
    per table (personal data), as ``export_parquet``'s does."""
    target = folder or settings.analytics_snapshot_dir
    if target is None:
        raise Invalid(
            "is not set: name a folder for the analytics snapshot",
            "CXLOOP_ANALYTICS_SNAPSHOT_DIR",
            None,
        )
    started = time.perf_counter()
    with _locked(target):
        store = ibis_store(settings)
        try:
            return _refresh(settings, store, Path(target), omit, full, started)
        finally:
            store.disconnect()


def ibis_store(settings: Settings) -> BaseBackend:
    from cxloop.engines import store_backend  # the package imports this module's callers

    return store_backend(settings)


def _refresh(
    settings: Settings,
    store: BaseBackend,
    folder: Path,
    omit: Mapping[str, Collection[str]],
    full: bool,
    started: float,
) -> RefreshReport:
    as_of = dt.datetime.now(dt.UTC)
    tables = _present(store)
    json_columns = {
        n: c
        for n in tables
        if (
            c := [
                k for k, t in _selected(store, n, omit, json=True).schema().items() if t.is_json()
            ]
        )
    }
    signatures = {name: signature(store.table(name), name) for name in tables}
    state = snap.read_state(folder)
    label = database_label(settings)
    reason = ""
    if full:
        reason = "asked for a full build"
    elif state is None:
        reason = "no snapshot yet"
    elif state.database != label:
        reason = "the snapshot copies another store"
    elif state.watermark is None:
        reason = "the snapshot holds no feedback yet"
    elif set(state.parts) != set(tables):
        reason = "the store's tables changed"
    if state is not None and not reason and state.signature == signatures:
        kept = state.model_copy(update={"as_of": as_of, "refreshed": "unchanged"})
        kept = kept.model_copy(update={"json_columns": json_columns})
        snap.write_state(folder, kept)
        return _report(folder, kept, "the store has not changed since the last refresh", 0, started)
    if state is not None and not reason:
        done = _incremental(store, folder, state, tables, signatures, omit, as_of, label)
        if isinstance(done, tuple):
            new_state, changed = done
            new_state = new_state.model_copy(update={"json_columns": json_columns})
            snap.write_state(folder, new_state)
            why = f"{changed} feedback rows changed since the watermark (less 1 hour)"
            return _report(folder, new_state, why, changed, started)
        reason = done
    new_state = _full(store, folder, state, tables, signatures, omit, as_of, label)
    new_state = new_state.model_copy(update={"json_columns": json_columns})
    snap.write_state(folder, new_state)
    return _report(folder, new_state, reason, new_state.counts.get("feedback", 0), started)


def _report(
    folder: Path, state: SnapshotState, reason: str, changed: int, started: float
) -> RefreshReport:
    return RefreshReport(
        folder=folder,
        mode=state.refreshed,
        reason=reason,
        as_of=state.as_of,
        watermark=state.watermark,
        counts=state.counts,
        changed_rows=changed,
        seconds=round(time.perf_counter() - started, 3),
    )


def _full(
    store: BaseBackend,
    folder: Path,
    state: SnapshotState | None,
    tables: list[str],
    signatures: dict[str, str],
    omit: Mapping[str, Collection[str]],
    as_of: dt.datetime,
    label: str,
) -> SnapshotState:
    generation = snap.next_generation(folder, state)
    counts, parts = {}, {}
    for name in tables:
        path = generation / name / "part-00000.parquet"
        counts[name] = _write(_selected(store, name, omit), path)
        parts[name] = [path.name]
    return SnapshotState(
        generation=generation.name,
        as_of=as_of,
        watermark=_max_updated([generation / "feedback" / "part-00000.parquet"]),
        database=label,
        counts=counts,
        parts=parts,
        signature=signatures,
        refreshed="full",
    )


def _incremental(
    store: BaseBackend,
    folder: Path,
    state: SnapshotState,
    tables: list[str],
    signatures: dict[str, str],
    omit: Mapping[str, Collection[str]],
    as_of: dt.datetime,
    label: str,
) -> tuple[SnapshotState, int] | str:
    """The next generation from the current one plus the changed rows, or the reason a full
    build is needed instead."""
    assert state.watermark is not None
    generation = snap.next_generation(folder, state)
    parts: dict[str, list[str]] = {}
    selected = _selected(store, "feedback", omit)
    changed = selected.filter(_changed(selected, folder, state))
    number = 1 + max(int(Path(p).stem.split("-")[1]) for p in state.parts["feedback"])
    name = f"part-{number:05d}.parquet"
    new_feedback = generation / "feedback" / name
    changed_rows = _write(changed, new_feedback)
    ids = changed.select("feedback_id")
    for table in ("feedback", *[t for t in tables if t != "feedback"]):
        old = snap.part_paths(folder, state, table)
        if table in ("feedback_text", "feedback_topic") and changed_rows:
            side = _selected(store, table, omit)
            _write(side.semi_join(ids, "feedback_id"), generation / table / name)
        if table in ("feedback", "feedback_text", "feedback_topic"):
            parts[table] = _without(old, new_feedback, generation / table)
            if changed_rows:
                parts[table].append(name)
        elif signatures.get(table) == state.signature.get(table):
            for path in old:
                snap.link_or_copy(path, generation / table / path.name)
            parts[table] = [p.name for p in old]
        else:
            _write(_selected(store, table, omit), generation / table / name)
            parts[table] = [name]
    if not changed_rows:
        new_feedback.unlink()
    mode = "incremental"
    if any(len(p) > snap.MAX_PARTS for p in parts.values()):
        parts = {t: _compact(generation / t, p, name) for t, p in parts.items()}
        mode = "compacted"
    check = _snapshot_backend(generation, parts)
    try:
        for table in ("feedback", "feedback_text", "feedback_topic"):
            if signature(check.table(table), table) != signatures[table]:
                return f"{table} differs from the store after the increment (deleted, re-analysed)"
    finally:
        check.disconnect()
    paths = [generation / "feedback" / p for p in parts["feedback"]]
    counts = {t: _rows([generation / t / p for p in parts[t]]) for t in parts}
    new_state = SnapshotState(
        generation=generation.name,
        as_of=as_of,
        watermark=_max_updated(paths),
        database=label,
        counts=counts,
        parts=parts,
        signature=signatures,
        refreshed=mode,
    )
    return new_state, changed_rows


def _changed(feedback: ibis.Table, folder: Path, state: SnapshotState) -> ibis.Expr:
    """Which feedback rows to read again: changed after the watermark, and those of the
    ``LOOK_BACK`` before it that the snapshot lacks at the same ``updated_at`` (late commits).
    Comparing the window's keys, not re-reading its rows, keeps a refresh right after a big
    import from copying that import again."""
    assert state.watermark is not None
    after = feedback.updated_at > state.watermark
    window = feedback.filter(
        feedback.updated_at >= state.watermark - snap.LOOK_BACK,
        feedback.updated_at <= state.watermark,
    ).select("feedback_id", "updated_at")
    keys = window.to_pyarrow()
    if not keys.num_rows:
        return after
    listed = ", ".join(_quote(p) for p in snap.part_paths(folder, state, "feedback"))
    with duckdb.connect() as con:
        con.register("window_keys", keys)
        late = con.execute(
            f"SELECT w.feedback_id FROM window_keys w ANTI JOIN read_parquet([{listed}]) p "
            "ON w.feedback_id = p.feedback_id AND w.updated_at = p.updated_at"
        ).fetchall()
    ids = [row[0] for row in late]
    if not ids:
        return after
    if len(ids) > MAX_LATE_IDS:
        return feedback.updated_at >= state.watermark - snap.LOOK_BACK
    return after | feedback.feedback_id.isin(ids)


def _without(old: list[Path], changed: Path, out: Path) -> list[str]:
    """The old parts in the new generation: linked where they hold none of the changed feedback
    ids, rewritten without them where they do."""
    kept = []
    with duckdb.connect() as con:
        for path in old:
            if _rows([changed]) == 0:
                snap.link_or_copy(path, out / path.name)
                kept.append(path.name)
                continue
            sql = (
                f"SELECT count(*) FROM read_parquet({_quote(path)}) WHERE feedback_id IN "
                f"(SELECT feedback_id FROM read_parquet({_quote(changed)}))"
            )
            found = con.execute(sql).fetchone()
            target = out / path.name
            if not found or not found[0]:
                snap.link_or_copy(path, target)
            else:
                out.mkdir(parents=True, exist_ok=True)
                con.execute(
                    f"COPY (SELECT * FROM read_parquet({_quote(path)}) WHERE feedback_id NOT IN "
                    f"(SELECT feedback_id FROM read_parquet({_quote(changed)}))) "
                    f"TO {_quote(target)} (FORMAT parquet)"
                )
            kept.append(path.name)
    return kept


def _compact(folder: Path, parts: list[str], name: str) -> list[str]:
    """All parts of one table as one file (named like this refresh's part)."""
    if len(parts) == 1:
        return parts
    merged = folder / f"{name}.merged"
    listed = ", ".join(_quote(folder / p) for p in parts)
    with duckdb.connect() as con:
        con.execute(
            f"COPY (SELECT * FROM read_parquet([{listed}])) TO {_quote(merged)} (FORMAT parquet)"
        )
    for part in parts:
        (folder / part).unlink()
    merged.rename(folder / name)
    return [name]


def _snapshot_backend(generation: Path, parts: Mapping[str, list[str]]) -> BaseBackend:
    from cxloop.engines import parquet_parts_backend

    return parquet_parts_backend({t: [generation / t / p for p in ps] for t, ps in parts.items()})
