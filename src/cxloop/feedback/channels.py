"""Pure: the channel vocabulary — known spellings map to one canonical value, others are kept.

Channels are open: a company's own names (抖音直播间, 线下活动) are real channels, so a value no
alias knows is stored as written (trimmed), never rejected. Only the spellings below are folded
together, compared without case, width or inner spaces (``ＡＰＰ``, ``App``, ``a p p`` are one).
"""

from __future__ import annotations

import re
import unicodedata

CHANNEL_MAX_LENGTH = 64

_ALIASES: dict[str, tuple[str, ...]] = {
    "app": ("app", "手机app", "移动端", "客户端", "ios", "android", "安卓", "苹果", "mobile app"),
    "web": ("web", "官网", "网站", "官方网站", "网页", "pc", "pc端", "website", "online"),
    "wechat": ("wechat", "weixin", "微信", "公众号", "微信公众号", "企业微信", "wecom"),
    "mini_program": (
        "mini_program",
        "mini program",
        "miniprogram",
        "小程序",
        "微信小程序",
        "支付宝小程序",
        "applet",
    ),
    "store": ("store", "门店", "线下", "线下门店", "实体店", "店铺", "shop", "offline", "retail"),
    "call": ("call", "电话", "phone", "热线", "客服电话", "400电话", "hotline", "call center"),
    "email": ("email", "邮件", "mail", "e-mail", "电子邮件", "邮箱"),
    "sms": ("sms", "短信", "text message"),
    "survey": ("survey", "问卷", "调研", "调查", "nps", "问卷星", "满意度调查"),
    "review": ("review", "评论", "评价", "点评", "商品评价", "reviews"),
    "social": ("social", "社交", "社交媒体", "微博", "weibo", "小红书", "twitter", "x", "抖音"),
    "forum": ("forum", "论坛", "社区", "bbs", "贴吧"),
    "ticket": ("ticket", "工单", "投诉", "complaint"),
    "chat": ("chat", "聊天", "在线客服", "im", "live chat", "客服聊天", "在线咨询"),
}
CANONICAL = tuple(_ALIASES)
"""The channels cxloop knows by name (phone calls are ``call``, as stored since 0.1)."""

_SPACES = re.compile(r"[\s_\-]+")


def channel_key(value: str) -> str:
    """How a spelling is compared: NFKC (full width → half), case-folded, spaces dropped."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", value).casefold())


ALIASES: dict[str, str] = {
    channel_key(spelling): canonical
    for canonical, spellings in _ALIASES.items()
    for spelling in spellings
}
"""Compared spelling → canonical channel."""


def canonical_channel(value: str) -> str:
    """The canonical channel for a known spelling, else the value as written, trimmed."""
    trimmed = unicodedata.normalize("NFC", value).strip()
    return ALIASES.get(channel_key(trimmed), trimmed)


def known_spellings() -> dict[str, list[str]]:
    """Each canonical channel with the spellings that map to it (for docs and the API)."""
    return {canonical: list(spellings) for canonical, spellings in _ALIASES.items()}
