"""The topic explorer: the active taxonomy as a tree, each topic with its volume, net sentiment,
trend, emerging/spiking flags and example verbatims. One function (``explore``) serves
``/topics`` and ``GET /api/v1/dashboard/topics``; the discovery candidates and naming one into
the taxonomy live in ``topic_naming``.

The counts come from the metrics' topic table (``metrics.service.metric_table`` for
``topic_incidence``: enriched feedback with text, one row per topic it mentions, narrowed to the
scope by the metrics' rules), read once per request, so a topic's numbers here are the
metrics' numbers. The flags reuse ``metrics.anomalies`` (the rule the alert scan applies), the
examples ``feedback.service.list_feedback`` (masked by role).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

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
    totals: pd.DataFrame  # period, n
    rows: pd.DataFrame  # feedback_id, topic, topic_l1, sentiment, created_at, period


def _query(settings: Settings, scope: Scope, period: Period) -> _Counts:
    """The feedback with text in ``scope`` and their topic rows, in one read (a feedback with
    no topic is one row without one): the distinct counts at every level of the tree, the
    totals, the trend and the newest examples all come from it."""
    backend = engines.analytics_backend(settings)
    try:
        metrics_service.check_scope(backend, scope)
        table = metrics_service.metric_table(backend, "topic_incidence", [], scope)
        rows = table.select(
            "feedback_id", "topic", "topic_l1", "created_at",
            sentiment=table.topic_sentiment, period=slice_keys(table, [], period)["period"],
        ).to_pandas()  # fmt: skip
    finally:
        backend.disconnect()
    rows["period"] = pd.to_datetime(rows["period"])
    if getattr(rows["period"].dt, "tz", None) is not None:
        rows["period"] = rows["period"].dt.tz_convert("UTC").dt.tz_localize(None)
    totals = rows.groupby("period")["feedback_id"].nunique().rename("n").reset_index()
    return _Counts(totals, rows[rows["topic"].notna()].reset_index(drop=True))


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
    nodes: dict[str, _Node], rows: pd.DataFrame, periods: list[pd.Timestamp]
) -> dict[str, np.ndarray]:
    """Mentioning feedback per period of every topic, each counted once under a parent."""
    empty = np.zeros(len(periods), dtype="int64")
    if rows.empty:
        return {path: empty for path in nodes}
    own = rows.groupby(["topic", "period"]).size().unstack(fill_value=0)
    own = own.reindex(columns=periods, fill_value=0)
    out = {}
    for path, node in nodes.items():
        if not node.children:
            out[path] = own.loc[path].to_numpy(dtype="int64") if path in own.index else empty
            continue
        under = rows[rows["topic"].isin(_subtree(nodes, path))]
        out[path] = _on(under.drop_duplicates(["feedback_id"]).groupby("period").size(), periods)
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
    session: Session, nodes: dict[str, _Node], rows: pd.DataFrame, reveal_pii: bool
) -> dict[str, list[Verbatim]]:
    """The newest ``EXAMPLES`` feedback of each topic's subtree, read in one page (masked)."""
    newest: dict[str, list[str]] = defaultdict(list)
    if not rows.empty:
        ordered = rows.sort_values(["created_at", "feedback_id"], ascending=[False, True])
        for path, group in ordered.groupby("topic", sort=False)["feedback_id"]:
            newest[str(path)] = [str(i) for i in group.head(EXAMPLES)]
    rank = {} if rows.empty else dict(zip(ordered["feedback_id"], range(len(ordered)), strict=True))
    picked: dict[str, list[str]] = {}
    for path in nodes:
        under = {i for p in _subtree(nodes, path) for i in newest.get(p, [])}
        picked[path] = sorted(under, key=lambda i: rank[i])[:EXAMPLES]
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
    nodes: dict[str, _Node], rows: pd.DataFrame
) -> dict[str, tuple[int, int, int, float | None, float | None, float | None]]:
    """Per topic (its subtree's rows): mentions, positive, negative, and net sentiment with
    its interval (``metrics.intervals.nps_interval``, once for every topic)."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    if not rows.empty:
        table = rows.groupby(["topic", "sentiment"]).size()
        for key, n in table.items():
            parts: tuple[Any, ...] = tuple(key)  # type: ignore[arg-type]
            mine = counts[str(parts[0])]
            mine[0] += int(n)
            mine[1] += int(n) if parts[1] == "positive" else 0
            mine[2] += int(n) if parts[1] == "negative" else 0
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
    counts = _query(settings, scope, chosen)
    rows = counts.rows
    nodes = _tree(taxonomy, rows["topic"].unique() if not rows.empty else [])
    periods = _periods(counts.totals, chosen)
    totals = _totals(counts.totals, periods)
    volumes = _volumes(nodes, rows, periods)
    emerging, spiking = _flags(volumes, totals, periods)
    examples = _examples(session, nodes, rows, reveal_pii)
    feelings = _feelings(nodes, rows)
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
