"""The topic explorer: the active taxonomy as a tree, each topic with its volume, net sentiment,
trend, emerging/spiking flags and example verbatims. One function (``explore``) serves
``/topics`` and ``GET /api/v1/dashboard/topics``; the discovery candidates and naming one into
the taxonomy live in ``topic_naming``.

The counts come from the metrics' topic table (``metrics.service.metric_table`` for
``topic_incidence``: enriched feedback with text, one row per topic it mentions, narrowed to the
scope by the metrics' rules), so a topic's numbers here are the metrics' numbers. The engine
(the store, or DuckDB on the analytics snapshot) aggregates it: only counts per topic and
period, per topic and sentiment, and each topic's newest few ids come back (at a million answers
the mentions themselves are two million rows, seconds to move into pandas). The flags reuse
``metrics.anomalies`` (the rule the alert scan applies), the examples
``feedback.service.list_feedback`` (masked by role).
"""

from __future__ import annotations

import contextlib
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import ibis
import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from cxloop import engines
from cxloop.config import Settings
from cxloop.dashboards.freshness import freshness
from cxloop.dashboards.highlight import marks
from cxloop.dashboards.schemas_topics import Period, TopicRow, TopicsResult, TrendPoint, Verbatim
from cxloop.errors import Invalid
from cxloop.feedback import service as feedback_service
from cxloop.feedback.enrichment import active_taxonomy
from cxloop.feedback.schemas import FeedbackFilter, FeedbackItem
from cxloop.metrics import intervals
from cxloop.metrics import service as metrics_service
from cxloop.metrics.anomalies import DEFAULT_THRESHOLD, detect_spikes, emerging_topics
from cxloop.metrics.filters import Scope
from cxloop.metrics.scores import slice_keys
from cxloop.text.schemas import Lang
from cxloop.text.taxonomy import Taxonomy

PERIODS: tuple[Period, ...] = ("week", "month", "quarter")
FREQUENCY = {"week": "W-MON", "month": "MS", "quarter": "QS"}
EXAMPLES = 3
WINDOW = 8
FLAG_RULE = (
    f"Flags judge the last period of the scope against the {WINDOW} periods before it "
    f"(metrics.anomalies, robust z ≥ {DEFAULT_THRESHOLD:g}, the rule of the alert scan): "
    "emerging when the topic's share of feedback with text rises (emerging_topics, at least 5 "
    "mentions), spiking when its count of mentioning feedback rises (detect_spikes on counts). "
    "At least 4 earlier periods are needed; the last period may be incomplete."
)
METHOD = (
    "Volume: feedback with text mentioning the topic or a subtopic, counted once. Net "
    "sentiment: (positive − negative) / mentions, a mention being one feedback's topic row with "
    "its majority sentiment; interval: adjusted Wald at 95 %. Share: volume / feedback with text "
    "in the scope. Examples: the newest three mentioning feedback."
)


@dataclass
class _Node:
    path: str
    zh: str
    en: str
    in_taxonomy: bool
    children: list[str] = field(default_factory=list)

    @property
    def parent(self) -> str | None:
        return self.path.rsplit("/", 1)[0] if "/" in self.path else None


def _tree(taxonomy: Taxonomy, stored: Iterable[str]) -> dict[str, _Node]:
    """Taxonomy order; topics stored by an older taxonomy (and their missing parents) after."""
    nodes = {r.path: _Node(r.path, r.zh, r.en, True) for r in taxonomy.describe()}
    for path in sorted(set(stored)):
        parts = path.split("/")
        for i in range(1, len(parts) + 1):
            prefix = "/".join(parts[:i])
            nodes.setdefault(prefix, _Node(prefix, prefix, prefix, False))
    for node in nodes.values():
        if node.parent is not None and node.parent in nodes:
            nodes[node.parent].children.append(node.path)
    return nodes


def _subtree(nodes: dict[str, _Node], path: str) -> list[str]:
    out = [path]
    for child in nodes[path].children:
        out += _subtree(nodes, child)
    return out


def _ordered(nodes: dict[str, _Node]) -> list[str]:
    """Depth first, parents before their children."""
    out: list[str] = []
    for node in nodes.values():
        if node.parent is None:
            out += _subtree(nodes, node.path)
    return out


@dataclass
class _Counts:
    totals: pd.DataFrame  # period, n: feedback with text
    own: pd.DataFrame  # topic, period, n: the topic's own rows
    under: pd.DataFrame  # node, period, n: feedback mentioning the node or one below it
    feel: pd.DataFrame  # topic, sentiment, n
    newest: pd.DataFrame  # topic, feedback_id, created_at: each topic's newest EXAMPLES


