"""The order of journey stages: the store keeps stages as free text and no setting defines their
order, so the common customer-journey names (zh and en) are ranked here, and any other stage
follows in the order customers first reached it (its first answer).

Pure: values in, order out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Literal

JOURNEY: tuple[tuple[str, ...], ...] = (
    ("aware", "awareness", "discover", "discovery", "attract", "认知", "了解", "知晓", "发现"),
    ("consider", "consideration", "research", "evaluate", "evaluation", "explore", "考虑",
     "评估", "比较", "选购"),
    ("buy", "purchase", "order", "checkout", "acquire", "acquisition", "购买", "下单", "支付",
     "购物"),
    ("receive", "fulfil", "fulfill", "fulfilment", "fulfillment", "收货", "配送", "交付"),
    ("onboard", "onboarding", "activate", "activation", "implement", "implementation",
     "开通", "入门", "激活", "实施", "上线"),
    ("use", "usage", "adopt", "adoption", "experience", "使用", "体验"),
    ("service", "support", "care", "help", "服务", "售后", "客服", "支持"),
    ("renew", "renewal", "retain", "retention", "repurchase", "expand", "expansion", "续约",
     "续费", "复购", "留存"),
    ("advocate", "advocacy", "refer", "referral", "loyalty", "推荐", "口碑", "忠诚"),
    ("leave", "churn", "cancel", "exit", "offboard", "流失", "退订", "离开", "注销"),
)  # fmt: skip
"""Stage names by step; the names of one step rank together (any case, spaces ignored)."""

_RANK = {name: step for step, names in enumerate(JOURNEY) for name in names}


def _key(name: str) -> str:
    return "".join(name.casefold().split()).replace("-", "").replace("_", "")


def journey_rank(name: str) -> int | None:
    """The step of a known stage name (``Purchase`` and 购买 are step 2), None when unknown."""
    return _RANK.get(_key(name))


def order_stages(
    first_seen: Mapping[str | None, dt.datetime | None],
) -> tuple[list[str | None], Literal["journey", "first_seen", "none"]]:
    """Stages in journey order: known names by step, then the others by their first answer
    (then by name), and no stage (None) last. Also says which rule applied: ``journey`` when
    some name is known, ``first_seen`` when none is, ``none`` when no feedback gives a stage."""
    named: list[str] = [s for s in first_seen if s is not None]
    far = dt.datetime.max

    def key(stage: str) -> tuple[int, dt.datetime, str]:
        rank = journey_rank(stage)
        return (rank if rank is not None else len(JOURNEY), first_seen[stage] or far, stage)

    ranked = sorted(named, key=key)
    ordered: list[str | None] = [*ranked]
    if None in first_seen:
        ordered.append(None)
    if not named:
        return ordered, "none"
    known = any(journey_rank(s) is not None for s in named)
    return ordered, "journey" if known else "first_seen"
