"""The verbatims behind every number: stored feedback filtered by who, when, what it is about
and how it feels, each item with the text features stored for it (read, never recomputed).

One query builder serves the page, its total and the channel counts, so a filter narrows all
three alike. Personal data is masked for roles without ``read_pii``: author fields, personal
``attributes``, the spans of the text the engine marked as personal, and personal data inside
every other text attribute (a survey answer copied to ``answer.<question>``).
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, String, Table, and_, cast, func, or_, select
from sqlalchemy.orm import Session

from cxloop.customers import service as customers_service
from cxloop.errors import Invalid, NotFound, Problem
from cxloop.feedback import topic_names
from cxloop.feedback.channels import canonical_channel
from cxloop.feedback.models import Feedback, FeedbackText, FeedbackTopic
from cxloop.feedback.pii_masking import find_spans, mask_attributes, mask_spans
from cxloop.feedback.schemas import (
    AspectRead,
    ChannelCount,
    FeedbackFeatures,
    FeedbackFilter,
    FeedbackItem,
    FeedbackPage,
    TopicRead,
)
from cxloop.privacy.masking import mask_record

FEEDBACK: Table = Feedback.__table__  # type: ignore[assignment]
FEATURES: Table = FeedbackText.__table__  # type: ignore[assignment]
TOPICS: Table = FeedbackTopic.__table__  # type: ignore[assignment]
CUSTOMERS = customers_service.TABLES["customers"].alias("profile_customer")
ACCOUNTS = customers_service.TABLES["accounts"].alias("profile_account")
CONTACTS = customers_service.TABLES["contacts"].alias("profile_contact")
SEGMENT = func.coalesce(CUSTOMERS.c.segment, ACCOUNTS.c.segment)
REGION = func.coalesce(CUSTOMERS.c.region, ACCOUNTS.c.region)
"""The customer's value first (it describes who answered), else the account's: the same rule
as the metrics' ``segment``/``region`` slices."""
LANGUAGE = func.coalesce(FEATURES.c.language, FEEDBACK.c.language)
EXACT = ("channel", "touchpoint", "journey_stage", "source")
EXACT_IDS = ("account_id", "customer_id", "contact_id", "feedback_id")
PROFILE = {"segment": SEGMENT, "region": REGION, "role": CONTACTS.c.role}
VOCABULARY = ("channel", "touchpoint", "segment")
"""Filters whose unknown values get a note naming the close stored values (ids do not)."""
SENTIMENTS = {"positive": "positive", "neutral": "neutral", "negative": "negative"}
SENTIMENTS |= {"正面": "positive", "中性": "neutral", "负面": "negative"}
SENTIMENTS |= {"pos": "positive", "neu": "neutral", "neg": "negative"}


# ---------------------------------------------------------------- the query


def _bound(name: str, moment: dt.datetime) -> dt.datetime:
    """A time bound as the naive UTC the store keeps."""
    if moment.tzinfo is None:
        return moment
    try:
        return moment.astimezone(dt.UTC).replace(tzinfo=None)
    except OverflowError:
        raise Invalid("is out of range once converted to UTC", name, moment.isoformat()) from None


def _under(column: Any, paths: Sequence[str]) -> ColumnElement[bool]:
    """``column`` is one of ``paths`` or a subtopic of one."""
    return or_(*(or_(column == p, column.startswith(p + "/", autoescape=True)) for p in paths))


def _mentions(paths: Sequence[str], sentiment: str | None = None) -> ColumnElement[bool]:
    """The feedback has a topic row under ``paths`` (with that majority sentiment). The
    first-level condition lets both engines use the ``topic_l1`` index."""
    roots = sorted({p.split("/", 1)[0] for p in paths})
    query = select(TOPICS.c.feedback_id).where(
        TOPICS.c.topic_l1.in_(roots), _under(TOPICS.c.topic, paths)
    )
    if sentiment is not None:
        query = query.where(TOPICS.c.sentiment == sentiment)
    return FEEDBACK.c.feedback_id.in_(query)


def _flagged(names: Sequence[str]) -> ColumnElement[bool]:
    """The stored ``flags`` JSON holds a flag of one of ``names`` (the JSON's text, read the
    same on SQLite and PostgreSQL, with or without a space after the colon)."""
    text = cast(FEATURES.c.flags, String)
    return or_(*(text.like(f'%"name":{gap}"{name}"%') for name in names for gap in ("", " ")))


