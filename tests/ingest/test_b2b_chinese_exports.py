"""B2B exports as a Chinese CRM writes them: 联系人编号, 里程碑编号 and 客户等级 headers, and
contact roles cxloop has no name for (行政助理) — every row lands, with no mapping file."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from cxloop.api import Store, connect, import_file
from cxloop.config import Settings
from cxloop.ingest import service as ingest_service
from cxloop.ingest.mapping import normalise_header


@pytest.fixture
def store(tmp_path: Path) -> Store:
    url = f"sqlite:///{tmp_path / 'b2b.db'}"
    return connect(settings=Settings(database_url=url, enrich_on_import=False))


def _rows(store: Store, sql: str) -> list[tuple]:
    with store.engine.connect() as connection:
        return [tuple(r) for r in connection.execute(text(sql))]


def _csv(path: Path, body: str) -> Path:
    path.write_text(body, encoding="utf-8-sig")  # Excel's UTF-8 with BOM
    return path


def test_a_chinese_crm_export_imports_accounts_contacts_projects_and_milestones(
    store: Store, tmp_path: Path
) -> None:
    accounts = _csv(
        tmp_path / "客户.csv",
        "企业ID,企业名称,客户等级,等级,客户经理\nA1,华东制造,战略客户,KA,王芳\nA2,南方物流,,普通,\n",
    )
    contacts = _csv(
        tmp_path / "联系人.csv",
        "联系人编号,企业ID,联系人,邮箱,角色,职位\n"
        "K1,A1,张伟,zhang@hd.cn,决策者,总经理\n"
        "K2,A1,李娜,li@hd.cn,项目经理,PMO\n"
        "K3,A1,赵敏,zhao@hd.cn,最终用户,\n"
        "K4,A2,陈静,chen@nf.cn,Office  Manager,\n"
        "K5,A2,刘洋,liu@nf.cn,行政助理,行政\n",
    )
    projects = _csv(tmp_path / "项目.csv", "项目编号,企业ID,项目名称\nP1,A1,MES 上线\n")
    milestones = _csv(
        tmp_path / "里程碑.csv",
        "里程碑编号,项目编号,里程碑名称,计划日期\nM1,P1,上线验收,2026-12-10\nM2,P1,试运行,2026/11/01\n",
    )
    for kind, path in (
        ("accounts", accounts),
        ("contacts", contacts),
        ("projects", projects),
        ("milestones", milestones),
    ):
        summary = import_file(store, kind, path)
        assert summary.quarantined == 0, (kind, summary.rejected)
    assert _rows(store, "select account_id, segment, tier from accounts order by 1") == [
        ("A1", "战略客户", "KA"),  # 客户等级 is the segment; 等级 stays the tier
        ("A2", None, "普通"),
    ]
    assert _rows(store, "select contact_id, role from contacts order by 1") == [
        ("K1", "decision_maker"),
        ("K2", "project_lead"),
        ("K3", "user"),
        ("K4", "office manager"),  # a role cxloop has no name for is kept, not quarantined
        ("K5", "行政助理"),
    ]
    assert _rows(store, "select milestone_id, project_id from milestones order by 1") == [
        ("M1", "P1"),
        ("M2", "P1"),
    ]


def test_the_new_aliases_clash_with_no_other_field_of_the_same_kind() -> None:
    """A header must mean one field per kind, or the importer's choice depends on field order."""
    for kind, fields in ingest_service.describe_kinds().items():
        seen: dict[str, str] = {}
        for info in fields:
            for name in (info.name, *info.aliases):
                key = normalise_header(name)
                assert seen.setdefault(key, info.name) == info.name, (kind, name)
    described = {f.name: f for f in ingest_service.describe_kinds()["contacts"]}
    assert described["role"].open and "decision_maker" in (described["role"].choices or [])
    assert "联系人编号" in described["contact_id"].aliases


def test_browsing_contacts_by_a_role_spelling_finds_what_the_import_stored(
    store: Store, tmp_path: Path
) -> None:
    from cxloop.db.session import session_scope
    from cxloop.ingest.records import browse

    path = _csv(
        tmp_path / "c.csv", "联系人编号,企业ID,角色\nK1,A1,决策者\nK2,A1,行政助理\nK3,A1,IT Admin\n"
    )
    assert import_file(store, "contacts", path).quarantined == 0
    with session_scope(store.sessions) as session:
        for spelling, expected in (
            ("Decision Maker", "K1"),
            ("行政助理", "K2"),
            ("it admin", "K3"),
        ):
            rows, total = browse(session=session, kind="contacts", filters={"role": spelling})
            assert (total, rows[0]["contact_id"]) == (1, expected), spelling
