"""Column mapping and row validation, as a specification of what users may send."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from cxloop.errors import Invalid
from cxloop.ingest.fields import KINDS
from cxloop.ingest.mapping import (
    UserMapping,
    ValidationContext,
    load_mapping,
    normalise_header,
    plan_columns,
    validate_chunk,
)
from cxloop.ingest.readers import ROW_COLUMN

FEEDBACK = KINDS["feedback"]


def _frame(rows: list[dict[str, str]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, dtype=object).fillna("")
    frame[ROW_COLUMN] = range(2, len(rows) + 2)
    return frame


def _validate(
    rows: list[dict[str, str]], kind: str = "feedback", mapping: UserMapping | None = None
):
    frame = _frame(rows)
    headers = [c for c in frame.columns if c != ROW_COLUMN]
    plan = plan_columns(headers, KINDS[kind], mapping or UserMapping())
    return validate_chunk(frame, KINDS[kind], plan, ValidationContext())


def test_header_variants_are_recognised_without_a_mapping() -> None:
    plan = plan_columns(
        ["Feedback ID", "CHANNEL", "created at", "评论内容", "NPS", "邮箱", "Other"],
        FEEDBACK,
        UserMapping(),
    )
    assert plan.fields == {
        "feedback_id": "Feedback ID",
        "channel": "CHANNEL",
        "created_at": "created at",
        "text": "评论内容",
        "nps": "NPS",
        "author_email": "邮箱",
    }
    assert plan.extras == ["Other"]


@pytest.mark.parametrize("header", ["日期", "反馈日期"])
def test_a_chinese_date_header_is_the_feedbacks_time(header: str) -> None:
    plan = plan_columns(["渠道", header, "评分"], FEEDBACK, UserMapping())
    assert plan.fields["created_at"] == header


def test_survey_tool_numbered_headers_are_stripped() -> None:
    assert normalise_header("3、满意度") == "满意度"
    assert normalise_header("12. NPS") == "nps"


def test_mapping_file_maps_chinese_headers(tmp_path: Path) -> None:
    path = tmp_path / "map.yaml"
    path.write_text(
        "columns:\n  用户ID: customer_id\n  打分: nps\ndefaults:\n  channel: survey\n",
        encoding="utf-8",
    )
    mapping = load_mapping(path)
    result = _validate([{"用户ID": "C1", "打分": "9", "时间": "2026-01-01"}], mapping=mapping)
    assert result.rejections == []
    record = result.records.iloc[0]
    assert (record["customer_id"], record["nps"], record["channel"]) == ("C1", 9, "survey")


def test_a_required_field_without_a_column_fails_the_file_with_the_columns_listed() -> None:
    with pytest.raises(Invalid) as caught:
        plan_columns(["text", "nps"], FEEDBACK, UserMapping())
    message = str(caught.value)
    assert "channel" in message and "created_at" in message and "text, nps" in message


def test_a_mapping_to_an_unknown_field_is_an_error() -> None:
    with pytest.raises(Invalid, match="not a feedback field"):
        plan_columns(["a"], FEEDBACK, UserMapping(columns={"a": "colour"}))


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("nps", "11", "is outside 0–10"),
        ("nps", "-1", "is outside 0–10"),
        ("nps", "8.5", "is not a whole number"),
        ("nps", "nine", "is not a whole number"),
        ("csat", "0", "is outside 1–5"),
        ("ces", "8", "is outside 1–7"),
        ("rating", "abc", "is not a number"),
        ("rating", "inf", "is not a number"),
        ("created_at", "2026-02-30", "is not a valid date/time"),
        ("created_at", "yesterday", "is not a valid date/time"),
        ("created_at", "1066-10-14", "is not a valid date/time"),
        ("channel", "x" * 65, "is longer than 64 characters"),
    ],
)
def test_a_bad_value_is_rejected_naming_field_value_and_rule(
    field: str, value: str, reason: str
) -> None:
    row = {"channel": "survey", "created_at": "2026-01-01 10:00", "text": "ok", field: value}
    result = _validate([row])
    assert result.records.empty
    (rejection,) = result.rejections
    assert rejection.row_number == 2
    problem = next(p for p in rejection.problems if p.field == field)
    assert problem.value == value
    assert problem.reason.startswith(reason)


def test_every_problem_of_a_row_is_reported_not_just_the_first() -> None:
    result = _validate([{"channel": "", "created_at": "never", "nps": "99"}])
    fields = {p.field for p in result.rejections[0].problems}
    assert fields == {"channel", "created_at", "nps"}


def test_good_values_are_converted() -> None:
    result = _validate(
        [
            {
                "channel": "问卷",
                "created_at": "2026/01/05 10:00",
                "nps": "9.0",
                "csat": "5",
                "email": " Li.Na@Example.COM ",
                "phone": "138 0013 8000",
                "rating": "4.5",
                "handle": "@WeiboUser",
                "color": "blue",
            }
        ]
    )
    assert result.rejections == []
    record = result.records.iloc[0]
    assert record["channel"] == "survey"
    assert str(record["created_at"]) == "2026-01-05 02:00:00"  # Asia/Shanghai → UTC
    assert (record["nps"], record["csat"], record["rating"]) == (9, 5, 4.5)
    assert record["author_email"] == "li.na@example.com"
    assert record["author_phone"] == "+8613800138000"
    assert record["author_handle"] == "weibouser"
    assert json.loads(record["attributes"]) == {"color": "blue"}


def test_offsets_in_timestamps_are_honoured() -> None:
    result = _validate(
        [
            {"channel": "chat", "created_at": "2026-01-04T10:00:00+08:00"},
            {"channel": "chat", "created_at": "2026-01-04T10:00:00Z"},
        ]
    )
    assert [str(v) for v in result.records["created_at"]] == [
        "2026-01-04 02:00:00",
        "2026-01-04 10:00:00",
    ]


def test_rows_without_an_id_get_a_stable_content_hash_key() -> None:
    rows = [{"channel": "social", "created_at": "2026-01-01", "text": "太慢了"}]
    first, second = _validate(rows), _validate(rows)
    key = first.records.iloc[0]["feedback_id"]
    assert key.startswith("#") and key == second.records.iloc[0]["feedback_id"]


def test_feedback_ids_are_scoped_by_source() -> None:
    result = _validate(
        [
            {
                "feedback_id": "1",
                "source": "tmall",
                "channel": "review",
                "created_at": "2026-01-01",
            },
            {"feedback_id": "1", "source": "jd", "channel": "review", "created_at": "2026-01-01"},
        ]
    )
    assert list(result.records["feedback_id"]) == ["tmall:1", "jd:1"]
    assert list(result.records["external_id"]) == ["1", "1"]


def test_invalid_characters_are_rejected_not_stored() -> None:
    result = _validate(
        [
            {"channel": "chat", "created_at": "2026-01-01", "text": "bad \udcff byte"},
            {"channel": "chat", "created_at": "2026-01-01", "text": "nul \x00"},
        ]
    )
    assert result.records.empty
    reasons = [r.problems[0] for r in result.rejections]
    assert all(p.field == "text" and "not valid" in p.reason for p in reasons)
    assert "\ufffd" in reasons[0].value


def test_one_of_customer_or_account_is_required_for_orders() -> None:
    result = _validate(
        [{"order_id": "O1", "ordered_at": "2026-01-01", "amount": "10"}], kind="orders"
    )
    assert "at least one of customer_id, account_id" in result.rejections[0].problems[0].reason


def test_contact_roles_are_open_known_spellings_map_and_others_are_kept() -> None:
    result = _validate(
        [
            {"contact_id": "K1", "account_id": "A1", "role": "决策者"},
            {"contact_id": "K2", "account_id": "A1", "role": "  Office   Manager "},
            {"contact_id": "K3", "account_id": "A1", "role": "行政助理"},
            {"contact_id": "K4", "account_id": "A1", "role": "Decision Maker"},
            {"contact_id": "K5", "account_id": "A1", "role": ""},
            {"contact_id": "K6", "account_id": "A1", "role": "x" * 33},
        ],
        kind="contacts",
    )
    assert list(result.records["role"]) == [
        "decision_maker",
        "office manager",
        "行政助理",
        "decision_maker",
    ]
    missing, too_long = result.rejections  # role is still required, and fits its column
    assert missing.row_number == 6 and missing.problems[0].field == "role"
    assert too_long.row_number == 7
    assert too_long.problems[0].reason == "is longer than 32 characters"