NEWEST = 2000
"""Mentions read newest first for the examples; a topic with fewer than ``EXAMPLES`` among them
gets its own newest by a window over its rows only."""


def _naive(frame: pd.DataFrame) -> pd.DataFrame:
    frame["period"] = pd.to_datetime(frame["period"])
    if getattr(frame["period"].dt, "tz", None) is not None:
        frame["period"] = frame["period"].dt.tz_convert("UTC").dt.tz_localize(None)
    return frame


def _links(stored: set[str], parents: set[str]) -> pd.DataFrame:
    """(topic, node) for each stored topic and each node above it with children, itself
    included when it has children (a leaf's volume is its own rows)."""
    links = []
    for topic in sorted(stored):
        parts = topic.split("/")
        for i in range(len(parts)):
            node = "/".join(parts[: i + 1])
            if node != topic or node in parents or any(t.startswith(node + "/") for t in stored):
                links.append((topic, node))
    return pd.DataFrame(links, columns=["topic", "node"], dtype="object")


def _newest(said: ibis.Table, own: pd.DataFrame) -> pd.DataFrame:
    order = [said.created_at.desc(), said.feedback_id.asc()]
    columns = ["topic", "feedback_id", "created_at"]
    top = said.order_by(order).limit(NEWEST).select(*columns).to_pandas()
    top = top.groupby("topic", sort=False).head(EXAMPLES)
    have = top.groupby("topic").size()
    rows = own.groupby("topic")["n"].sum()
    short = sorted(str(t) for t, n in rows.items() if have.get(t, 0) < min(n, EXAMPLES))
    if not short:
        return top
    few = said.filter(said.topic.isin(short))
    within = [few.created_at.desc(), few.feedback_id.asc()]
    ranked = few.select(*columns, rank=ibis.row_number().over(group_by=few.topic, order_by=within))
    more = ranked.filter(ranked["rank"] < EXAMPLES).select(*columns).to_pandas()
    return pd.concat([top[~top["topic"].isin(short)], more], ignore_index=True)


def _query(settings: Settings, scope: Scope, period: Period, parents: set[str]) -> _Counts:
    """The feedback with text in ``scope`` and their topic rows (a feedback with no topic is one
    row without one), put once into a temporary table of this request and aggregated by the
    engine: totals, each topic's rows per period and sentiment, the distinct mentioning
    feedback per period under each node with children, and each topic's newest examples."""
    backend = engines.analytics_backend(settings)
    name = f"_cx_topics_{uuid.uuid4().hex}"
    try:
        metrics_service.check_scope(backend, scope)
        table = metrics_service.metric_table(backend, "topic_incidence", [], scope)
        selected = table.select(
            "feedback_id", "topic", "created_at",
            sentiment=table.topic_sentiment, period=slice_keys(table, [], period)["period"],
        )  # fmt: skip
        rows = backend.create_table(name, selected, temp=True)
        totals = rows.group_by("period").aggregate(n=rows.feedback_id.nunique()).to_pandas()
        said = rows.filter(rows.topic.notnull())
        keys = ["topic", "period", "sentiment"]
        both = said.group_by(keys).aggregate(n=said.count()).to_pandas()
        own = both.groupby(["topic", "period"], dropna=False)["n"].sum().reset_index()
        own = own[own["topic"].notna()]
        feel = both.groupby(["topic", "sentiment"])["n"].sum().reset_index()
        link = _links({str(t) for t in own["topic"]}, parents)
        under = pd.DataFrame(columns=["node", "period", "n"])
        if not link.empty:
            joined = said.join(ibis.memtable(link), "topic")
            found = joined.group_by(["node", "period"]).aggregate(n=joined.feedback_id.nunique())
            under = found.to_pandas()
        newest = _newest(said, own)
    finally:
        with contextlib.suppress(Exception):  # a table never made, or a closed connection
            backend.raw_sql(f'DROP TABLE IF EXISTS "{name}"')
        backend.disconnect()
    return _Counts(_naive(totals), _naive(own), _naive(under), feel, newest)


def _periods(totals: pd.DataFrame, period: Period) -> list[pd.Timestamp]:
    if totals.empty:
        return []
    first, last = totals["period"].min(), totals["period"].max()
    return list(pd.date_range(first, last, freq=FREQUENCY[period]))


def _totals(totals: pd.DataFrame, periods: list[pd.Timestamp]) -> np.ndarray:
    if totals.empty:
        return np.zeros(len(periods), dtype="int64")
    return _on(totals.set_index("period")["n"], periods)


