"""Feedback: linking voice to the customers and contacts it came from, and reading it back."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Table, and_, select, update
from sqlalchemy.orm import Session

from cxloop.customers import service as customers_service
from cxloop.customers.identity import IDENTITY_KINDS
from cxloop.feedback.models import Feedback, FeedbackText, FeedbackTopic
from cxloop.feedback.schemas import ChannelCount, FeedbackFilter, FeedbackItem, FeedbackPage

TABLES: dict[str, Table] = {"feedback": Feedback.__table__}  # type: ignore[dict-item]
FEATURE_TABLES: dict[str, Table] = {  # keyed by feedback_id; an import undo removes them
    "feedback_text": FeedbackText.__table__,  # type: ignore[dict-item]
    "feedback_topic": FeedbackTopic.__table__,  # type: ignore[dict-item]
}
AUTHOR_COLUMNS = {kind: f"author_{kind}" for kind in IDENTITY_KINDS}


def link_records(*, session: Session, records: pd.DataFrame) -> int:
    """Fill customer/contact links of incoming feedback from known identities, strongest first.

    An explicit ``customer_id`` or ``contact_id`` in the source wins and is marked ``explicit``.
    Returns how many rows were linked through an identity.
    """
    if records.empty:
        return 0
    for column in ("customer_id", "contact_id", "account_id", "link_method"):
        if column not in records.columns:
            records[column] = None
    explicit = records["customer_id"].notna() | records["contact_id"].notna()
    records.loc[explicit, "link_method"] = "explicit"
    unlinked = ~explicit
    linked = 0
    known = customers_service.has_identities(session=session)
    for kind, column in AUTHOR_COLUMNS.items():
        if not known or column not in records.columns or not unlinked.any():
            continue
        values = records.loc[unlinked, column].dropna()
        owners = customers_service.lookup_identities(
            session=session, pairs=((kind, v) for v in values.unique())
        )
        keys = [(kind, v) for v in values.tolist()]
        hits = values[[key in owners for key in keys]]
        if hits.empty:
            continue
        found = [owners[(kind, v)] for v in hits.tolist()]
        records.loc[hits.index, "customer_id"] = [customer for customer, _ in found]
        records.loc[hits.index, "contact_id"] = [contact for _, contact in found]
        records.loc[hits.index, "link_method"] = kind
        unlinked.loc[hits.index] = False
        linked += len(hits)
    need_account = records["contact_id"].notna() & records["account_id"].isna()
    if need_account.any():
        accounts = customers_service.account_of_contacts(
            session=session, contact_ids=records.loc[need_account, "contact_id"]
        )
        records.loc[need_account, "account_id"] = records.loc[need_account, "contact_id"].map(
            accounts
        )
    return linked


def link_unlinked(*, session: Session) -> int:
    """Link stored feedback that had no match when it arrived; run after identities change."""
    feedback = TABLES["feedback"]
    identities = customers_service.IDENTITIES
    contacts = customers_service.TABLES["contacts"]
    total = 0
    for kind, column in AUTHOR_COLUMNS.items():
        match = and_(identities.c.kind == kind, identities.c.value == feedback.c[column])
        statement = (
            update(feedback)
            .where(
                feedback.c.customer_id.is_(None),
                feedback.c.contact_id.is_(None),
                feedback.c[column].in_(select(identities.c.value).where(identities.c.kind == kind)),
            )
            .values(
                customer_id=select(identities.c.customer_id).where(match).scalar_subquery(),
                contact_id=select(identities.c.contact_id).where(match).scalar_subquery(),
                link_method=kind,
            )
        )
        total += session.execute(statement).rowcount or 0  # type: ignore[attr-defined]
    session.execute(
        update(feedback)
        .where(feedback.c.account_id.is_(None), feedback.c.contact_id.is_not(None))
        .values(
            account_id=select(contacts.c.account_id)
            .where(contacts.c.contact_id == feedback.c.contact_id)
            .scalar_subquery()
        )
    )
    return total


def enrich_stored(*, session: Session, feedback_ids: list[str], workers: int = 1) -> int:
    """Analyse the text of these stored feedback rows now (an import calls this per chunk, so
    the features commit with the rows); returns how many texts were analysed."""
    from cxloop.feedback import enrichment

    return enrichment.enrich_feedback(
        session=session, feedback_ids=feedback_ids, workers=workers
    ).analysed


def list_feedback(
    *,
    session: Session,
    filters: FeedbackFilter,
    limit: int = 50,
    offset: int = 0,
    reveal_pii: bool = False,
    count: bool = True,
    after: FeedbackItem | None = None,
) -> FeedbackPage:
    """A page of stored feedback matching ``filters`` (newest first), each with its stored
    text features; personal data masked unless ``reveal_pii``; ``count=False`` skips the
    total (-1) for the later pages of a read that already has it; ``after`` reads the page
    that follows an item (keyset paging, for reading everything)."""
    from cxloop.feedback import search

    return search.search(
        session=session,
        filters=filters,
        limit=limit,
        offset=offset,
        reveal_pii=reveal_pii,
        count=count,
        after=after,
    )


def get_feedback(*, session: Session, feedback_id: str, reveal_pii: bool = False) -> FeedbackItem:
    """One stored feedback with its features; ``NotFound`` when there is none."""
    from cxloop.feedback import search

    return search.get(session=session, feedback_id=feedback_id, reveal_pii=reveal_pii)


def channel_counts(
    *, session: Session, filters: FeedbackFilter | None = None
) -> list[ChannelCount]:
    """Stored channel values with their counts, most first."""
    from cxloop.feedback import search

    return search.channels(session=session, filters=filters)
