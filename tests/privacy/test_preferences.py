"""privacy.preferences on a real store (SQLite; PostgreSQL under ``-m postgres``): opt-outs
per channel and for any channel, bounces, explicit consent and its withdrawal, and addresses
written the many ways real data writes them."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from cxloop.api import Store
from cxloop.config import Settings
from cxloop.errors import Invalid
from cxloop.privacy import preferences
from cxloop.privacy.models import ContactPreference


@pytest.mark.parametrize(
    ("written", "kept"),
    [
        ("  Li.Na@Example.COM ", "li.na@example.com"),
        ("138 0013 8000", "+8613800138000"),
        ("+86 138-0013-8000", "+8613800138000"),
        ("12345", None),  # too short to be anyone's number
        ("+1 415 555 2671", "+14155552671"),
        ("Customer:C-001", "customer:C-001"),
        ("contact: k 7 ", "contact:k 7"),
        ("王芳@例子.公司", "王芳@例子.公司"),
        ("not an address", None),
        ("a@b", None),
        ("", None),
        ("customer:", None),
    ],
)
def test_normalise_address(written: str, kept: str | None) -> None:
    if kept is None:
        with pytest.raises(Invalid) as failed:
            preferences.normalise_address(written)
        assert failed.value.problems[0].field == "address"
        assert failed.value.problems[0].value == written
    else:
        assert preferences.normalise_address(written) == kept


def test_opt_out_per_channel_and_for_any_channel(store: Store) -> None:
    with store.sessions.begin() as session:
        assert preferences.opt_out(
            session=session, address="Li.Na@Example.com", channel="email", source="unsubscribe"
        )
        assert not preferences.opt_out(  # the same opt-out twice is one row
            session=session, address="li.na@example.com", channel="email", source="api"
        )
        preferences.opt_out(session=session, address="13800138000", channel="any")
    with store.sessions.begin() as session:
        mails = ["LI.NA@example.com", "other@example.com"]
        assert preferences.blocked(session=session, addresses=mails, channel="email") == {
            "LI.NA@example.com": "opted_out"
        }
        assert preferences.blocked(session=session, addresses=mails, channel="sms") == {}
        phones = ["+86 138 0013 8000", "+8613900139000"]
        for channel in ("sms", "webhook", "email"):
            assert preferences.blocked(session=session, addresses=phones, channel=channel) == {
                "+86 138 0013 8000": "opted_out"
            }
        count = session.scalar(select(func.count()).select_from(ContactPreference))
        (first,) = session.scalars(
            select(ContactPreference).where(ContactPreference.channel == "email")
        )
    assert count == 2 and first.source == "unsubscribe"  # the first request is what is kept


def test_a_bounce_blocks_mail_only_and_keeps_the_servers_reply(store: Store) -> None:
    with store.sessions.begin() as session:
        preferences.mark_bounced(
            session=session, address="gone@example.com", reason="550 5.1.1 No such user"
        )
    with store.sessions.begin() as session:
        assert preferences.blocked(session=session, addresses=["Gone@example.com"]) == {
            "Gone@example.com": "bounced_before"
        }
        assert (
            preferences.blocked(session=session, addresses=["gone@example.com"], channel="webhook")
            == {}
        )
        row = session.scalars(select(ContactPreference)).one()
    assert (row.kind, row.channel, row.reason) == ("bounced", "email", "550 5.1.1 No such user")


def test_explicit_consent_recorded_then_withdrawn(store: Store) -> None:
    people = ["customer:c1", "customer:c2", "ann@example.com"]
    with store.sessions.begin() as session:
        preferences.record_consent(session=session, address="customer:c1", source="signup")
        preferences.record_consent(
            session=session, address="ann@example.com", channel="email", source="form"
        )
    with store.sessions.begin() as session:
        assert preferences.blocked(session=session, addresses=people) == {}  # implied consent
        assert preferences.blocked(session=session, addresses=people, require_consent=True) == {
            "customer:c2": "no_consent"
        }
        assert preferences.blocked(
            session=session, addresses=["ann@example.com"], channel="sms", require_consent=True
        ) == {"ann@example.com": "no_consent"}  # an e-mail consent is not an SMS consent
    with store.sessions.begin() as session:
        assert preferences.withdraw(session=session, address="customer:c1", source="portal") == 1
    with store.sessions.begin() as session:
        blocked = preferences.blocked(session=session, addresses=people, require_consent=True)
        assert blocked["customer:c1"] == "opted_out"  # implied consent no longer reaches them
        assert preferences.blocked(session=session, addresses=["customer:c1"]) == {
            "customer:c1": "opted_out"
        }


def test_an_opt_out_wins_over_a_later_consent(store: Store) -> None:
    with store.sessions.begin() as session:
        preferences.opt_out(session=session, address="x@example.com", channel="email")
        preferences.record_consent(session=session, address="x@example.com", channel="any")
    with store.sessions.begin() as session:
        assert preferences.blocked(
            session=session, addresses=["x@example.com"], require_consent=True
        ) == {"x@example.com": "opted_out"}
        assert preferences.kinds(
            session=session, addresses=["x@example.com"], channels=("email", "any")
        ) == {"x@example.com": frozenset({"opted_out", "consented"})}


def test_unknown_channels_and_bad_addresses_are_named(store: Store) -> None:
    with store.sessions.begin() as session:
        with pytest.raises(Invalid) as failed:
            preferences.opt_out(session=session, address="a@example.com", channel="emial")
        assert failed.value.problems[0].field == "channel"
        with pytest.raises(Invalid, match="address"):
            preferences.opt_out(session=session, address="nobody", channel="email")
        # a csv distribution cannot know the channel: its opt-out binds every channel
        preferences.opt_out(session=session, address="customer:c9", channel="csv")
    with store.sessions.begin() as session:
        assert preferences.blocked(
            session=session, addresses=["customer:c9", "junk", ""], channel="wechat"
        ) == {"customer:c9": "opted_out"}


def test_many_addresses_in_one_question(store: Store) -> None:
    addresses = [f"p{i}@example.com" for i in range(1_200)]
    with store.sessions.begin() as session:
        for address in addresses[::100]:
            preferences.opt_out(session=session, address=address, channel="email")
    with store.sessions.begin() as session:
        blocked = preferences.blocked(session=session, addresses=addresses)
    assert sorted(blocked) == sorted(addresses[::100]) and len(blocked) == 12


def test_two_writers_recording_the_same_opt_out_leave_one_row(store: Store) -> None:
    errors: list[BaseException] = []

    def record() -> None:
        try:
            with store.sessions.begin() as session:
                preferences.opt_out(session=session, address="same@example.com", channel="email")
        except BaseException as exc:  # surfaced by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=record) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with store.sessions.begin() as session:
        assert session.scalar(select(func.count()).select_from(ContactPreference)) == 1


def test_consent_required_follows_the_setting() -> None:
    assert not preferences.consent_required(Settings())
    assert preferences.consent_required(Settings(survey_consent="explicit"))
