"""The one way an analysis takes its input: a pandas DataFrame, or an Ibis table run once."""

from __future__ import annotations

from typing import Any

import pandas as pd

from cxloop.errors import Invalid, Problem


def as_frame(data: Any, argument: str) -> pd.DataFrame:
    """``data`` as pandas: a DataFrame as it is, an Ibis table executed here (once); anything
    else is refused naming ``argument``.

    >>> as_frame(pd.DataFrame({"a": [1]}), "df").shape
    (1, 1)
    """
    if isinstance(data, pd.DataFrame):
        return data
    if hasattr(data, "to_pandas"):
        frame = data.to_pandas()
        if isinstance(frame, pd.DataFrame):
            return frame
    raise Invalid(Problem(argument, type(data).__name__, "is not a DataFrame or an Ibis table"))