def _aspects(session: Session, values: Sequence[str]) -> list[ColumnElement[bool]]:
    """``topic:sentiment`` values as conditions (any of them); every bad one is reported."""
    problems, wanted = [], []
    for value in values:
        topic, _, feeling = value.rpartition(":")
        sentiment = SENTIMENTS.get(feeling.strip().casefold())
        if not topic.strip() or sentiment is None:
            problems.append(
                Problem(
                    "aspect",
                    value,
                    "is not topic:sentiment, e.g. delivery:negative "
                    "(sentiment: positive, neutral or negative)",
                )
            )
            continue
        wanted.append((topic.strip(), sentiment))
    if problems:
        raise Invalid(problems)
    resolved = topic_names.resolve(session=session, names=[t for t, _ in wanted], field="aspect")
    return [_mentions(paths, s) for paths, (_, s) in zip(resolved, wanted, strict=True)]


def _conditions(session: Session, f: FeedbackFilter) -> tuple[list[ColumnElement[bool]], bool]:
    """The filter as SQL conditions, and whether they need the profile tables."""
    conditions: list[ColumnElement[bool]] = []
    if f.since is not None:
        conditions.append(FEEDBACK.c.created_at >= _bound("since", f.since))
    if f.until is not None:
        conditions.append(FEEDBACK.c.created_at < _bound("until", f.until))
    for name in (*EXACT, *EXACT_IDS):
        if values := getattr(f, name):
            if name == "channel":  # 微信 finds what the import stored as wechat
                values = (*values, *(canonical_channel(v) for v in values))
            conditions.append(FEEDBACK.c[name].in_(values))
    profile = False
    for name, column in PROFILE.items():
        if values := getattr(f, name):
            conditions.append(column.in_(values))
            profile = True
    if f.language:
        conditions.append(LANGUAGE.in_(f.language))
    if f.linked is not None:
        linked = FEEDBACK.c.customer_id.is_not(None) | FEEDBACK.c.contact_id.is_not(None)
        conditions.append(linked if f.linked else ~linked)
    if f.topic:
        paths = topic_names.resolve(session=session, names=f.topic, field="topic")
        conditions.append(_mentions([p for found in paths for p in found]))
    if f.aspect:
        conditions.append(or_(*_aspects(session, f.aspect)))
    if f.sentiment:
        conditions.append(FEATURES.c.sentiment.in_(f.sentiment))
    if f.intent:
        conditions.append(FEATURES.c.intent.in_(f.intent))
    if f.flag:
        conditions.append(_flagged(f.flag))
    score = FEEDBACK.c[f.score_field]
    if f.min_score is not None:
        conditions.append(score >= f.min_score)
    if f.max_score is not None:
        conditions.append(score <= f.max_score)
    if f.search is not None:
        conditions.append(
            or_(
                FEEDBACK.c.text.icontains(f.search, autoescape=True),
                FEEDBACK.c.title.icontains(f.search, autoescape=True),
            )
        )
    return conditions, profile


def _reads_features(f: FeedbackFilter) -> bool:
    """Whether a filter reads ``feedback_text`` columns (topics are read through EXISTS)."""
    return bool(f.language or f.sentiment or f.intent or f.flag)


def _from(query: Select[Any], *, profile: bool, features: bool = True) -> Select[Any]:
    """``query`` over feedback and (when asked) its features and the profile tables: a count
    without them reads one table."""
    joined: Any = FEEDBACK
    if features:
        joined = joined.outerjoin(FEATURES, FEATURES.c.feedback_id == FEEDBACK.c.feedback_id)
    if profile:
        joined = (
            joined.outerjoin(CUSTOMERS, CUSTOMERS.c.customer_id == FEEDBACK.c.customer_id)
            .outerjoin(ACCOUNTS, ACCOUNTS.c.account_id == FEEDBACK.c.account_id)
            .outerjoin(CONTACTS, CONTACTS.c.contact_id == FEEDBACK.c.contact_id)
        )
    return query.select_from(joined)


# ---------------------------------------------------------------- reads


