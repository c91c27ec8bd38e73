"""Who gets an invitation: caps across all surveys, quiet hours in the person's zone, opt-outs
per channel, consent, missing addresses and bounces — each skip with its one reason."""

from __future__ import annotations

import datetime as dt

from cxloop.surveys.distribution import (
    History,
    Policy,
    Recipient,
    language_of,
    quiet_until,
    select,
    skip_counts,
    timezone_of,
)

NOW = dt.datetime(2026, 3, 2, 3, 0)  # 11:00 in Shanghai: outside 21:00-08:00
POLICY = Policy(cap_contact_days=30, cap_account_days=7, quiet_hours="21:00-08:00")


def person(n: int, **extra: object) -> Recipient:
    values: dict[str, object] = {
        "customer_id": f"c{n}",
        "name": f"Person {n}",
        "email": f"P{n}@Example.com",
    }
    values.update(extra)
    return Recipient(**values)  # type: ignore[arg-type]


def test_everyone_allowed_is_sent_now_with_a_lower_case_address() -> None:
    decisions = select(
        [person(1), person(2)], channel="email", policy=POLICY, history=History(), now=NOW
    )
    assert [d.send_at for d in decisions] == [NOW, NOW]
    assert decisions[0].address == "p1@example.com"
    assert skip_counts(decisions) == {}


def test_each_skip_reason_is_recorded_once() -> None:
    history = History(
        person_last={"customer:c4": NOW - dt.timedelta(days=29)},
        account_last={"acct": NOW - dt.timedelta(days=6)},
        preferences={
            "p2@example.com": frozenset({"opted_out"}),
            "p3@example.com": frozenset({"bounced"}),
        },
    )
    audience = [
        person(1, email=None),
        person(2),
        person(3),
        person(4),
        person(5, contact_id="k5", account_id="acct"),
        person(6),
        person(6),
    ]
    decisions = select(audience, channel="email", policy=POLICY, history=history, now=NOW)
    assert [d.skip_reason for d in decisions] == [
        "no_address",
        "opted_out",
        "bounced_before",
        "capped_contact",
        "capped_account",
        None,
        "duplicate",
    ]
    assert skip_counts(decisions) == {
        "duplicate": 1,
        "no_address": 1,
        "opted_out": 1,
        "bounced_before": 1,
        "capped_contact": 1,
        "capped_account": 1,
    }


def test_caps_end_after_their_window_and_zero_means_no_cap() -> None:
    history = History(person_last={"customer:c1": NOW - dt.timedelta(days=31)})
    assert (
        select([person(1)], channel="email", policy=POLICY, history=history, now=NOW)[0].skip_reason
        is None
    )
    recent = History(person_last={"customer:c1": NOW - dt.timedelta(days=1)})
    no_cap = Policy(cap_contact_days=0)
    assert (
        select([person(1)], channel="email", policy=no_cap, history=recent, now=NOW)[0].skip_reason
        is None
    )


def test_one_distribution_reaching_three_roles_of_an_account_is_not_capped_by_itself() -> None:
    roles = [
        person(i, contact_id=f"k{i}", account_id="acct", role=r)
        for i, r in enumerate(["decision_maker", "purchaser", "user"])
    ]
    decisions = select(roles, channel="email", policy=POLICY, history=History(), now=NOW)
    assert all(d.skip_reason is None for d in decisions)


def test_an_opt_out_by_person_id_binds_every_address_and_channel_opt_outs_stay_apart() -> None:
    history = History(preferences={"contact:k1": frozenset({"opted_out"})})
    r = person(1, contact_id="k1")
    assert (
        select([r], channel="email", policy=POLICY, history=history, now=NOW)[0].skip_reason
        == "opted_out"
    )
    # a bounce of the e-mail address does not stop a webhook (SMS) send
    bounced = History(preferences={"p1@example.com": frozenset({"bounced"})})
    hook = select(
        [person(1, phone="+8613800138000")],
        channel="webhook",
        policy=POLICY,
        history=bounced,
        now=NOW,
    )[0]
    assert hook.skip_reason is None
    assert hook.address == "+8613800138000"


def test_explicit_consent_needs_a_consent_preference_or_attribute() -> None:
    explicit = Policy(consent="explicit")
    history = History(preferences={"p2@example.com": frozenset({"consented"})})
    audience = [person(1), person(2), person(3, attributes={"同意": "是"})]
    reasons = [
        d.skip_reason
        for d in select(audience, channel="email", policy=explicit, history=history, now=NOW)
    ]
    assert reasons == ["no_consent", None, None]


def test_inside_quiet_hours_the_send_waits_for_the_end_in_the_persons_zone() -> None:
    evening_shanghai = dt.datetime(2026, 3, 2, 14, 30)  # 22:30 in Shanghai, 14:30 in London
    shanghai, london = select(
        [person(1), person(2, attributes={"timezone": "Europe/London"})],
        channel="email",
        policy=POLICY,
        history=History(),
        now=evening_shanghai,
    )
    assert shanghai.skip_reason is None
    assert shanghai.send_at == dt.datetime(2026, 3, 3, 0, 0)  # 08:00 next morning in Shanghai
    assert london.send_at == evening_shanghai
    assert london.timezone == "Europe/London"


def test_csv_links_are_handed_over_at_once_even_at_night() -> None:
    night = dt.datetime(2026, 3, 2, 16, 0)
    decision = select([person(1)], channel="csv", policy=POLICY, history=History(), now=night)[0]
    assert decision.send_at == night
    assert decision.address == "customer:c1"


def test_quiet_window_edges() -> None:
    zone = "Asia/Shanghai"
    # 07:59 local is quiet until 08:00 the same day; 08:00 is not quiet; 21:00 is
    assert quiet_until(dt.datetime(2026, 3, 1, 23, 59), zone, "21:00-08:00") == dt.datetime(
        2026, 3, 2, 0, 0
    )
    assert quiet_until(dt.datetime(2026, 3, 2, 0, 0), zone, "21:00-08:00") is None
    assert quiet_until(dt.datetime(2026, 3, 1, 13, 0), zone, "21:00-08:00") is not None
    assert quiet_until(dt.datetime(2026, 3, 1, 13, 0), zone, "") is None
    # a window that does not cross midnight
    assert quiet_until(dt.datetime(2026, 3, 1, 5, 0), zone, "12:00-14:00") == dt.datetime(
        2026, 3, 1, 6, 0
    )


def test_language_and_zone_come_from_attributes_with_fallbacks() -> None:
    langs = ("zh", "en")
    assert language_of(person(1, attributes={"语言": "English"}), langs, "zh") == "en"
    assert language_of(person(1, attributes={"Lang": "zh-CN"}), langs, "en") == "zh"
    assert language_of(person(1, attributes={"language": "fr"}), langs, "zh") == "zh"
    assert language_of(person(1, attributes={"language": "en"}), ("zh",), "zh") == "zh"
    assert timezone_of(person(1, attributes={"tz": "Nowhere/City"}), "UTC") == "UTC"
    assert timezone_of(person(1, attributes={"TZ": "America/New_York"}), "UTC") == (
        "America/New_York"
    )
