"""What the loop knows about stored feedback, read from the store in a few batched queries.

``facts_for`` fills ``FeedbackFacts`` for many feedback ids at once (IN lists of at most 500,
one query per table, never one per row): the row's scores, its stored text features, and the
customer's (else the account's) attributes, value and churn risk. Anything missing is ``None``
(an unlinked answer has no segment), never an error.

``value_percentile`` is the percent rank of the customer's order spend in the 365 days before
``now`` among all customers (those without orders spend 0), the value target lists use
(``insights.profiles``), so "top 20 % by value" means the same in a rule and in a list; it is
one aggregate over the year's orders, cheaper than a CLV fit and needing no stored model. An
account without a linked customer is ranked by ``annual_value`` among accounts. A store with
no orders (or no account values) gives ``None``.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cxloop.behaviour.models import Order
from cxloop.customers.identity import normalise_email, normalise_phone
from cxloop.customers.models import Account, Contact, Customer
from cxloop.feedback.enrichment import text_hash
from cxloop.feedback.models import Feedback, FeedbackText, FeedbackTopic
from cxloop.ingest.models import ImportRun
from cxloop.insights.models import ChurnScore
from cxloop.loop.case_reads import naive
from cxloop.loop.facts import FeedbackFacts

SPEND_DAYS = 365
"""As ``insights.profiles.SPEND_DAYS`` (target lists' value; a test keeps them equal), without
importing Ibis into every request that stores feedback."""
NOT_COUNTED_ORDER_STATUSES = ("cancelled", "refunded")
"""Orders that are not spend, as ``insights.profiles.NOT_COUNTED_ORDER_STATUSES`` (a test keeps
them equal): the value rank, the customer story's spend and target lists share one definition."""
RANKS_TTL_S = 300.0
"""The longest the value ranks of one store are reused (a running import changes orders
chunk by chunk before its run is finished)."""
_RANKS: dict[tuple[str, dt.date], tuple[tuple[Any, ...], float, ValueRanks]] = {}
_RANKS_LOCK = threading.Lock()
IN_LIST = 500
"""Ids per IN list: well under SQLite's 999 bound variables, and PostgreSQL plans it fast."""


@dataclass(frozen=True)
class StoredFeedback:
    """One feedback's facts with what evaluation needs beside them: the row's hash and
    change time, and whether its text features are there for the text as it is now."""

    facts: FeedbackFacts
    row_hash: str
    updated_at: dt.datetime
    enriched: bool


def facts_for(
    session: Session, feedback_ids: Sequence[str], *, now: dt.datetime
) -> dict[str, FeedbackFacts]:
    """feedback id → its facts, for the ids that are stored (unknown ids are left out)."""
    return {k: v.facts for k, v in stored_feedback(session, feedback_ids, now=now).items()}


def stored_feedback(
    session: Session, feedback_ids: Sequence[str], *, now: dt.datetime
) -> dict[str, StoredFeedback]:
    """feedback id → ``StoredFeedback`` (see ``facts_for``), in the order of ``feedback_ids``."""
    ids = list(dict.fromkeys(feedback_ids))
    rows = {r.feedback_id: r for r in _rows_in(session, Feedback, Feedback.feedback_id, ids)}
    if not rows:
        return {}
    texts = {
        t.feedback_id: t for t in _rows_in(session, FeedbackText, FeedbackText.feedback_id, ids)
    }
    topics: dict[str, list[str]] = {}
    for topic in _rows_in(session, FeedbackTopic, FeedbackTopic.feedback_id, ids):
        topics.setdefault(topic.feedback_id, []).append(topic.topic)
    people = _People(session, rows.values(), now)
    out = {}
    for feedback_id in ids:
        row = rows.get(feedback_id)
        if row is None:
            continue
        text = texts.get(feedback_id)
        out[feedback_id] = StoredFeedback(
            facts=_facts(row, text, topics.get(feedback_id, []), people),
            row_hash=row.row_hash,
            updated_at=row.updated_at,
            enriched=_enriched(row, text),
        )
    return out


def _enriched(row: Feedback, text: FeedbackText | None) -> bool:
    """A row without text has nothing to wait for; one with text needs features of that text."""
    if not (row.text or "").strip():
        return True
    return text is not None and text.text_hash == text_hash(row.text)


def _facts(
    row: Feedback, text: FeedbackText | None, stored_topics: list[str], people: _People
) -> FeedbackFacts:
    aspects = tuple(
        (str(a["topic"]), str(a["sentiment"]))
        for a in (text.aspects if text is not None else []) or []
        if isinstance(a, dict) and a.get("topic") and a.get("sentiment")
    )
    in_text = [topic for topic, _ in aspects]
    topics = list(dict.fromkeys([*in_text, *sorted(stored_topics)]))
    flags = tuple(
        dict.fromkeys(
            str(f["name"])
            for f in (text.flags if text is not None else []) or []
            if isinstance(f, dict) and f.get("name")
        )
    )
    contact = people.contacts.get(row.contact_id or "")
    account_id = row.account_id or (contact.account_id if contact is not None else None)
    customer = people.customers.get(row.customer_id or "")
    account = people.accounts.get(account_id or "")
    attributes = dict(customer.attributes or {}) if customer is not None else {}
    return FeedbackFacts(
        feedback_id=row.feedback_id,
        created_at=row.created_at,
        customer_id=row.customer_id,
        account_id=account_id,
        author_key=author_key(row.author_email, row.author_phone),
        nps=row.nps if row.nps is not None and 0 <= row.nps <= 10 else None,
        csat=row.csat,
        ces=row.ces,
        rating=row.rating,
        sentiment=text.sentiment if text is not None else None,
        sentiment_score=text.sentiment_score if text is not None else None,
        intent=text.intent if text is not None else None,
        flags=flags,
        topics=tuple(topics),
        aspects=aspects,
        channel=row.channel,
        touchpoint=row.touchpoint,
        language=(text.language if text is not None else None) or row.language,
        value_percentile=people.value_percentile(row.customer_id, account_id),
        segment=_first(
            customer.segment if customer else None, account.segment if account else None
        ),
        tier=_first(account.tier if account else None, _text(attributes.get("tier"))),
        region=_first(customer.region if customer else None, account.region if account else None),
        role=contact.role if contact is not None else None,
        churn_risk=people.churn.get(row.customer_id or ""),
        account_owner=account.owner if account is not None else None,
        attributes=attributes,
    )


def author_key(email: str | None, phone: str | None) -> str | None:
    """The first 16 hex digits of the SHA-256 of the author's normalised e-mail (else phone:
    E.164, else its digits), so two answers from one address share a key while the key never
    holds the address; None without either."""
    mail = normalise_email(email) if email else ""
    if "@" in mail:
        value = f"email:{mail}"
    else:
        digits = "".join(c for c in (phone or "") if c.isdigit())
        number = (normalise_phone(phone) if phone else None) or digits
        if not number:
            return None
        value = f"phone:{number}"
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _first(*values: str | None) -> str | None:
    return next((v for v in values if v), None)


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


class _People:
    """The customers, contacts and accounts a batch of feedback names, their churn scores and
    the value distributions their percentiles are read from: a fixed number of queries."""

    def __init__(self, session: Session, rows: Iterable[Feedback], now: dt.datetime) -> None:
        feedback = list(rows)
        customer_ids = sorted({r.customer_id for r in feedback if r.customer_id})
        contact_ids = sorted({r.contact_id for r in feedback if r.contact_id})
        self.customers = {
            c.customer_id: c
            for c in _rows_in(session, Customer, Customer.customer_id, customer_ids)
        }
        self.contacts = {
            c.contact_id: c for c in _rows_in(session, Contact, Contact.contact_id, contact_ids)
        }
        account_ids = sorted(
            {r.account_id for r in feedback if r.account_id}
            | {c.account_id for c in self.contacts.values() if c.account_id}
        )
        self.accounts = {
            a.account_id: a for a in _rows_in(session, Account, Account.account_id, account_ids)
        }
        self.churn = _latest_churn(session, customer_ids)
        self._session, self._now = session, now
        self._spend: ValueRanks | None = None
        self._account_values: ValueRanks | None = None

    def value_percentile(self, customer_id: str | None, account_id: str | None) -> float | None:
        """The customer's spend rank; an account's value rank when no customer is linked."""
        if customer_id:
            if self._spend is None:
                self._spend = spend_ranks(self._session, self._now)
            return self._spend.percentile(customer_id)
        if account_id:
            if self._account_values is None:
                self._account_values = account_ranks(self._session)
            return self._account_values.percentile(account_id)
        return None


@dataclass(frozen=True)
class ValueRanks:
    """Everyone's value, sorted, to rank one of them: ``None`` for an unknown id or when
    nobody has a value (nothing to rank against)."""

    values: dict[str, float]
    ordered: list[float]

    def percentile(self, key: str) -> float | None:
        value = self.values.get(key)
        if value is None or not self.ordered or self.ordered[0] == self.ordered[-1] == 0:
            return None
        below = bisect.bisect_left(self.ordered, value)
        return round(100.0 * below / len(self.ordered), 2)


def spend_ranks(session: Session, now: dt.datetime) -> ValueRanks:
    """``_spend_of`` kept per store and day until orders or customers are imported again (or
    undone), and at most ``RANKS_TTL_S``: evaluation asks on every stored answer, and the year's
    spend of every customer is one aggregate over all orders (21 ms at 2,700 orders, growing
    with the store), while one look at the import runs costs well under a millisecond."""
    runs = session.execute(
        select(func.max(ImportRun.id), func.max(ImportRun.finished_at), func.count()).where(
            ImportRun.kind.in_(("orders", "customers"))
        )
    ).one()
    undone = session.scalar(
        select(func.count()).where(
            ImportRun.kind.in_(("orders", "customers")), ImportRun.status == "undone"
        )
    )
    url = session.get_bind().engine.url
    if url.database in (None, "", ":memory:"):  # every in-memory store has the same URL
        return _spend_of(session, now)
    key = (url.render_as_string(hide_password=True), naive(now).date())
    signal = (*tuple(runs), undone)
    with _RANKS_LOCK:
        found = _RANKS.get(key)
        if found is not None and found[0] == signal and time.monotonic() - found[1] < RANKS_TTL_S:
            return found[2]
    ranks = _spend_of(session, now)
    with _RANKS_LOCK:
        if len(_RANKS) > 64:
            _RANKS.clear()
        _RANKS[key] = (signal, time.monotonic(), ranks)
    return ranks


def _spend_of(session: Session, now: dt.datetime) -> ValueRanks:
    """Order spend in the year before ``now`` per customer, cancelled and refunded orders left
    out; stored customers without orders spend 0. Two aggregate queries, whatever the batch size."""
    since = naive(now) - dt.timedelta(days=SPEND_DAYS)
    spend = {
        str(customer): float(total or 0.0)
        for customer, total in session.execute(
            select(Order.customer_id, func.sum(Order.amount))
            .where(
                Order.customer_id.is_not(None),
                Order.ordered_at >= since,
                Order.ordered_at <= naive(now),
                func.coalesce(Order.status, "").not_in(NOT_COUNTED_ORDER_STATUSES),
            )
            .group_by(Order.customer_id)
        )
    }
    for customer_id in session.scalars(select(Customer.customer_id)):
        spend.setdefault(customer_id, 0.0)
    return ValueRanks(spend, sorted(spend.values()))


def account_ranks(session: Session) -> ValueRanks:
    """Accounts ranked by annual value (those without one are not ranked)."""
    values = {
        str(account): float(value or 0.0)
        for account, value in session.execute(
            select(Account.account_id, Account.annual_value).where(
                Account.annual_value.is_not(None)
            )
        )
    }
    return ValueRanks(values, sorted(values.values()))


def _latest_churn(session: Session, customer_ids: list[str]) -> dict[str, float]:
    """Each customer's most recent churn score (any model version), clipped to 0–1."""
    latest: dict[str, tuple[dt.datetime, float]] = {}
    for chunk in _chunks(customer_ids):
        for customer_id, probability, scored_at in session.execute(
            select(ChurnScore.customer_id, ChurnScore.probability, ChurnScore.scored_at).where(
                ChurnScore.customer_id.in_(chunk)
            )
        ):
            if probability is None or probability != probability:  # NaN
                continue
            seen = latest.get(customer_id)
            if seen is None or scored_at > seen[0]:
                latest[customer_id] = (scored_at, min(max(float(probability), 0.0), 1.0))
    return {k: v for k, (_, v) in latest.items()}


def _rows_in(session: Session, model: Any, column: Any, ids: Sequence[str]) -> Iterator[Any]:
    for chunk in _chunks(ids):
        yield from session.scalars(select(model).where(column.in_(chunk)))


def _chunks(ids: Sequence[str]) -> Iterator[list[str]]:
    items = list(ids)
    for start in range(0, len(items), IN_LIST):
        yield items[start : start + IN_LIST]