def _volumes(
    nodes: dict[str, _Node], counts: _Counts, periods: list[pd.Timestamp]
) -> dict[str, np.ndarray]:
    """Mentioning feedback per period of every topic, each counted once under a parent."""
    empty = np.zeros(len(periods), dtype="int64")
    if counts.own.empty:
        return {path: empty for path in nodes}
    own = counts.own.pivot_table(index="topic", columns="period", values="n", aggfunc="sum")
    own = own.reindex(columns=periods, fill_value=0).fillna(0)
    under = counts.under.pivot_table(index="node", columns="period", values="n", aggfunc="sum")
    under = under.reindex(columns=periods, fill_value=0).fillna(0)
    out = {}
    for path, node in nodes.items():
        found = own if not node.children else under
        out[path] = found.loc[path].to_numpy(dtype="int64") if path in found.index else empty
    return out


def _on(counts: pd.Series, periods: list[pd.Timestamp]) -> np.ndarray:
    return counts.reindex(periods, fill_value=0).to_numpy(dtype="int64")


def _may_flag(values: np.ndarray, totals: np.ndarray) -> tuple[bool, bool]:
    """Whether the last period could be flagged emerging, and spiking, at all: only those
    topics are scored (scoring every topic cost more than the rest of the page). Emerging
    needs 5 mentions and a share above its recent median; spiking needs the count's Anscombe
    value to exceed its recent median by the threshold (its scale is never below 1)."""
    last, before = values[-1], values[-1 - WINDOW : -1]
    with np.errstate(divide="ignore", invalid="ignore"):
        shares = np.where(totals > 0, values / totals, np.nan)
    earlier = shares[-1 - WINDOW : -1]
    rises = bool(np.isfinite(shares[-1]) and shares[-1] > np.nanmedian(earlier))
    anscombe = 2.0 * np.sqrt(np.asarray([last, *before], dtype="float64") + 3.0 / 8.0)
    jumps = bool(anscombe[0] - np.median(anscombe[1:]) >= DEFAULT_THRESHOLD)
    return bool(last >= 5 and rises), jumps


def _frame(volumes: dict[str, np.ndarray], paths: list[str], periods: list[Any]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"topic": path, "period": p, "n": int(v)}
            for path in paths
            for p, v in zip(periods, volumes[path][-len(periods) :], strict=True)
        ],
        columns=["topic", "period", "n"],
    )


def _flags(
    volumes: dict[str, np.ndarray], totals: np.ndarray, periods: list[pd.Timestamp]
) -> tuple[dict[str, str], dict[str, str]]:
    """Reasons of the topics flagged emerging and spiking in the last period (judged on the
    last ``WINDOW`` + 1 periods: the last one's score reads no earlier period)."""
    if len(periods) < 5:
        return {}, {}
    chances = {path: _may_flag(values, totals) for path, values in volumes.items()}
    recent = periods[-1 - WINDOW :]
    total = pd.DataFrame({"period": recent, "n": totals[-len(recent) :]})
    rising = [p for p, (emerging, _) in chances.items() if emerging]
    jumping = [p for p, (_, spiking) in chances.items() if spiking]
    emerging = emerging_topics(_frame(volumes, rising, recent), total, window=WINDOW)
    spikes = detect_spikes(
        _frame(volumes, jumping, recent), by=["topic"], direction="spike", window=WINDOW,
        label="{topic} mentions",
    )  # fmt: skip

    def latest(found: pd.DataFrame) -> dict[str, str]:
        hits = found[pd.to_datetime(found["period"]) == periods[-1]] if not found.empty else found
        return {str(r["topic"]): str(r["reason"]) for r in hits.to_dict("records")}

    return latest(emerging), latest(spikes)


def _examples(
    session: Session, nodes: dict[str, _Node], newest: pd.DataFrame, reveal_pii: bool
) -> dict[str, list[Verbatim]]:
    """The newest ``EXAMPLES`` feedback of each topic's subtree (from each topic's newest),
    read in one page (masked)."""
    by_topic: dict[str, list[tuple[Any, str]]] = defaultdict(list)
    for topic, feedback_id, created_at in newest[["topic", "feedback_id", "created_at"]].itertuples(
        index=False
    ):
        by_topic[str(topic)].append((pd.Timestamp(created_at), str(feedback_id)))
    picked: dict[str, list[str]] = {}
    for path in nodes:
        under = {pair for p in _subtree(nodes, path) for pair in by_topic.get(p, [])}
        ordered = sorted(under, key=lambda pair: pair[1])  # ids ascending within a time
        ordered.sort(key=lambda pair: pair[0], reverse=True)  # newest first (stable)
        picked[path] = [i for _, i in ordered][:EXAMPLES]
    ids = sorted({i for found in picked.values() for i in found})
    items: dict[str, FeedbackItem] = {}
    if ids:
        page = feedback_service.list_feedback(
            session=session, filters=FeedbackFilter(feedback_id=tuple(ids)), limit=len(ids),
            reveal_pii=reveal_pii, count=False,
        )  # fmt: skip
        items = {i.feedback_id: i for i in page.items}
    return {p: [verbatim(items[i]) for i in found if i in items] for p, found in picked.items()}


