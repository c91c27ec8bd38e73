"""``.ci/run`` is what CI runs: check its shape here, and that the PostgreSQL it provides works."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from cxloop.api import connect

SCRIPT = Path(__file__).resolve().parents[1] / ".ci" / "run"


def test_ci_script_is_an_executable_strict_bash_script() -> None:
    body = SCRIPT.read_text(encoding="utf-8")
    assert body.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in body
    assert os.access(SCRIPT, os.X_OK), "chmod +x .ci/run"


def test_ci_script_works_from_any_folder_and_cleans_up() -> None:
    body = SCRIPT.read_text(encoding="utf-8")
    assert 'cd "$(dirname "$0")/.."' in body
    assert "trap cleanup EXIT" in body
    assert "CXLOOP_REQUIRE_SERVICES=1" in body
    assert "make test" in body
    assert "pip install" not in body  # make creates .venv; never the system Python


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
def test_ci_script_parses() -> None:
    subprocess.run(["bash", "-n", str(SCRIPT)], check=True)


@pytest.mark.postgres
def test_ci_postgres_role_can_create_a_cxloop_store(postgres_url: str) -> None:
    """The role .ci/run makes logs in over TCP with its password and may create databases
    (``postgres_url`` made a fresh one); cxloop's migrations run on it."""
    engine = create_engine(postgres_url)
    try:
        with engine.connect() as connection:
            can_create = connection.execute(
                text("SELECT rolcreatedb FROM pg_roles WHERE rolname = current_user")
            ).scalar_one()
        assert can_create is True
    finally:
        engine.dispose()
    store = connect(postgres_url)
    try:
        assert store.engine.dialect.name == "postgresql"
        assert store.counts()["rows"]["feedback"] == 0
    finally:
        store.close()


def _browser_block() -> str:
    """The part of .ci/run that installs what the browser tests need."""
    body = SCRIPT.read_text(encoding="utf-8")
    start = body.index("browser_packages=()")
    end = body.index("\nfi\n", start) + len("\nfi\n")
    return body[start:end]


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
@pytest.mark.parametrize(
    ("installed", "expected"),
    [
        ("", "chromium fonts-wqy-zenhei"),
        ("chromium", "fonts-wqy-zenhei"),
        ("chromium fonts-wqy-zenhei", ""),
    ],
)
def test_ci_script_installs_chromium_and_the_cjk_font_only_when_missing(
    tmp_path: Path, installed: str, expected: str
) -> None:
    """Run the block with ``dpkg-query`` and ``apt_install`` stubbed: it asks apt for exactly the
    missing packages, in one call, and for nothing when both are there."""
    fake = tmp_path / "dpkg-query"
    fake.write_text(
        '#!/usr/bin/env bash\npackage="${@: -1}"\n'
        'case " $INSTALLED " in *" $package "*) printf "install ok installed";; *) exit 1;; esac\n',
        encoding="utf-8",
    )
    fake.chmod(0o755)
    script = 'set -euo pipefail\napt_install() { echo "apt: $*"; }\n' + _browser_block()
    result = subprocess.run(
        ["bash", "-c", script],
        env={"PATH": f"{tmp_path}:{os.environ['PATH']}", "INSTALLED": installed},
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == (f"apt: {expected}" if expected else "")


def test_ci_script_exports_nothing_for_the_browser_tests() -> None:
    """Chromium is found at /usr/bin/chromium; CXLOOP_REQUIRE_SERVICES=1 fails a missing one."""
    block = _browser_block()
    assert "export" not in block and "playwright install" not in SCRIPT.read_text(encoding="utf-8")
