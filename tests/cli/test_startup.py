"""``cxloop --help`` and usage errors start without the data libraries (how fast is the bench's
business: ``bench/cli_bench.py``); every lazily registered command loads and keeps its help."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer
import typer.main

from cxloop.cli.app import Commands, app

HEAVY = ("pandas", "ibis", "sklearn", "scipy", "numpy", "jieba", "duckdb", "sqlalchemy")
PROBE = """
import json, sys
watched = set(json.loads(sys.argv[2]))
sys.argv = ["cxloop", *json.loads(sys.argv[1])]
from cxloop.cli.app import main
try:
    main()
except SystemExit as exit:
    code = exit.code
heavy = sorted({m.split(".")[0] for m in sys.modules} & watched)
print("\\nPROBE " + json.dumps({"code": code, "heavy": heavy}))
"""


def _probe(tmp_path: Path, *args: str) -> dict[str, object]:
    """Run the CLI in a fresh interpreter; its exit code and the heavy packages it imported."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args), json.dumps(HEAVY)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={"CXLOOP_DATABASE_URL": f"sqlite:///{tmp_path}/missing.db", "COLUMNS": "120"},
    )
    marker = result.stdout.rsplit("PROBE ", 1)
    assert len(marker) == 2, result.stderr
    probe: dict[str, object] = json.loads(marker[1])
    probe["output"] = marker[0] + result.stderr
    return probe


@pytest.mark.parametrize(
    ("args", "code"),
    [
        ((), 2),  # no arguments: the help (click exits 2)
        (("--help",), 0),
        (("nosuch",), 2),
        (("import", "--help"), 0),
        (("import", "--nosuch"), 2),
        (("user", "--help"), 0),
        (("metrics", "--help"), 0),
        (("insights", "--help"), 0),
    ],
)
def test_help_and_usage_errors_import_no_data_library(
    tmp_path: Path, args: tuple[str, ...], code: int
) -> None:
    probe = _probe(tmp_path, *args)
    assert probe["code"] == code, probe["output"]
    assert probe["heavy"] == [], f"cxloop {' '.join(args)} imported {probe['heavy']}"


@pytest.mark.parametrize(
    "args", [("metrics", "nps", "--by", "nosuch"), ("metrics", "topic_incidence")]
)
def test_a_missing_store_is_refused_before_the_analysis_code_loads(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    probe = _probe(tmp_path, *args)
    assert probe["code"] == 2
    assert "no cxloop store" in str(probe["output"])
    heavy = probe["heavy"]
    assert isinstance(heavy, list)
    assert not set(heavy) & {"pandas", "ibis", "sklearn", "scipy", "numpy"}


def test_help_lists_every_command_with_its_help(tmp_path: Path) -> None:
    output = str(_probe(tmp_path, "--help")["output"])
    for name, entry in Commands.lazy.items():
        assert name in output
        assert entry.help.split()[0] in output
    assert "identity" in output and "serve" in output


@pytest.mark.parametrize("name", sorted(Commands.lazy))
def test_each_lazy_command_loads_and_its_listed_help_is_its_own(name: str) -> None:
    root = typer.main.get_command(app)
    assert isinstance(root, Commands)
    command = root.get_command(typer.Context(root), name)
    assert command is not None and command.name == name
    real = " ".join((command.short_help or command.help or "").split("\n\n")[0].split())
    assert Commands.lazy[name].help == real


def test_a_lazy_module_is_imported_on_first_use(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from cxloop.cli.lazy import lazy_module\n"
        "service = lazy_module('cxloop.ingest.service')\n"
        "before = 'pandas' in sys.modules\n"
        "service.count_records\n"
        "print(before, 'pandas' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert result.stdout.split() == ["False", "True"], result.stderr


def test_importing_a_missing_file_is_refused_before_the_store_is_opened(tmp_path: Path) -> None:
    probe = _probe(tmp_path, "import", "feedback", "nosuch.csv")
    assert probe["code"] == 2
    assert "nosuch.csv: no such file" in str(probe["output"])
    heavy = probe["heavy"]
    assert isinstance(heavy, list)
    assert not set(heavy) & {"pandas", "ibis", "sklearn", "scipy", "numpy"}
    assert not (tmp_path / "missing.db").exists()  # no empty store created on the way
