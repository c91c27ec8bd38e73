"""What real exports bring to the import door: open channels, unnamed scales, odd dates,
mappings that must be checked before a row is read, and columns that only look like voice."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import text

from cxloop.api import Store, connect, import_file, import_records
from cxloop.config import Settings
from cxloop.errors import Invalid
from cxloop.feedback.channels import canonical_channel
from cxloop.ingest import service as ingest_service
from cxloop.ingest.headers import decide_scale
from tests.cli.support import run_cxloop


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Store:
    """A real SQLite store; text enrichment off (these tests are about the door, not the text)."""
    url = f"sqlite:///{tmp_path / 'door.db'}"
    return connect(settings=Settings(database_url=url, enrich_on_import=False))


def _rows(store: Store, sql: str) -> list[tuple]:
    with store.engine.connect() as connection:
        return [tuple(r) for r in connection.execute(text(sql))]


def _csv(path: Path, body: str, encoding: str = "utf-8") -> Path:
    path.write_text(body, encoding=encoding)
    return path


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("APP", "app"),
        ("ＡＰＰ", "app"),  # full width
        ("App ", "app"),
        ("官网", "web"),
        ("门店", "store"),
        ("微信", "wechat"),
        ("WeChat", "wechat"),
        ("小程序", "mini_program"),
        ("电话", "call"),
        ("短信", "sms"),
        ("问卷", "survey"),
        ("  抖音直播间 ", "抖音直播间"),  # unknown: kept as written, trimmed
        ("Partner Portal", "Partner Portal"),
    ],
)
def test_known_channel_spellings_map_and_others_are_kept(written: str, stored: str) -> None:
    assert canonical_channel(written) == stored


def test_an_unknown_channel_is_stored_not_quarantined_and_filters_by_alias(
    sqlite_store: Store,
) -> None:
    rows = [
        {"channel": "线下活动", "created_at": "2026-03-01", "text": "活动很好"},
        {"channel": "微信", "created_at": "2026-03-02", "text": "公众号回复慢"},
    ]
    summary = import_records(sqlite_store, "feedback", rows)
    assert (summary.inserted, summary.quarantined) == (2, 0)
    assert sorted(_rows(sqlite_store, "SELECT channel FROM feedback")) == [
        ("wechat",),
        ("线下活动",),
    ]
    with sqlite_store.sessions() as session:
        found, total = ingest_service.browse(
            session=session, kind="feedback", filters={"channel": "WeChat"}
        )
    assert total == 1 and found[0]["channel"] == "wechat"
    kinds = ingest_service.describe_kinds()["feedback"]
    channel = next(f for f in kinds if f.name == "channel")
    assert channel.open and "wechat" in (channel.choices or [])


@pytest.mark.parametrize(
    ("cells", "field"),
    [
        (["0", "7", "10", "9"], "nps"),
        (["1", "3", "5", "4"], "csat"),
        (["4.5", "3", "5"], "rating"),
        (["2", "5", "4", "11", "很好"], "csat"),  # typos don't vote: still 1–5
        (["", "n/a"], "rating"),
    ],
)
def test_an_ambiguous_score_scale_is_decided_from_the_values(cells: list[str], field: str) -> None:
    assert decide_scale(pd.Series(cells, dtype=object)).field == field


def test_zh_headers_for_score_and_comment_are_recognised(
    sqlite_store: Store, tmp_path: Path
) -> None:
    path = _csv(
        tmp_path / "zh.csv",
        "渠道,提交时间,评分,意见,推荐意愿,门店编号\n"
        "门店,2026-03-01,4,店员很热情,9,S01\n"
        "门店,2026-03-02,2,排队太久,3,S02\n",
    )
    summary = import_file(sqlite_store, "feedback", path)
    assert summary.columns["text"] == "意见" and summary.columns["nps"] == "推荐意愿"
    # 评分 would be CSAT by its values (2–4), but it stays a rating only if nps is taken:
    # csat is free, so it is CSAT
    assert summary.columns["csat"] == "评分"
    assert summary.attributes_only == ["门店编号"]
    assert sorted(_rows(sqlite_store, "SELECT text, nps, csat FROM feedback")) == [
        ("店员很热情", 9, 4),
        ("排队太久", 3, 2),
    ]


def test_a_second_ambiguous_score_falls_back_to_rating(sqlite_store: Store, tmp_path: Path) -> None:
    path = _csv(
        tmp_path / "two.csv",
        "channel,created_at,推荐度,打分\nsurvey,2026-03-01,9,8\nsurvey,2026-03-02,2,0\n",
    )
    summary = import_file(sqlite_store, "feedback", path)
    assert (summary.columns["nps"], summary.columns["rating"]) == ("推荐度", "打分")
    note = next(w for w in summary.warnings if w.value == "打分")
    assert "nps is fed by another column" in note.reason


def test_no_voice_column_warns_loudly_naming_the_look_alikes(
    sqlite_store: Store, tmp_path: Path
) -> None:
    path = _csv(
        tmp_path / "novoice.csv",
        "channel,created_at,stars_given,remarks_text\n"
        "app,2026-03-01,4,包装很好，下次还来\n"
        "app,2026-03-02,5,物流太慢了真的\n",
    )
    summary = import_file(sqlite_store, "feedback", path)
    assert summary.attributes_only == ["stars_given", "remarks_text"]
    (loud,) = [w for w in summary.warnings if w.field == "text/score"]
    assert loud.value == "remarks_text, stars_given"
    assert loud.reason.startswith("NO text and NO score")

    result = run_cxloop(tmp_path, "import", "feedback", str(path))
    assert result.returncode == 0, result.stderr
    assert "WARNING" in result.stdout and "remarks_text: text" in result.stdout
    assert "kept only in attributes (no field): stars_given, remarks_text" in result.stdout


def test_a_bad_optional_identity_is_a_warning_but_a_bad_score_still_quarantines(
    sqlite_store: Store,
) -> None:
    rows = [
        {"channel": "app", "created_at": "2026-03-01", "email": "li.na@@example", "nps": "9"},
        {"channel": "app", "created_at": "2026-03-02", "phone": "12345", "nps": "99"},
        {"channel": "app", "created_at": "not a date", "phone": "13800138000"},
    ]
    summary = import_records(sqlite_store, "feedback", rows)
    assert (summary.inserted, summary.quarantined, summary.warned) == (1, 2, 1)
    (warning,) = [w for w in summary.warnings if w.row is not None]
    assert (warning.row, warning.field, warning.value) == (1, "author_email", "li.na@@example")
    assert _rows(sqlite_store, "SELECT nps, author_email FROM feedback") == [(9, None)]
    with sqlite_store.sessions() as session:  # kept aside in attributes, masked like the field
        (shown,), _ = ingest_service.browse(session=session, kind="feedback", filters={})
        (revealed,), _ = ingest_service.browse(
            session=session, kind="feedback", filters={}, reveal_pii=True
        )
    assert revealed["attributes"] == {"author_email": "li.na@@example"}
    assert shown["attributes"]["author_email"] != "li.na@@example"
    problems = {p.field for r in summary.rejected for p in r.problems}
    assert problems == {"nps", "created_at"}  # the bad phone of a rejected row is no reason


def test_mapping_and_set_values_are_checked_before_any_row_is_read(
    sqlite_store: Store, tmp_path: Path
) -> None:
    path = _csv(tmp_path / "f.csv", "channel,created_at\napp,2026-03-01\n")
    bad_maps = {
        "unknown key": "columns: {}\nvalus: {channel: {a: b}}\n",
        "misspelt section": "value:\n  channel: {a: b}\n",
        "bad value": "values:\n  nps: {十分: 11}\n",
        "bad field": "values:\n  colour: {red: blue}\n",
        "bad override": "overrides:\n  created_at: someday\n",
    }
    for name, body in bad_maps.items():
        mapping = _csv(tmp_path / f"{name}.yaml", body)
        with pytest.raises(Invalid) as caught:
            import_file(sqlite_store, "feedback", path, mapping=mapping)
        assert caught.value.problems, name
    with pytest.raises(Invalid, match="outside 0–10"):
        import_file(sqlite_store, "feedback", path, defaults={"nps": "11"})
    assert _rows(sqlite_store, "SELECT count(*) FROM import_runs") == [(0,)]  # nothing started

    result = run_cxloop(tmp_path, "import", "feedback", str(path), "--set", "nps=11")
    assert result.returncode == 2
    assert "--set nps: '11' is outside 0–10" in result.stderr
    assert "Traceback" not in result.stderr


def test_values_map_set_fills_blanks_and_force_set_overrides(
    sqlite_store: Store, tmp_path: Path
) -> None:
    path = _csv(
        tmp_path / "shop.csv",
        "反馈ID,渠道,提交时间,留言,触点\n1,官方商城,2026-03-01,好,\n2,门店,2026-03-02,差,收银台\n",
    )
    mapping = _csv(tmp_path / "map.yaml", "values:\n  channel:\n    官方商城: web\n")
    import_file(sqlite_store, "feedback", path, mapping=mapping, defaults={"touchpoint": "线上"})
    assert _rows(sqlite_store, "SELECT channel, touchpoint FROM feedback ORDER BY 1") == [
        ("store", "收银台"),  # --set kept the present value
        ("web", "线上"),  # --set filled the blank
    ]
    again = import_file(
        sqlite_store, "feedback", path, mapping=mapping, overrides={"touchpoint": "线上"}
    )
    assert (again.inserted, again.updated) == (0, 1)
    assert set(_rows(sqlite_store, "SELECT touchpoint FROM feedback")) == {("线上",)}


@pytest.mark.parametrize(
    ("dates", "order", "expected", "note"),
    [
        (["25/07/2026", "11/07/2026"], None, ["2026-07-25", "2026-07-11"], "day-first"),
        (["07/25/2026", "11/07/2026"], None, ["2026-07-25", "2026-11-07"], None),
        (["11/07/2026", "03/04/2026"], None, ["2026-11-07", "2026-03-04"], "reads both ways"),
        (["11/07/2026", "03/04/2026"], "day-first", ["2026-07-11", "2026-04-03"], None),
    ],
)
def test_short_dates_are_read_day_or_month_first_per_file(
    sqlite_store: Store,
    tmp_path: Path,
    dates: list[str],
    order: str | None,
    expected: list[str],
    note: str | None,
) -> None:
    body = "channel,提交时间,text\n" + "".join(f"app,{d},t{i}\n" for i, d in enumerate(dates))
    summary = import_file(
        sqlite_store,
        "feedback",
        _csv(tmp_path / "d.csv", body),
        date_order=order,  # type: ignore[arg-type]
    )
    assert summary.quarantined == 0
    stored = _rows(sqlite_store, "SELECT text, date(created_at, '+8 hours') FROM feedback")
    assert [day for _, day in sorted(stored)] == expected
    notes = [w for w in summary.warnings if w.field == "date order"]
    if note is None:
        assert notes == []
    else:
        (found,) = notes
        assert found.value == "提交时间 (created_at)" or "提交时间" in str(found.value)
        assert note in found.reason


def test_a_file_whose_dates_disagree_quarantines_the_minority(
    sqlite_store: Store, tmp_path: Path
) -> None:
    body = "channel,created_at\napp,25/07/2026\napp,26/07/2026\napp,07/30/2026\n"
    summary = import_file(sqlite_store, "feedback", _csv(tmp_path / "mix.csv", body))
    assert (summary.inserted, summary.quarantined) == (2, 1)
    assert summary.rejected[0].row == 4
    assert any("read both ways" in w.reason for w in summary.warnings)


def test_summary_json_names_columns_attributes_and_warnings(tmp_path: Path) -> None:
    path = _csv(
        tmp_path / "inhouse.csv",
        "用户ID,手机号,打分,留言,渠道,提交时间,会员等级\n"
        "U1,1391234567,9,很好,APP,2026/03/01 10:00,金卡\n",
        encoding="gbk",
    )
    result = run_cxloop(tmp_path, "import", "feedback", str(path), "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["attributes_only"] == ["会员等级"]
    assert summary["columns"]["nps"] == "打分" and summary["warned"] == 1
    assert {"row": 2, "field": "author_phone", "value": "1391234567"}.items() <= next(
        w for w in summary["warnings"] if w["row"] == 2
    ).items()


def test_comment_lines_before_the_header_are_skipped_and_rows_keep_their_numbers(
    sqlite_store: Store, tmp_path: Path
) -> None:
    path = _csv(
        tmp_path / "ga.csv",
        "# exported 2026-03-05\n# all users\nchannel,created_at,nps\napp,2026-03-01,9\napp,x,8\n",
    )
    summary = import_file(sqlite_store, "feedback", path)
    assert (summary.inserted, summary.quarantined) == (1, 1)
    assert summary.rejected[0].row == 5  # as the file shows it: two comments, header, row


def test_open_channel_migration_keeps_text_features(tmp_path: Path) -> None:
    """0007 rebuilds feedback on SQLite; its text features must survive, both ways."""
    from cxloop.db import migrate

    store = connect(settings=Settings(database_url=f"sqlite:///{tmp_path / 'm.db'}"))
    long_name = "官方旗舰店直播间（周末特场限定版本）"  # 19 characters
    import_records(
        store,
        "feedback",
        [{"channel": long_name, "created_at": "2026-03-01", "text": "物流很快，包装很好"}],
    )
    assert len(long_name) > 16
    count = "SELECT (SELECT count(*) FROM feedback_text), (SELECT count(*) FROM feedback_topic)"
    before = _rows(store, count)
    assert before[0][0] == 1 and before[0][1] >= 1
    migrate.downgrade(store.engine, "0006")
    assert _rows(store, count) == before
    assert _rows(store, "SELECT channel FROM feedback") == [(long_name[:16],)]
    migrate.upgrade(store.engine)
    assert _rows(store, count) == before
    store.close()


def test_the_api_reports_warnings_and_refuses_a_bad_override(tmp_path: Path) -> None:
    from tests.web.support import build_api

    built = build_api(tmp_path / "api.db", seed=False)
    with built.client as client:
        rows = [{"渠道": "小程序", "提交时间": "2026-03-01", "留言": "好用", "手机号": "12345"}]
        response = client.post(
            "/api/v1/feedback",
            json={"rows": rows, "overrides": {"source": "crm"}},
            headers=built.auth("admin"),
        )
        assert response.status_code == 200, response.text
        summary = response.json()
        assert (summary["inserted"], summary["quarantined"], summary["warned"]) == (1, 0, 1)
        assert summary["warnings"][0]["field"] == "author_phone"
        refused = client.post(
            "/api/v1/feedback",
            json={"rows": rows, "overrides": {"nps": "11"}},
            headers=built.auth("admin"),
        )
        assert refused.status_code == 422 and "outside 0–10" in refused.text
    built.store.close()
    built.app.state.engine.dispose()