def verbatim(item: FeedbackItem) -> Verbatim:
    """One feedback as an example: its (already masked) text cut into aspect marks."""
    aspects = item.features.aspects if item.features else []
    return Verbatim(
        feedback_id=item.feedback_id,
        created_at=item.created_at,
        channel=item.channel,
        text=item.text or "",
        marks=marks(item.text, aspects),
    )


def _feelings(
    nodes: dict[str, _Node], feel: pd.DataFrame
) -> dict[str, tuple[int, int, int, float | None, float | None, float | None]]:
    """Per topic (its subtree's rows): mentions, positive, negative, and net sentiment with
    its interval (``metrics.intervals.nps_interval``, once for every topic)."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for topic, sentiment, n in feel[["topic", "sentiment", "n"]].itertuples(index=False):
        mine = counts[str(topic)]
        mine[0] += int(n)
        mine[1] += int(n) if sentiment == "positive" else 0
        mine[2] += int(n) if sentiment == "negative" else 0
    paths = list(nodes)
    sums = np.array(
        [np.sum([counts.get(q, [0, 0, 0]) for q in _subtree(nodes, p)], axis=0) for p in paths],
        dtype="int64",
    ).reshape(len(paths), 3)
    with np.errstate(divide="ignore", invalid="ignore"):
        score, low, high = intervals.nps_interval(sums[:, 1], sums[:, 2], sums[:, 0])

    def value(x: float, n: int) -> float | None:
        return None if n == 0 or np.isnan(x) else float(x) / 100

    return {
        p: (int(n), int(pos), int(neg), value(s, n), value(lo, n), value(hi, n))
        for p, (n, pos, neg), s, lo, hi in zip(paths, sums, score, low, high, strict=True)
    }


def explore(
    *,
    session: Session,
    settings: Settings,
    scope: Scope,
    period: str = "month",
    lang: Lang = "zh",
    reveal_pii: bool = False,
) -> TopicsResult:
    """The topic explorer in ``scope``: every topic of the active taxonomy (and any stored by an
    older one) with its numbers, trend per ``period`` and flags; examples masked unless
    ``reveal_pii``."""
    if period not in PERIODS:
        raise Invalid(f"is not one of: {', '.join(PERIODS)}", "period", period)
    chosen: Period = period
    taxonomy = active_taxonomy(session=session)
    parents = {r.path.rsplit("/", 1)[0] for r in taxonomy.describe() if "/" in r.path}
    counts = _query(settings, scope, chosen, parents)
    nodes = _tree(taxonomy, (str(t) for t in counts.own["topic"]))
    periods = _periods(counts.totals, chosen)
    totals = _totals(counts.totals, periods)
    volumes = _volumes(nodes, counts, periods)
    emerging, spiking = _flags(volumes, totals, periods)
    examples = _examples(session, nodes, counts.newest, reveal_pii)
    feelings = _feelings(nodes, counts.feel)
    base = int(totals.sum())
    found = []
    for path in _ordered(nodes):
        node, series = nodes[path], volumes[path]
        mentions, pos, neg, net, low, high = feelings[path]
        volume = int(series.sum())
        found.append(
            TopicRow(
                path=path, parent=node.parent, depth=path.count("/") + 1,
                name=node.zh if lang == "zh" else node.en, name_zh=node.zh, name_en=node.en,
                in_taxonomy=node.in_taxonomy, volume=volume,
                share=volume / base if base else None, mentions=mentions, positive=pos,
                negative=neg, net_sentiment=net, net_ci_low=low, net_ci_high=high,
                trend=[
                    TrendPoint(period=p.date(), mentions=int(v), share=int(v) / t if t else None)
                    for p, v, t in zip(periods, series, totals, strict=True)
                ],
                emerging=emerging.get(path), spiking=spiking.get(path), examples=examples[path],
            )
        )  # fmt: skip
    return TopicsResult(
        taxonomy_version=taxonomy.version,
        scope=scope.describe(),
        period=chosen,
        feedback=base,
        periods=[p.date() for p in periods],
        topics=found,
        flag_rule=FLAG_RULE,
        method=METHOD,
        freshness=freshness(settings),
    )
