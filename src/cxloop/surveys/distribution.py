"""Who of an audience gets an invitation, when, in which language — and why the others do not.

Pure: the caller reads the audience, the invitation history and the contact preferences from the
store; this module decides. Every recipient comes back with either a send time (now, or the end of
the quiet hours in their own time zone) or a skip reason, so skips are recorded and counted, never
silent. Reasons are checked in a fixed order, so one recipient has exactly one reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

SKIP_REASONS = (
    "duplicate",
    "no_address",
    "opted_out",
    "bounced_before",
    "no_consent",
    "capped_contact",
    "capped_account",
)
"""In the order they are checked; a recipient skipped for one is not checked for the next."""
CHANNELS = ("email", "csv", "webhook")
LANGUAGE_KEYS = ("language", "lang", "语言", "locale")
TIMEZONE_KEYS = ("timezone", "tz", "time_zone", "时区")
CONSENT_KEYS = ("consent", "consented", "opt_in", "同意")
LANGUAGE_WORDS = {
    "zh": "zh",
    "cn": "zh",
    "chinese": "zh",
    "中文": "zh",
    "汉语": "zh",
    "简体中文": "zh",
    "en": "en",
    "english": "en",
    "英文": "en",
    "英语": "en",
}
TRUE_WORDS = frozenset({"1", "true", "yes", "y", "t", "是", "同意", "consented"})


@dataclass(frozen=True)
class Recipient:
    """One person an audience names (a customer, or a B2B contact of an account)."""

    customer_id: str | None = None
    contact_id: str | None = None
    account_id: str | None = None
    role: str | None = None
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)
    """The contact's (or customer's) imported attributes, with the customer's beneath."""
    context: Mapping[str, Any] = field(default_factory=dict)
    """Values piped into the survey's texts: customer, account, milestone, order."""

    @property
    def person(self) -> str:
        """``contact:ID`` or ``customer:ID``: whom the per-person cap counts."""
        if self.contact_id:
            return f"contact:{self.contact_id}"
        return f"customer:{self.customer_id or ''}"


@dataclass(frozen=True)
class Policy:
    """The fatigue, consent and quiet-hour rules (from Settings)."""

    cap_contact_days: int = 30
    cap_account_days: int = 7
    quiet_hours: str = "21:00-08:00"
    consent: str = "implied"
    timezone: str = "Asia/Shanghai"


