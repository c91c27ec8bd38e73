"""Response tracking: the funnel per distribution and survey, and the response rate as a
metric with a Wilson interval, sliced by segment, role, account, channel and distribution."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cxloop import api
from cxloop.errors import Invalid, NotFound
from cxloop.metrics.intervals import wilson_interval
from cxloop.surveys import tracking
from tests.surveys.tracking_support import (
    add_distribution,
    add_invitation,
    add_response,
    add_survey,
)

CUSTOMERS = [
    {"customer_id": "c-1", "name": "李娜", "segment": "gold"},
    {"customer_id": "c-2", "name": "Wang", "segment": "silver"},
    {"customer_id": "c-3", "name": "Zhao"},  # no segment
]


@pytest.fixture
def tracked(store: api.Store) -> Iterator[api.Store]:
    """Two distributions of one survey: an e-mail one at every step, and an anonymous link."""
    assert api.import_records(store, "customers", CUSTOMERS).inserted == 3
    with store.sessions() as session:
        add_survey(session)
        mail = add_distribution(session, name="march")
        link = add_distribution(session, name="kiosk", channel="link", audience_kind="anonymous")
        steps = [
            ("skipped", {"skip_reason": "opted_out"}),
            ("skipped", {"skip_reason": "capped_contact"}),
            ("scheduled", {}),
            ("bounced", {"customer_id": "c-3"}),
            ("sent", {"customer_id": "c-2", "role": "user"}),
            ("sent", {"customer_id": "c-2", "role": "user"}),
            ("opened", {"customer_id": "c-1", "role": "user"}),
            ("started", {"customer_id": "c-1", "role": "decision_maker"}),
            ("completed", {"customer_id": "c-1", "role": "decision_maker"}),
            ("completed", {"customer_id": "c-2", "role": "user"}),
            ("expired", {"customer_id": "c-3"}),
        ]
        for status, fields in steps:
            add_invitation(session, mail, status, **fields)
        add_response(session, mail, "partial")
        for _ in range(3):
            add_response(session, link, "completed")
        add_response(session, link, "partial")
        session.commit()
    return store


def test_funnel_counts_every_step_a_recipient_passed(tracked: api.Store) -> None:
    with tracked.sessions() as session:
        result = tracking.funnel(session=session, survey_id="post-delivery")
    mail, link = result.distributions
    assert (mail.name, link.name) == ("march", "kiosk")
    assert mail.invited == 11
    assert mail.skipped == 2
    assert mail.skip_reasons == {"capped_contact": 1, "opted_out": 1}
    assert mail.scheduled == 1
    # sent: every invitation past scheduling that was not skipped (bounced and expired too)
    assert (mail.sent, mail.bounced, mail.delivered) == (8, 1, 7)
    assert (mail.opened, mail.started, mail.completed, mail.expired) == (4, 3, 2, 1)
    assert (mail.partial, mail.anonymous) == (1, 0)
    assert (link.invited, link.partial, link.anonymous) == (0, 1, 3)
    assert result.total.invited == 11
    assert (result.total.partial, result.total.anonymous) == (2, 3)


def test_response_rate_is_completed_over_delivered_with_a_wilson_interval(
    tracked: api.Store,
) -> None:
    with tracked.sessions() as session:
        result = tracking.funnel(session=session, survey_id="post-delivery")
    rate = result.distributions[0].rate
    share, low, high = wilson_interval([2], [7])
    assert (rate.n, rate.completed) == (7, 2)
    assert rate.score == pytest.approx(float(share[0]))
    assert (rate.ci_low, rate.ci_high) == (pytest.approx(low[0]), pytest.approx(high[0]))
    assert rate.small_n
    # an anonymous link delivers nothing countable: no rate, never a division by zero
    empty = result.distributions[1].rate
    assert (empty.n, empty.score, empty.ci_low) == (0, None, None)
    assert result.total.rate == rate


def test_rates_slice_by_segment_with_unknown_segment_kept(tracked: api.Store) -> None:
    with tracked.sessions() as session:
        rows = tracking.response_rates(session=session, by=["segment"], min_n=1)
    got = {r.slice["segment"]: (r.n, r.completed) for r in rows}
    # c-1 gold: opened, started, completed; c-2 silver: 2 sent + 1 completed; c-3: expired
    # (delivered) and bounced (not); skipped and scheduled rows have no customer
    assert got == {"gold": (3, 1), "silver": (3, 1), None: (1, 0)}


def test_rates_slice_by_role_and_channel_together(tracked: api.Store) -> None:
    with tracked.sessions() as session:
        rows = tracking.response_rates(session=session, by=["channel", "role"], min_n=1)
    got = {(r.slice["channel"], r.slice["role"]): (r.n, r.completed) for r in rows}
    assert got == {
        ("email", "decision_maker"): (2, 1),
        ("email", "user"): (4, 1),
        ("email", None): (1, 0),
    }
    assert all(r.ci_low is not None and r.ci_low <= r.score <= r.ci_high for r in rows)


def test_rates_by_distribution_and_survey_filter(tracked: api.Store) -> None:
    with tracked.sessions() as session:
        rows = tracking.response_rates(
            session=session, by=["distribution"], survey_id="post-delivery", min_n=1
        )
        overall = tracking.response_rates(session=session)
    assert [(r.n, r.completed) for r in rows] == [(7, 2)]
    assert (overall[0].n, overall[0].completed, overall[0].slice) == (7, 2, {})


def test_unknown_dimension_is_refused_by_name(tracked: api.Store) -> None:
    with tracked.sessions() as session, pytest.raises(Invalid) as caught:
        tracking.response_rates(session=session, by=["role", "colour", "mood"])
    assert [(p.field, p.value) for p in caught.value.problems] == [
        ("by", "colour"),
        ("by", "mood"),
    ]
    assert "segment" in caught.value.problems[0].reason


def test_unknown_survey_is_not_found(tracked: api.Store) -> None:
    with tracked.sessions() as session, pytest.raises(NotFound, match="no-such"):
        tracking.funnel(session=session, survey_id="no-such")


def test_a_survey_never_sent_has_an_empty_funnel(store: api.Store) -> None:
    with store.sessions() as session:
        add_survey(session, "fresh")
        result = tracking.funnel(session=session, survey_id="fresh")
        rates = tracking.response_rates(session=session, by=["role"])
    assert result.distributions == []
    assert (result.total.invited, result.total.rate.n, result.total.rate.score) == (0, 0, None)
    assert rates == []