def search(
    *,
    session: Session,
    filters: FeedbackFilter,
    limit: int = 50,
    offset: int = 0,
    reveal_pii: bool = False,
    count: bool = True,
    after: FeedbackItem | None = None,
) -> FeedbackPage:
    """A page of feedback matching ``filters``, newest first, with the total that match
    (``count=False``: total -1, for the later pages of a read that already counted).
    ``after``: the page that follows this item (a keyset, so reading everything page by page
    does not walk the skipped rows again for every page)."""
    if limit < 1 or offset < 0:
        raise Invalid("must be at least 1 (limit) and 0 (offset)", "limit", limit)
    conditions, profile = _conditions(session, filters)
    features = _reads_features(filters)
    counted = _from(select(func.count()), profile=profile, features=features)
    total = session.scalar(counted.where(*conditions)) if count else -1
    # the page's ids first, joining only what the filter reads: rows skipped by the offset
    # cost an index step, not a join; then the page itself with everything an item shows
    page_ids = list(
        session.scalars(
            _from(select(FEEDBACK.c.feedback_id), profile=profile, features=features)
            .where(*conditions, *_after(after))
            .order_by(FEEDBACK.c.created_at.desc(), FEEDBACK.c.feedback_id)
            .limit(limit)
            .offset(offset)
        )
    )
    rows = {
        row["feedback_id"]: row
        for row in session.execute(
            _from(_columns(), profile=True).where(FEEDBACK.c.feedback_id.in_(page_ids))
        ).mappings()
    }
    items = _items(session, [rows[i] for i in page_ids], reveal_pii)
    notes = _notes(session, filters) if not total else []
    return FeedbackPage(items=items, total=int(total or 0), limit=limit, offset=offset, notes=notes)


def _after(item: FeedbackItem | None) -> list[ColumnElement[bool]]:
    """Rows after ``item`` in the page order (newest first, then by id)."""
    if item is None:
        return []
    created = _bound("after", item.created_at)
    return [
        or_(
            FEEDBACK.c.created_at < created,
            and_(FEEDBACK.c.created_at == created, FEEDBACK.c.feedback_id > item.feedback_id),
        )
    ]


