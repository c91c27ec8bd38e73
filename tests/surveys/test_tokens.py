"""Survey links: unguessable, expiring, tamper-evident, one purpose each; the store keeps its own
key when CXLOOP_SECRET_KEY is unset."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from cxloop.api import connect
from cxloop.config import Settings
from cxloop.surveys import tokens
from cxloop.surveys.tokens import LinkError, make_link, read_link

KEY = b"k" * 32
NOW = dt.datetime(2026, 3, 1, 12, 0)
LATER = NOW + dt.timedelta(days=14)


def test_a_link_carries_its_public_id_and_expiry() -> None:
    token = make_link("pub-123", LATER, KEY)
    content = read_link(token, KEY, now=NOW)
    assert content.public_id == "pub-123"
    assert content.expires_at == LATER
    assert token.replace("-", "").replace("_", "").isalnum()  # URL-safe, no padding


def test_a_link_is_refused_after_its_expiry() -> None:
    token = make_link("pub-123", LATER, KEY)
    with pytest.raises(LinkError) as caught:
        read_link(token, KEY, now=LATER)
    assert caught.value.kind == "expired"


def test_any_changed_character_is_tampered_or_malformed() -> None:
    token = make_link("pub-123", LATER, KEY)
    for i in range(len(token)):
        swapped = "A" if token[i] != "A" else "B"
        changed = token[:i] + swapped + token[i + 1 :]
        with pytest.raises(LinkError) as caught:
            read_link(changed, KEY, now=NOW)
        assert caught.value.kind in ("tampered", "malformed"), i


def test_a_longer_expiry_cannot_be_forged_without_the_key() -> None:
    forged = make_link("pub-123", LATER + dt.timedelta(days=365), b"x" * 32)
    with pytest.raises(LinkError) as caught:
        read_link(forged, KEY, now=NOW)
    assert caught.value.kind == "tampered"


@pytest.mark.parametrize("junk", ["", "abc", "!!!!", "a" * 200, "%%2F..%2F"])
def test_junk_is_malformed_never_a_crash(junk: str) -> None:
    with pytest.raises(LinkError) as caught:
        read_link(junk, KEY, now=NOW)
    assert caught.value.kind in ("malformed", "tampered")


def test_an_unsubscribe_token_is_not_a_survey_link_and_back() -> None:
    unsubscribe = make_link("pub-1", LATER, KEY, purpose="unsubscribe")
    with pytest.raises(LinkError) as caught:
        read_link(unsubscribe, KEY, now=NOW)
    assert caught.value.kind == "malformed"
    assert read_link(unsubscribe, KEY, purpose="unsubscribe", now=NOW).public_id == "pub-1"


def test_public_ids_do_not_repeat() -> None:
    ids = {tokens.new_public_id() for _ in range(10_000)}
    assert len(ids) == 10_000
    assert all(len(i) == 16 for i in ids)


def test_the_store_makes_one_key_and_keeps_it(tmp_path: Path) -> None:
    store = connect(settings=Settings(database_url=f"sqlite:///{tmp_path / 'k.db'}"))
    try:
        with store.sessions() as session:
            first = tokens.link_key(session, store.settings)
            session.commit()
        with store.sessions() as session:
            again = tokens.link_key(session, store.settings)
        assert first == again
        assert len(first) >= 32
    finally:
        store.close()


def test_the_configured_secret_key_wins(tmp_path: Path) -> None:
    secret = "s" * 40
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'k.db'}", secret_key=secret)
    store = connect(settings=settings)
    try:
        with store.sessions() as session:
            assert tokens.link_key(session, settings) == secret.encode()
    finally:
        store.close()


def test_urls_start_with_the_public_url() -> None:
    settings = Settings(public_url="https://cx.example.com/")
    assert tokens.survey_url(settings, "T") == "https://cx.example.com/s/T"
    assert tokens.unsubscribe_url(settings, "T") == "https://cx.example.com/u/T"
    assert tokens.anonymous_url(settings, "A") == "https://cx.example.com/s/a/A"
