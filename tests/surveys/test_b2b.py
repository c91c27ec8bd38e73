"""B2B completeness: which required roles are still missing for an account."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from cxloop import api
from cxloop.notify.mail import MailUnavailable
from cxloop.surveys import b2b, b2b_status
from cxloop.surveys.b2b import alert_due, deadline_of, missing_roles, normalise_role, owner_address
from cxloop.surveys.models import Distribution
from tests.smtp import SmtpServer
from tests.surveys.tracking_support import NOW, add_distribution, add_invitation, add_survey


def test_missing_roles_keeps_declared_order_and_spelling() -> None:
    required = ["decision_maker", "project lead", "user"]
    assert missing_roles(required, ["user"]) == ["decision_maker", "project lead"]


def test_roles_compare_across_case_spaces_and_chinese_aliases() -> None:
    assert missing_roles(["Decision Maker", "用户"], ["decision_maker", "User"]) == []
    assert normalise_role(" 决策者 ") == "decision_maker"
    assert normalise_role("Project-Lead") == "project_lead"


def test_every_role_answered_means_nothing_missing() -> None:
    assert missing_roles(["a", "b"], ["b", "a", "c"]) == []


def test_duplicates_and_blanks_in_required_are_listed_once() -> None:
    assert missing_roles(["user", "User", "", "user"], []) == ["user"]


def test_no_required_roles_is_always_complete() -> None:
    assert missing_roles([], []) == []


# --- completeness and owner alerts on a real store -----------------------------------------

ACCOUNTS = [
    {"account_id": "A-1", "name": "华东精密", "owner": "赵经理 <Zhao.Owner@Example.com>"},
    {"account_id": "A-2", "name": "Northwind", "owner": "lee@northwind.example"},
    {"account_id": "A-3", "name": "西部物流", "owner": "李经理"},
    {"account_id": "A-4", "name": "Gone Ltd", "owner": "bounce.owner@example.com"},
]
MILESTONES = [
    {"milestone_id": f"M-{n}", "project_id": "P-1", "name": name}
    for n, name in ((1, "上线验收"), (2, "Go-live"), (3, "试运行"), (4, "Kick-off"))
]
REQUIRED = ["decision_maker", "purchaser", "user"]


@pytest.fixture
def b2b_store(store: api.Store) -> Iterator[api.Store]:
    """Four accounts at one milestone each of a survey requiring three roles: A-1 misses two
    (and has an employee invited too), A-2 is complete, A-3's owner is a name, not an address,
    A-4's owner address bounces. A fifth distribution's deadline is a week away."""
    for kind, rows in (
        ("accounts", ACCOUNTS),
        ("projects", [{"project_id": "P-1", "account_id": "A-1", "name": "MES"}]),
        ("milestones", MILESTONES),
    ):
        assert api.import_records(store, kind, rows).inserted == len(rows)
    soon = NOW + dt.timedelta(hours=20)
    with store.sessions() as session:
        add_survey(session, "milestone", required_roles=REQUIRED)
        a1 = add_distribution(session, "milestone", account_id="A-1", milestone_id="M-1",
                              audience_kind="account", deadline=soon)  # fmt: skip
        add_invitation(session, a1, "completed", role="decision_maker", contact_id="K-1")
        add_invitation(session, a1, "sent", role="decision_maker", contact_id="K-2")
        add_invitation(session, a1, "opened", role="purchaser", contact_id="K-3")
        add_invitation(session, a1, "skipped", role="user", skip_reason="opted_out")
        add_invitation(session, a1, "sent", role="employee", contact_id="K-5")
        a2 = add_distribution(session, "milestone", account_id="A-2", milestone_id="M-2",
                              audience_kind="account", deadline=soon)  # fmt: skip
        for role in ("decision_maker", "purchaser", "user"):
            add_invitation(session, a2, "completed", role=role)
        past = NOW - dt.timedelta(hours=1)
        a3 = add_distribution(session, "milestone", account_id="A-3", milestone_id="M-3",
                              audience_kind="account", deadline=past)  # fmt: skip
        add_invitation(session, a3, "sent", role="user")
        a4 = add_distribution(session, "milestone", account_id="A-4", milestone_id="M-4",
                              audience_kind="account", deadline=soon)  # fmt: skip
        add_invitation(session, a4, "sent", role="purchaser")
        week = NOW + dt.timedelta(days=7)
        later = add_distribution(session, "milestone", account_id="A-1", milestone_id="M-9",
                                 audience_kind="account", deadline=week)  # fmt: skip
        add_invitation(session, later, "sent", role="user")
        session.commit()
    return store


def test_completeness_lists_each_required_role_then_others(b2b_store: api.Store) -> None:
    with b2b_store.sessions() as session:
        rows = b2b_status.completeness(session=session, survey_id="milestone")
    a1 = [r for r in rows if (r.account, r.milestone) == ("A-1", "M-1")]
    assert [(r.role, r.required, r.invited, r.answered, r.missing) for r in a1] == [
        ("decision_maker", True, 2, 1, False),
        ("purchaser", True, 1, 0, True),
        ("user", True, 0, 0, True),  # skipped (opted out): never invited
        ("employee", False, 1, 0, False),
    ]
    assert {r.complete for r in a1} == {False}
    assert (a1[0].account_name, a1[0].milestone_name) == ("华东精密", "上线验收")
    a2 = [r for r in rows if r.account == "A-2"]
    assert [r.answered for r in a2] == [1, 1, 1] and all(r.complete for r in a2)


def test_completeness_of_one_distribution_and_the_b2b_module_name(b2b_store: api.Store) -> None:
    with b2b_store.sessions() as session:
        a2 = session.scalars(select(Distribution).where(Distribution.account_id == "A-2")).one()
        rows = b2b.completeness(session=session, survey_id="milestone", distribution_id=a2.id)
    assert {r.account for r in rows} == {"A-2"}


def test_owner_is_alerted_once_when_deadline_nears_with_roles_missing(
    b2b_store: api.Store, smtp_server: SmtpServer
) -> None:
    settings = smtp_server.settings(database_url=b2b_store.settings.database_url)
    with b2b_store.sessions() as session:
        alerts = b2b_status.owner_alerts(session=session, settings=settings, now=NOW)
        session.commit()
    got = {a.account: (a.outcome, a.missing) for a in alerts}
    assert got == {
        "A-1": ("sent", ("purchaser", "user")),
        "A-3": ("no_owner_address", ("decision_maker", "purchaser", "user")),
        "A-4": ("refused", ("decision_maker", "purchaser", "user")),
    }
    mails = smtp_server.to("zhao.owner@example.com")
    assert len(smtp_server.messages) == 1 and len(mails) == 1
    body = mails[0].get_body(("plain",)).get_content()
    assert "采购" in body and "使用者" in body and "决策者" not in body
    assert body.startswith("赵经理，您好")  # the owner's name from "赵经理 <address>"
    assert "/surveys/milestone/completeness" in body
    assert smtp_server.refused == ["bounce.owner@example.com"]
    with b2b_store.sessions() as session:
        again = b2b.alert_owners(session=session, settings=settings, now=NOW)
        outcomes = session.execute(
            select(
                Distribution.account_id, Distribution.milestone_id, Distribution.owner_alert_outcome
            )
            .where(Distribution.owner_alerted_at.is_not(None))
            .order_by(Distribution.account_id)
        ).all()
    assert again == 0 and len(smtp_server.messages) == 1
    # A-1's other milestone (deadline a week away) and complete A-2 are not alerted
    assert [tuple(r) for r in outcomes] == [
        ("A-1", "M-1", "sent"),
        ("A-3", "M-3", "no_owner_address"),
        ("A-4", "M-4", "refused"),
    ]


def test_no_mail_server_marks_nothing_so_the_next_tick_retries(b2b_store: api.Store) -> None:
    with b2b_store.sessions() as session:
        with pytest.raises(MailUnavailable, match="CXLOOP_SMTP_HOST"):
            b2b.alert_owners(session=session, settings=b2b_store.settings, now=NOW)
        session.rollback()
        alerted = session.scalars(
            select(Distribution).where(Distribution.owner_alerted_at.is_not(None))
        ).all()
    assert alerted == []


@pytest.mark.parametrize(
    ("owner", "address"),
    [
        ("Zhao.Owner@Example.com", "zhao.owner@example.com"),
        ("赵经理 <zhao@hd.cn>", "zhao@hd.cn"),
        ("李经理", None),
        ("", None),
        (None, None),
        ("zhao@localhost", None),
        ("zhao at hd.cn", None),
    ],
)
def test_owner_address_is_an_address_or_none(owner: str | None, address: str | None) -> None:
    assert owner_address(owner) == address


def test_deadline_falls_back_to_the_end_of_the_milestone_due_date() -> None:
    assert deadline_of(None, dt.date(2026, 3, 11)) == dt.datetime(2026, 3, 12)
    assert alert_due(dt.datetime(2026, 3, 12), NOW)  # 39 h away
    assert not alert_due(dt.datetime(2026, 3, 13), NOW)  # 63 h away
    assert not alert_due(None, NOW)


# --- customer sends of a B2B survey, re-sends, and accounts nobody was reached at -----------


@pytest.fixture
def mixed_store(b2b_store: api.Store) -> api.Store:
    """``b2b_store`` plus what a trial made: three customer sends (``--where``) of the same
    survey to people of A-1's company, deadline near, no account or milestone on the
    distribution; a re-send to A-1 at M-1 where the purchaser answered; and A-2 asked at M-3
    where every invitation was skipped."""
    soon = NOW + dt.timedelta(hours=20)
    with b2b_store.sessions() as session:
        for _ in range(3):
            b2c = add_distribution(session, "milestone", audience_kind="where", deadline=soon)
            add_invitation(session, b2c, "completed", account_id="A-1", customer_id="C-1")
            add_invitation(session, b2c, "sent", account_id="A-1", customer_id="C-2")
        again = add_distribution(session, "milestone", account_id="A-1", milestone_id="M-1",
                                 audience_kind="account", deadline=soon)  # fmt: skip
        add_invitation(session, again, "completed", role="purchaser", contact_id="K-3")
        add_invitation(session, again, "sent", role="user", contact_id="K-6", reminders_sent=2)
        week = NOW + dt.timedelta(days=7)
        nobody = add_distribution(session, "milestone", account_id="A-2", milestone_id="M-3",
                                  audience_kind="account", deadline=week)  # fmt: skip
        add_invitation(session, nobody, "skipped", role="decision_maker", skip_reason="capped")
        add_invitation(session, nobody, "skipped", role="user", skip_reason="capped")
        session.commit()
    return b2b_store


def test_customer_sends_stay_out_of_completeness_and_unreached_accounts_are_apart(
    mixed_store: api.Store,
) -> None:
    with mixed_store.sessions() as session:
        rows = b2b_status.completeness(session=session, survey_id="milestone")
    pairs = {(r.account, r.milestone) for r in rows}
    assert pairs == {
        ("A-1", "M-1"), ("A-2", "M-2"), ("A-3", "M-3"), ("A-4", "M-4"), ("A-1", "M-9"),
        ("A-2", "M-3"),
    }  # fmt: skip
    assert "unknown" not in {r.role for r in rows}  # the customers' role-less answers
    a1 = {r.role: r for r in rows if (r.account, r.milestone) == ("A-1", "M-1")}
    # both sends at A-1/M-1 count together: the purchaser answered the re-send
    assert [r for r, row in a1.items() if row.missing] == ["user"]
    assert (a1["user"].invited, a1["user"].reminded) == (1, 2)
    unreached = [r for r in rows if not r.reached]
    assert {(r.account, r.milestone) for r in unreached} == {("A-2", "M-3")}
    assert all(r.invited == 0 and not r.complete for r in unreached)


def test_owner_is_alerted_once_per_account_and_milestone_and_never_for_customer_sends(
    mixed_store: api.Store, smtp_server: SmtpServer
) -> None:
    settings = smtp_server.settings(database_url=mixed_store.settings.database_url)
    with mixed_store.sessions() as session:
        alerts = b2b_status.owner_alerts(session=session, settings=settings, now=NOW)
        session.commit()
    got = sorted((a.account, a.outcome, a.missing) for a in alerts)
    assert got == [
        ("A-1", "sent", ("user",)),  # decision maker and purchaser answered across both sends
        ("A-3", "no_owner_address", ("decision_maker", "purchaser", "user")),
        ("A-4", "refused", ("decision_maker", "purchaser", "user")),
    ]
    (mail_,) = smtp_server.to("zhao.owner@example.com")
    assert len(smtp_server.messages) == 1 and smtp_server.refused == ["bounce.owner@example.com"]
    assert mail_["Subject"] == "「华东精密」的「上线验收」调查还缺使用者的回答"
    body = mail_.get_body(("plain",)).get_content()
    assert "使用者：已邀请 1 人，已发提醒 2 次" in body
    assert "已收到定向提醒" not in body  # no claim beyond what happened
    with mixed_store.sessions() as session:
        later = NOW + dt.timedelta(hours=6)
        assert b2b.alert_owners(session=session, settings=settings, now=later) == 0
        session.commit()
        d = Distribution
        query = select(d.audience_kind, d.account_id, d.owner_alert_outcome).order_by(d.id)
        marks = session.execute(query).all()
    assert len(smtp_server.messages) == 1
    assert [o for kind, _, o in marks if kind == "where"] == [None, None, None]
    assert [o for _, a, o in marks if a == "A-1"] == ["sent", None, b2b_status.ALREADY]
