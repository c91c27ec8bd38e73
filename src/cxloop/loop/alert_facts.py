"""What a ``metric_alerts`` rule reads of one stored metric alert (pure: ``alert_rules`` reads
the row). Kept apart from ``FeedbackFacts``: an alert has no customer, score or topics of its
own, so a condition over it may read only these names (``rule_names.ALERT_NAMES``).
"""

from __future__ import annotations

import json

from pydantic import BaseModel, ConfigDict

OVERALL = "all"
"""How the overall slice (``{}`` in the store) reads in a condition: ``slice == 'all'``."""


class AlertFacts(BaseModel):
    """One alert: its kind (spike, drop, emerging_topic, off_target), subject (a metric or a
    topic path), slice as ``region=华东`` pairs (``all`` for overall), and its numbers."""

    model_config = ConfigDict(frozen=True)

    kind: str
    subject: str
    slice: str = OVERALL
    score: float | None = None
    value: float | None = None
    expected: float | None = None


def slice_text(slice_key: str) -> str:
    """``{"region": "华东"}`` → ``region=华东`` (keys sorted, joined by ``,``); ``{}`` → ``all``;
    a key that is not a JSON object is kept as it is (a condition can still compare it)."""
    try:
        data = json.loads(slice_key)
    except ValueError:
        return slice_key
    if not isinstance(data, dict):
        return slice_key
    if not data:
        return OVERALL
    return ",".join(f"{k}={data[k]}" for k in sorted(data))