@dataclass(frozen=True)
class History:
    """What the store says about these people, across ALL surveys.

    ``person_last``: person key → latest invitation (scheduled or sent, not skipped) of another
    distribution; ``account_last``: account → latest time another distribution reached it;
    ``preferences``: normalised address → kinds recorded for this channel or ``any``
    (``opted_out``, ``bounced``, ``consented``)."""

    person_last: Mapping[str, dt.datetime] = field(default_factory=dict)
    account_last: Mapping[str, dt.datetime] = field(default_factory=dict)
    preferences: Mapping[str, frozenset[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    """A recipient's outcome: ``send_at`` (naive UTC) or ``skip_reason``."""

    recipient: Recipient
    address: str | None
    language: str
    timezone: str
    send_at: dt.datetime | None
    skip_reason: str | None

    @property
    def skipped(self) -> bool:
        return self.skip_reason is not None


def normalise_email(value: str | None) -> str | None:
    text = (value or "").strip().lower()
    return text if "@" in text and " " not in text else None


def address_of(recipient: Recipient, channel: str) -> str | None:
    """Where this channel reaches the person: a lower-case e-mail for ``email``; for ``csv`` and
    ``webhook`` (the customer's own SMS/WeChat/app sender) the phone, else the person's id."""
    if channel == "email":
        return normalise_email(recipient.email)
    if recipient.phone and recipient.phone.strip():
        return recipient.phone.strip()
    return recipient.person


def preference_addresses(recipient: Recipient, channel: str) -> list[str]:
    """Every address whose preferences bind this recipient on ``channel``: the channel's address
    and the person's id (an opt-out recorded by id follows the person)."""
    found = [address_of(recipient, channel), recipient.person]
    return list(dict.fromkeys(a for a in found if a))


def _attribute(attributes: Mapping[str, Any], keys: Sequence[str]) -> str | None:
    lowered = {str(k).strip().lower(): v for k, v in attributes.items()}
    for key in keys:
        value = lowered.get(key)
        if value is not None and str(value).strip():
            return str(value).strip()
    return None


def language_of(recipient: Recipient, languages: Sequence[str], default: str) -> str:
    """The contact's language attribute (``language``/``lang``/``语言``: zh, zh-CN, English, 中文…)
    when the survey has it, else the survey's default language."""
    raw = _attribute(recipient.attributes, LANGUAGE_KEYS)
    if raw:
        word = raw.lower().replace("_", "-")
        lang = LANGUAGE_WORDS.get(word) or LANGUAGE_WORDS.get(word.split("-")[0])
        if lang is not None and lang in languages:
            return lang
    return default


def timezone_of(recipient: Recipient, default: str) -> str:
    """The contact's ``timezone``/``tz`` attribute when it names a zone, else ``default``."""
    raw = _attribute(recipient.attributes, TIMEZONE_KEYS)
    if raw:
        try:
            ZoneInfo(raw)
        except (ZoneInfoNotFoundError, ValueError):
            return default
        return raw
    return default


def _clock(text: str) -> dt.time:
    hours, minutes = text.split(":")
    return dt.time(int(hours), int(minutes))


def quiet_until(now: dt.datetime, zone: str, quiet_hours: str) -> dt.datetime | None:
    """When ``now`` (naive UTC) falls inside the quiet window in ``zone``, the window's end as
    naive UTC; ``None`` outside it (or with no quiet hours).

    >>> quiet_until(dt.datetime(2026, 3, 1, 14), "Asia/Shanghai", "21:00-08:00")
    datetime.datetime(2026, 3, 2, 0, 0)
    >>> quiet_until(dt.datetime(2026, 3, 1, 4), "Asia/Shanghai", "21:00-08:00") is None
    True
    """
    if not quiet_hours.strip():
        return None
    start_text, end_text = quiet_hours.split("-")
    start, end = _clock(start_text), _clock(end_text)
    if start == end:
        return None
    tz = ZoneInfo(zone)
    local = now.replace(tzinfo=dt.UTC).astimezone(tz)
    at = local.time().replace(second=0, microsecond=0, tzinfo=None)
    inside = (start <= at < end) if start < end else (at >= start or at < end)
    if not inside:
        return None
    day = local.date() if (start < end or at < end) else local.date() + dt.timedelta(days=1)
    ends = dt.datetime.combine(day, end, tzinfo=tz)
    return ends.astimezone(dt.UTC).replace(tzinfo=None)


def consented(recipient: Recipient) -> bool:
    """A consent attribute (``consent``/``opt_in``/``同意``) saying yes."""
    raw = _attribute(recipient.attributes, CONSENT_KEYS)
    return raw is not None and raw.lower() in TRUE_WORDS


def _recent(moment: dt.datetime | None, now: dt.datetime, days: int) -> bool:
    return days > 0 and moment is not None and moment > now - dt.timedelta(days=days)


def _reason(
    recipient: Recipient,
    address: str | None,
    *,
    channel: str,
    policy: Policy,
    history: History,
    now: dt.datetime,
) -> str | None:
    if address is None:
        return "no_address"
    kinds: set[str] = set()
    for key in preference_addresses(recipient, channel):
        kinds |= history.preferences.get(key, frozenset())
    if "opted_out" in kinds:
        return "opted_out"
    if "bounced" in kinds and channel == "email":
        return "bounced_before"
    if policy.consent == "explicit" and "consented" not in kinds and not consented(recipient):
        return "no_consent"
    if _recent(history.person_last.get(recipient.person), now, policy.cap_contact_days):
        return "capped_contact"
    account = recipient.account_id
    if account and _recent(history.account_last.get(account), now, policy.cap_account_days):
        return "capped_account"
    return None


def select(
    recipients: Iterable[Recipient],
    *,
    channel: str,
    policy: Policy,
    history: History,
    now: dt.datetime,
    languages: Sequence[str] = ("zh", "en"),
    default_language: str = "zh",
) -> list[Decision]:
    """Decide each recipient, in audience order.

    Caps count other distributions only: one B2B distribution reaching three roles of an
    account counts once for that account. A person named twice is sent once (``duplicate``).
    Inside quiet hours the send waits for the window's end in the person's zone (csv links are
    handed over now: the customer's own system sends them)."""
    decisions: list[Decision] = []
    seen: set[str] = set()
    for recipient in recipients:
        address = address_of(recipient, channel)
        language = language_of(recipient, languages, default_language)
        zone = timezone_of(recipient, policy.timezone)
        if recipient.person in seen:
            reason: str | None = "duplicate"
        else:
            reason = _reason(
                recipient, address, channel=channel, policy=policy, history=history, now=now
            )
        seen.add(recipient.person)
        send_at = None
        if reason is None:
            later = quiet_until(now, zone, policy.quiet_hours) if channel != "csv" else None
            send_at = later or now
        decisions.append(Decision(recipient, address, language, zone, send_at, reason))
    return decisions


def skip_counts(decisions: Iterable[Decision]) -> dict[str, int]:
    """How many were skipped for each reason, in ``SKIP_REASONS`` order (zeros left out)."""
    return skip_counts_of(d.skip_reason for d in decisions)


def skip_counts_of(reasons: Iterable[str | None]) -> dict[str, int]:
    """Reasons counted, known ones in ``SKIP_REASONS`` order, then any other (e.g. recorded by
    a later check such as an opt-out at delivery), ``None`` left out."""
    counts: dict[str, int] = {}
    for reason in reasons:
        if reason:
            counts[reason] = counts.get(reason, 0) + 1
    order = [r for r in SKIP_REASONS if r in counts] + sorted(set(counts) - set(SKIP_REASONS))
    return {r: counts[r] for r in order}
