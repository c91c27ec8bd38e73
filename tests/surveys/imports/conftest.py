"""What every survey-import test shares: a fresh store (a real, migrated SQLite file) and the
commands a user runs on it — ``cxloop surveys import``, ``cxloop surveys responses``,
``cxloop metrics nps`` — run through the real CLI entry point (``cxloop.cli.app.main``, the
function ``python -m cxloop`` calls, so error lines and exit codes are the user's), in this
process: a subprocess per command would load pandas and the text engine again every time.

Use::

    def test_two_modes_agree(new_store, tmp_path):
        a, b = new_store("numeric"), new_store("text")
        code, output = import_cli(a, numeric_file)
        assert code == 0, output
        ...
        assert export_json(a, "my-survey")["responses"] == export_json(b, "my-survey")["responses"]
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from cxloop import api
from cxloop.config import Settings, get_settings


@dataclass(frozen=True)
class ImportStore:
    """A migrated SQLite store in a test's folder, with the settings the CLI runs it with."""

    database: Path
    settings: Settings

    @property
    def url(self) -> str:
        return self.settings.database_url

    def env(self) -> dict[str, str]:
        """The environment a command runs in: this store, one text worker (no process pool
        per command), wide output so table rows are not wrapped."""
        return {
            "CXLOOP_DATABASE_URL": self.url,
            "CXLOOP_TEXT_WORKERS": "1",
            "CXLOOP_IMPORT_PARALLEL": "false",
            "COLUMNS": "200",
        }

    def scalar(self, sql: str, **params: Any) -> Any:
        """One value read with plain SQL (a check that does not go through the code tested)."""
        engine = create_engine(self.url)
        try:
            with engine.connect() as connection:
                return connection.execute(text(sql), params).scalar()
        finally:
            engine.dispose()


def make_import_store(folder: Path) -> ImportStore:
    """Create and migrate a store in ``folder`` (made if missing)."""
    folder.mkdir(parents=True, exist_ok=True)
    database = folder / "cxloop.db"
    settings = Settings(
        database_url=f"sqlite:///{database}",
        secret_key="imports-secret-" + "k" * 32,
        import_batch_size=1000,
        text_workers=1,
        import_parallel=False,
    )
    api.connect(settings=settings).close()
    return ImportStore(database=database, settings=settings)


@pytest.fixture
def new_store(tmp_path: Path) -> Callable[[str], ImportStore]:
    """A factory of fresh stores, one folder each: ``new_store("numeric")``."""

    def make(name: str = "store") -> ImportStore:
        return make_import_store(tmp_path / name)

    return make


@pytest.fixture
def store(tmp_path: Path) -> ImportStore:
    """One fresh store (overrides the package-wide ``store``: these tests drive the CLI)."""
    return make_import_store(tmp_path / "store")


# --- the commands -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CliRun:
    code: int
    stdout: str
    stderr: str
    output: str
    """stdout and stderr interleaved as a terminal shows them."""


def run_cli(store: ImportStore, *args: str | Path) -> CliRun:
    """``cxloop ARGS`` on ``store`` through ``cxloop.cli.app.main``: known errors are lines on
    stderr with exit code 2, as for a user. An unexpected exception is raised here (a
    traceback a user would see fails the test that caused it)."""
    from cxloop.cli import context
    from cxloop.cli.app import main

    runner = CliRunner()
    argv = sys.argv
    # the CLI's consoles are made once per process, with the width of whichever test imported
    # them first: give them this run's width, as a fresh `cxloop` process would have
    widths = context.console.width, context.errors.width
    context.console.width = context.errors.width = int(store.env()["COLUMNS"])
    with runner.isolation(env=store.env()) as (stdout, stderr, output):
        get_settings.cache_clear()
        sys.argv = ["cxloop", *(str(a) for a in args)]
        code: int = 0
        try:
            main()
        except SystemExit as exit_:
            code = _exit_code(exit_.code)
        finally:
            sys.argv = argv
            context.console.width, context.errors.width = widths
            sys.stdout.flush()
            sys.stderr.flush()
            get_settings.cache_clear()
        return CliRun(
            code=code,
            stdout=stdout.getvalue().decode("utf-8", "replace"),
            stderr=stderr.getvalue().decode("utf-8", "replace"),
            output=output.getvalue().decode("utf-8", "replace"),
        )


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)  # sys.exit("message") prints it and exits 1
    return 1


def import_cli(store: ImportStore, path: str | Path, *args: str | Path) -> tuple[int, str]:
    """``cxloop surveys import PATH ARGS`` → (exit code, everything printed)."""
    run = run_cli(store, "surveys", "import", path, *args)
    return run.code, run.output


def import_summary(store: ImportStore, path: str | Path, *args: str | Path) -> dict[str, Any]:
    """``cxloop surveys import PATH ARGS --format json``: the ImportSummary as a dict (the
    command must succeed: exit 0, or 1 when rows were quarantined)."""
    run = run_cli(store, "surveys", "import", path, *args, "--format", "json")
    assert run.code in (0, 1), run.output
    summary: dict[str, Any] = json.loads(run.stdout)
    return summary


def export_json(store: ImportStore, survey_id: str, *args: str) -> dict[str, Any]:
    """``cxloop surveys responses SURVEY --format json ARGS`` as parsed JSON."""
    run = run_cli(store, "surveys", "responses", survey_id, "--format", "json", *args)
    assert run.code == 0, run.output
    exported: dict[str, Any] = json.loads(run.stdout)
    return exported


def export_text(store: ImportStore, survey_id: str, *args: str) -> str:
    """``cxloop surveys responses SURVEY ARGS`` exactly as printed (byte-for-byte comparisons;
    ``--format csv`` for the CSV)."""
    run = run_cli(store, "surveys", "responses", survey_id, *args)
    assert run.code == 0, run.output
    return run.stdout


def feedback_count(store: ImportStore, survey_id: str | None = None) -> int:
    """Feedback rows in the store (those of survey answers only, or of one survey)."""
    if survey_id is None:
        return int(store.scalar("SELECT count(*) FROM feedback"))
    return int(
        store.scalar(
            "SELECT count(*) FROM feedback f JOIN survey_responses r "
            "ON f.feedback_id = r.feedback_id WHERE r.survey_id = :survey",
            survey=survey_id,
        )
    )


def response_count(store: ImportStore, survey_id: str) -> int:
    return int(
        store.scalar(
            "SELECT count(*) FROM survey_responses WHERE survey_id = :survey", survey=survey_id
        )
    )


def nps_of(store: ImportStore, *where: str) -> float:
    """``cxloop metrics nps --where channel=survey --format json``: the score over every
    survey answer (extra ``field=value`` conditions narrow it), with min-n 1."""
    conditions = [a for pair in ("channel=survey", *where) for a in ("--where", pair)]
    run = run_cli(store, "metrics", "nps", *conditions, "--min-n", "1", "--format", "json")
    assert run.code == 0, run.output
    rows = json.loads(run.stdout)["rows"]
    assert len(rows) == 1, rows
    score = rows[0]["score"]
    assert score is not None, rows
    return float(score)


@pytest.fixture
def cli(store: ImportStore) -> Iterator[Callable[..., CliRun]]:
    """``cli("surveys", "list")`` on the test's ``store``."""
    yield lambda *args: run_cli(store, *args)
