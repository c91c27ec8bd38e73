"""Done when: a Chinese company's in-house export imports whole, as UTF-8, GBK and legacy .xls.

Every good row is stored with its score and text, exactly the bad-score rows are quarantined,
mistyped phones are warnings (their rows stored), and channels are mapped or kept as written.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, text

from cxloop.api import Store, import_file
from cxloop.ingest.models import QuarantinedRow
from tests.ingest.inhouse_export import BAD_PHONES, BAD_SCORES, InhouseExport, write_inhouse_export


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> InhouseExport:
    return write_inhouse_export(tmp_path_factory.mktemp("inhouse"))


def _stored(store: Store) -> dict[str, tuple]:
    with store.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT customer_id, nps, text, channel, author_phone, attributes FROM feedback")
        )
        return {r[0]: tuple(r[1:]) for r in rows}


@pytest.mark.parametrize("copy", ["csv_path", "gbk_path", "xls_path"])
def test_inhouse_export_stores_every_good_row_with_score_and_text(
    store: Store, export: InhouseExport, copy: str
) -> None:
    summary = import_file(store, "feedback", getattr(export, copy))

    good = export.good_rows
    assert (summary.read, summary.inserted, summary.quarantined) == (
        len(export.rows),
        len(good),
        2,
    )
    assert summary.columns == {
        "customer_id": "用户ID",
        "author_phone": "手机号",
        "nps": "打分",
        "text": "留言",
        "channel": "渠道",
        "created_at": "提交时间",
    }
    assert summary.attributes_only == []
    stored = _stored(store)
    assert len(stored) == len(good)
    for row in good:
        nps, comment, channel, _, _ = stored[row["用户ID"]]
        assert nps == int(row["打分"]) and comment == row["留言"]
        assert channel == export.channels[row["渠道"].strip()]
    assert {ch for _, _, ch, _, _ in stored.values()} == {
        "app",
        "web",
        "store",
        "mini_program",
        "wechat",
        "抖音直播间",
    }

    with store.sessions() as session:
        quarantined = list(session.scalars(select(QuarantinedRow)))
    assert sorted(q.row_number for q in quarantined) == export.bad_score_rows
    assert {q.field for q in quarantined} == {"nps"}
    assert sorted(str(q.value) for q in quarantined) == sorted(BAD_SCORES)

    row_warnings = [w for w in summary.warnings if w.row is not None]
    assert summary.warned == 2
    assert sorted((w.row, w.field, w.value) for w in row_warnings) == [
        (number, "author_phone", phone)
        for number, phone in zip(export.bad_phone_rows, BAD_PHONES, strict=True)
    ]
    assert all("not a valid phone number" in w.reason for w in row_warnings)
    for number in export.bad_phone_rows:  # stored; the bad phone is kept aside, never matched
        row = export.rows[number - 2]
        _, _, _, phone, attributes = stored[row["用户ID"]]
        assert phone is None
        kept = attributes if isinstance(attributes, dict) else json.loads(attributes)
        assert kept == {"author_phone": row["手机号"]}
    (scale,) = [w for w in summary.warnings if w.row is None and w.value == "打分"]
    assert scale.field == "nps" and "0–10" in scale.reason


def test_the_three_copies_of_the_export_are_one_import(store: Store, export: InhouseExport) -> None:
    """UTF-8, GBK and .xls hold the same rows: after the first, the others change nothing."""
    first = import_file(store, "feedback", export.csv_path)
    for path in (export.gbk_path, export.xls_path):
        again = import_file(store, "feedback", path)
        assert (again.inserted, again.updated, again.unchanged) == (0, 0, first.inserted)
