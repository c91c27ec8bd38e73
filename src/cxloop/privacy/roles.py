"""Roles and what each may do: one table, checked by every endpoint and command."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    admin = "admin"
    analyst = "analyst"
    agent = "agent"
    viewer = "viewer"


class Permission(StrEnum):
    read_data = "read_data"
    read_pii = "read_pii"
    import_data = "import_data"
    read_imports = "read_imports"
    manage_users = "manage_users"
    manage_lists = "manage_lists"  # metric targets, alerts, target lists
    manage_surveys = "manage_surveys"  # survey definitions, distributions, reminders
    work_cases = "work_cases"  # the loop's cases: read, take, note, resolve (teams decide which)
    manage_rules = "manage_rules"  # the loop's alert rules: save versions, dry-run them


GRANTS: dict[Role, frozenset[Permission]] = {
    Role.admin: frozenset(Permission),
    Role.analyst: frozenset(
        {
            Permission.read_data,
            Permission.import_data,
            Permission.read_imports,
            Permission.manage_lists,
            Permission.manage_surveys,
            Permission.manage_rules,
        }
    ),
    Role.agent: frozenset({Permission.read_data, Permission.read_pii, Permission.work_cases}),
    Role.viewer: frozenset({Permission.read_data}),
}
"""Analysts work on aggregates and data quality, so they see PII masked; agents contact
customers, so they see it; viewers read dashboards only."""


def allows(role: str, permission: Permission) -> bool:
    try:
        return permission in GRANTS[Role(role)]
    except ValueError:
        return False
