"""`cxloop surveys create` after `archive` says the survey is active again (the trial read
"(unchanged)" and could not tell the archived survey takes answers again)."""

from __future__ import annotations

from pathlib import Path

from tests.cli.support import run_cxloop

EXAMPLES = Path(__file__).parents[2] / "examples" / "surveys"


def test_create_after_archive_says_reactivated(tmp_path: Path) -> None:
    path = str(EXAMPLES / "post-delivery.yaml")
    assert run_cxloop(tmp_path, "surveys", "create", path).returncode == 0
    assert run_cxloop(tmp_path, "surveys", "archive", "post-delivery").returncode == 0
    again = run_cxloop(tmp_path, "surveys", "create", path)
    assert again.returncode == 0
    assert again.stdout.strip() == "survey post-delivery version 1 (reactivated)"
    listed = run_cxloop(tmp_path, "surveys", "list").stdout.splitlines()
    assert "active" in next(line for line in listed if "post-delivery" in line)
    same = run_cxloop(tmp_path, "surveys", "create", path)
    assert same.stdout.strip() == "survey post-delivery version 1 (unchanged)"
    # archived, then created with a changed definition: a new version, active again
    changed = tmp_path / "changed.yaml"
    changed.write_text(
        Path(path).read_text(encoding="utf-8").replace("Delivery survey", "Delivery check"),
        encoding="utf-8",
    )
    run_cxloop(tmp_path, "surveys", "archive", "post-delivery")
    both = run_cxloop(tmp_path, "surveys", "create", str(changed))
    assert both.stdout.strip() == "survey post-delivery version 2 (new, reactivated)"
