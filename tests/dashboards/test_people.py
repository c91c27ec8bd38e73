"""Customer search, customer 360 and account 360 (``dashboards.people``) on a real SQLite
store: who searches what, who sees personal data (the case screen's rule), the story is the
case screen's, the health is ``GET /api/v1/metrics/accounts``'s, and the shapes the demo never
has (nothing stored but a name, ids with a slash or in Chinese, contacts without a role, an
account nobody answered for)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cxloop.dashboards import people
from cxloop.errors import NotFound
from cxloop.loop.states import Actor
from cxloop.loop.story import customer_story
from tests.web.case_pages_support import Desk
from tests.web.people_support import CHINESE, ODD_ACCOUNT, SLASHED, build_people

ADMIN = Actor("admin", frozenset({"admin"}))
ANALYST = Actor("analyst", frozenset({"analyst"}))
VIEWER = Actor("viewer", frozenset({"viewer"}))
OWNER = Actor("wang.fang", frozenset({"agent"}))  # owns the p1 case of c-1 and the A-1 case
OTHER_AGENT = Actor("li.na", frozenset({"agent"}))  # same team, owns a case of c-2 only
EAST_AGENT = Actor("zhao.min", frozenset({"agent"}))  # team east: not the c-1 cases' team


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    built = build_people(tmp_path_factory.mktemp("people") / "cxloop.db")
    yield built
    built.close()


def test_readers_of_personal_data_search_by_name_and_e_mail_the_others_by_id_only(
    desk: Desk,
) -> None:
    with desk.api.store.sessions() as session:
        admin = people.search_customers(session=session, actor=ADMIN, q="李娜")
        assert [c.customer_id for c in admin.customers] == ["c-1"]
        assert admin.customers[0].email == "li.na@example.com" and not admin.customers[0].masked
        analyst = people.search_customers(session=session, actor=ANALYST, q="李娜")
        assert analyst.total == 0 and analyst.searched == ["id"]
        assert "by id only" in analyst.notes[0]
        by_id = people.search_customers(session=session, actor=ANALYST, q="C-1")  # any case
        assert [c.customer_id for c in by_id.customers] == ["c-1"]
        assert by_id.customers[0].name == "李**" and by_id.customers[0].email == "l***@example.com"
        mail = people.search_customers(session=session, actor=OTHER_AGENT, q="LI.NA@")
        assert mail.customers[0].customer_id == "c-1" and mail.customers[0].masked  # not theirs
        mine = people.search_customers(session=session, actor=OWNER, q="li.na@")
        assert mine.customers[0].email == "li.na@example.com"  # a customer of their case


def test_search_takes_wildcards_literally_pages_by_id_and_finds_accounts_by_name(
    desk: Desk,
) -> None:
    with desk.api.store.sessions() as session:
        assert people.search_customers(session=session, actor=ADMIN, q="%").total == 0
        assert people.search_customers(session=session, actor=ADMIN, q="c_").total == 0
        first = people.search_customers(session=session, actor=VIEWER, q="", limit=2)
        rest = people.search_customers(session=session, actor=VIEWER, q=" ", limit=2, offset=2)
        ids = [c.customer_id for c in first.customers + rest.customers]
        assert first.total == 6 and ids == ["c-1", "c-2", "c-3", "c-4"]
        assert first.accounts_total == 3  # every account when nothing is searched
        found = people.search_customers(session=session, actor=VIEWER, q="北京/")
        assert found.total == 0 and [a.account_id for a in found.accounts] == [ODD_ACCOUNT]
        chinese = people.search_customers(session=session, actor=ADMIN, q="欧阳")
        assert [c.customer_id for c in chinese.customers] == [CHINESE]


def test_the_customer_360_is_the_case_screens_story_with_every_case(desk: Desk) -> None:
    with desk.api.store.sessions() as session:
        found = people.customer_360(session=session, actor=ADMIN, customer_id="c-1")
        story = customer_story(session=session, customer_id="c-1", reveal_pii=True)
        assert found.story.value == story.value and found.story.value is not None
        assert found.story.value.orders == 2 and found.story.orders_total == 3  # one refunded
        assert found.story.churn is not None and found.story.churn.probability == 0.62
        assert [c.id for c in found.story.open_cases] == [desk.cases["p1_owned"]]
        assert found.story.profile is not None and found.story.profile.email == "li.na@example.com"
        assert found.freshness.source == "store"


def test_an_agent_reads_personal_data_only_for_customers_of_cases_they_own(desk: Desk) -> None:
    with desk.api.store.sessions() as session:
        for actor, shown in ((OWNER, True), (OTHER_AGENT, False), (ANALYST, False),
                             (VIEWER, False), (ADMIN, True)):  # fmt: skip
            found = people.customer_360(session=session, actor=actor, customer_id="c-1")
            assert found.story.masked is not shown, actor
            assert found.story.profile is not None
            email = found.story.profile.email
            assert email == ("li.na@example.com" if shown else "l***@example.com"), actor
        viewer = people.customer_360(session=session, actor=VIEWER, customer_id="c-1")
        other = people.customer_360(session=session, actor=OTHER_AGENT, customer_id="c-1")
    assert viewer.pii_rule == people.PII_NO_ROLE and other.pii_rule == people.PII_NOT_THEIRS


def test_cases_link_only_for_readers_who_may_open_them(desk: Desk) -> None:
    with desk.api.store.sessions() as session:
        east = people.customer_360(session=session, actor=EAST_AGENT, customer_id="c-3")
        assert east.cases.readable == [desk.cases["east"]]
        served = people.customer_360(session=session, actor=EAST_AGENT, customer_id="c-2")
        assert {c.id for c in served.story.open_cases} == {
            desk.cases["p4_new"],
            desk.cases["overdue"],
        } and served.cases.readable == []  # 客服一组's cases: not zhao.min's team
        viewer = people.customer_360(session=session, actor=VIEWER, customer_id="c-2")
        assert sorted(viewer.cases.readable) == sorted(c.id for c in viewer.story.open_cases)


def test_a_customer_with_nothing_but_a_name_reads_in_words(desk: Desk) -> None:
    with desk.api.store.sessions() as session:
        found = people.customer_360(session=session, actor=ADMIN, customer_id="c-4")
    story = found.story
    assert story.profile is not None and story.profile.name == "赵敏"
    assert story.value is not None and (story.value.orders, story.value.spend) == (0, 0.0)
    assert story.orders_total == 0 and story.voice_total == 0 and not story.open_cases
    assert story.churn is None and any("no churn score" in n for n in story.notes)


def test_ids_with_a_slash_or_in_chinese_and_unknown_ids(desk: Desk) -> None:
    with desk.api.store.sessions() as session:
        slashed = people.customer_360(session=session, actor=ADMIN, customer_id=SLASHED)
        assert slashed.story.profile is not None and slashed.story.profile.name == "Ann O'Neil"
        chinese = people.customer_360(session=session, actor=VIEWER, customer_id=CHINESE)
        assert chinese.story.profile is not None and chinese.story.profile.name == "欧***"
        with pytest.raises(NotFound, match="no customer with id 'c-404'"):
            people.customer_360(session=session, actor=ADMIN, customer_id="c-404")
        with pytest.raises(NotFound, match="no account with id 'A/上海'"):
            people.account_360(
                session=session, settings=desk.api.app.state.settings, actor=ADMIN,
                account_id="A/上海",
            )  # fmt: skip


def test_the_account_360_health_is_the_metrics_apis_with_contacts_and_their_answers(
    desk: Desk,
) -> None:
    settings = desk.api.app.state.settings
    with desk.api.store.sessions() as session:
        found = people.account_360(
            session=session, settings=settings, actor=ADMIN, account_id=ODD_ACCOUNT
        )
    api = desk.json("admin", "/api/v1/metrics/accounts?account=A%2F%E5%8C%97%E4%BA%AC")
    row = api["accounts"][0]
    assert found.health.row.n == row["n"] == 3 and found.health.row.score == row["score"]
    assert (found.health.row.ci_low, found.health.row.ci_high) == (row["ci_low"], row["ci_high"])
    assert found.health.row.small_n and found.health.min_n == 5  # 3 answers: too few
    answers = {c.contact_id: (c.role, c.answers, c.last_nps) for c in found.contacts}
    assert answers == {"K-7": ("行政助理", 1, 9), "K-8": ("", 1, 10)}  # K-404 is not stored
    assert "unknown" in found.health.row.roles_answered  # K-404's answer: no stored contact
    assert found.story.account is not None and found.story.voice_total == 3


def test_an_account_nobody_answered_for_has_no_score_and_viewers_get_single_answers_hidden(
    desk: Desk,
) -> None:
    settings = desk.api.app.state.settings
    with desk.api.store.sessions() as session:
        empty = people.account_360(
            session=session, settings=settings, actor=VIEWER, account_id="A-2"
        )
        single = people.account_360(
            session=session, settings=settings, actor=VIEWER, account_id="A-1"
        )
        admin = people.account_360(
            session=session, settings=settings, actor=ADMIN, account_id="A-1"
        )
    assert empty.health.row.n == 0 and empty.health.row.score is None and empty.health.row.small_n
    assert empty.contacts == [] and empty.story.voice_total == 0
    viewer_api = desk.json("viewer", "/api/v1/metrics/accounts?account=A-1")["accounts"][0]
    assert single.health.row.n == admin.health.row.n == viewer_api["n"] == 1
    assert single.health.row.score is None is viewer_api["score"]  # one person's NPS: hidden
    assert admin.health.row.score == -100.0  # a detractor, shown to roles that may see it
    assert [(c.contact_id, c.last_nps) for c in admin.contacts] == [("K-1", 6), ("K-2", None)]
    assert [c.last_nps for c in single.contacts] == [None, None]  # not one person's NPS either
