"""Run ``cxloop`` as a user would, on a SQLite file in ``tmp_path``.

``run_cxloop`` runs the real entry point (``cxloop.cli.app.main``, what ``python -m cxloop`` and
the ``cxloop`` script call) in this process: a new interpreter per command cost ~1.7 s of CPU
(pandas, SQLAlchemy and the text engine imported again), and the suite ran ~250 of them. What a
user sees is kept: stdout and stderr apart, the exit code, the environment and working folder of
the command, warnings and log records a fresh interpreter would print on stderr, and a
traceback on stderr with exit code 1 for an exception nobody handled.

``run_cxloop_process`` is the real process, for the tests about the process itself (start-up
imports, warnings printed once per interpreter, crashes).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import traceback
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO


def _env(tmp_path: Path, env: dict[str, str] | None) -> dict[str, str]:
    return {
        "CXLOOP_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "COLUMNS": "200",
        **(env or {}),
    }


def run_cxloop_process(
    tmp_path: Path,
    *args: str,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
    timeout: int = 300,
) -> subprocess.CompletedProcess[str]:
    """``python -m cxloop ARGS`` in a new interpreter."""
    return subprocess.run(
        [sys.executable, "-m", "cxloop", *args],
        env={**os.environ, **_env(tmp_path, env)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        input=stdin,
        timeout=timeout,
    )


def run_cxloop(
    tmp_path: Path,
    *args: str,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
    timeout: int = 300,
) -> subprocess.CompletedProcess[str]:
    """``cxloop ARGS`` in this process, as ``run_cxloop_process`` would run it (``timeout`` is
    accepted for the same calls; nothing here can hang on a child). ``CXLOOP_TEST_CLI_PROCESS=1``
    runs every command in a new interpreter instead (to compare, or to rule this runner out)."""
    if os.environ.get("CXLOOP_TEST_CLI_PROCESS") == "1":
        return run_cxloop_process(tmp_path, *args, stdin=stdin, env=env, timeout=timeout)
    return run_in_process(args, cwd=tmp_path, env=_env(tmp_path, env), stdin=stdin)


def run_in_process(
    args: Sequence[str], *, cwd: Path, env: dict[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``cxloop ARGS`` through ``cxloop.cli.app.main`` in folder ``cwd`` with the variables
    ``env`` set (``COLUMNS`` sets the consoles' width), as a new ``cxloop`` process run there
    would print it and exit."""
    from click.testing import CliRunner

    from cxloop.cli import context
    from cxloop.cli.app import main
    from cxloop.config import get_settings

    argv, folder = sys.argv, Path.cwd()
    # the CLI's consoles are made once per process: give them this command's width, as a
    # fresh process started with COLUMNS would have
    widths = context.console.width, context.errors.width
    if "COLUMNS" in env:
        context.console.width = context.errors.width = int(env["COLUMNS"])
    log = _StderrHandler()
    root = logging.getLogger()
    isolated = CliRunner().isolation(input=stdin, env=env)
    with isolated as (out, err, _), warnings.catch_warnings():
        _python_default_warnings()
        root.addHandler(log)
        get_settings.cache_clear()
        sys.argv = ["cxloop", *args]
        os.chdir(cwd)
        code = 0
        try:
            main()
        except SystemExit as exit_:
            code = _exit_code(exit_.code)
        except Exception:
            traceback.print_exc(file=sys.stderr)  # what the interpreter prints, then exit 1
            code = 1
        finally:
            os.chdir(folder)
            sys.argv = argv
            root.removeHandler(log)
            context.console.width, context.errors.width = widths
            sys.stdout.flush()
            sys.stderr.flush()
            get_settings.cache_clear()
        return subprocess.CompletedProcess(
            ["cxloop", *args],
            code,
            stdout=out.getvalue().decode("utf-8", "replace"),
            stderr=err.getvalue().decode("utf-8", "replace"),
        )


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)  # sys.exit("message") prints it and exits 1
    return 1


def _python_default_warnings() -> None:
    """The filters of a fresh interpreter (``python -m``, no -W): pytest's own would record
    warnings a user sees on stderr, and ``warnings.showwarning`` writes to ``sys.stderr``."""
    warnings.resetwarnings()
    warnings.filterwarnings("ignore", category=ResourceWarning)
    warnings.filterwarnings("ignore", category=ImportWarning)
    warnings.filterwarnings("ignore", category=PendingDeprecationWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("default", category=DeprecationWarning, module="__main__")
    warnings.simplefilter("default", append=True)


class _StderrHandler(logging.Handler):
    """Python's last-resort handler (records of WARNING and above, message only, to the
    current ``sys.stderr``): a fresh interpreter with no logging set up prints them so."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.stream.write(self.format(record) + "\n")
        except Exception:
            self.handleError(record)
