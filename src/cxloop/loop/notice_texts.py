"""The words of case notices, zh and en: a subject and a plain-text body per notice kind.

Pure: no database. Plain ``str.format`` templates, not the survey mails' Jinja files: a notice
is a few lines to a colleague (no HTML, no unsubscribe), and keeping them beside the loop lets
the loop add a kind without touching the sender.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Literal
from zoneinfo import ZoneInfo

Kind = Literal["assigned", "warning", "escalated", "reopened"]
Lang = Literal["zh", "en"]

SUBJECTS: dict[Kind, dict[Lang, str]] = {
    "assigned": {
        "zh": "【cxloop】案件 #{case_id} 已分配给你：{title}",
        "en": "[cxloop] Case #{case_id} is yours: {title}",
    },
    "warning": {
        "zh": "【cxloop】案件 #{case_id} {target}即将超时（{due_short}）",
        "en": "[cxloop] Case #{case_id}: {target} due {due_short}",
    },
    "escalated": {
        "zh": "【cxloop】案件 #{case_id} {target}已超时，升级给你",
        "en": "[cxloop] Case #{case_id} escalated to you: {target} overdue",
    },
    "reopened": {
        "zh": "【cxloop】案件 #{case_id} 已重新打开：{title}",
        "en": "[cxloop] Case #{case_id} reopened: {title}",
    },
}

OPENINGS: dict[Kind, dict[Lang, str]] = {
    "assigned": {
        "zh": "{name}，你好：\n\n案件 #{case_id} 已分配给你（分配人：{by}）。",
        "en": "Hello {name},\n\ncase #{case_id} has been assigned to you ({by}).",
    },
    "warning": {
        "zh": "{name}，你好：\n\n案件 #{case_id} 的{target}期限是 {due}，已用去 {share}。",
        "en": "Hello {name},\n\ncase #{case_id}'s {target} is due {due}; {share} of the time "
        "is used.",
    },
    "escalated": {
        "zh": "{name}，你好：\n\n案件 #{case_id} 的{target}已于 {due} 超时，"
        "现升级给你（负责人：{owner}）。",
        "en": "Hello {name},\n\ncase #{case_id}'s {target} was due {due} and is overdue; it is "
        "escalated to you (owner: {owner}).",
    },
    "reopened": {
        "zh": "{name}，你好：\n\n案件 #{case_id} 已重新打开（{reason}），"
        "解决期限重新计算为 {due}。",
        "en": "Hello {name},\n\ncase #{case_id} was reopened ({reason}); its resolution is now "
        "due {due}.",
    },
}

DETAILS: dict[Lang, str] = {
    "zh": "标题：{title}\n优先级：{priority}\n团队：{team}\n客户：{customer}\n"
    "首次响应期限：{first_response_due}\n解决期限：{resolution_due}\n\n打开案件：{url}\n",
    "en": "Title: {title}\nPriority: {priority}\nTeam: {team}\nCustomer: {customer}\n"
    "First response due: {first_response_due}\nResolution due: {resolution_due}\n\n"
    "Open the case: {url}\n",
}

TARGETS: dict[str, dict[Lang, str]] = {
    "first_response": {"zh": "首次响应", "en": "first response"},
    "resolution": {"zh": "解决", "en": "resolution"},
}
NONE: dict[Lang, str] = {"zh": "无", "en": "none"}
ROUTING: dict[Lang, str] = {"zh": "分派规则", "en": "the routing rules"}
"""Who assigned a case the loop routed itself."""
SIGNATURE: dict[Lang, str] = {
    "zh": "\n—— cxloop 客户体验闭环\n",
    "en": "\n— cxloop, closing the loop\n",
}


def when(moment: dt.datetime | None, zone: str, lang: Lang, *, with_zone: bool = True) -> str:
    """A stored (naive UTC) or aware time on the SLA calendar's wall clock, the zone named."""
    if moment is None:
        return NONE[lang]
    aware = moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment
    local = aware.astimezone(ZoneInfo(zone))
    return f"{local:%Y-%m-%d %H:%M}" + (f" ({zone})" if with_zone else "")


def target_name(target: str, lang: Lang) -> str:
    return TARGETS.get(target, {}).get(lang, target)


def render(kind: Kind, lang: Lang, values: Mapping[str, object]) -> tuple[str, str]:
    """``(subject, text)`` of one notice; ``values`` has every field the templates name."""
    filled = {k: (NONE[lang] if v is None or v == "" else v) for k, v in values.items()}
    subject = SUBJECTS[kind][lang].format_map(filled)
    text = OPENINGS[kind][lang].format_map(filled) + "\n\n" + DETAILS[lang].format_map(filled)
    return " ".join(subject.split()), text + SIGNATURE[lang]