def get(*, session: Session, feedback_id: str, reveal_pii: bool = False) -> FeedbackItem:
    """One feedback by id, with its features; ``NotFound`` when there is none."""
    if "\x00" in feedback_id:
        raise Invalid("contains a NUL character", "feedback_id", feedback_id.replace("\x00", "?"))
    row = (
        session.execute(
            _from(_columns(), profile=True).where(FEEDBACK.c.feedback_id == feedback_id)
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(
            f"no feedback with id {feedback_id!r} (ids look like source:id or #hash; "
            "`cxloop feedback list` shows them)"
        )
    return _items(session, [row], reveal_pii)[0]


def channels(*, session: Session, filters: FeedbackFilter | None = None) -> list[ChannelCount]:
    """Every stored channel value with its count (most first) among feedback matching
    ``filters``: values are shown as stored, aliases already resolved by the import."""
    f = filters or FeedbackFilter()
    conditions, profile = _conditions(session, f)
    n = func.count().label("n")
    rows = session.execute(
        _from(select(FEEDBACK.c.channel, n), profile=profile, features=_reads_features(f))
        .where(*conditions)
        .group_by(FEEDBACK.c.channel)
        .order_by(n.desc(), FEEDBACK.c.channel)
    ).all()
    total = sum(int(count) for _, count in rows)
    return [
        ChannelCount(channel=str(channel), n=int(count), share=int(count) / total)
        for channel, count in rows
    ]


# ---------------------------------------------------------------- shaping items


ITEM_COLUMNS = (
    "feedback_id",
    "created_at",
    "channel",
    "source",
    "touchpoint",
    "journey_stage",
    "product",
    "customer_id",
    "account_id",
    "contact_id",
    "link_method",
    "author",
    "author_email",
    "author_phone",
    "author_member_id",
    "author_handle",
    "nps",
    "csat",
    "ces",
    "rating",
    "title",
    "text",
    "attributes",
)
FEATURE_COLUMNS = (
    "language",
    "mixed",
    "sentiment",
    "sentiment_score",
    "intent",
    "flags",
    "emotions",
    "keywords",
    "aspects",
    "pii",
    "text_hash",
)


def _columns() -> Select[Any]:
    return select(
        *(FEEDBACK.c[c] for c in ITEM_COLUMNS),
        *(FEATURES.c[c].label(f"f_{c}") for c in FEATURE_COLUMNS),
        SEGMENT.label("segment"),
        REGION.label("region"),
    )


def _items(session: Session, rows: list[Any], reveal_pii: bool) -> list[FeedbackItem]:
    from cxloop.feedback.enrichment import text_hash

    ids = [row["feedback_id"] for row in rows]
    topics: dict[str, list[TopicRead]] = {i: [] for i in ids}
    if ids:
        for t in session.execute(
            select(TOPICS).where(TOPICS.c.feedback_id.in_(ids)).order_by(TOPICS.c.topic)
        ).mappings():
            topics[t["feedback_id"]].append(
                TopicRead(
                    topic=t["topic"],
                    sentiment=t["sentiment"],
                    score=t["score"],
                    mentions=t["mentions"],
                )
            )
    items = []
    for row in rows:
        record = {c: row[c] for c in (*ITEM_COLUMNS, "segment", "region")}
        created = record["created_at"]
        if created.tzinfo is None:  # stored as naive UTC; shown with its offset
            record["created_at"] = created.replace(tzinfo=dt.UTC)
        text = record["text"]
        analysed = row["f_language"] is not None
        current = analysed and row["f_text_hash"] == text_hash(text)
        spans = list(row["f_pii"] or []) if current else find_spans(text)
        features = None
        if analysed:
            features = FeedbackFeatures(
                language=row["f_language"],
                mixed=bool(row["f_mixed"]),
                sentiment=row["f_sentiment"],
                sentiment_score=row["f_sentiment_score"],
                intent=row["f_intent"],
                flags=sorted({str(f["name"]) for f in row["f_flags"] or []}),
                emotions=sorted({str(e["name"]) for e in row["f_emotions"] or []}),
                keywords=list(row["f_keywords"] or []),
                topics=topics[record["feedback_id"]],
                aspects=[
                    _aspect(a, text, spans if not reveal_pii else [], current)
                    for a in row["f_aspects"] or []
                ],
                current=current,
            )
        if not reveal_pii:
            attributes = record["attributes"]
            record = mask_record("feedback", record)
            record["attributes"] = mask_attributes(attributes)
            if text:
                record["text"] = mask_spans(text, spans)
            if record["title"]:
                record["title"] = mask_spans(record["title"], find_spans(record["title"]))
        items.append(FeedbackItem(**record, features=features))
    return items


def _aspect(a: dict[str, Any], text: str | None, spans: list[Any], current: bool) -> AspectRead:
    """An aspect with its clause cut from the text it was read in (none when the text changed
    since), personal data in it masked by the spans given."""
    clause = ""
    if current and text:
        start, end = int(a["start"]), int(a["end"])
        inside = [
            {"start": max(int(s["start"]), start) - start, "end": min(int(s["end"]), end) - start}
            for s in spans
            if int(s["start"]) < end and int(s["end"]) > start
        ]
        clause = mask_spans(text[start:end], inside)
    return AspectRead(
        topic=str(a["topic"]),
        term=str(a.get("term", "")),
        sentiment=str(a["sentiment"]),
        score=float(a.get("score", 0.0)),
        clause=clause,
    )


# ---------------------------------------------------------------- why a page is empty


def _notes(session: Session, f: FeedbackFilter) -> list[str]:
    """For each vocabulary filter value no stored feedback has, a sentence with close values."""
    notes = []
    for name in VOCABULARY:
        values = getattr(f, name)
        if not values:
            continue
        stored = _stored_values(session, name)
        for value in values:
            aliased = name == "channel" and canonical_channel(value) in stored
            if value in stored or aliased:
                continue
            close = difflib.get_close_matches(value, stored, n=3, cutoff=0.5)
            close += [s for s in stored if s.casefold() == value.casefold() and s not in close]
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            known = ", ".join(sorted(stored)[:12]) or "none"
            notes.append(f"no stored feedback has {name} {value!r}{hint} (stored: {known})")
    return notes


def _stored_values(session: Session, name: str) -> list[str]:
    if name == "segment":
        customers = customers_service.TABLES["customers"]
        accounts = customers_service.TABLES["accounts"]
        found = list(
            session.scalars(
                select(customers.c.segment).where(customers.c.segment.is_not(None)).distinct()
            )
        )
        found += session.scalars(
            select(accounts.c.segment).where(accounts.c.segment.is_not(None)).distinct()
        ).all()
    else:
        column = FEEDBACK.c[name]
        found = list(session.scalars(select(column).where(column.is_not(None)).distinct()))
    return sorted({str(v) for v in found})
