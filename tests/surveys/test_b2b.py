"""B2B completeness: which required roles are still missing for an account."""

from __future__ import annotations

from cxloop.surveys.b2b import missing_roles, normalise_role


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
