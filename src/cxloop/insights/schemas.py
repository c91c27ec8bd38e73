"""What the insights service hands the CLI and the API: one table with its n, method, caveats."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field


class InsightReport(BaseModel):
    """An analysis result as a table, saying how many it rests on, how it was made and what to
    keep in mind when reading it."""

    analysis: str
    n: int = Field(description="customers, responses, baskets or users the result rests on")
    method: str
    caveats: list[str]
    columns: list[str]
    rows: list[dict[str, Any]]
    details: dict[str, Any] = Field(default_factory=dict)


def plain(value: Any) -> Any:
    """A JSON-safe value: NaN/NA/NaT → None, numpy → Python, timestamps → ISO text,
    tuples and sets → lists."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (pd.Timestamp, dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, pd.Timedelta):
        return str(value)
    if isinstance(value, np.generic):
        return plain(value.item())
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, (tuple, list, set, frozenset)):
        return [plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    return value


def report(
    analysis: str,
    table: pd.DataFrame,
    *,
    n: int,
    method: str,
    caveats: Iterable[str],
    details: Mapping[str, Any] | None = None,
) -> InsightReport:
    """Wrap one result table (index dropped unless it is named) for the CLI and the API."""
    frame = table.reset_index() if table.index.name else table
    columns = [str(c) for c in frame.columns]
    rows = [
        {c: plain(v) for c, v in zip(columns, record, strict=True)}
        for record in frame.itertuples(index=False, name=None)
    ]
    return InsightReport(
        analysis=analysis,
        n=int(n),
        method=method,
        caveats=[str(c) for c in caveats],
        columns=columns,
        rows=rows,
        details={k: plain(v) for k, v in (details or {}).items()},
    )
