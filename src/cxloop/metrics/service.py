"""Metrics on the store: check the request, open an Ibis connection, join in the dimensions and
text features the request needs, run the pure function.

Profile dimensions come from other tables, joined here so every metric function stays a
function of one table: ``segment`` and ``region`` from ``customers`` by ``customer_id`` and,
for B2B feedback without a customer, from ``accounts`` by ``account_id`` (the customer's value
first: it describes the person who answered; a customer without a value falls back to the
account's); ``role`` from ``contacts`` by ``contact_id``. Feedback that links to neither has a
NULL value (its own slice).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import ibis
import pandas as pd
from ibis.backends import BaseBackend
from ibis.common.exceptions import TableNotFound

from cxloop import engines
from cxloop.config import Settings
from cxloop.errors import Invalid, Problem
from cxloop.metrics import indices
from cxloop.metrics.filters import WHERE_COLUMNS, Scope, apply_scope
from cxloop.metrics.schemas import (
    Dimension,
    IndexResult,
    MetricName,
    MetricResult,
    Period,
    TopicLevel,
    index_result,
    to_result,
)
from cxloop.metrics.scores import METRICS
from cxloop.metrics.topics import topic_incidence
from cxloop.privacy.masking import PII_FIELDS

DIMENSIONS = tuple(d.value for d in Dimension)
PROFILE_DIMENSIONS = ("segment", "region", "role")
"""Dimensions that are not columns of ``feedback`` but of the customer, account or contact."""
PERSON_LEVEL = frozenset({"account_id", "role"})
"""Dimensions that can narrow a slice to one person (one contact of one account)."""
TEXT_METRICS = ("sentiment", "topic_incidence")
DIMENSION_TABLES = {
    "customers": ("customer_id", "segment", "region"),
    "accounts": ("account_id", "segment", "region", "industry", "tier"),
    "contacts": ("contact_id", "account_id", "role"),
}
"""What the Parquet export keeps of the profile tables without ``include_pii``: keys and
dimension columns only (no names, emails, owners or free-form attributes)."""


def _parse(
    name: str, by: Sequence[str], period: str | None, level: str | None = None
) -> tuple[MetricName, list[Dimension], Period | None, TopicLevel | None]:
    """The request as enums, or ``Invalid`` naming every unknown metric, dimension, period or
    topic level (a level is only for ``topic_incidence``, whose default is ``topic_l1``)."""
    problems = []
    if name not in MetricName.__members__:
        problems.append(Problem("name", name, f"is not one of: {', '.join(MetricName)}"))
    problems += _dimension_problems(by, period)
    if level is not None and level not in TopicLevel.__members__:
        problems.append(Problem("level", level, f"is not one of: {', '.join(TopicLevel)}"))
    elif level is not None and name != MetricName.topic_incidence:
        problems.append(Problem("level", level, "applies to topic_incidence only"))
    if problems:
        raise Invalid(problems)
    metric = MetricName(name)
    if metric is MetricName.topic_incidence:
        topic_level: TopicLevel | None = TopicLevel(level) if level else TopicLevel.topic_l1
    else:
        topic_level = None
    return metric, [Dimension(d) for d in by], Period(period) if period else None, topic_level


def _dimension_problems(by: Sequence[str], period: str | None) -> list[Problem]:
    problems = [
        Problem("by", d, f"is not one of: {', '.join(DIMENSIONS)}")
        for d in by
        if d not in DIMENSIONS
    ]
    if period is not None and period not in Period.__members__:
        problems.append(Problem("period", period, f"is not one of: {', '.join(Period)}"))
    return problems


def _table(backend: BaseBackend, name: str, needed_for: str) -> ibis.Table:
    try:
        return backend.table(name)
    except TableNotFound:
        raise Invalid(
            f"needs the {name} table, which this backend lacks (re-run `cxloop export parquet`)",
            "by" if needed_for in DIMENSIONS else "name",
            needed_for,
        ) from None


def sliceable_feedback(backend: BaseBackend, dimensions: Sequence[str] = ()) -> ibis.Table:
    """``feedback`` with the profile ``dimensions`` asked for (segment, region, role) joined
    in as columns of the same names; one row per feedback, as before the joins."""
    feedback = engines.feedback_table(backend)
    wanted = [d for d in PROFILE_DIMENSIONS if d in dimensions]
    if not wanted:
        return feedback
    added = {}
    account_level = [d for d in wanted if d in ("segment", "region")]
    if account_level:
        customers = _table(backend, "customers", account_level[0])
        accounts = _table(backend, "accounts", account_level[0])
        people = customers.select(
            _customer_key=customers.customer_id,
            **{f"_customer_{d}": customers[d] for d in account_level},
        )
        firms = accounts.select(
            _account_key=accounts.account_id,
            **{f"_account_{d}": accounts[d] for d in account_level},
        )
        feedback = feedback.left_join(people, feedback.customer_id == people._customer_key)
        feedback = feedback.left_join(firms, feedback.account_id == firms._account_key)
        added.update(
            {
                d: ibis.coalesce(feedback[f"_customer_{d}"], feedback[f"_account_{d}"])
                for d in account_level
            }
        )
    if "role" in wanted:
        contacts = _table(backend, "contacts", "role")
        roles = contacts.select(_contact_key=contacts.contact_id, _contact_role=contacts.role)
        feedback = feedback.left_join(roles, feedback.contact_id == roles._contact_key)
        added["role"] = feedback._contact_role
    kept = [c for c in engines.feedback_table(backend).columns]
    return feedback.select(*kept, **added)


def text_feedback(backend: BaseBackend, dimensions: Sequence[str] = ()) -> ibis.Table:
    """Enriched feedback with text: ``sliceable_feedback`` joined to its ``feedback_text`` row
    (``sentiment``, ``sentiment_score``), leaving out rows the engine found no text in
    (language ``none``) and feedback not yet enriched."""
    feedback = sliceable_feedback(backend, dimensions)
    texts = _table(backend, "feedback_text", "sentiment")
    texts = texts.filter(texts.language != "none").select(
        _text_key=texts.feedback_id,
        sentiment=texts.sentiment,
        sentiment_score=texts.sentiment_score,
    )
    joined = feedback.join(texts, feedback.feedback_id == texts._text_key)
    return joined.select(*feedback.columns, "sentiment", "sentiment_score")


def topic_mentions(backend: BaseBackend, dimensions: Sequence[str] = ()) -> ibis.Table:
    """``text_feedback`` with a row per topic each mentions (``topic``, ``topic_l1``,
    ``topic_sentiment``), and one row with NULL topic for feedback that mention none."""
    feedback = text_feedback(backend, dimensions)
    topics = _table(backend, "feedback_topic", "topic_incidence")
    topics = topics.select(
        _topic_key=topics.feedback_id,
        topic=topics.topic,
        topic_l1=topics.topic_l1,
        topic_sentiment=topics.sentiment,
    )
    joined = feedback.left_join(topics, feedback.feedback_id == topics._topic_key)
    return joined.select(*feedback.columns, "topic", "topic_l1", "topic_sentiment")


def metric_table(
    backend: BaseBackend, metric: str, dimensions: Sequence[str], scope: Scope | None = None
) -> ibis.Table:
    """The one table metric ``metric`` is computed over, with ``dimensions`` available and
    narrowed to ``scope`` (by ``created_at``, the answer's time)."""
    joined = [*dimensions, *(scope.profile_fields() if scope else ())]
    if metric == MetricName.topic_incidence:
        table = topic_mentions(backend, joined)
    elif metric == MetricName.sentiment:
        table = text_feedback(backend, joined)
    else:
        table = sliceable_feedback(backend, joined)
    return apply_scope(table, scope) if scope else table


def scoped_feedback(
    backend: BaseBackend, scope: Scope | None, dimensions: Sequence[str] = ()
) -> ibis.Table:
    """``sliceable_feedback`` narrowed to ``scope``: the feedback any analysis in a scope sees."""
    return metric_table(backend, MetricName.responses.value, dimensions, scope)


def check_scope(backend: BaseBackend, scope: Scope | None) -> None:
    """``Invalid`` for a ``where`` value that matches no stored value (ignoring case), with
    close matches: a typo must not read as "no answers"."""
    if scope is None or not scope.where:
        return
    table = sliceable_feedback(backend, scope.profile_fields())
    problems = []
    for field, values in scope.conditions().items():
        column = WHERE_COLUMNS.get(field, field)
        stored = table.select(value=table[column]).distinct().to_pandas()["value"].dropna()
        known = {str(v).casefold(): str(v) for v in stored}
        for value in values:
            if value.casefold() not in known:
                problems.append(Problem(f"where.{field}", value, _no_match(field, value, known)))
    if problems:
        raise Invalid(problems)


def _no_match(field: str, value: str, known: dict[str, str]) -> str:
    import difflib

    close = difflib.get_close_matches(value.casefold(), list(known), n=3, cutoff=0.5)
    shown = sorted(known.values())
    listing = ", ".join(shown[:12]) + (f" (+{len(shown) - 12} more)" if len(shown) > 12 else "")
    hint = f"; close: {', '.join(known[c] for c in close)}" if close else ""
    return f"matches no stored {field}{hint}; stored: {listing or 'none'}"


def data_span(
    backend: BaseBackend, scope: Scope | None = None, answered: str | None = None
) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """First and last ``created_at`` of the feedback in ``scope`` (all without one); None when
    there is none. What an empty result is explained with, and where periods end. With
    ``answered`` (a score column: nps, csat, ces) only feedback holding that score counts, so
    score-less feedback after the last answer (a case's follow-up note) moves no period."""
    feedback = scoped_feedback(backend, scope)
    if answered is not None and answered in feedback.columns:
        feedback = feedback.filter(feedback[answered].notnull())
    row = feedback.aggregate(
        first=feedback.created_at.min(), last=feedback.created_at.max()
    ).to_pandas()
    first, last = row["first"].iloc[0], row["last"].iloc[0]
    if pd.isna(first):
        return None
    return pd.Timestamp(first), pd.Timestamp(last)


def run_metric(
    backend: BaseBackend,
    metric: str,
    *,
    by: Sequence[str] = (),
    period: str | None = None,
    level: str | None = None,
    min_n: int = 30,
    confidence: float = 0.95,
    scope: Scope | None = None,
) -> pd.DataFrame:
    """Metric ``metric`` on any backend (the store, DuckDB over an export): the joins this
    module documents, narrowed to ``scope``, then the pure function."""
    table = metric_table(backend, metric, by, scope)
    options = {"by": list(by), "period": period, "confidence": confidence, "min_n": min_n}
    if metric == MetricName.topic_incidence:
        return topic_incidence(table, level=level or TopicLevel.topic_l1.value, **options)  # type: ignore[arg-type]
    return METRICS[metric](table, **options)


def compute(
    *,
    settings: Settings,
    name: str,
    by: Sequence[str] = (),
    period: str | None = None,
    min_n: int = 30,
    confidence: float = 0.95,
    level: str | None = None,
    scope: Scope | None = None,
) -> pd.DataFrame:
    """Metric ``name`` over the store's feedback in ``scope`` (all of it without one), by
    allowlisted dimensions and period."""
    metric, dimensions, span, topic_level = _parse(name, by, period, level)
    return _compute(
        settings,
        metric,
        dimensions,
        span,
        topic_level,
        min_n=min_n,
        confidence=confidence,
        scope=scope,
    )


def _compute(
    settings: Settings,
    metric: MetricName,
    dimensions: list[Dimension],
    span: Period | None,
    level: TopicLevel | None,
    *,
    min_n: int,
    confidence: float,
    scope: Scope | None = None,
) -> pd.DataFrame:
    backend = engines.analytics_backend(settings)
    try:
        check_scope(backend, scope)
        return run_metric(
            backend,
            metric.value,
            by=[d.value for d in dimensions],
            period=span.value if span else None,
            level=level.value if level else None,
            confidence=confidence,
            min_n=min_n,
            scope=scope,
        )
    finally:
        backend.disconnect()


def store_span(settings: Settings) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """``data_span`` of the store: when its answers start and end."""
    backend = engines.analytics_backend(settings)
    try:
        return data_span(backend)
    finally:
        backend.disconnect()


def suppress_singletons(frame: pd.DataFrame, by: Sequence[str]) -> tuple[pd.DataFrame, int]:
    """Without the rows of one answer when sliced by a person-level dimension (``PERSON_LEVEL``):
    such a row shows one person's answer. Returns the rows kept and how many were dropped."""
    if not PERSON_LEVEL & set(by) or frame.empty:
        return frame, 0
    single = frame["n"] == 1
    return frame[~single].reset_index(drop=True), int(single.sum())


def report(
    *,
    settings: Settings,
    name: str,
    by: Sequence[str] = (),
    period: str | None = None,
    min_n: int = 30,
    confidence: float = 0.95,
    level: str | None = None,
    hide_singletons: bool = False,
    scope: Scope | None = None,
) -> MetricResult:
    """``compute`` as a ``MetricResult`` (what the API and ``--format json`` return); with
    ``hide_singletons`` (the viewer role) person-level slices of one answer are dropped."""
    metric, dimensions, span, topic_level = _parse(name, by, period, level)
    frame = _compute(
        settings,
        metric,
        dimensions,
        span,
        topic_level,
        min_n=min_n,
        confidence=confidence,
        scope=scope,
    )
    suppressed = 0
    if hide_singletons:
        frame, suppressed = suppress_singletons(frame, by)
    return to_result(
        frame,
        metric=metric,
        by=dimensions,
        period=span,
        level=topic_level,
        confidence=confidence,
        min_n=min_n,
        suppressed=suppressed,
        scope=scope or Scope(),
    )


def compute_index(
    *,
    settings: Settings,
    name: str,
    file: str | Path | None = None,
    by: Sequence[str] = (),
    period: str | None = None,
    min_n: int = 30,
    confidence: float = 0.95,
    scope: Scope | None = None,
) -> tuple[indices.IndexDefinition, pd.DataFrame]:
    """Experience index ``name`` from the YAML ``file`` (the shipped example without one), over
    the feedback in ``scope``."""
    definitions = indices.load_indices(file) if file else indices.default_indices()
    problems = _dimension_problems(by, period)
    if name not in definitions:
        known = ", ".join(definitions) or "none"
        problems.insert(0, Problem("name", name, f"is not an index of the file; known: {known}"))
    if problems:
        raise Invalid(problems)
    definition = definitions[name]
    backend = engines.analytics_backend(settings)
    try:
        check_scope(backend, scope)
        frame = indices.experience_index(
            scoped_feedback(backend, scope, by),
            definition,
            by=by,
            period=period,
            confidence=confidence,
            min_n=min_n,
        )
    finally:
        backend.disconnect()
    return definition, frame


def index_report(
    *,
    settings: Settings,
    name: str,
    file: str | Path | None = None,
    by: Sequence[str] = (),
    period: str | None = None,
    min_n: int = 30,
    confidence: float = 0.95,
    hide_singletons: bool = False,
    scope: Scope | None = None,
) -> IndexResult:
    """``compute_index`` as an ``IndexResult`` (the API and ``--format json``)."""
    definition, frame = compute_index(
        settings=settings,
        name=name,
        file=file,
        by=by,
        period=period,
        min_n=min_n,
        confidence=confidence,
        scope=scope,
    )
    suppressed = 0
    if hide_singletons:
        frame, suppressed = suppress_singletons(frame, by)
    return index_result(
        frame,
        name=name,
        definition=definition,
        by=[Dimension(d) for d in by],
        period=Period(period) if period else None,
        confidence=confidence,
        min_n=min_n,
        suppressed=suppressed,
        scope=scope or Scope(),
    )


def export_parquet(
    *, settings: Settings, out_dir: str | Path, include_pii: bool = False
) -> list[Path]:
    """The store's feedback, text features and profile tables (customers, accounts, contacts)
    as Parquet files. Without ``include_pii`` the personal columns of feedback
    (``PII_FIELDS["feedback"]``: author, author_email, …) are left out and the profile tables
    keep only their keys and dimension columns (``DIMENSION_TABLES``)."""
    tables = (*engines.EXPORTED, *DIMENSION_TABLES)
    if include_pii:
        return engines.export_parquet(settings, out_dir, omit={}, tables=tables)
    omit: dict[str, frozenset[str]] = {"feedback": PII_FIELDS["feedback"]}
    backend = engines.store_backend(settings)
    try:
        for name, kept in DIMENSION_TABLES.items():
            omit[name] = frozenset(backend.table(name).columns) - set(kept)
    finally:
        backend.disconnect()
    return engines.export_parquet(settings, out_dir, omit=omit, tables=tables)
