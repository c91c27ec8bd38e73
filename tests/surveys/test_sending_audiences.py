"""Audiences refused or piped as a user expects: a milestone of another account, a role no
contact holds, a --where condition that matches nobody named alone, a contact greeted by name."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from cxloop import api
from cxloop.errors import Invalid
from cxloop.surveys import logic
from cxloop.surveys.distribution_schemas import Audience
from cxloop.surveys.models import Invitation
from tests.surveys.conftest import B2BCompany, B2CCompany
from tests.surveys.test_sending import _invitations, _send, _survey


def _account_send(company: B2BCompany, survey_id: str, **audience: Any) -> Any:
    return _send(
        company,
        company.settings,
        survey_id,
        company.now,
        audience=Audience(kind="account", **audience),
        channel="csv",
    )


def _stored(company: B2BCompany) -> int:
    with company.store.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Invitation)) or 0)


def test_a_milestone_of_another_account_or_unknown_is_refused_by_name(
    b2b_company: B2BCompany,
) -> None:
    api.import_records(
        b2b_company.store,
        "projects",
        [{"project_id": "P-2", "account_id": "A-200", "name": "Northwind rollout"}],
    )
    api.import_records(
        b2b_company.store,
        "milestones",
        [
            {"milestone_id": "M-2", "project_id": "P-2", "name": "Go live"},
            {"milestone_id": "M-3", "project_id": "P-404", "name": "Orphan"},
        ],
    )
    survey_id = _survey(b2b_company)
    with pytest.raises(Invalid) as caught:
        _account_send(b2b_company, survey_id, account="A-100", milestone="M-2")
    (problem,) = caught.value.problems
    assert (problem.field, problem.value) == ("milestone", "M-2")
    assert "P-2 of account A-200, not of account A-100" in problem.reason
    with pytest.raises(Invalid) as caught:
        _account_send(b2b_company, survey_id, account="A-100", milestone="M-3")
    assert "P-404, which is not imported" in str(caught.value)
    with pytest.raises(Invalid) as caught:
        _account_send(b2b_company, survey_id, account="A-100", milestone="M-99")
    assert "'M-99' is no milestone id" in str(caught.value)
    assert _stored(b2b_company) == 0
    assert _account_send(b2b_company, survey_id, account="A-100", milestone="M-1").sent == 4


def test_each_role_no_contact_holds_is_refused_even_when_another_matches(
    b2b_company: B2BCompany,
) -> None:
    survey_id = _survey(b2b_company)
    with pytest.raises(Invalid) as caught:
        _account_send(
            b2b_company, survey_id, account="A-100", roles=["最终用户", "行政助理", "boss"]
        )
    problems = caught.value.problems
    assert [(p.field, p.value) for p in problems] == [("roles", "行政助理"), ("roles", "boss")]
    assert "no contact of account A-100" in problems[0].reason
    assert "decision_maker" in problems[0].reason and "project_lead" in problems[0].reason
    assert _stored(b2b_company) == 0
    # a role spelt as the CRM spells it, or in English, still matches
    result = _account_send(b2b_company, survey_id, account="A-100", roles=["最终用户", "决策者"])
    assert result.sent == 3


def test_where_blames_only_the_condition_that_matches_nobody(b2c_company: B2CCompany) -> None:
    """An attribute (会员类型) that matches alone is not blamed beside a header word (城市)
    that import read into the city column; conditions that each match are named together."""
    api.import_records(
        b2c_company.store,
        "customers",
        [
            {"customer_id": "c-001", "会员类型": "VIP"},
            {"customer_id": "c-002", "会员类型": "vip"},
        ],
    )
    survey_id = _survey(b2c_company)

    def refused(*where: str) -> list[Any]:
        with pytest.raises(Invalid) as caught:
            _send(
                b2c_company,
                b2c_company.settings,
                survey_id,
                b2c_company.now,
                audience=Audience(kind="where", where=list(where)),
                channel="csv",
                dry_run=True,
            )
        return caught.value.problems

    vip = _send(
        b2c_company,
        b2c_company.settings,
        survey_id,
        b2c_company.now,
        audience=Audience(kind="where", where=["会员类型=VIP"]),
        channel="csv",
        dry_run=True,
    )
    assert vip.recipients == 2
    (problem,) = refused("城市=上海", "会员类型=VIP")
    assert (problem.field, problem.value) == ("where.城市", "上海")
    assert "into the city column: use --where city=上海 (matches 58)" in problem.reason
    (problem,) = refused("segment=silver", "会员类型=VIP")
    assert problem.field == "where"
    assert "each condition matches customers alone (segment=silver 3, 会员类型=VIP 2)" in (
        problem.reason
    )
    assert "together they match no one" in problem.reason
    (problem,) = refused("segment=platinum", "会员类型=VIP")
    assert problem.field == "where.segment" and "gold" in problem.reason


def test_customer_name_greets_the_contact_and_a_fallback_stands_in_on_anonymous_links(
    b2b_company: B2BCompany,
) -> None:
    survey_id = _survey(b2b_company)
    result = _account_send(b2b_company, survey_id, account="A-100", roles=["决策者"])
    greeting = "{customer.name|您}，您好！{contact.name}（{account.name}）"
    piped = [
        logic.pipe(greeting, r.context) for r in _invitations(b2b_company, result.distribution_id)
    ]
    assert piped == [
        "陈总，您好！陈总（华东精密制造有限公司）",
        "周副总，您好！周副总（华东精密制造有限公司）",
    ]
    anonymous = _send(
        b2b_company,
        b2b_company.settings,
        survey_id,
        b2b_company.now,
        audience=Audience(kind="anonymous"),
    )
    assert anonymous.anonymous_link
    assert logic.pipe(greeting, {}) == "您，您好！（）"
    assert logic.pipe("{customer.name}，您好！", {}) == "，您好！"  # no fallback: empty
