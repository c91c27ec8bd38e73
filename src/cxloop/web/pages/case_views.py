"""Words and numbers of the agent's screen in zh or en: status and event names, SLA time left in
business hours ("2 h 10 min left" / "overdue 35 min"), a history entry's details.

Labels are msgids marked with ``N_`` (``scripts/i18n.py`` extracts them) and translated where
they are shown, so the page and its partials say the same thing in both languages.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from cxloop.web.pages.templating import Lang, gettext


def N_(message: str) -> str:  # noqa: N802 - the gettext convention Babel extracts
    """Marks a msgid for extraction; translated where it is shown."""
    return message


STATUS_LABELS = {
    "new": N_("New"),
    "assigned": N_("Assigned"),
    "in_progress": N_("In progress"),
    "waiting_on_customer": N_("Waiting on customer"),
    "resolved": N_("Resolved"),
    "verified": N_("Verified"),
    "reopened": N_("Reopened"),
    "closed_unverified": N_("Closed unverified"),
    "closed": N_("Closed"),
}
EVENT_LABELS = {
    "created": N_("Case opened"),
    "attached": N_("Feedback attached"),
    "also_matched": N_("Another rule matched"),
    "assigned": N_("Assigned"),
    "status_changed": N_("Status changed"),
    "note": N_("Note"),
    "contact_logged": N_("Contact logged"),
    "root_cause_set": N_("Root cause set"),
    "warned": N_("SLA warning"),
    "escalated": N_("Escalated"),
    "sla_paused": N_("SLA paused"),
    "sla_resumed": N_("SLA resumed"),
    "followup_sent": N_("Follow-up sent"),
    "followup_not_sent": N_("Follow-up not sent"),
    "followup_answered": N_("Follow-up answered"),
}
ACTION_LABELS = {
    "take": N_("Take"),
    "assign": N_("Assign"),
    "start": N_("Start work"),
    "wait_on_customer": N_("Wait on customer"),
    "note": N_("Add note"),
    "log_contact": N_("Log contact"),
    "set_root_cause": N_("Set root cause"),
    "resolve": N_("Resolve"),
    "reopen": N_("Reopen"),
    "close": N_("Close"),
}
DONE_LABELS = {
    "take": N_("You took the case."),
    "assign": N_("The case was assigned."),
    "start": N_("Work started."),
    "wait_on_customer": N_("The case waits on the customer: its SLA clocks stand still."),
    "note": N_("Note added."),
    "log_contact": N_("Contact logged."),
    "set_root_cause": N_("Root cause set."),
    "resolve": N_("The case is resolved; the customer's follow-up will verify it."),
    "reopen": N_("The case is reopened."),
    "close": N_("The case is closed."),
}
CONTACT_CHANNELS = {
    "phone": N_("Phone"),
    "email": N_("E-mail"),
    "chat": N_("Chat"),
    "wechat": N_("WeChat"),
    "sms": N_("SMS"),
    "visit": N_("Visit"),
    "other": N_("Other"),
}
STORY_NOTES = (
    N_("no customer or account is linked"),
    N_("no churn score is stored for this customer (cxloop insights churn)"),
)
"""The story's notes that say the same for every case (``loop.story``), as msgids."""
FACTOR_LABELS = {
    "severity": N_("Severity"),
    "value_percentile": N_("Customer value (percentile)"),
    "churn_risk": N_("Churn risk"),
}


def label(labels: dict[str, str], key: str | None, lang: Lang) -> str:
    """``key``'s label in ``lang``; an unknown key as written (a status a later version adds)."""
    if key is None:
        return "–"
    return gettext(lang, labels[key]) if key in labels else key


def duration(seconds: float, lang: Lang) -> str:
    """``2 h 10 min`` / ``2 小时 10 分钟``; under an hour only minutes."""
    minutes = round(abs(seconds) / 60)
    hours, rest = divmod(minutes, 60)
    h, m = gettext(lang, "%(n)s h"), gettext(lang, "%(n)s min")
    if hours:
        return f"{h % {'n': hours}} {m % {'n': rest}}" if rest else h % {"n": hours}
    return m % {"n": rest}


def sla_left(seconds: float | None, status: str, lang: Lang) -> tuple[str, str]:
    """(text, tone) for a queue row: ``2 h 10 min left`` (ok), ``overdue 35 min`` (overdue),
    ``paused`` while the customer has the next step, a dash when no clock runs."""
    if status == "waiting_on_customer":
        return gettext(lang, "paused (waiting on customer)"), "paused"
    if seconds is None:
        return "–", "none"
    if seconds < 0:
        return gettext(lang, "overdue %(time)s") % {"time": duration(seconds, lang)}, "overdue"
    tone = "soon" if seconds < 3600 else "ok"
    return gettext(lang, "%(time)s left") % {"time": duration(seconds, lang)}, tone


def when(moment: dt.datetime | None, zone: ZoneInfo) -> str:
    """A time in the store's zone, to the minute; a dash for none."""
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else "–"


def root_cause_options(codes: dict[str, dict[str, str]], lang: Lang) -> list[tuple[str, str]]:
    """(code, label) of the configured root-cause list, labelled in ``lang``."""
    return [(code, names.get(lang) or names.get("en") or code) for code, names in codes.items()]


def details(data: dict[str, Any]) -> str:
    """A history entry's details as ``key=value`` pairs (the CLI's form), empty ones left out."""
    shown = []
    for key, value in data.items():
        if value in (None, "", [], {}):
            continue
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        shown.append(f"{key}={value}")
    return ", ".join(shown)
