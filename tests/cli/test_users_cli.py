"""``cxloop user add --token-only`` (the old ``--no-password`` still works, unlisted)."""

from __future__ import annotations

from pathlib import Path

from cxloop.config import Settings
from cxloop.privacy.models import User
from tests.cli.support import run_cxloop


def _password_hash(tmp_path: Path, username: str) -> str | None:
    from sqlalchemy import select

    from cxloop import api

    store = api.connect(settings=Settings(database_url=f"sqlite:///{tmp_path / 'cli.db'}"))
    try:
        with store.sessions() as session:
            user = session.scalar(select(User).where(User.username == username))
            assert user is not None
            return user.password_hash
    finally:
        store.close()


def test_token_only_user_has_no_password_and_the_old_flag_is_a_hidden_alias(
    tmp_path: Path,
) -> None:
    added = run_cxloop(tmp_path, "user", "add", "bot", "--role", "analyst", "--token-only")
    assert added.returncode == 0, added.stderr
    assert "user bot (analyst) added: API tokens only" in added.stdout
    old = run_cxloop(tmp_path, "user", "add", "etl", "--role", "viewer", "--no-password")
    assert old.returncode == 0, old.stderr
    assert _password_hash(tmp_path, "bot") is None and _password_hash(tmp_path, "etl") is None
    shown = run_cxloop(tmp_path, "user", "add", "--help").stdout
    assert "--token-only" in shown and "--no-password" not in shown


def test_a_password_with_token_only_is_refused_without_storing_the_user(tmp_path: Path) -> None:
    both = run_cxloop(
        tmp_path, "user", "add", "eve", "--role", "viewer", "--token-only", "--password", "pw"
    )
    assert both.returncode == 2 and "Traceback" not in both.stderr
    assert "cannot go with --token-only" in both.stderr and "pw" not in both.stderr
    listed = run_cxloop(tmp_path, "user", "list").stdout
    assert "eve" not in listed
