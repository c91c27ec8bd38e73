"""Which behaviour rows are trigger events, and how a delay reads (pure: values in, values out).

Exports spell the same state many ways (``Delivered``, ``已签收``, ``交易成功``…); the lists
below are what real order, ticket and project exports use, compared after :func:`normal`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from cxloop.errors import Invalid

DELIVERED = frozenset(
    {
        "delivered",
        "received",
        "completed",
        "complete",
        "fulfilled",
        "signed",
        "signed_for",
        "done",
        "closed",
        "finished",
        "success",
        "succeeded",
        "已签收",
        "签收",
        "已收货",
        "确认收货",
        "已确认收货",
        "已送达",
        "送达",
        "已妥投",
        "妥投",
        "已完成",
        "完成",
        "交易成功",
        "交易完成",
        "订单完成",
    }
)
"""Order statuses meaning the customer has the goods (refunds and cancellations are not)."""
TICKET_CLOSED = frozenset(
    {
        "ticket_closed",
        "ticket_resolved",
        "ticket_solved",
        "case_closed",
        "case_resolved",
        "close_ticket",
        "closed_ticket",
        "工单关闭",
        "工单已关闭",
        "关闭工单",
        "工单完结",
        "工单已完结",
        "工单已解决",
        "工单解决",
        "已结单",
        "结单",
    }
)
"""Event types meaning a support ticket was closed."""
MILESTONE_DONE = frozenset(
    {
        "done",
        "completed",
        "complete",
        "finished",
        "closed",
        "accepted",
        "signed_off",
        "已完成",
        "完成",
        "已验收",
        "验收通过",
        "已交付",
        "已关闭",
    }
)
"""Milestone statuses meaning it is reached (a completion time alone also counts)."""
RENEWED = frozenset({"renewed", "renewal", "已续费", "续费", "已续约", "续约"})
"""Subscription statuses meaning the plan was renewed (besides ``renewed`` true)."""
DELIVERY_TIME_KEYS = (
    "delivered_at",
    "delivery_time",
    "delivered_time",
    "received_at",
    "signed_at",
    "completed_at",
    "签收时间",
    "收货时间",
    "送达时间",
    "妥投时间",
    "完成时间",
)
"""Extra order columns (kept in ``attributes``) that say when the goods arrived."""
LANGUAGE_KEYS = ("language", "lang", "语言")
TIMEZONE_KEYS = ("timezone", "tz", "time_zone", "时区")

_DELAY_PART = re.compile(r"(\d+)\s*(w|d|h|周|天|日|小时|时)", re.IGNORECASE)
_DELAY_HOURS = {"w": 168, "周": 168, "d": 24, "天": 24, "日": 24, "h": 1, "小时": 1, "时": 1}


def normal(value: object) -> str:
    """A status or type as compared: trimmed, case-folded, spaces and dashes as ``_``."""
    return re.sub(r"[\s\-]+", "_", str(value).strip().casefold())


def parse_delay(text: str) -> int:
    """Hours in ``2d``, ``36h``, ``1w``, ``1d12h``, ``3天`` or ``0``; ``Invalid`` otherwise.

    A two-line parser, not a library: we want whole hours only (the column is hours), and
    Chinese units, which duration libraries do not read."""
    raw = text.strip().lower().replace(" ", "")
    if raw in ("0", "now"):
        return 0
    parts = _DELAY_PART.findall(raw)
    if not parts or "".join(f"{n}{u}" for n, u in parts) != raw:
        raise Invalid("is not a delay such as 2d, 36h, 1w or 1d12h", "delay", text)
    hours = sum(int(n) * _DELAY_HOURS[u] for n, u in parts)
    if hours > 24 * 365:
        raise Invalid("is longer than a year", "delay", text)
    return hours


def show_delay(hours: int) -> str:
    """``2d``, ``36h``… as the CLI takes it back."""
    if hours and hours % 24 == 0:
        return f"{hours // 24}d"
    return f"{hours}h"


def delivery_time(attributes: Mapping[str, Any] | None, zone: ZoneInfo) -> dt.datetime | None:
    """When the goods arrived, from an extra column of the order export, as naive UTC (a time
    without an offset is in ``zone``, as everywhere in the import)."""
    for key, value in (attributes or {}).items():
        if normal(key) in DELIVERY_TIME_KEYS and value not in (None, ""):
            try:
                when = dt.datetime.fromisoformat(str(value))
            except ValueError:
                continue
            if when.tzinfo is None:
                when = when.replace(tzinfo=zone)
            return when.astimezone(dt.UTC).replace(tzinfo=None)
    return None


def attribute(attributes: Mapping[str, Any] | None, keys: tuple[str, ...]) -> str | None:
    """The first of ``keys`` (compared by :func:`normal`) with a value."""
    for key, value in (attributes or {}).items():
        if normal(key) in keys and value not in (None, ""):
            return str(value)
    return None


def language(attributes: Mapping[str, Any] | None, default: str) -> str:
    """zh or en from a person's language attribute (``zh-CN``, ``中文``, ``English``…)."""
    raw = (attribute(attributes, LANGUAGE_KEYS) or "").strip().lower()
    if raw.startswith(("en", "英")):
        return "en"
    if raw.startswith(("zh", "cn", "中", "汉")):
        return "zh"
    return default
