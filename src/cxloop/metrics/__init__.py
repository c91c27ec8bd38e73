"""Measure: CX metrics with intervals, as pure functions over Ibis tables (``scores``).

The metric functions are re-exported lazily (``from cxloop.metrics import nps`` works), so that
importing the package for its tables (Alembic, a store's ``connect``) does not load Ibis and
scipy: that cost every import process about 80 MB.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cxloop.metrics.scores import ces, csat, nps, response_count

__all__ = ["ces", "csat", "nps", "response_count"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from cxloop.metrics import scores

        return getattr(scores, name)
    raise AttributeError(f"module 'cxloop.metrics' has no attribute {name!r}")
